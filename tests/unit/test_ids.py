"""Tests for creditcase.core.ids (USCC GB 32100 and citizen ID number GB 11643).

Worked examples come from /work/shared/docs/domain.md sections 1 and 2.
"""

from __future__ import annotations

import datetime
import logging
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditcase.core import ids
from creditcase.core.ids import (
    ABSENT_USCC,
    USCC_AUTHORITIES,
    USCC_CHARSET,
    IdentityCodeError,
    detect_kind,
    id_number_birth_date,
    id_number_check_character,
    id_number_sex,
    make_id_number,
    make_uscc,
    mask,
    mask_id_number,
    normalize,
    uscc_check_character,
    validate,
    validate_id_number,
    validate_uscc,
)

FIXED_TODAY = datetime.date(2026, 1, 15)
PROPERTY = settings(database=None, deadline=None, max_examples=150)

VALID_USCCS = ["91350100M000100Y43", "91110000600037341L"]
VALID_ID_NUMBERS = ["11010519491231002X", "360426199101010071"]
ALL_PAIRS = [
    (authority, org_type)
    for authority, row in USCC_AUTHORITIES.items()
    for org_type in row.org_types
]


def _rule(excinfo: pytest.ExceptionInfo[IdentityCodeError]) -> str:
    return excinfo.value.rule


def _gb11714_check(body8: str) -> str:
    """Independent GB 11714 oracle (domain.md 1.5)."""
    values = [int(ch, 36) for ch in body8]
    r = 11 - sum(v * w for v, w in zip(values, (3, 7, 9, 10, 5, 8, 4, 2), strict=True)) % 11
    return {10: "X", 11: "0"}.get(r, str(r))


# --------------------------------------------------------------------------
# USCC worked examples
# --------------------------------------------------------------------------


@pytest.mark.parametrize("code", VALID_USCCS)
def test_worked_uscc_examples_valid(code: str) -> None:
    assert validate_uscc(code) == code
    assert uscc_check_character(code[:17]) == code[17]
    assert validate(code) == ("uscc", code)


def test_gb32100_example_sum() -> None:
    # S = 1640, 1640 mod 31 = 28, 31 - 28 = 3.
    assert uscc_check_character("91350100M000100Y4") == "3"
    assert uscc_check_character("91110000600037341") == "L"


def test_gb32100_invalid_example_z() -> None:
    with pytest.raises(IdentityCodeError) as excinfo:
        validate_uscc("91350100M000100Y4Z")
    assert _rule(excinfo) == "charset"
    assert excinfo.value.message == (
        "character 'Z' at position 18 is not in the USCC character set"
    )
    assert excinfo.value.code == "91350100M000100Y4Z"


def test_embedded_org_code_oracle_agrees_with_doc() -> None:
    assert _gb11714_check("M000100Y") == "4"
    assert _gb11714_check("60003734") == "1"


def test_wrong_check_character_message() -> None:
    with pytest.raises(IdentityCodeError) as excinfo:
        validate_uscc("91350100M000100Y44")
    assert _rule(excinfo) == "check_character"
    assert str(excinfo.value) == "check character is '4', expected '3'"


def test_charset_constant() -> None:
    assert len(USCC_CHARSET) == 31
    assert not set("IOZSV") & set(USCC_CHARSET)


