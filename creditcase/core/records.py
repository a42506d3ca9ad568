"""Credit records pushed by departments and courts, and their input schemas.

A record is identified by its source department and document number, so a
push is idempotent: the same content again changes nothing; different content
is a correction that creates a new revision (the previous one is kept in
``history``) and a ``record.updated`` event (``record.revoked`` when the
correction revokes the record).

Records arrive in one of two forms, both validated here (:func:`load_record`):

* the **generic form** (``subject_code``, ``subject_name``, ``kind``, ``title``,
  ``doc_no``, ``decision_date``, ...), for every kind the policy names, with
  optional national fields in ``fields``;
* the **national form** of 双公示 (domain.md §3.2, §3.3): the field codes
  ``XK_*`` (administrative licence) or ``CF_*`` (administrative penalty) at the
  top level, as in the national data files. The subject, title, dates and
  authority are derived from them (``CF_XDR_MC`` → ``subject_name``,
  ``CF_XDR_SHXYM`` or ``CF_XDR_ZJHM`` → ``subject_code``, ...).

Every invalid field is reported under its name with the rule it breaks; nothing
invalid is stored. Writes go through :func:`store_batch`: one transaction for a
batch of records with their audit events and outbox entries (bulk inserts), so
the bulk API and the file importer do not pay one transaction per record.
Publicity (deadline, regime, period) is computed by :mod:`creditcase.core.publicity`.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
import unicodedata
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import marshmallow as ma
import mongoengine as me
from bson import ObjectId
from marshmallow import validate as v

from creditcase.core import audit, grades, ids, outbox, publicity, reports
from creditcase.core.accounts import Principal
from creditcase.core.calendar import WorkingCalendar, current_calendar
from creditcase.core.db import UnitOfWork, utcnow
from creditcase.core.errors import Conflict, NotFound, RuleViolation
from creditcase.core.subjects import INDIVIDUAL_BUSINESS, KINDS, LEGAL, NATURAL, identify

#: Record kinds the policy names (§二(一)), with their Chinese names.
KINDS_OF_RECORD: dict[str, str] = {
    "licence": "行政许可",
    "penalty": "行政处罚",
    "levy": "行政征收",
    "enforcement": "行政强制",
    "confirmation": "行政确认",
    "award": "行政奖励",
    "judgment": "司法判决",
    "dishonest_debtor": "失信被执行人",
    "major_tax_violation": "重大税收违法失信",
    "contract_performance": "合同履约",
    "commitment_breach": "信用承诺违约",
    "self_declared": "自主申报",
}
#: Kinds published under 双公示 with a 7-working-day deadline.
PUBLICITY_KINDS = frozenset({"licence", "penalty"})
#: Kinds that are bad news for the subject (used by grading and hits).
ADVERSE_KINDS = frozenset({"penalty", "enforcement", "dishonest_debtor", "major_tax_violation",
                           "commitment_breach", "judgment"})
SEVERITIES = {"minor": "轻微", "general": "一般", "serious": "严重"}
#: Severity as written in Chinese data files.
SEVERITY_ALIASES = {zh: code for code, zh in SEVERITIES.items()}
STATES = ("active", "disputed", "repaired", "expired", "revoked")
#: States a provider may push; ``disputed`` and ``repaired`` belong to the objection
#: and repair workflows.
PUSHED_STATES = ("active", "expired", "revoked")
PUBLICITY_STATES = publicity.PUBLICITY_STATES
PUBLICATION_WORKING_DAYS = publicity.PUBLICATION_WORKING_DAYS
#: Sectors whose minimum publicity period some regimes raise (Order 58: one year).
SECTORS = {"special_equipment": "特种设备", "work_safety": "安全生产", "fire_safety": "消防"}

# -- national 双公示 codes (domain.md §3.2, §3.3) -------------------------------------------

#: 行政相对人类别 → subject kind.
SUBJECT_CATEGORIES = {"法人及非法人组织": LEGAL, "自然人": NATURAL, "个体工商户": INDIVIDUAL_BUSINESS}
CATEGORY_OF_KIND = {kind: label for label, kind in SUBJECT_CATEGORIES.items()}
#: 证件类型 whose numbers use the citizen ID format and checksum (GB 11643).
ID_NUMBER_TYPES = ("身份证", "港澳居民居住证", "台湾居民居住证", "外国人永久居留身份证")
ID_TYPES = (*ID_NUMBER_TYPES, "护照", "港澳居民来往内地通行证", "台湾居民来往大陆通行证", "其他")
LICENCE_CATEGORIES = ("普通", "特许", "认可", "核准", "登记", "其他")
#: 处罚类别 (行政处罚法 2021 Art. 9).
PENALTY_CATEGORIES = ("警告", "通报批评", "罚款", "没收违法所得", "没收非法财物", "暂扣许可证件",
                      "降低资质等级", "吊销许可证件", "限制开展生产经营活动", "责令停产停业",
                      "责令关闭", "限制从业", "行政拘留", "其他")
#: XK_ZT 当前状态: 1 有效, 2 无效.
LICENCE_STATES = {"1": "有效", "2": "无效"}
CATEGORY_SEPARATORS = re.compile(r"[;；,，、|/]")
#: Fields of the national form that are not national codes.
EXTRA_KEYS = ("kind", "severity", "publish", "publish_minor", "sector", "type_severities",
              "state", "source_department")
#: Codes of the national form, per kind (the importer checks file headers against these).
LICENCE_CODES = (
    "XK_XDR_MC", "XK_XDR_LB", "XK_XDR_SHXYM", "XK_XDR_GSZC", "XK_XDR_ZZJG", "XK_XDR_SWDJ",
    "XK_XDR_SYDW", "XK_XDR_SHZZ", "XK_FRDB", "XK_FR_ZJLX", "XK_FR_ZJHM", "XK_XDR_ZJLX",
    "XK_XDR_ZJHM", "XK_XKWS", "XK_WSH", "XK_XKLB", "XK_XKZS", "XK_XKBH", "XK_NR", "XK_JDRQ",
    "XK_YXQZ", "XK_YXQZI", "XK_XKJG", "XK_XKJGDM", "XK_ZT", "XK_LYDW", "XK_LYDWDM", "BZ")
PENALTY_CODES = (
    "CF_XDR_MC", "CF_XDR_LB", "CF_XDR_SHXYM", "CF_XDR_GSZC", "CF_XDR_ZZJG", "CF_XDR_SWDJ",
    "CF_XDR_SYDW", "CF_XDR_SHZZ", "CF_FRDB", "CF_FR_ZJLX", "CF_FR_ZJHM", "CF_XDR_ZJLX",
    "CF_XDR_ZJHM", "CF_WSH", "CF_WFXW", "CF_SY", "CF_YJ", "CF_CFLB", "CF_NR", "CF_NR_FK",
    "CF_NR_WFFF", "CF_NR_ZKDX", "CF_JDRQ", "CF_YXQ", "CF_GSJZQ", "CF_CFJG", "CF_CFJGDM",
    "CF_SJLY", "CF_SJLYDM", "BZ")
NATIONAL_CODES = {"licence": LICENCE_CODES, "penalty": PENALTY_CODES}
#: Personal ID numbers among the national fields: never shown in full.
PERSONAL_ID_FIELDS = frozenset({"XK_FR_ZJHM", "CF_FR_ZJHM", "XK_XDR_ZJHM", "CF_XDR_ZJHM"})
TEXT_MAX = 20_000


class RecordRevision(me.EmbeddedDocument):
    revision = me.IntField(required=True)
    content_hash = me.StringField(required=True)
    snapshot = me.DictField(required=True)
    replaced_at = me.DateTimeField(required=True)


class CreditRecord(me.Document):
    subject_code = me.StringField(required=True)
    subject_name = me.StringField(required=True)
    subject_kind = me.StringField(required=True, choices=tuple(KINDS))
    kind = me.StringField(required=True, choices=tuple(KINDS_OF_RECORD))
    severity = me.StringField(choices=tuple(SEVERITIES), null=True)
    type_severities = me.DictField(help_text="处罚类别 -> severity, when one decision carries "
                                             "several penalty types of different severity")
    publish_minor = me.BooleanField(default=False, help_text="the department deems publishing "
                                                             "this 轻微 record necessary")
    sector = me.StringField(choices=tuple(SECTORS), null=True)
    title = me.StringField(required=True, max_length=500)
    content = me.StringField(default="")
    doc_no = me.StringField(required=True, max_length=128, help_text="决定文书号")
    decision_date = me.DateField(required=True)
    effective_from = me.DateField()
    effective_until = me.DateField()
    source_department = me.StringField(required=True)
    authority = me.StringField(default="", help_text="the deciding authority's name")
    fields = me.DictField(help_text="national 双公示 fields by code (XK_*, CF_*)")
    state = me.StringField(default="active", choices=STATES)
    publicity_state = me.StringField(default="not_applicable", choices=PUBLICITY_STATES)
    publication_due = me.DateField(help_text="decision date + 7 working days")
    published_at = me.DateTimeField()
    published_late = me.BooleanField(null=True, help_text="published after publication_due")
    publicity_regime = me.StringField(null=True, help_text="id of the publicity regime applied")
    publicity_min_until = me.DateField(help_text="end of the minimum publicity period")
    publicity_until = me.DateField(help_text="end of the maximum period (CF_GSJZQ); the "
                                             "licence's 有效期至")
    publicity_ended_at = me.DateTimeField()
    revision = me.IntField(default=1)
    content_hash = me.StringField(required=True)
    history = me.EmbeddedDocumentListField(RecordRevision)
    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField(required=True)
    version = me.IntField(default=0)

    meta = {"collection": "credit_records", "indexes": [
        {"fields": ["source_department", "doc_no"], "unique": True},
        ("subject_code", "state"),
        ("publicity_state", "publicity_until"),
    ]}

    @property
    def department(self) -> str:
        return self.source_department


# ============================================================================ input fields


def _rule(rule: str, message: str) -> str:
    """A field message naming the rule: ``"<rule>: <message>"``."""
    return f"{rule}: {message}"


#: Marshmallow's own messages, by the rule they stand for (for reports).
_MA_RULES = {
    "Missing data for required field.": "required",
    "Unknown field.": "unknown_field",
    "Field may not be null.": "required",
    "Not a valid string.": "type",
    "Not a valid date.": "date",
    "Not a valid boolean.": "type",
    "Not a valid mapping type.": "type",
    "Invalid input type.": "type",
}


def split_rule(message: str) -> tuple[str, str]:
    """``(rule, message)`` for a field message (``"check_character: ..."`` or one of
    marshmallow's own messages)."""
    if message in _MA_RULES:
        return _MA_RULES[message], message
    head, sep, rest = message.partition(": ")
    if sep and re.fullmatch(r"[a-z_]+", head):
        return head, rest
    if message.startswith("Must be one of"):
        return "one_of", message
    if message.startswith(("Longer than", "Shorter than", "Length must")):
        return "length", message
    return "invalid", message


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Marshmallow's nested messages as ``{"a.b": [...]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            for sub, items in flatten_errors(value, path).items():
                out.setdefault(sub, []).extend(items)
    elif isinstance(messages, list | tuple):
        strings = [m for m in messages if isinstance(m, str)]
        if strings:
            out.setdefault(prefix or "_schema", []).extend(strings)
        for item in messages:
            if not isinstance(item, str):
                for sub, items in flatten_errors(item, prefix).items():
                    out.setdefault(sub, []).extend(items)
    elif messages is not None:
        out.setdefault(prefix or "_schema", []).append(str(messages))
    return out


def _clean_text(value: Any) -> str:
    return unicodedata.normalize("NFC", str(value)).strip()


class NationalText(ma.fields.String):
    """Text; numbers are accepted as their decimal text; surrounding spaces removed."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool):
            raise ma.ValidationError(_rule("type", "expected text"))
        if isinstance(value, int | float | Decimal):
            value = str(value)
        if not isinstance(value, str):
            raise ma.ValidationError(_rule("type", "expected text"))
        return _clean_text(value)


class NationalDate(ma.fields.Date):
    """A date: ISO ``YYYY-MM-DD``, ``YYYY/MM/DD``, ``YYYYMMDD`` or ``YYYY年M月D日``, an
    optional ``00:00:00`` time, or a date/datetime object (spreadsheets)."""

    _FORMATS = (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"), re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"),
                re.compile(r"(\d{4})(\d{2})(\d{2})"), re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日"),
                re.compile(r"(\d{4})\.(\d{1,2})\.(\d{1,2})"))

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value.isoformat() if isinstance(value, dt.date) else value

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.date:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if not isinstance(value, str):
            raise ma.ValidationError(_rule("date", "expected a date such as 2026-03-02"))
        text = _clean_text(value)
        text = re.sub(r"[ T]00:00(:00(\.0+)?)?$", "", text)
        for pattern in self._FORMATS:
            match = pattern.fullmatch(text)
            if match:
                try:
                    return dt.date(*(int(g) for g in match.groups()))
                except ValueError:
                    break
        raise ma.ValidationError(_rule("date", f"{value!r} is not a date (expected YYYY-MM-DD)"))


class Amount(ma.fields.String):
    """An amount in 万元, decimal(18,6): at most 12 integer and 6 decimal digits, not
    negative. Stored as its decimal text (never a float)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
            raise ma.ValidationError(_rule("decimal", "expected an amount in 万元 such as 0.2"))
        text = _clean_text(value) if isinstance(value, str) else repr(value) \
            if isinstance(value, float) else str(value)
        try:
            amount = Decimal(text.replace(",", ""))
        except InvalidOperation:
            raise ma.ValidationError(_rule("decimal", f"{text!r} is not a number (万元)")) from None
        if not amount.is_finite():
            raise ma.ValidationError(_rule("decimal", "must be a finite number"))
        if amount < 0:
            raise ma.ValidationError(_rule("min", "must not be negative"))
        _sign, digits, exponent = amount.as_tuple()
        decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        if decimals > 6:
            raise ma.ValidationError(_rule("decimal", "at most 6 decimal places (万元, decimal(18,6))"))
        if len(digits) - decimals > 12:
            raise ma.ValidationError(_rule("decimal", "at most 12 integer digits (decimal(18,6))"))
        normal = format(amount, "f")
        if "." in normal:
            normal = normal.rstrip("0").rstrip(".")
        return normal or "0"


class Uscc(ma.fields.String):
    """A 统一社会信用代码. The placeholder ``00000000000000000X`` means "absent": it is
    accepted (as no value) only when ``allow_absent`` is true."""

    def __init__(self, *, allow_absent: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.allow_absent = allow_absent

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str | None:
        if not isinstance(value, str):
            raise ma.ValidationError(_rule("type", "expected an 18-character code"))
        normal, problem = _checked_uscc(value)
        if normal == ids.ABSENT_USCC:
            if self.allow_absent:
                return None
            raise ma.ValidationError(_rule(
                "placeholder", f"{ids.ABSENT_USCC} marks an absent code; this field is required"))
        if problem:
            raise ma.ValidationError(problem)
        return normal


@functools.lru_cache(maxsize=65_536)
def _checked_uscc(value: str) -> tuple[str, str | None]:
    """``(normalised code, None)`` or ``(input, "rule: message")``. Cached: files repeat
    the same authority and subject codes on many rows (a soft-check warning is logged
    once per code)."""
    if ids.normalize(value) == ids.ABSENT_USCC:
        return ids.ABSENT_USCC, None
    try:
        return ids.validate_uscc(value), None
    except ids.IdentityCodeError as exc:
        return value, _rule(exc.rule, exc.message)


@functools.lru_cache(maxsize=65_536)
def _identified(code: str, kind: str | None) -> tuple[str, str] | RuleViolation:
    """:func:`creditcase.core.subjects.identify`, cached (the error returned, not raised)."""
    try:
        return identify(code, kind, field="subject_code")
    except RuleViolation as exc:
        return exc


class Severity(ma.fields.String):
    """minor / general / serious, or 轻微 / 一般 / 严重."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = _clean_text(super()._deserialize(value, attr, data, **kwargs))
        text = SEVERITY_ALIASES.get(text, text.lower())
        if text not in SEVERITIES:
            raise ma.ValidationError(_rule("one_of", "must be one of minor, general, serious "
                                                     "(轻微, 一般, 严重)"))
        return text


class Sector(ma.fields.String):
    """A sector code (special_equipment, work_safety, fire_safety) or its Chinese name."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = _clean_text(super()._deserialize(value, attr, data, **kwargs))
        text = {zh: code for code, zh in SECTORS.items()}.get(text, text)
        if text not in SECTORS:
            raise ma.ValidationError(_rule("one_of", "must be one of " + ", ".join(
                f"{code} {zh}" for code, zh in SECTORS.items())))
        return text


class Flag(ma.fields.Boolean):
    """A boolean that also reads 是/否, 1/0, yes/no from files."""

    truthy = {*ma.fields.Boolean.truthy, "是", "yes", "Yes", "YES", "Y", "y"}
    falsy = {*ma.fields.Boolean.falsy, "否", "no", "No", "NO", "N", "n"}


class Categories(ma.fields.Raw):
    """A multi-valued enum: a list, or text separated by ``;`` ``；`` ``,`` ``、``.
    Loaded as a list without duplicates, in the order given."""

    def __init__(self, choices: Sequence[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.choices = tuple(choices)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[str]:
        if isinstance(value, str):
            items = [_clean_text(p) for p in CATEGORY_SEPARATORS.split(value)]
        elif isinstance(value, list | tuple):
            if not all(isinstance(p, str) for p in value):
                raise ma.ValidationError(_rule("type", "expected text values"))
            items = [_clean_text(p) for p in value]
        else:
            raise ma.ValidationError(_rule("type", "expected text or a list"))
        items = list(dict.fromkeys(p for p in items if p))
        if not items:
            raise ma.ValidationError(_rule("required", "at least one value"))
        unknown = [p for p in items if p not in self.choices]
        if unknown:
            raise ma.ValidationError(_rule("one_of", f"{'、'.join(unknown)} not one of "
                                                     f"{'、'.join(self.choices)}"))
        return items


def _one_of(choices: Iterable[str]) -> v.OneOf:
    values = tuple(choices)
    return v.OneOf(values, error=_rule("one_of", "must be one of " + "、".join(values)))


def _length(maximum: int) -> v.Length:
    return v.Length(min=1, max=maximum, error=_rule("length", f"1 to {maximum} characters"))


def _text(maximum: int = TEXT_MAX, *, required: bool = False) -> NationalText:
    return NationalText(required=required, validate=_length(maximum))


# ============================================================================ schemas


class _Drop:
    """Removes keys whose value is empty (``None``, ``""``, blanks): an empty cell
    or field is an absent one."""

    @ma.pre_load
    def _drop_empty(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        return {k: val for k, val in data.items()
                if not (val is None or (isinstance(val, str) and not val.strip()))}


def _party_fields(prefix: str) -> dict[str, ma.fields.Field]:
    """The 行政相对人 and 法定代表人 fields shared by licences and penalties."""
    return {
        f"{prefix}_XDR_MC": _text(200, required=True),
        f"{prefix}_XDR_LB": NationalText(required=True, validate=_one_of(SUBJECT_CATEGORIES)),
        f"{prefix}_XDR_SHXYM": Uscc(allow_absent=True),
        f"{prefix}_XDR_GSZC": _text(50),
        f"{prefix}_XDR_ZZJG": _text(50),
        f"{prefix}_XDR_SWDJ": _text(50),
        f"{prefix}_XDR_SYDW": _text(50),
        f"{prefix}_XDR_SHZZ": _text(50),
        f"{prefix}_FRDB": _text(50),
        f"{prefix}_FR_ZJLX": NationalText(validate=_one_of(ID_TYPES)),
        f"{prefix}_FR_ZJHM": _text(64),
        f"{prefix}_XDR_ZJLX": NationalText(validate=_one_of(ID_TYPES)),
        f"{prefix}_XDR_ZJHM": _text(64),
        "BZ": _text(2000),
    }


def _extra_fields(kind: str) -> dict[str, ma.fields.Field]:
    return {
        "kind": NationalText(validate=_one_of((kind,))),
        "severity": Severity(required=kind == "penalty"),
        "publish": Flag(load_default=True),
        "publish_minor": Flag(load_default=False),
        "sector": Sector(allow_none=True),
        "type_severities": ma.fields.Dict(keys=NationalText(validate=_one_of(PENALTY_CATEGORIES)),
                                          values=Severity()),
        "state": NationalText(validate=_one_of(PUSHED_STATES), load_default="active"),
        "source_department": NationalText(validate=_length(32)),
    }


def _given(original: Any, key: str) -> bool:
    """Whether the raw input had a non-empty ``key`` (a value that failed its own
    validation must not also be reported as missing)."""
    if not isinstance(original, Mapping):
        return False
    value = original.get(key)
    return not (value is None or (isinstance(value, str) and not value.strip()))


class NationalBase(_Drop, ma.Schema):
    """Rules shared by both national forms (the fields are added per kind below)."""

    prefix = ""

    @ma.validates_schema(pass_original=True, skip_on_field_errors=False)
    def _party(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        p = self.prefix
        errors: dict[str, list[str]] = {}
        category = data.get(f"{p}_XDR_LB")
        code_key = f"{p}_XDR_SHXYM"
        if category in ("法人及非法人组织", "个体工商户"):
            if data.get(code_key) is None and (code_key in data or not _given(original, code_key)):
                errors[code_key] = [_rule("required", f"required for {category}")]
            if category == "法人及非法人组织" and not data.get(f"{p}_FRDB"):
                errors[f"{p}_FRDB"] = [_rule("required", "required for 法人及非法人组织")]
        elif category == "自然人":
            if data.get(code_key):
                errors[code_key] = [_rule(
                    "absent", f"a natural person has no USCC; leave empty or {ids.ABSENT_USCC}")]
            id_type = data.get(f"{p}_XDR_ZJLX")
            if not id_type and not _given(original, f"{p}_XDR_ZJLX"):
                errors[f"{p}_XDR_ZJLX"] = [_rule("required", "required for 自然人")]
            elif id_type and id_type not in ID_NUMBER_TYPES:
                errors[f"{p}_XDR_ZJLX"] = [_rule(
                    "unsupported", "a natural person is identified here by a number in the "
                                   "citizen ID format: " + "、".join(ID_NUMBER_TYPES))]
            number = data.get(f"{p}_XDR_ZJHM")
            if not number and not _given(original, f"{p}_XDR_ZJHM"):
                errors[f"{p}_XDR_ZJHM"] = [_rule("required", "required for 自然人")]
            elif number and id_type in ID_NUMBER_TYPES:
                problem = _id_number_problem(number)
                if problem:
                    errors[f"{p}_XDR_ZJHM"] = [problem]
        if data.get(f"{p}_FR_ZJHM") and data.get(f"{p}_FR_ZJLX") in ID_NUMBER_TYPES:
            problem = _id_number_problem(data[f"{p}_FR_ZJHM"])
            if problem:
                errors[f"{p}_FR_ZJHM"] = [problem]
        if errors:
            raise ma.ValidationError(errors)


def _id_number_problem(number: str) -> str | None:
    try:
        ids.validate_id_number(number)
    except ids.IdentityCodeError as exc:
        return _rule(exc.rule, exc.message)
    return None


def _not_future(errors: dict[str, list[str]], data: Mapping[str, Any], key: str) -> None:
    day = data.get(key)
    if isinstance(day, dt.date) and day > publicity.today_local():
        errors.setdefault(key, []).append(_rule("future", "a decision date cannot be in the future"))


def _not_before(errors: dict[str, list[str]], data: Mapping[str, Any], first: str,
                second: str) -> None:
    a, b = data.get(first), data.get(second)
    if isinstance(a, dt.date) and isinstance(b, dt.date) and b < a:
        errors.setdefault(second, []).append(_rule("date_order", f"must not be before {first}"))


class _LicenceRules(NationalBase):
    prefix = "XK"

    @ma.validates_schema(skip_on_field_errors=False)
    def _licence(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        _not_future(errors, data, "XK_JDRQ")
        _not_before(errors, data, "XK_YXQZ", "XK_YXQZI")
        if errors:
            raise ma.ValidationError(errors)


class _PenaltyRules(NationalBase):
    prefix = "CF"

    @ma.validates_schema(pass_original=True, skip_on_field_errors=False)
    def _penalty(self, data: dict[str, Any], original: Any, **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        categories = set(data.get("CF_CFLB") or ())

        def needs(key: str, when: str) -> None:
            if key not in data and not _given(original, key):
                errors[key] = [_rule("required", f"required when 处罚类别 includes {when}")]

        if "罚款" in categories:
            needs("CF_NR_FK", "罚款")
        if categories & {"没收违法所得", "没收非法财物"}:
            needs("CF_NR_WFFF", "没收违法所得 or 没收非法财物")
        if categories & {"暂扣许可证件", "吊销许可证件"}:
            needs("CF_NR_ZKDX", "暂扣许可证件 or 吊销许可证件")
        extra = set(data.get("type_severities") or {}) - categories
        if categories and extra:
            errors["type_severities"] = [_rule(
                "one_of", f"{'、'.join(sorted(extra))} not among 处罚类别 (CF_CFLB)")]
        _not_future(errors, data, "CF_JDRQ")
        _not_before(errors, data, "CF_JDRQ", "CF_YXQ")
        if errors:
            raise ma.ValidationError(errors)


def _licence_fields() -> dict[str, ma.fields.Field]:
    return {
        **_party_fields("XK"),
        "XK_XKWS": _text(200, required=True),
        "XK_WSH": _text(128, required=True),
        "XK_XKLB": NationalText(validate=_one_of(LICENCE_CATEGORIES)),
        "XK_XKZS": _text(200),
        "XK_XKBH": _text(128),
        "XK_NR": _text(required=True),
        "XK_JDRQ": NationalDate(required=True),
        "XK_YXQZ": NationalDate(required=True),
        "XK_YXQZI": NationalDate(required=True),
        "XK_XKJG": _text(200, required=True),
        "XK_XKJGDM": Uscc(required=True),
        "XK_ZT": NationalText(validate=_one_of((*LICENCE_STATES, *LICENCE_STATES.values()))),
        "XK_LYDW": _text(200, required=True),
        "XK_LYDWDM": Uscc(required=True),
        **_extra_fields("licence"),
    }


def _penalty_fields() -> dict[str, ma.fields.Field]:
    return {
        **_party_fields("CF"),
        "CF_WSH": _text(128, required=True),
        "CF_WFXW": _text(required=True),
        "CF_SY": _text(required=True),
        "CF_YJ": _text(required=True),
        "CF_CFLB": Categories(PENALTY_CATEGORIES, required=True, metadata={
            "type": "string", "description": "处罚类别, one or more of " + "、".join(
                PENALTY_CATEGORIES) + "; a list, or text separated by ; ； , ， 、"}),
        "CF_NR": _text(required=True),
        "CF_NR_FK": Amount(),
        "CF_NR_WFFF": Amount(),
        "CF_NR_ZKDX": _text(200),
        "CF_JDRQ": NationalDate(required=True),
        "CF_YXQ": NationalDate(),
        "CF_GSJZQ": NationalDate(metadata={"description": "derived by the platform; a value "
                                                          "sent is checked and ignored"}),
        "CF_CFJG": _text(200, required=True),
        "CF_CFJGDM": Uscc(required=True),
        "CF_SJLY": _text(200, required=True),
        "CF_SJLYDM": Uscc(required=True),
        **_extra_fields("penalty"),
    }


#: 行政许可 in the national form (domain.md §3.2).
LicenceSchema: type[ma.Schema] = type("LicenceSchema", (_LicenceRules,), _licence_fields())
#: 行政处罚 in the national form (domain.md §3.3).
PenaltySchema: type[ma.Schema] = type("PenaltySchema", (_PenaltyRules,), _penalty_fields())
_XK_ZT_ALIASES = {"有效": "1", "无效": "2"}


class RecordSchema(_Drop, ma.Schema):
    """The generic form, for every kind of record."""

    subject_code = NationalText(required=True, validate=_length(40))
    subject_name = _text(200, required=True)
    subject_kind = NationalText(validate=_one_of(KINDS), allow_none=True)
    kind = NationalText(required=True, validate=_one_of(KINDS_OF_RECORD), metadata={
        "description": ", ".join(f"{k} {zh}" for k, zh in KINDS_OF_RECORD.items())})
    severity = Severity(allow_none=True, load_default=None)
    type_severities = ma.fields.Dict(keys=NationalText(validate=_one_of(PENALTY_CATEGORIES)),
                                     values=Severity(), load_default=dict)
    publish = Flag(load_default=True, metadata={
        "description": "licences and penalties: publish now (default) or later (POST .../publish)"})
    publish_minor = Flag(load_default=False, metadata={
        "description": "publish a 轻微 penalty the rules keep private (from 2026-04-01, ≤ 3 months)"})
    sector = Sector(allow_none=True, load_default=None)
    state = NationalText(validate=_one_of(PUSHED_STATES), load_default="active")
    title = _text(500, required=True)
    content = NationalText(load_default="", validate=v.Length(max=TEXT_MAX))
    doc_no = _text(128, required=True)
    decision_date = NationalDate(required=True)
    effective_from = NationalDate(allow_none=True)
    effective_until = NationalDate(allow_none=True)
    authority = NationalText(load_default="", validate=v.Length(max=200))
    fields = ma.fields.Dict(
        keys=ma.fields.String(validate=v.Regexp(r"^[A-Z][A-Z0-9_]{0,39}$",
                                                error="field codes are upper case, e.g. CF_WSH")),
        values=NationalText(allow_none=True), load_default=dict)
    source_department = NationalText(validate=_length(32))

    @ma.pre_load
    def _field_values(self, data: Any, **kwargs: Any) -> Any:
        # national fields given in the generic form: normalise what has a type
        if isinstance(data, Mapping) and isinstance(data.get("fields"), Mapping):
            data = dict(data)
            data["fields"] = {k: (_normal_field(k, val) if isinstance(val, str | int | Decimal)
                                  and not isinstance(val, bool) else val)
                              for k, val in data["fields"].items()}
        return data

    @ma.validates_schema(skip_on_field_errors=False)
    def _rules(self, data: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, list[str]] = {}
        for code, value in (data.get("fields") or {}).items():
            problem = _generic_field_problem(code, value)
            if problem:
                errors[f"fields.{code}"] = [problem]
        if data.get("kind") == "penalty" and not data.get("severity"):
            errors["severity"] = [_rule("required", "a penalty needs its severity "
                                                    "(minor 轻微, general 一般, serious 严重)")]
        _not_before(errors, data, "effective_from", "effective_until")
        _not_future(errors, data, "decision_date")
        if errors:
            raise ma.ValidationError(errors)


#: National fields whose values are checked in the generic form's ``fields`` too (the
#: subject's own codes are not: in the generic form ``subject_code`` identifies it).
_TYPED_CODES = frozenset({
    "XK_XDR_LB", "CF_XDR_LB", "XK_XKLB", "XK_ZT", "CF_CFLB", "CF_NR_FK", "CF_NR_WFFF",
    "XK_JDRQ", "XK_YXQZ", "XK_YXQZI", "CF_JDRQ", "CF_YXQ", "CF_GSJZQ", "XK_XKJGDM",
    "XK_LYDWDM", "CF_CFJGDM", "CF_SJLYDM"})


def _generic_field_problem(code: str, value: Any) -> str | None:
    """The rule a national field given in the generic form's ``fields`` breaks, if any
    (absent values and the ``00000000000000000X`` placeholder are allowed there)."""
    if code not in _TYPED_CODES or value is None or (isinstance(value, str) and not value.strip()):
        return None
    declared = (LicenceSchema if code.startswith("XK_") else PenaltySchema)._declared_fields
    field = declared[code]
    if isinstance(field, Uscc):
        field = Uscc(allow_absent=True)
    try:
        field.deserialize(value)
    except ma.ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, list) else [str(exc.messages)]
        return str(messages[0])
    return None


def _normal_field(code: str, value: Any) -> Any:
    """Dates and amounts among generic-form ``fields`` in their canonical text; other
    values unchanged (an invalid one is reported by the national checks)."""
    try:
        if code.endswith(("_JDRQ", "_YXQZ", "_YXQZI", "_YXQ", "_GSJZQ")):
            return NationalDate().deserialize(value).isoformat()
        if code in ("CF_NR_FK", "CF_NR_WFFF"):
            return Amount().deserialize(value)
    except ma.ValidationError:
        return value
    return str(value) if not isinstance(value, str) else value


_SCHEMAS: dict[tuple[str, frozenset[str] | None], ma.Schema] = {}
_SCHEMA_CLASSES: dict[str, type[ma.Schema]] = {
    "licence": LicenceSchema, "penalty": PenaltySchema, "generic": RecordSchema}


def _schema(kind: str, columns: frozenset[str] | None = None) -> ma.Schema:
    """The schema of ``kind``; with ``columns`` (a file's header) restricted to the
    fields the file has, which saves the work of the absent ones on every row. The
    checks that need a field the file lacks still report it (required or conditional
    fields are checked in the schema hooks, and required columns by the importer)."""
    key = (kind, columns)
    if key not in _SCHEMAS:
        cls = _SCHEMA_CLASSES[kind]
        only = None if columns is None else sorted(columns & set(cls._declared_fields))
        _SCHEMAS[key] = cls(only=only) if only else cls()
    return _SCHEMAS[key]


def required_fields(kind: str) -> list[str]:
    """The fields a national record of ``kind`` always needs (a file needs these columns)."""
    return [name for name, field in _SCHEMA_CLASSES[kind]._declared_fields.items()
            if field.required]


def national_kind(raw: Mapping[str, Any]) -> str | None:
    """``licence`` or ``penalty`` when ``raw`` is in the national form, else ``None``."""
    prefixes = {str(k)[:3] for k in raw if str(k)[:3] in ("XK_", "CF_")}
    if not prefixes:
        return None
    if prefixes == {"XK_"}:
        return "licence"
    if prefixes == {"CF_"}:
        return "penalty"
    return "mixed"


def load_record(raw: Any, *, kind: str | None = None,
                columns: frozenset[str] | None = None) -> dict[str, Any]:
    """Validate one record in the generic or the national form and return the values
    :func:`store_batch` takes. Raises :class:`RuleViolation` whose ``errors`` map every
    invalid field to ``"<rule>: <message>"`` strings (or marshmallow's own message).

    ``columns``: the columns of the file the record comes from (the importer), so that
    only those fields are read; a required column missing from the file must be
    refused by the caller (:func:`required_fields`)."""
    if not isinstance(raw, Mapping):
        raise RuleViolation("a record is an object", errors={"_schema": ["Invalid input type."]})
    form = national_kind(raw)
    if form == "mixed":
        raise RuleViolation("licence (XK_) and penalty (CF_) fields mixed", errors={
            "_schema": [_rule("form", "XK_* and CF_* fields cannot be mixed in one record")]})
    if form is None and kind in ("licence", "penalty") and not {"doc_no", "subject_code"} & set(raw):
        form = kind
    if form is not None and kind and form != kind:
        raise RuleViolation(f"{kind} expected", errors={"kind": [_rule(
            "one_of", f"the fields are those of a {form}, not a {kind}")]})
    try:
        if form is None:
            data = _schema("generic").load(raw)
            if kind and data["kind"] != kind:
                raise ma.ValidationError({"kind": [_rule("one_of", f"must be {kind}")]})
            return data
        data = _schema(form, columns).load(raw)
    except ma.ValidationError as exc:
        raise RuleViolation("invalid record", errors=flatten_errors(exc.messages)) from None
    return from_national(form, data)


def _national_value(value: Any) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list):
        return ";".join(value)
    return value


def from_national(kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The generic values of a validated national record (subject, title, dates,
    authority derived from the national fields, which are kept in ``fields``)."""
    p = "XK" if kind == "licence" else "CF"
    codes = NATIONAL_CODES[kind]
    fields = {code: _national_value(data[code]) for code in codes
              if code in data and data[code] is not None and code != "CF_GSJZQ"}
    if kind == "licence" and fields.get("XK_ZT") in _XK_ZT_ALIASES:
        fields["XK_ZT"] = _XK_ZT_ALIASES[fields["XK_ZT"]]
    subject_kind = SUBJECT_CATEGORIES[data[f"{p}_XDR_LB"]]
    code = data[f"{p}_XDR_ZJHM"] if subject_kind == NATURAL else data[f"{p}_XDR_SHXYM"]
    values: dict[str, Any] = {
        "kind": kind, "subject_code": code, "subject_name": data[f"{p}_XDR_MC"],
        "subject_kind": subject_kind, "fields": fields,
        "severity": data.get("severity"), "type_severities": data.get("type_severities") or {},
        "publish": data.get("publish", True), "publish_minor": data.get("publish_minor", False),
        "sector": data.get("sector"), "state": data.get("state", "active"),
    }
    if data.get("source_department"):
        values["source_department"] = data["source_department"]
    if kind == "licence":
        values.update(title=_title(data["XK_XKWS"]), content=data["XK_NR"],
                      doc_no=data["XK_WSH"], decision_date=data["XK_JDRQ"],
                      effective_from=data["XK_YXQZ"], effective_until=data["XK_YXQZI"],
                      authority=data["XK_XKJG"])
    else:
        values.update(title=_title(data["CF_WFXW"]), content=data["CF_NR"],
                      doc_no=data["CF_WSH"], decision_date=data["CF_JDRQ"],
                      effective_from=data["CF_JDRQ"], effective_until=data.get("CF_YXQ"),
                      authority=data["CF_CFJG"])
    return values


def _title(text: str) -> str:
    return text if len(text) <= 500 else text[:499] + "…"


# ============================================================================ content


_CONTENT_KEYS = ("subject_code", "subject_name", "subject_kind", "kind", "severity", "title",
                 "content", "decision_date", "effective_from", "effective_until", "authority",
                 "fields")
#: Content keys hashed only when they differ from their default, so that records
#: stored before these keys existed keep their hash.
_OPTIONAL_CONTENT = {"type_severities": {}, "publish_minor": False, "sector": None,
                     "state": "active"}


def _content(values: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: values.get(k) for k in _CONTENT_KEYS}
    for key, default in _OPTIONAL_CONTENT.items():
        value = values.get(key, default)
        if value not in (default, None):
            out[key] = value
    return out


def content_hash(values: Mapping[str, Any]) -> str:
    text = json.dumps(_content(values), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def publication_deadline(decision_date: dt.date,
                         calendar: WorkingCalendar | None = None) -> dt.date | None:
    """双公示: published within 7 working days of the decision (see
    :func:`creditcase.core.publicity.publication_deadline`)."""
    return publicity.publication_deadline(decision_date, calendar)


# ============================================================================ storing


@dataclass
class Outcome:
    """What :func:`store_batch` did with one item (by its position ``index``)."""

    index: int
    outcome: str  # created, updated, unchanged, failed
    doc_no: str | None = None
    id: str | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    record: CreditRecord | None = None


@dataclass
class _Item:
    index: int
    values: dict[str, Any]
    department: str
    digest: str


def _midnight(day: dt.date | None) -> dt.datetime | None:
    return None if day is None else dt.datetime(day.year, day.month, day.day)


def _check_values(values: dict[str, Any]) -> dict[str, Any]:
    """Semantic checks every stored record passes (also for callers that bypass
    :func:`load_record`): a valid subject code, a severity for penalties."""
    values = dict(values)
    errors: dict[str, list[str]] = {}
    identified = _identified(values["subject_code"], values.get("subject_kind"))
    if isinstance(identified, RuleViolation):
        errors.update(identified.errors)
    else:
        values["subject_kind"], values["subject_code"] = identified
    if values.get("kind") == "penalty" and not values.get("severity"):
        errors["severity"] = [_rule("required", "a penalty needs its severity")]
    if values.get("state", "active") not in STATES:
        errors["state"] = [_rule("one_of", "must be one of " + ", ".join(PUSHED_STATES))]
    if errors:
        raise RuleViolation("invalid record", errors=errors)
    return values


def _publicity_son(values: Mapping[str, Any], calendar: WorkingCalendar, today: dt.date,
                   now: dt.datetime, previous: CreditRecord | None) -> dict[str, Any]:
    """The publicity fields of a new or corrected record."""
    if values["kind"] not in PUBLICITY_KINDS:
        return {"publicity_state": "not_applicable", "publication_due": None,
                "publicity_regime": None, "publicity_until": None, "publicity_min_until": None}
    rules = publicity.plan(values)
    deadline = publicity.publication_deadline(values["decision_date"], calendar)
    before = previous.publicity_state if previous is not None else None
    state = publicity.state_on_push(rules, publish=bool(values.get("publish", True)),
                                    deadline=deadline, today=today, previous=before)
    if values.get("state", "active") not in publicity.SHOWN_STATES and state != "not_applicable":
        # revoked, expired or repaired: never (or no longer) shown
        state = "ended" if before in ("published", "ended") else "not_applicable"
    out: dict[str, Any] = {"publicity_state": state, "publication_due": deadline,
                           "publicity_regime": rules.regime, "publicity_until": rules.max_until,
                           "publicity_min_until": rules.min_until}
    if state == "published" and (previous is None or previous.published_at is None):
        out["published_at"] = now
        out["published_late"] = publicity.is_late(deadline, today)
    if state == "ended" and before == "published":
        out["publicity_ended_at"] = now
    if state == "ended" and previous is None:
        # pushed after its publicity period: never shown, and late by any measure
        out["published_late"] = publicity.is_late(deadline, today)
    return out


def _new_son(item: _Item, calendar: WorkingCalendar, today: dt.date,
             now: dt.datetime) -> dict[str, Any]:
    """The stored form of a new record, built directly (as mongoengine would store it)."""
    values = item.values
    son: dict[str, Any] = {
        "_id": ObjectId(),
        "subject_code": values["subject_code"], "subject_name": values["subject_name"],
        "subject_kind": values["subject_kind"], "kind": values["kind"],
        "severity": values.get("severity"),
        "type_severities": dict(values.get("type_severities") or {}),
        "publish_minor": bool(values.get("publish_minor", False)),
        "sector": values.get("sector"),
        "title": values["title"], "content": values.get("content") or "",
        "doc_no": values["doc_no"],
        "decision_date": _midnight(values["decision_date"]),
        "source_department": item.department, "authority": values.get("authority") or "",
        "fields": dict(values.get("fields") or {}),
        "state": values.get("state") or "active",
        "revision": 1, "content_hash": item.digest, "history": [],
        "created_at": now, "updated_at": now, "version": 0,
    }
    for key in ("effective_from", "effective_until"):
        if values.get(key) is not None:
            son[key] = _midnight(values[key])
    for key, value in _publicity_son(values, calendar, today, now, None).items():
        if value is not None:
            son[key] = _midnight(value) if isinstance(value, dt.date) and not isinstance(
                value, dt.datetime) else value
    return son


def _event_data(son: Mapping[str, Any]) -> dict[str, Any]:
    decided = son.get("decision_date")
    return {"record_id": str(son["_id"]), "subject_code": son["subject_code"],
            "kind": son["kind"], "severity": son.get("severity"), "doc_no": son["doc_no"],
            "source_department": son["source_department"], "revision": son["revision"],
            "decision_date": decided.date().isoformat() if isinstance(decided, dt.datetime)
            else (decided.isoformat() if decided else None),
            "state": son.get("state", "active"),
            "publicity_state": son.get("publicity_state", "not_applicable"),
            "major": _is_major(son.get("kind"), son.get("severity"))}


def record_event_data(record: CreditRecord) -> dict[str, Any]:
    """The ``data`` of a record event (``record.created``, ``record.updated``, ...)."""
    return {"record_id": str(record.pk), "subject_code": record.subject_code,
            "kind": record.kind, "severity": record.severity, "doc_no": record.doc_no,
            "source_department": record.source_department, "revision": record.revision,
            "decision_date": record.decision_date.isoformat() if record.decision_date else None,
            "state": record.state, "publicity_state": record.publicity_state,
            "major": is_major_event(record)}


def _is_major(kind: str | None, severity: str | None) -> bool:
    return kind in {"dishonest_debtor", "major_tax_violation"} or (
        kind == "penalty" and severity == "serious")


def is_major_event(record: CreditRecord) -> bool:
    """A major credit event (voids credit reports issued before it)."""
    return _is_major(record.kind, record.severity)


def _outbox_son(event_type: str, son: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    body = outbox.cloud_event(event_type, f"subject/{son['subject_code']}", _event_data(son))
    return {"_id": ObjectId(), "event_id": body["id"], "exchange": outbox.EVENTS_EXCHANGE,
            "routing_key": event_type, "body": body, "created_at": now, "attempts": 0}


def _audit_son(principal: Principal, action: str, record_id: Any, department: str,
               now: dt.datetime, detail: dict[str, Any]) -> dict[str, Any]:
    return {"_id": ObjectId(), "at": now, "actor": principal.username, "department": department,
            "action": action, "object_type": "CreditRecord", "object_id": str(record_id),
            "detail": detail}


def _correct(record: CreditRecord, item: _Item, calendar: WorkingCalendar, today: dt.date,
             now: dt.datetime) -> str:
    """Apply a correction to ``record`` in place (the previous content kept in
    ``history``); returns the event type."""
    values = item.values
    was_revoked = record.state == "revoked"
    record.history.append(RecordRevision(
        revision=record.revision, content_hash=record.content_hash, replaced_at=now,
        snapshot=json.loads(json.dumps(_content(record.to_mongo().to_dict()), default=str))))
    for key in _CONTENT_KEYS:
        setattr(record, key, values.get(key))
    record.content = values.get("content") or ""
    record.authority = values.get("authority") or ""
    record.fields = dict(values.get("fields") or {})
    record.type_severities = dict(values.get("type_severities") or {})
    record.publish_minor = bool(values.get("publish_minor", False))
    record.sector = values.get("sector")
    pushed = values.get("state") or "active"
    # disputed and repaired belong to the objection and repair workflows: a correction
    # keeps them unless it revokes or expires the record
    if record.state not in ("disputed", "repaired") or pushed != "active":
        record.state = pushed
    for key, value in _publicity_son({**values, "state": record.state}, calendar, today, now,
                                     record).items():
        setattr(record, key, value)
    record.revision += 1
    record.content_hash = item.digest
    record.updated_at = now
    return "record.revoked" if record.state == "revoked" and not was_revoked else "record.updated"


def store_batch(principal: Principal, items: Sequence[Mapping[str, Any]], *,
                source_department: str | None = None, calendar: WorkingCalendar | None = None,
                today: dt.date | None = None, lookup_first: bool | None = None,
                keep_records: bool = False,
                batch_audit: Mapping[str, Any] | None = None) -> list[Outcome]:
    """Store loaded records (see :func:`load_record`), one transaction per batch.

    Each item is stored under ``source_department`` (or the item's own
    ``source_department``, or the principal's department). An item that fails the
    semantic checks is reported ``failed`` with its errors and the others are still
    stored. New records are bulk-inserted, each with a ``record.created`` outbox
    entry; corrections get a new revision and ``record.updated`` (``record.revoked``);
    identical content is ``unchanged``, with no event. A major credit event voids the
    subject's earlier credit reports in the same transaction.

    Audit: one event per record changed; or, with ``batch_audit`` (the file
    importer), one ``record.imported`` event per batch that lists every record
    created or corrected, with ``batch_audit`` merged into its detail (file, rows).

    Existing records are found with ``$in`` queries on (source department, document
    number) before writing (``lookup_first``, default for small batches) or only when
    the unique index reports that some exist, which saves the queries when all are
    new. An item repeated within ``items`` is applied after the earlier one.

    Raises :class:`Conflict` when the batch cannot be written (nothing of it is then
    stored).
    """
    calendar = calendar or current_calendar()
    today = today or publicity.today_local()
    outcomes: list[Outcome] = []
    waves: list[list[_Item]] = [[]]
    seen: list[set[tuple[str, str]]] = [set()]
    for index, raw in enumerate(items):
        doc_no = raw.get("doc_no") if isinstance(raw, Mapping) else None
        try:
            values = _check_values(dict(raw))
        except RuleViolation as exc:
            outcomes.append(Outcome(index, "failed", doc_no, errors=exc.errors))
            continue
        department = source_department or values.get("source_department") \
            or principal.department
        values.pop("source_department", None)
        item = _Item(index, values, department, content_hash(values))
        key = (department, values["doc_no"])
        wave = next((i for i, keys in enumerate(seen) if key not in keys), None)
        if wave is None:
            waves.append([])
            seen.append(set())
            wave = len(waves) - 1
        waves[wave].append(item)
        seen[wave].add(key)
    for wave_items in waves:
        if wave_items:
            outcomes.extend(_store_wave(principal, wave_items, calendar, today, lookup_first,
                                        keep_records, batch_audit))
    outcomes.sort(key=lambda o: o.index)
    return outcomes


def _existing(items: Sequence[_Item], chunk: int = 100) -> dict[tuple[str, str], CreditRecord]:
    """The stored records of these items, by (department, doc_no): one ``$in`` query per
    department and chunk (a chunk of 100 keeps the server's ``$in`` matching cheap)."""
    by_department: dict[str, list[str]] = {}
    for item in items:
        by_department.setdefault(item.department, []).append(item.values["doc_no"])
    found: dict[tuple[str, str], CreditRecord] = {}
    for department, doc_nos in by_department.items():
        for start in range(0, len(doc_nos), chunk):
            part = doc_nos[start:start + chunk]
            query = {"source_department": department,
                     "doc_no": part[0] if len(part) == 1 else {"$in": part}}
            for record in CreditRecord.objects(__raw__=query):
                found[(department, record.doc_no)] = record
    return found


def _void_reports(uow: UnitOfWork, principal: Principal,
                  events: list[tuple[str, dt.date, str]]) -> None:
    """Void credit reports issued before major credit events: one query finds the
    subjects that have valid reports at all; only those are looked at closer."""
    if not events:
        return
    codes = sorted({code for code, _, _ in events})
    with_reports = set(reports.CreditReport.objects(subject_code__in=codes, void=False)
                       .distinct("subject_code"))
    done: set[tuple[str, dt.date]] = set()
    for code, decided, reason in events:
        if code in with_reports and (code, decided) not in done:
            done.add((code, decided))
            reports.void_reports_before(uow, principal, code, decided, reason)


def _store_wave(principal: Principal, items: list[_Item], calendar: WorkingCalendar,
                today: dt.date, lookup_first: bool | None, keep_records: bool,
                batch_audit: Mapping[str, Any] | None) -> list[Outcome]:
    from creditcase.core.audit import AuditEvent
    from creditcase.core.outbox import OutboxEntry

    if lookup_first is None:
        lookup_first = len(items) <= 20
    existing: dict[tuple[str, str], CreditRecord] = _existing(items) if lookup_first else {}
    for _attempt in range(3):
        now = utcnow()
        outcomes: list[Outcome] = []
        new_sons: list[dict[str, Any]] = []
        outbox_sons: list[dict[str, Any]] = []
        audit_sons: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        major: list[tuple[str, dt.date, str]] = []
        uow = UnitOfWork()
        for item in items:
            record = existing.get((item.department, item.values["doc_no"]))
            if record is None:
                son = _new_son(item, calendar, today, now)
                new_sons.append(son)
                outbox_sons.append(_outbox_son("record.created", son, now))
                if batch_audit is None:
                    audit_sons.append(_audit_son(principal, "record.created", son["_id"],
                                                 item.department, now,
                                                 {"doc_no": son["doc_no"], "revision": 1}))
                changed.append({"id": str(son["_id"]), "doc_no": son["doc_no"],
                                "revision": 1, "outcome": "created"})
                if _is_major(son["kind"], son.get("severity")):
                    major.append((son["subject_code"], item.values["decision_date"],
                                  f"major credit event: {son['title']} ({son['doc_no']})"))
                outcomes.append(Outcome(item.index, "created", son["doc_no"], str(son["_id"])))
            elif record.content_hash == item.digest:
                outcomes.append(Outcome(item.index, "unchanged", record.doc_no, str(record.pk),
                                        record=record if keep_records else None))
            else:
                event = _correct(record, item, calendar, today, now)
                uow.save(record)
                if batch_audit is None:
                    audit.record(uow, principal, event, record,
                                 department=record.source_department, doc_no=record.doc_no,
                                 revision=record.revision)
                changed.append({"id": str(record.pk), "doc_no": record.doc_no,
                                "revision": record.revision, "outcome": "updated"})
                outbox.emit(uow, event, f"subject/{record.subject_code}",
                            record_event_data(record))
                if is_major_event(record):
                    major.append((record.subject_code, record.decision_date,
                                  f"major credit event: {record.title} ({record.doc_no})"))
                outcomes.append(Outcome(item.index, "updated", record.doc_no, str(record.pk),
                                        record=record if keep_records else None))
        if batch_audit is not None and changed:
            departments = sorted({item.department for item in items})
            audit_sons.append({
                "_id": ObjectId(), "at": now, "actor": principal.username,
                "department": departments[0] if len(departments) == 1 else "",
                "action": "record.imported", "object_type": "CreditRecordBatch",
                "object_id": str(uuid.uuid4()),
                "detail": {**batch_audit, "created": sum(c["outcome"] == "created"
                                                         for c in changed),
                           "updated": sum(c["outcome"] == "updated" for c in changed),
                           "records": changed}})
        uow.add_many(CreditRecord, new_sons)
        uow.add_many(OutboxEntry, outbox_sons)
        uow.add_many(AuditEvent, audit_sons)
        _void_reports(uow, principal, major)
        try:
            uow.commit()
        except Conflict:
            # some of the "new" records exist (stored before, or concurrently), or one
            # changed under us: look them up and classify again
            existing = _existing(items)
            continue
        if keep_records and new_sons:
            by_id = {str(r.pk): r for r in CreditRecord.objects(
                pk__in=[s["_id"] for s in new_sons])}
            for outcome in outcomes:
                if outcome.outcome == "created":
                    outcome.record = by_id.get(outcome.id or "")
        return outcomes
    raise Conflict("records are being changed concurrently; retry the batch")


def push_record(principal: Principal, values: Mapping[str, Any], *,
                source_department: str | None = None) -> tuple[CreditRecord, str]:
    """Store one record (values as :func:`load_record` returns them). Returns
    ``(record, outcome)`` where outcome is ``created``, ``updated`` or ``unchanged``.
    Raises :class:`RuleViolation` for an invalid subject code or a penalty without
    severity."""
    [result] = store_batch(principal, [values], source_department=source_department,
                           lookup_first=True, keep_records=True)
    if result.outcome == "failed":
        raise RuleViolation("invalid record", errors=result.errors)
    assert result.record is not None
    if result.outcome in ("created", "updated"):
        # bulk pushes and imports leave this to grades.grade_for, which recomputes a
        # stored grade older than the subject's newest change when it is read
        grades.recompute(result.record.subject_code)
    return result.record, result.outcome


def find_record(record_id: str, principal: Principal | None = None) -> CreditRecord:
    """The record ``record_id``, scoped to ``principal``'s department unless city-wide.
    Raises :class:`NotFound` (also for a record of another department)."""
    query: dict[str, Any] = {}
    if principal is not None and not principal.city_wide:
        query["source_department"] = principal.department
    try:
        record = CreditRecord.objects(pk=record_id, **query).first()
    except me.ValidationError:
        record = None
    if record is None:
        raise NotFound(f"no record {record_id}")
    return record


def active_records(subject_code: str) -> me.QuerySet:
    return CreditRecord.objects(subject_code=subject_code, state__in=("active", "disputed"))

