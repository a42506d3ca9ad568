"""Identity codes of the parties to an administrative case.

Two kinds of code identify a party:

* the 统一社会信用代码 (USCC, GB 32100-2015) of a legal person or other
  organisation: 18 characters from a 31-character set, ending in a mod-31
  check character;
* the 公民身份号码 (citizen ID number, GB 11643-1999) of a natural person:
  17 digits and a mod-11 check character (``0``-``9`` or ``X``), with the
  birth date in positions 7-14. Legacy 15-digit numbers are converted.

This module normalises codes as people type or paste them, validates them,
tells the two kinds apart, and masks ID numbers for public display (USCCs
are public identifiers and are never masked). See
``/work/shared/docs/domain.md`` sections 1 and 2 for the rules and worked
examples.

Hard rules raise :class:`IdentityCodeError`; soft rules (an unknown
authority/organisation-type pair, the embedded GB 11714 organisation-code
check) only log a warning. All functions are pure apart from that logging.
"""

from __future__ import annotations

import datetime
import logging
import unicodedata
from typing import Final, NamedTuple

__all__ = [
    "ABSENT_USCC",
    "RULES",
    "USCC_AUTHORITIES",
    "USCC_AUTHORITY_CODES",
    "USCC_CHARSET",
    "IdentityCodeError",
    "RegistrationAuthority",
    "detect_kind",
    "id_number_birth_date",
    "id_number_check_character",
    "id_number_sex",
    "make_id_number",
    "make_uscc",
    "mask",
    "mask_id_number",
    "normalize",
    "uscc_check_character",
    "validate",
    "validate_id_number",
    "validate_uscc",
]

logger = logging.getLogger(__name__)

#: The rules a code can break; :attr:`IdentityCodeError.rule` is one of these.
RULES: Final = frozenset(
    {"length", "charset", "authority", "region", "check_character", "birth_date"}
)


class IdentityCodeError(ValueError):
    """Invalid identity code.

    Attributes: ``code`` (the input as given), ``rule`` (one of :data:`RULES`)
    and ``message`` (an English sentence naming the rule and the figures).
    ``str(error)`` is the message only, so that a personal ID number does not
    leak into logs through the exception text.
    """

    def __init__(self, code: str, rule: str, message: str) -> None:
        if rule not in RULES:
            raise ValueError(f"unknown rule {rule!r}")
        super().__init__(message)
        self.code = code
        self.rule = rule
        self.message = message

    def __reduce__(self) -> tuple[type[IdentityCodeError], tuple[str, str, str]]:
        # Keep the error picklable (it may cross a process or queue boundary).
        return (type(self), (self.code, self.rule, self.message))


# --------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------

#: Characters dropped by :func:`normalize` after NFKC (which already maps the
#: ideographic space U+3000 to " " and the full-width hyphen U+FF0D to "-").
_DROPPED: Final = frozenset(
    "-"  # ASCII hyphen-minus
    "\u2010\u2011\u2012\u2013\u2014"  # hyphen, non-breaking hyphen, figure/en/em dash
    "\u2212\ufe63\uff0d"  # minus sign, small and full-width hyphen-minus
    "\u200b\u200c\u200d\u2060\ufeff"  # zero-width characters and BOM
)


def normalize(code: str) -> str:
    """Return ``code`` in canonical form for validation.

    Applies NFKC (full-width ``９１`` becomes ``91``), removes all whitespace
    (including the ideographic space), hyphens and dashes, and upper-cases.
    Nothing is validated here.
    """
    text = unicodedata.normalize("NFKC", code)
    kept = "".join(ch for ch in text if not ch.isspace() and ch not in _DROPPED)
    # again after stripping, so that normalising twice changes nothing
    return unicodedata.normalize("NFKC", kept).upper()


# --------------------------------------------------------------------------
# USCC (GB 32100-2015)
# --------------------------------------------------------------------------

#: The 31 characters of GB 32100 table 1, in value order (no I, O, Z, S, V).
USCC_CHARSET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE: Final = {ch: value for value, ch in enumerate(USCC_CHARSET)}
#: W_i = 3^(i-1) mod 31 for i = 1..17.
_USCC_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))

#: Placeholder used in 双公示 data for "no code". Never a valid code (its
#: first character is not an authority code and its check would be ``0``).
ABSENT_USCC: Final = "00000000000000000X"

#: Hard rule: position 1 must be one of these registration-authority codes.
USCC_AUTHORITY_CODES: Final = frozenset("123456789ANY")


class RegistrationAuthority(NamedTuple):
    """One row of GB 32100 table 1.3."""

    name: str
    #: Organisation-type code (position 2) -> name.
    org_types: dict[str, str]


