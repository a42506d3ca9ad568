"""Hypothesis properties that complement test_ids.py and test_calendar.py.

Identity codes: normalisation is idempotent and insensitive to full-width
forms, spaces and dashes; adjacent transpositions are always detected; a
masked ID number never shows the full number. Working days: adding is
monotone and composes. Canonical JSON (evidence and check hashes): key order
does not matter, the text round-trips, the hash is the SHA-256 of the text,
equal instants in different zones hash alike, and floats are refused
anywhere in a value.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditcase.core.calendar import WorkingCalendar, shipped_years
from creditcase.core.canonical import canonical_json, digest, plain
from creditcase.core.ids import (
    USCC_CHARSET,
    IdentityCodeError,
    id_number_check_character,
    make_uscc,
    mask,
    mask_id_number,
    normalize,
    validate,
    validate_id_number,
    validate_uscc,
)

FIXED_TODAY = date(2026, 6, 1)
CAL = WorkingCalendar(shipped_years())
PROPERTY = settings(max_examples=200, deadline=None)

# -- strategies -------------------------------------------------------------------------------

#: enterprise USCCs (authority 9, type 1) with a region of the shipped demo city and a
#: body whose GB 11714 check is right, so that only the hard rules are in play
_BODY = st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8)


def _org_check(body8: str) -> str:
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w
                for c, w in zip(body8, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    r = 11 - total % 11
    return "X" if r == 10 else "0" if r == 11 else str(r)


usccs = _BODY.map(lambda b: make_uscc("91410481" + b + _org_check(b)))


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    born = draw(st.dates(date(1920, 1, 1), date(2008, 12, 31)))
    seq = draw(st.integers(0, 999))
    body = f"410481{born:%Y%m%d}{seq:03d}"
    return body + id_number_check_character(body)


_FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}


def _full_width(text: str) -> str:
    return "".join(_FULL_WIDTH.get(ch, ch) for ch in text)


# -- identity codes ------------------------------------------------------------------------------

#: what people type into a code field: ASCII, full-width forms, spaces and dashes
_TYPED = st.text(alphabet=st.one_of(st.characters(min_codepoint=0x20, max_codepoint=0x7E),
                                    st.characters(min_codepoint=0xFF01, max_codepoint=0xFF5E),
                                    st.sampled_from(" \t\u3000-\u2010\u2014\u2212\uff0d")),
                 max_size=40)


@PROPERTY
@given(_TYPED)
def test_normalize_is_idempotent(text: str) -> None:
    assert normalize(normalize(text)) == normalize(text)


@PROPERTY
@given(st.one_of(usccs, id_numbers()), st.data())
def test_full_width_spaces_and_dashes_do_not_change_the_result(code: str, data: st.DataObject) -> None:
    noisy = ""
    for ch in code:
        noisy += data.draw(st.sampled_from(["", " ", "-", "\u3000", "\u2014"])) + ch
    if data.draw(st.booleans()):
        noisy = _full_width(noisy)
    assert validate(noisy) == validate(code)
    assert validate(code)[1] == code


@PROPERTY
@given(usccs, st.integers(0, 15))
def test_uscc_adjacent_transposition_is_detected(code: str, i: int) -> None:
    # weights 3^(i-1) mod 31 differ between neighbours and 31 is prime, so a swap of two
    # different characters always changes the sum modulo 31
    if code[i] == code[i + 1]:
        return
    swapped = code[:i] + code[i + 1] + code[i] + code[i + 2:]
    with pytest.raises(IdentityCodeError):
        validate_uscc(swapped)


@PROPERTY
@given(id_numbers(), st.integers(0, 15))
def test_id_number_adjacent_transposition_is_detected(code: str, i: int) -> None:
    if code[i] == code[i + 1]:
        return
    swapped = code[:i] + code[i + 1] + code[i] + code[i + 2:]
    with pytest.raises(IdentityCodeError):
        validate_id_number(swapped, today=FIXED_TODAY)


def _assert_masked(code: str, masked: str) -> None:
    assert len(masked) == 18
    assert masked[:4] == code[:4] and masked[-4:] == code[-4:]
    assert masked[4:14] == "*" * 10
    assert not re.search(r"\d{17}[\dX]", masked)


@PROPERTY
@given(id_numbers())
def test_mask_id_number_never_shows_the_number(code: str) -> None:
    for typed in (code, code.lower(), " " + code, _full_width(code)):
        _assert_masked(code, mask_id_number(typed))


#: About one ID number in 31 also passes the USCC checksum (its 18th character happens
#: to be the mod-31 check of the first 17, and 0-9 and X are USCC characters): ``mask``
#: must still hide it.
def test_mask_hides_an_id_number_that_passes_the_uscc_checksum() -> None:
    code = "41048120040716000X"
    assert validate_id_number(code, today=FIXED_TODAY) == code
    assert validate_uscc(code) == code  # the collision
    _assert_masked(code, mask(code))


@PROPERTY
@given(id_numbers())
def test_mask_never_shows_an_id_number(code: str) -> None:
    _assert_masked(code, mask(code))


@PROPERTY
@given(usccs)
def test_uscc_is_public_and_unchanged_by_mask(code: str) -> None:
    assert mask(code) == code
    assert set(code) <= set(USCC_CHARSET)


# -- working days --------------------------------------------------------------------------------

_STARTS = st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 9, 30))


@PROPERTY
@given(_STARTS, st.integers(0, 30), st.integers(0, 30))
def test_adding_working_days_composes(start: date, a: int, b: int) -> None:
    assert CAL.add_working_days(CAL.add_working_days(start, a), b) == \
        CAL.add_working_days(start, a + b)


@PROPERTY
@given(_STARTS, st.integers(0, 59))
def test_adding_working_days_is_strictly_increasing(start: date, n: int) -> None:
    now, after = CAL.add_working_days(start, n), CAL.add_working_days(start, n + 1)
    assert after > now >= start
    assert CAL.is_working_day(after)
    # every day strictly between two consecutive results is a rest day
    day = now + dt.timedelta(days=1)
    while day < after:
        assert not CAL.is_working_day(day)
        day += dt.timedelta(days=1)


# -- canonical JSON -------------------------------------------------------------------------------

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63), st.text(max_size=20))
json_values = st.recursive(
    _SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=5),
                               st.dictionaries(st.text(max_size=8), children, max_size=5)),
    max_leaves=25)


def _reordered(value, rng):
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _reordered(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_reordered(v, rng) for v in value]
    return value


@PROPERTY
@given(json_values, st.randoms(use_true_random=False))
def test_canonical_json_ignores_key_order(value, rng) -> None:
    assert canonical_json(_reordered(value, rng)) == canonical_json(value)
    assert digest(_reordered(value, rng)) == digest(value)


@PROPERTY
@given(json_values)
def test_canonical_json_round_trips(value) -> None:
    text = canonical_json(value)
    assert json.loads(text) == plain(value)
    assert canonical_json(json.loads(text)) == text
    # no insignificant whitespace, UTF-8 text kept as it is
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"),
                              ensure_ascii=False)


@PROPERTY
@given(json_values)
def test_digest_is_sha256_of_the_canonical_text(value) -> None:
    assert digest(value) == hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def test_canonical_form_is_stable() -> None:
    value = {"b": 1, "a": ["x", None, True], "时间": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
             "日期": date(2026, 1, 2)}
    text = ('{"a":["x",null,true],"b":1,"日期":"2026-01-02",'
            '"时间":"2026-01-02T03:04:05.000000Z"}')
    assert canonical_json(value) == text
    assert digest(value) == hashlib.sha256(text.encode("utf-8")).hexdigest()


@PROPERTY
@given(st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2100, 1, 1),
                    timezones=st.just(dt.UTC)),
       st.integers(-14 * 60, 14 * 60))
def test_equal_instants_in_any_zone_hash_alike(moment: dt.datetime, offset_minutes: int) -> None:
    zone = dt.timezone(dt.timedelta(minutes=offset_minutes))
    assert digest({"at": moment.astimezone(zone)}) == digest({"at": moment})
    assert digest({"at": moment.replace(tzinfo=None)}) == digest({"at": moment})


@PROPERTY
@given(json_values, st.floats(allow_nan=True, allow_infinity=True), st.data())
def test_floats_are_refused_anywhere(value, number: float, data: st.DataObject) -> None:
    path = data.draw(st.lists(st.sampled_from(["list", "dict"]), max_size=4))
    poisoned = number
    for container in reversed(path):
        poisoned = [value, poisoned] if container == "list" else {"k": poisoned, "v": value}
    with pytest.raises(TypeError, match="float"):
        canonical_json(poisoned)
    with pytest.raises(TypeError):
        digest({"amount": poisoned})