# --------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("９１３５０１００Ｍ０００１００Ｙ４３", "91350100M000100Y43"),  # full-width
        ("91350100m000100y43", "91350100M000100Y43"),  # lower-case
        (" 9135 0100\tM000\u3000100Y43\n", "91350100M000100Y43"),  # spaces incl. ideographic
        ("9135-0100－M000\u2013100Y43", "91350100M000100Y43"),  # ASCII, full-width, en dash
        ("11010519491231002x", "11010519491231002X"),
        ("110105 19491231 002x", "11010519491231002X"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_validators_normalise() -> None:
    assert validate_uscc(" ９１３５０１００ｍ０００１００ｙ４３ ") == "91350100M000100Y43"
    assert validate_id_number("110105-19491231-002x", today=FIXED_TODAY) == "11010519491231002X"
    assert validate("１１０１０５１９４９１２３１００２ｘ") == ("id_number", "11010519491231002X")


# --------------------------------------------------------------------------
# USCC: table 1.3, hard rules and near misses
# --------------------------------------------------------------------------


def test_table_covers_every_authority_code() -> None:
    assert set(USCC_AUTHORITIES) == set("123456789ANY") == ids.USCC_AUTHORITY_CODES
    assert USCC_AUTHORITIES["Y"].org_types == {"1": "不再具体划分机构类别"}
    assert USCC_AUTHORITIES["A"].name == "中央军委改革和编制办公室"


@pytest.mark.parametrize(("authority", "org_type"), ALL_PAIRS)
def test_make_uscc_for_every_table_pair(
    authority: str, org_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    body = authority + org_type + "350100" + "M000100Y4"
    with caplog.at_level(logging.WARNING, logger=ids.__name__):
        code = make_uscc(body)
        assert validate_uscc(code) == code
        assert validate(code) == ("uscc", code)
    assert code[:17] == body
    assert caplog.records == []  # known pair and valid org code: no soft warning


def test_unknown_pair_is_only_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    body = "94350100M000100Y4"  # 9 (工商) has no type 4
    code = body + uscc_check_character(body)
    with caplog.at_level(logging.WARNING, logger=ids.__name__):
        assert validate_uscc(code) == code
    assert len(caplog.records) == 1
    assert "organization-type code '4'" in caplog.records[0].getMessage()


def test_bad_org_code_check_is_only_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    body = "91350100M000100Y5"  # GB 11714 check should be 4
    code = body + uscc_check_character(body)
    with caplog.at_level(logging.WARNING, logger=ids.__name__):
        assert validate_uscc(code) == code
    assert len(caplog.records) == 1
    assert "GB 11714" in caplog.records[0].getMessage()


@pytest.mark.parametrize("code", VALID_USCCS)
def test_every_substitution_at_check_position_fails(code: str) -> None:
    for ch in USCC_CHARSET + "IOZSV":
        if ch == code[17]:
            continue
        with pytest.raises(IdentityCodeError) as excinfo:
            validate_uscc(code[:17] + ch)
        assert _rule(excinfo) == ("charset" if ch in "IOZSV" else "check_character")


@pytest.mark.parametrize("code", VALID_USCCS)
def test_length_plus_minus_one(code: str) -> None:
    for candidate, length in ((code[:-1], 17), (code + "0", 19)):
        with pytest.raises(IdentityCodeError) as excinfo:
            validate_uscc(candidate)
        assert _rule(excinfo) == "length"
        assert excinfo.value.message == f"length is {length}, expected 18"


@pytest.mark.parametrize("bad", list("IOZSV"))
def test_excluded_letters_are_charset_errors(bad: str) -> None:
    code = "91350100" + bad + "000100Y43"
    with pytest.raises(IdentityCodeError) as excinfo:
        validate_uscc(code)
    assert _rule(excinfo) == "charset"
    assert excinfo.value.message == (
        f"character {bad!r} at position 9 is not in the USCC character set"
    )


@pytest.mark.parametrize("first", ["0", "B", "X"])
def test_authority_rule(first: str) -> None:
    body = first + "1350100M000100Y4"
    with pytest.raises(IdentityCodeError) as excinfo:
        validate_uscc(body + uscc_check_character(body))
    assert _rule(excinfo) == "authority"
    assert f"{first!r} at position 1" in excinfo.value.message


def test_region_rule() -> None:
    body = "9135A100M000100Y4"
    with pytest.raises(IdentityCodeError) as excinfo:
        validate_uscc(body + uscc_check_character(body))
    assert _rule(excinfo) == "region"
    assert "'A' at position 5" in excinfo.value.message


def test_absent_placeholder_rejected() -> None:
    assert ABSENT_USCC == "00000000000000000X"
    assert uscc_check_character(ABSENT_USCC[:17]) == "0"
    for check in (validate_uscc, lambda c: validate(c)[1]):
        with pytest.raises(IdentityCodeError) as excinfo:
            check(ABSENT_USCC)
        assert "placeholder" in excinfo.value.message


def test_make_uscc_rejects_impossible_body() -> None:
    with pytest.raises(IdentityCodeError) as excinfo:
        make_uscc("0135010000000000")  # 16 characters
    assert _rule(excinfo) == "length"
    with pytest.raises(IdentityCodeError) as excinfo:
        make_uscc("01350100000000000")
    assert _rule(excinfo) == "authority"


# --------------------------------------------------------------------------
# USCC property tests
# --------------------------------------------------------------------------

_pairs = st.sampled_from(ALL_PAIRS)
_region = st.text(alphabet="0123456789", min_size=6, max_size=6)
_subject = st.text(alphabet=USCC_CHARSET, min_size=9, max_size=9)


@st.composite
def _uscc_bodies(draw: st.DrawFn) -> str:
    authority, org_type = draw(_pairs)
    return authority + org_type + draw(_region) + draw(_subject)


def test_weights_detect_every_single_substitution() -> None:
    # 31 is prime and every weight 3^k mod 31 is non-zero, so changing one value
    # by d (1 <= |d| <= 30) changes the sum by w*d, which is never 0 mod 31.
    weights = [pow(3, k, 31) for k in range(17)]
    assert weights == [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    assert all(pow(3, k, 31) for k in range(17))
    assert all((w * d) % 31 for w in weights for d in range(1, 31))


@pytest.mark.parametrize("code", VALID_USCCS)
def test_every_body_substitution_fails_exhaustively(code: str) -> None:
    for pos in range(17):
        for ch in USCC_CHARSET:
            if ch == code[pos]:
                continue
            with pytest.raises(IdentityCodeError):
                validate_uscc(code[:pos] + ch + code[pos + 1 :])


@PROPERTY
@given(_uscc_bodies())
def test_property_make_uscc_validates(body: str) -> None:
    code = make_uscc(body)
    assert len(code) == 18
    assert code.startswith(body)
    assert validate_uscc(code) == code
    if any(c.isalpha() for c in code[:17]):
        assert detect_kind(code) == "uscc"
    assert mask(code) == code


@PROPERTY
@given(_uscc_bodies(), st.integers(0, 16), st.integers(1, 30))
def test_property_single_body_substitution_fails(body: str, pos: int, shift: int) -> None:
    code = make_uscc(body)
    replacement = USCC_CHARSET[(USCC_CHARSET.index(code[pos]) + shift) % 31]
    changed = code[:pos] + replacement + code[pos + 1 :]
    assert changed != code
    with pytest.raises(IdentityCodeError):
        validate_uscc(changed)


# --------------------------------------------------------------------------
# Citizen ID number
# --------------------------------------------------------------------------


@pytest.mark.parametrize("code", VALID_ID_NUMBERS)
def test_worked_id_examples_valid(code: str) -> None:
    assert validate_id_number(code, today=FIXED_TODAY) == code
    assert id_number_check_character(code[:17]) == code[17]
    assert validate(code) == ("id_number", code)


def test_gb11643_example_details() -> None:
    code = "11010519491231002X"
    assert id_number_birth_date(code) == datetime.date(1949, 12, 31)
    assert id_number_sex(code) == "F"
    assert id_number_sex("360426199101010071") == "M"


def test_born_1880_rejected_by_policy_but_checksum_is_right() -> None:
    code = "440524188001010014"
    assert id_number_check_character(code[:17]) == "4"
    assert id_number_birth_date(code) == datetime.date(1880, 1, 1)
    assert id_number_sex(code) == "M"
    with pytest.raises(IdentityCodeError) as excinfo:
        validate_id_number(code, today=FIXED_TODAY)
    assert _rule(excinfo) == "birth_date"
    assert excinfo.value.message == "birth date 18800101 is before 1900-01-01"
    with pytest.raises(IdentityCodeError) as excinfo:
        validate(code)
    assert _rule(excinfo) == "birth_date"


def test_id_wrong_check_character() -> None:
    with pytest.raises(IdentityCodeError) as excinfo:
        validate_id_number("110105194912310021", today=FIXED_TODAY)
    assert _rule(excinfo) == "check_character"
    assert excinfo.value.message == "check character is '1', expected 'X'"
    with pytest.raises(IdentityCodeError) as excinfo:
        validate("110105194912310021")
    assert _rule(excinfo) == "check_character"


def test_id_not_a_calendar_date() -> None:
    with pytest.raises(IdentityCodeError) as excinfo:
        validate_id_number("110105194902300027", today=FIXED_TODAY)
    assert _rule(excinfo) == "birth_date"
    assert excinfo.value.message == "birth date 19490230 is not a calendar date"
    with pytest.raises(IdentityCodeError) as excinfo:
        validate("110105194902300027")
    assert _rule(excinfo) == "birth_date"


def test_id_birth_date_boundaries() -> None:
    assert validate_id_number(make_id_number("11010519000101001"), today=FIXED_TODAY)
    born_today = make_id_number("110105" + FIXED_TODAY.strftime("%Y%m%d") + "001")
    assert validate_id_number(born_today, today=FIXED_TODAY) == born_today
    tomorrow = FIXED_TODAY + datetime.timedelta(days=1)
    body = "110105" + tomorrow.strftime("%Y%m%d") + "001"
    with pytest.raises(IdentityCodeError) as excinfo:
        validate_id_number(body + id_number_check_character(body), today=FIXED_TODAY)
    assert _rule(excinfo) == "birth_date"
    assert "in the future" in excinfo.value.message


@pytest.mark.parametrize(
    ("code", "rule"),
    [
        ("11010519491231002", "length"),
        ("11010519491231002X0", "length"),
        ("1101051949123100A2", "charset"),  # letter in the body
        ("11010519491231002A", "charset"),  # check character not 0-9/X
        ("1101054912310A2", "charset"),  # legacy form with a letter
    ],
)
def test_id_shape_rules(code: str, rule: str) -> None:
    with pytest.raises(IdentityCodeError) as excinfo:
        validate_id_number(code, today=FIXED_TODAY)
    assert _rule(excinfo) == rule


def test_id_every_substitution_at_check_position_fails() -> None:
    code = "11010519491231002X"
    for ch in "0123456789":
        with pytest.raises(IdentityCodeError) as excinfo:
            validate_id_number(code[:17] + ch, today=FIXED_TODAY)
        assert _rule(excinfo) == "check_character"


def test_legacy_15_digit_number_is_converted() -> None:
    assert validate_id_number("110105491231002", today=FIXED_TODAY) == "11010519491231002X"
    assert validate("110105491231002") == ("id_number", "11010519491231002X")
    assert id_number_birth_date("110105491231002") == datetime.date(1949, 12, 31)
    assert id_number_sex("110105491231002") == "F"
    with pytest.raises(IdentityCodeError) as excinfo:
        validate_id_number("110105490230002", today=FIXED_TODAY)
    assert _rule(excinfo) == "birth_date"


def test_residence_permit_prefix_uses_same_format() -> None:
    code = make_id_number("81000019900101001")
    assert validate(code) == ("id_number", code)


def test_make_id_number_rejects_bad_date() -> None:
    with pytest.raises(IdentityCodeError) as excinfo:
        make_id_number("11010519491301002")
    assert _rule(excinfo) == "birth_date"


@PROPERTY
@given(
    st.dates(datetime.date(1900, 1, 1), FIXED_TODAY),
    st.integers(0, 999),
    st.integers(0, 16),
    st.integers(1, 9),
)
def test_property_id_single_digit_substitution_fails(
    born: datetime.date, seq: int, pos: int, shift: int
) -> None:
    body = f"110105{born:%Y%m%d}{seq:03d}"
    code = body + id_number_check_character(body)
    assert validate_id_number(code, today=FIXED_TODAY) == code
    changed = code[:pos] + str((int(code[pos]) + shift) % 10) + code[pos + 1 :]
    with pytest.raises(IdentityCodeError):
        validate_id_number(changed, today=FIXED_TODAY)


# --------------------------------------------------------------------------
# detect_kind, validate, masking, the error type
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("91350100M000100Y43", "uscc"),
        ("91350100M000100Y4Z", "uscc"),  # invalid, but shaped like a USCC
        ("Y1350100M000100Y4", "uscc"),  # wrong length but has letters
        ("11010519491231002X", "id_number"),
        ("110105194902300027", "id_number"),  # date-shaped, invalid date
        ("110105491231002", "id_number"),
        (ABSENT_USCC, "uscc"),
    ],
)
def test_detect_kind(code: str, kind: str) -> None:
    assert detect_kind(code) == kind


def test_detect_kind_all_digit_uscc() -> None:
    code = make_uscc("11100000000000000")  # all digits, positions 7-14 not a date
    assert detect_kind(code) == "uscc"
    assert validate(code) == ("uscc", code)


@pytest.mark.parametrize("code", ["1234567890123456", "1101051949123100212", ""])
def test_validate_unrecognised_shape(code: str) -> None:
    with pytest.raises(IdentityCodeError) as excinfo:
        validate(code)
    assert _rule(excinfo) == "length"


def test_mask_id_number() -> None:
    assert mask_id_number("11010519491231002X") == "1101**********002X"
    assert mask_id_number("110105491231002") == "1101*******1002"
    assert mask_id_number("1234") == "****"


def test_mask() -> None:
    assert mask("91350100M000100Y43") == "91350100M000100Y43"
    assert mask("91110000600037341L") == "91110000600037341L"
    assert mask("11010519491231002X") == "1101**********002X"
    assert mask("11010519491231002x") == "1101**********002X"
    # Anything that is not a valid USCC is treated as possibly personal.
    assert mask("11010519491231002A") == "1101**********002A"
    assert mask(ABSENT_USCC) == "0000**********000X"


def test_error_is_value_error_and_picklable() -> None:
    error = IdentityCodeError("X", "length", "length is 1, expected 18")
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.code, copy.rule, copy.message) == ("X", "length", "length is 1, expected 18")
    with pytest.raises(ValueError, match="unknown rule"):
        IdentityCodeError("X", "nonsense", "msg")