#: GB 32100 table 1.3: registration-authority code (position 1) with its
#: organisation-type codes (position 2). Data, not logic: the assigning
#: authorities extend it over time, so a pair missing here is only a warning.
USCC_AUTHORITIES: Final[dict[str, RegistrationAuthority]] = {
    "1": RegistrationAuthority(
        "机构编制",
        {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"},
    ),
    "2": RegistrationAuthority("外交", {"1": "外国常驻新闻机构", "9": "其他"}),
    "3": RegistrationAuthority(
        "司法行政",
        {
            "1": "律师执业机构",
            "2": "公证处",
            "3": "基层法律服务所",
            "4": "司法鉴定机构",
            "5": "仲裁委员会",
            "9": "其他",
        },
    ),
    "4": RegistrationAuthority("文化", {"1": "外国在华文化中心", "9": "其他"}),
    "5": RegistrationAuthority(
        "民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}
    ),
    "6": RegistrationAuthority(
        "旅游",
        {
            "1": "外国旅游部门常驻代表机构",
            "2": "港澳台地区旅游部门常驻内地（大陆）代表机构",
            "9": "其他",
        },
    ),
    "7": RegistrationAuthority("宗教", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
    "8": RegistrationAuthority("工会", {"1": "基层工会", "9": "其他"}),
    "9": RegistrationAuthority(
        "工商（市场监管）", {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}
    ),
    "A": RegistrationAuthority("中央军委改革和编制办公室", {"1": "军队事业单位", "9": "其他"}),
    "N": RegistrationAuthority(
        "农业",
        {
            "1": "组级集体经济组织",
            "2": "村级集体经济组织",
            "3": "乡镇级集体经济组织",
            "9": "其他",
        },
    ),
    "Y": RegistrationAuthority("其他", {"1": "不再具体划分机构类别"}),
}

#: GB 11714 organisation code: weights for the 8 body characters.
_ORG_CODE_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)


def _check_uscc_body(code: str, body: str) -> None:
    """Raise unless ``body`` is 17 characters from :data:`USCC_CHARSET`."""
    if len(body) != 17:
        raise IdentityCodeError(code, "length", f"length is {len(body)}, expected 17")
    _check_uscc_charset(code, body)


def _check_uscc_charset(code: str, text: str) -> None:
    for pos, ch in enumerate(text, start=1):
        if ch not in _USCC_VALUE:
            raise IdentityCodeError(
                code,
                "charset",
                f"character {ch!r} at position {pos} is not in the USCC character set",
            )


def uscc_check_character(first17: str) -> str:
    """Return the GB 32100 check character for the first 17 characters.

    ``first17`` is normalised first; raises :class:`IdentityCodeError`
    (rule ``length`` or ``charset``) if it is not 17 USCC characters.
    """
    body = normalize(first17)
    _check_uscc_body(first17, body)
    total = sum(_USCC_VALUE[ch] * w for ch, w in zip(body, _USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def _org_code_check_character(body8: str) -> str | None:
    """GB 11714 check character for an 8-character organisation-code body.

    Returns None if a character has no GB 11714 value (not 0-9, A-Z).
    """
    total = 0
    for ch, weight in zip(body8, _ORG_CODE_WEIGHTS, strict=True):
        if "0" <= ch <= "9":
            value = ord(ch) - ord("0")
        elif "A" <= ch <= "Z":
            value = ord(ch) - ord("A") + 10
        else:
            return None
        total += value * weight
    r = 11 - total % 11
    return "X" if r == 10 else "0" if r == 11 else str(r)


def _soft_check_uscc(code: str) -> None:
    """Log (never raise) the soft findings on a code that passed the hard rules."""
    authority = USCC_AUTHORITIES.get(code[0])
    if authority is None:
        logger.warning("USCC %s: registration-authority code %r is not in table 1.3", code, code[0])
    elif code[1] not in authority.org_types:
        logger.warning(
            "USCC %s: organization-type code %r is not listed for registration authority %r "
            "(%s) in table 1.3",
            code,
            code[1],
            code[0],
            authority.name,
        )
    expected = _org_code_check_character(code[8:16])
    if expected != code[16]:
        logger.warning(
            "USCC %s: embedded organization code %s fails the GB 11714 check "
            "(check character is %r, expected %r)",
            code,
            code[8:17],
            code[16],
            expected,
        )


def validate_uscc(code: str) -> str:
    """Validate a USCC and return it normalised.

    Hard rules, in this order: ``length`` (18), ``charset`` (GB 32100 table 1,
    so I, O, Z, S, V are rejected), ``authority`` (position 1 in 1-9, A, N,
    Y), ``region`` (positions 3-8 digits), ``check_character`` (mod 31).
    :data:`ABSENT_USCC` is rejected. Soft rules only log a warning: a
    position 1/2 pair missing from :data:`USCC_AUTHORITIES`, and the GB 11714
    check on positions 9-17.
    """
    norm = _validate_uscc_hard(code)
    _soft_check_uscc(norm)
    return norm


def _validate_uscc_hard(code: str) -> str:
    """The hard rules of :func:`validate_uscc`, without the soft warnings."""
    norm = normalize(code)
    if len(norm) != 18:
        raise IdentityCodeError(code, "length", f"length is {len(norm)}, expected 18")
    if norm == ABSENT_USCC:
        raise IdentityCodeError(
            code,
            "authority",
            f"{ABSENT_USCC} is the placeholder for an absent code, not a valid code",
        )
    _check_uscc_charset(code, norm)
    if norm[0] not in USCC_AUTHORITY_CODES:
        raise IdentityCodeError(
            code,
            "authority",
            f"registration-authority code {norm[0]!r} at position 1 is not one of 1-9, A, N, Y",
        )
    for pos in range(3, 9):
        if not norm[pos - 1].isdigit():
            raise IdentityCodeError(
                code,
                "region",
                f"character {norm[pos - 1]!r} at position {pos} is not a digit "
                "(region code, positions 3-8)",
            )
    expected = uscc_check_character(norm[:17])
    if norm[17] != expected:
        raise IdentityCodeError(
            code, "check_character", f"check character is {norm[17]!r}, expected {expected!r}"
        )
    return norm


def make_uscc(first17: str) -> str:
    """Append the check character to ``first17`` and return the valid code.

    Raises :class:`IdentityCodeError` if the result would still be invalid
    (wrong length or characters, bad authority or region code).
    """
    body = normalize(first17)
    return validate_uscc(body + uscc_check_character(body))


# --------------------------------------------------------------------------
# Citizen ID number (GB 11643-1999)
# --------------------------------------------------------------------------

#: W_i = 2^(18-i) mod 11 for i = 1..17.
_ID_WEIGHTS: Final = tuple(pow(2, 17 - i, 11) for i in range(17))
_ID_CHECK_CHARS: Final = "10X98765432"
#: Policy: earlier birth years are rejected (domain.md 2.3).
_MIN_BIRTH_YEAR: Final = 1900


def id_number_check_character(first17: str) -> str:
    """Return the GB 11643 check character (``0``-``9`` or ``X``) for 17 digits.

    ``first17`` is normalised first; raises :class:`IdentityCodeError`
    (rule ``length`` or ``charset``) if it is not 17 digits.
    """
    body = normalize(first17)
    if len(body) != 17:
        raise IdentityCodeError(first17, "length", f"length is {len(body)}, expected 17")
    _check_digits(first17, body)
    total = sum(int(ch) * w for ch, w in zip(body, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def _check_digits(code: str, text: str, start: int = 1) -> None:
    for pos, ch in enumerate(text, start=start):
        if not ("0" <= ch <= "9"):
            raise IdentityCodeError(
                code, "charset", f"character {ch!r} at position {pos} is not a digit"
            )


def _id_shape(code: str) -> str:
    """Normalise, check length and characters, and return 18 characters.

    A legacy 15-digit number becomes its 18-digit form (``19`` inserted
    after the address code, check character computed).
    """
    norm = normalize(code)
    if len(norm) == 15:
        _check_digits(code, norm)
        body = norm[:6] + "19" + norm[6:]
        return body + id_number_check_character(body)
    if len(norm) != 18:
        raise IdentityCodeError(
            code, "length", f"length is {len(norm)}, expected 18 (or 15 for a legacy number)"
        )
    _check_digits(code, norm[:17])
    if not ("0" <= norm[17] <= "9" or norm[17] == "X"):
        raise IdentityCodeError(
            code, "charset", f"check character {norm[17]!r} at position 18 is not a digit or X"
        )
    return norm


def _birth_date(code: str, norm18: str) -> datetime.date:
    digits = norm18[6:14]
    try:
        return datetime.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise IdentityCodeError(
            code, "birth_date", f"birth date {digits} is not a calendar date"
        ) from None


def validate_id_number(code: str, *, today: datetime.date | None = None) -> str:
    """Validate a citizen ID number and return its normalised 18-digit form.

    Rules: ``length`` (18, or 15 for a legacy number, which is converted),
    ``charset`` (17 digits and ``0``-``9``/``X``), ``birth_date`` (a real
    date, year >= 1900, not after ``today``, default the current date),
    ``check_character`` (mod 11). The address code is not checked.
    """
    norm = _id_shape(code)
    born = _birth_date(code, norm)
    digits = norm[6:14]
    if born.year < _MIN_BIRTH_YEAR:
        raise IdentityCodeError(
            code, "birth_date", f"birth date {digits} is before {_MIN_BIRTH_YEAR}-01-01"
        )
    today = today or datetime.date.today()
    if born > today:
        raise IdentityCodeError(
            code,
            "birth_date",
            f"birth date {digits} is in the future (today is {today.isoformat()})",
        )
    expected = id_number_check_character(norm[:17])
    if norm[17] != expected:
        raise IdentityCodeError(
            code, "check_character", f"check character is {norm[17]!r}, expected {expected!r}"
        )
    return norm


def id_number_birth_date(code: str) -> datetime.date:
    """Return the birth date in an ID number (18 or legacy 15 digits).

    Checks only the shape and that the date exists; use
    :func:`validate_id_number` for the full rules.
    """
    return _birth_date(code, _id_shape(code))


def id_number_sex(code: str) -> str:
    """Return ``'M'`` or ``'F'`` from the sequence number (odd = male).

    Checks only the shape; use :func:`validate_id_number` for the full rules.
    """
    return "M" if int(_id_shape(code)[16]) % 2 else "F"


def make_id_number(first17: str) -> str:
    """Append the check character to 17 digits and return the valid number.

    Raises :class:`IdentityCodeError` if the result is still invalid (for
    example an impossible or future birth date).
    """
    body = normalize(first17)
    return validate_id_number(body + id_number_check_character(body))


# --------------------------------------------------------------------------
# Either kind
# --------------------------------------------------------------------------


def _is_digits_with_optional_x(norm: str) -> bool:
    """True for a non-empty run of ASCII digits, optionally ending in ``X``."""
    body = norm[:-1] if norm.endswith("X") else norm
    return bool(body) and all("0" <= ch <= "9" for ch in body)


def _looks_like_birth_date(digits: str) -> bool:
    """Loose shape test: year 18xx-20xx, month 01-12, day 01-31."""
    return (
        digits[:2] in {"18", "19", "20"}
        and 1 <= int(digits[4:6]) <= 12
        and 1 <= int(digits[6:8]) <= 31
    )


def _uscc_checksum_ok(norm: str) -> bool:
    return norm[0] in USCC_AUTHORITY_CODES and uscc_check_character(norm[:17]) == norm[17]


def detect_kind(code: str) -> str:
    """Tell from the normalised shape whether ``code`` is a USCC or an ID number.

    Returns ``'uscc'`` or ``'id_number'`` without fully validating:

    * any character other than a digit, or an ``X`` before the last
      position: ``'uscc'`` (whatever the length, so that the USCC validator
      reports what is wrong);
    * 15 characters: ``'id_number'`` (legacy; the ID validator reports an ``X``);
    * 18 characters, 17 digits plus a digit or ``X``: ``'id_number'`` if
      positions 7-14 look like a birth date and the mod-11 check matches;
      else ``'uscc'`` if the USCC authority and mod-31 check match; else
      ``'id_number'`` if positions 7-14 look like a date; else ``'uscc'``.

    Raises :class:`IdentityCodeError` (rule ``length``) for other all-digit
    lengths, where the intended kind cannot be told.
    """
    norm = normalize(code)
    if not _is_digits_with_optional_x(norm):
        return "uscc"
    if len(norm) == 15:
        return "id_number"
    if len(norm) != 18:
        raise IdentityCodeError(
            code,
            "length",
            f"length is {len(norm)}, expected 18 (or 15 for a legacy ID number)",
        )
    date_like = _looks_like_birth_date(norm[6:14])
    if date_like and id_number_check_character(norm[:17]) == norm[17]:
        return "id_number"
    if _uscc_checksum_ok(norm):
        return "uscc"
    return "id_number" if date_like else "uscc"


def validate(code: str) -> tuple[str, str]:
    """Detect the kind of ``code`` and validate it.

    Returns ``(kind, normalised)``; raises :class:`IdentityCodeError`.
    """
    kind = detect_kind(code)
    if kind == "uscc":
        return kind, validate_uscc(code)
    return kind, validate_id_number(code)


def mask_id_number(code: str) -> str:
    """Mask an ID number for public display: first 4 and last 4 kept.

    ``'11010519491231002X'`` becomes ``'1101**********002X'``. The input is
    normalised but not validated; 8 characters or fewer are masked entirely.
    """
    norm = normalize(code)
    if len(norm) <= 8:
        return "*" * len(norm)
    return norm[:4] + "*" * (len(norm) - 8) + norm[-4:]


def mask(code: str) -> str:
    """Return ``code`` fit for public display.

    A USCC is a public identifier and comes back unchanged (normalised).
    Anything else is masked with :func:`mask_id_number`: whatever
    :func:`detect_kind` takes for an ID number (even one whose digits also
    pass the USCC checksum) and a malformed USCC (it might be a mistyped ID
    number).
    """
    try:
        if detect_kind(code) == "id_number":
            return mask_id_number(code)
        return _validate_uscc_hard(code)
    except IdentityCodeError:
        return mask_id_number(code)
