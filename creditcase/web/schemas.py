"""Marshmallow schemas of the HTTP API, written by hand.

Request schemas (``*In``, ``*Query``) validate what clients send; response
schemas (``*Out``) say exactly which fields leave the system. Documents are
never dumped straight out: views either dump a document through one of these
schemas or build a plain dict first (``creditcase.web.presenters``) where a
value depends on who asks, such as the subject code of a case, which only the
owning department sees in full. Identity numbers of natural persons are masked
with :func:`creditcase.core.ids.mask` wherever the full number is not needed.

Dates are ISO 8601; timestamps are UTC. Values inside a check result are
already canonical JSON (strings), so those schemas use string fields with a
``format`` for the documentation.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import marshmallow as ma
from marshmallow import validate as v

from creditcase.core import ids
from creditcase.core.cases import OUTCOMES, STATES
from creditcase.core.lists import BINDINGS, MEASURE_KINDS
from creditcase.core.records import KINDS_OF_RECORD
from creditcase.core.reports import AGENCY_STATUSES
from creditcase.core.subjects import KINDS

#: 双公示 fields that hold a person's ID number: always masked when shown.
PERSONAL_ID_FIELDS = frozenset({"XK_FR_ZJHM", "CF_FR_ZJHM", "XK_XDR_ZJHM", "CF_XDR_ZJHM"})
#: 双公示 fields that hold a subject code (a USCC, or an ID number for natural persons).
SUBJECT_CODE_FIELDS = frozenset({"XK_XDR_SHXYM", "CF_XDR_SHXYM"})
#: Most records one bulk push may carry.
BULK_MAX = 1000


# -- fields ----------------------------------------------------------------------------------

class TextValue(ma.fields.String):
    """A string; numbers are accepted and kept as their decimal text (``0.2`` -> ``"0.2"``),
    so that amounts never become floats in storage."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, int | float | Decimal):
            if isinstance(value, float) and value != value:  # NaN
                raise self.make_error("invalid")
            return str(Decimal(str(value)))
        return super()._deserialize(value, attr, data, **kwargs)


class ItemList(ma.fields.List):
    """Documented as a list of ``inner`` items, loaded as the raw JSON items so that the
    view can validate each one on its own and report it by index."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        if not isinstance(value, list | tuple):
            raise self.make_error("invalid")
        return list(value)


def mask_fields(fields: dict[str, Any] | None) -> dict[str, Any]:
    """The 双公示 fields fit for display: ID numbers masked, subject codes masked
    unless they are USCCs."""
    out: dict[str, Any] = {}
    for key, value in (fields or {}).items():
        if isinstance(value, str) and value:
            if key in PERSONAL_ID_FIELDS:
                value = ids.mask_id_number(value)
            elif key in SUBJECT_CODE_FIELDS:
                value = ids.mask(value)
        out[key] = value
    return out


_ID_NUMBER_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")


def mask_text(text: str | None) -> str | None:
    """Free text with every embedded citizen ID number masked (USCCs stay as they are)."""
    if not text:
        return text

    def replace(match: re.Match[str]) -> str:
        found = match.group(0)
        try:
            if len(found) == 15:  # a legacy number only when it really is one
                ids.validate_id_number(found)
                is_id = True
            else:
                is_id = ids.detect_kind(found) == "id_number"
        except ids.IdentityCodeError:
            is_id = False
        return ids.mask_id_number(found) if is_id else found

    return _ID_NUMBER_IN_TEXT.sub(replace, text)


def _no_floats(value: Any) -> None:
    def walk(item: Any) -> None:
        if isinstance(item, float):
            raise ma.ValidationError("numbers with a fraction must be sent as strings (e.g. \"0.2\")")
        if isinstance(item, dict):
            for sub in item.values():
                walk(sub)
        elif isinstance(item, list):
            for sub in item:
                walk(sub)

    walk(value)


def _date_order(data: dict[str, Any], first: str, second: str) -> None:
    a, b = data.get(first), data.get(second)
    if isinstance(a, dt.date) and isinstance(b, dt.date) and b < a:
        raise ma.ValidationError(f"must not be before {first}", field_name=second)


def _uscc(value: str) -> None:
    try:
        ids.validate_uscc(value)
    except ids.IdentityCodeError as exc:
        raise ma.ValidationError(f"{exc.rule}: {exc.message}")


def _derived(serialize: Any, type_: str = "string", *,
             description: str | None = None) -> ma.fields.Function:
    """A read-only value computed from the object, documented with its JSON type."""
    metadata: dict[str, Any] = {"type": type_}
    if description:
        metadata["description"] = description
    return ma.fields.Function(serialize, metadata=metadata)


def _required_text(max_length: int, **kwargs: Any) -> ma.fields.String:
    return ma.fields.String(required=True, validate=v.Length(min=1, max=max_length), **kwargs)


# -- common ----------------------------------------------------------------------------------

class SubjectIn(ma.Schema):
    code = ma.fields.String(required=True, validate=v.Length(min=1, max=40), metadata={
        "description": "统一社会信用代码 (USCC) or 公民身份号码 (ID number)"})
    name = _required_text(200)
    kind = ma.fields.String(validate=v.OneOf(tuple(KINDS)), allow_none=True, metadata={
        "description": "LEGAL, NATURAL or INDIVIDUAL_BUSINESS; derived from the code when omitted"})


class SubjectRegisterIn(SubjectIn):
    legal_representative = ma.fields.String(validate=v.Length(max=100))
    address = ma.fields.String(validate=v.Length(max=300))


class SubjectRefOut(ma.Schema):
    code = ma.fields.String(metadata={"description": "ID numbers masked unless the reader needs them"})
    name = ma.fields.String()
    kind = ma.fields.String()
    kind_zh = ma.fields.String()


class SubjectOut(ma.Schema):
    code = _derived(lambda s: ids.mask(s.code),
                    description="ID numbers of natural persons are masked")
    kind = ma.fields.String()
    kind_zh = _derived(lambda s: KINDS.get(s.kind, s.kind))
    name = ma.fields.String()
    legal_representative = ma.fields.String()
    address = ma.fields.String()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


# -- records ---------------------------------------------------------------------------------

class RecordOut(ma.Schema):
    id = ma.fields.String(attribute="pk")
    subject_code = _derived(lambda r: ids.mask(r.subject_code))
    subject_name = ma.fields.String()
    subject_kind = ma.fields.String()
    kind = ma.fields.String()
    kind_zh = _derived(lambda r: KINDS_OF_RECORD.get(r.kind, r.kind))
    severity = ma.fields.String(allow_none=True)
    title = _derived(lambda r: mask_text(r.title))
    content = _derived(lambda r: mask_text(r.content),
                       description="ID numbers in the text are masked")
    doc_no = ma.fields.String()
    decision_date = ma.fields.Date()
    effective_from = ma.fields.Date(allow_none=True)
    effective_until = ma.fields.Date(allow_none=True)
    source_department = ma.fields.String()
    authority = ma.fields.String()
    fields = _derived(lambda r: mask_fields(r.fields), "object",
                      description="ID numbers masked")
    state = ma.fields.String()
    publicity_state = ma.fields.String()
    publication_due = ma.fields.Date(allow_none=True)
    published_at = ma.fields.DateTime(allow_none=True)
    revision = ma.fields.Integer()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


class PushOut(ma.Schema):
    outcome = ma.fields.String(metadata={"description": "created, updated or unchanged"})
    record = ma.fields.Nested(RecordOut)


class BulkItemOut(ma.Schema):
    index = ma.fields.Integer()
    outcome = ma.fields.String(metadata={"description": "created, updated, unchanged or failed"})
    id = ma.fields.String(allow_none=True)
    doc_no = ma.fields.String(allow_none=True)
    errors = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()),
                            metadata={"description": "field path -> messages (failed items only)"})


class BulkSummaryOut(ma.Schema):
    created = ma.fields.Integer()
    updated = ma.fields.Integer()
    unchanged = ma.fields.Integer()
    failed = ma.fields.Integer()


class BulkOut(ma.Schema):
    summary = ma.fields.Nested(BulkSummaryOut)
    items = ma.fields.List(ma.fields.Nested(BulkItemOut))


# -- lists and measures ----------------------------------------------------------------------

class ListEntryIn(ma.Schema):
    list_type = _required_text(32, metadata={"description": "list type code, e.g. SXBZXR"})
    subject_code = ma.fields.String(required=True, validate=v.Length(min=1, max=40))
    subject_name = _required_text(200)
    basis_doc_no = _required_text(128, metadata={"description": "认定文书号"})
    listed_on = ma.fields.Date(required=True)
    valid_until = ma.fields.Date(allow_none=True, metadata={
        "description": "defaults to listed_on + the list type's period"})

    @ma.validates_schema
    def _dates(self, data: dict[str, Any], **kwargs: Any) -> None:
        _date_order(data, "listed_on", "valid_until")


class ListEntryOut(ma.Schema):
    id = ma.fields.String(attribute="pk")
    list_type = ma.fields.String()
    color = ma.fields.String()
    subject_code = _derived(lambda e: ids.mask(e.subject_code))
    subject_name = ma.fields.String()
    issuer = ma.fields.String()
    basis_doc_no = ma.fields.String()
    listed_on = ma.fields.Date()
    valid_until = ma.fields.Date()
    source_department = ma.fields.String()
    removed_at = ma.fields.DateTime(allow_none=True)
    removal_reason = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()


class ReasonIn(ma.Schema):
    reason = _required_text(2000)


class ListTypeOut(ma.Schema):
    code = ma.fields.String()
    color = ma.fields.String()
    name_zh = ma.fields.String()
    name_en = ma.fields.String()
    issuer = ma.fields.String()
    basis = ma.fields.String()
    period_months = ma.fields.Integer(allow_none=True)
    early_removal = ma.fields.Boolean()
    catalogue_version = ma.fields.String(allow_none=True)


class MeasureQuery(ma.Schema):
    domain = ma.fields.String(metadata={"description": "only measures that apply to this domain"})
    kind = ma.fields.String(validate=v.OneOf(MEASURE_KINDS))
    binding = ma.fields.String(validate=v.OneOf(BINDINGS))


class MeasureOut(ma.Schema):
    code = ma.fields.String()
    kind = ma.fields.String()
    binding = ma.fields.String()
    effect = ma.fields.String()
    text_zh = ma.fields.String()
    text_en = ma.fields.String()
    legal_basis = ma.fields.String()
    basis_list_version = ma.fields.String()
    domains = ma.fields.List(ma.fields.String())
    triggers = ma.fields.List(ma.fields.String())
    active = ma.fields.Boolean()
    enforceable = ma.fields.Boolean(metadata={"description": "active and with a legal basis"})


# -- agencies and reports --------------------------------------------------------------------

class AgencyIn(ma.Schema):
    name = _required_text(200)
    uscc = ma.fields.String(required=True, validate=_uscc)
    filing_no = _required_text(64, metadata={"description": "备案证号"})
    filing_authority = _required_text(200)
    filing_valid_until = ma.fields.Date(required=True)
    status = ma.fields.String(load_default="filed", validate=v.OneOf(tuple(AGENCY_STATUSES)))

    @ma.post_load
    def _normalise(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["uscc"] = ids.normalize(data["uscc"])
        return data


class AgencyOut(ma.Schema):
    id = ma.fields.String(attribute="pk")
    name = ma.fields.String()
    uscc = ma.fields.String()
    filing_no = ma.fields.String()
    filing_authority = ma.fields.String()
    filing_valid_until = ma.fields.Date()
    status = ma.fields.String()
    status_zh = _derived(lambda a: AGENCY_STATUSES.get(a.status, a.status))


class ValidityOut(ma.Schema):
    valid = ma.fields.Boolean()
    reasons = ma.fields.List(ma.fields.String())
    on = ma.fields.Date()


class ReportOut(ma.Schema):
    id = ma.fields.String()
    number = ma.fields.String()
    subject_code = ma.fields.String()
    subject_name = ma.fields.String()
    agency_filing_no = ma.fields.String()
    issue_date = ma.fields.Date()
    valid_until = ma.fields.Date()
    rating = ma.fields.String()
    sections = ma.fields.Dict()
    risk_warnings = ma.fields.List(ma.fields.String())
    void = ma.fields.Boolean()
    void_reason = ma.fields.String(allow_none=True)
    validity = ma.fields.Nested(ValidityOut)
    created_at = ma.fields.DateTime()


# -- cases -----------------------------------------------------------------------------------

class CaseIn(ma.Schema):
    domain = _required_text(64, metadata={"description": "domain plugin code, e.g. procurement"})
    matter = _required_text(200, metadata={"description": "事项 code or name"})
    subject = ma.fields.Nested(SubjectIn, required=True)
    data = ma.fields.Dict(keys=ma.fields.String(), required=True, metadata={
        "description": "the application, validated by the domain's schema (GET /api/v1/meta/domains)"})


class CaseQuery(ma.Schema):
    state = ma.fields.String(validate=v.OneOf(STATES))
    domain = ma.fields.String(validate=v.Length(min=1, max=64))


class OverrideIn(ma.Schema):
    measures = ma.fields.List(ma.fields.String(validate=v.Length(min=1, max=64)), required=True,
                              metadata={"description": "MANDATORY measures that may be left unapplied"})
    reason = _required_text(2000)


class FeedbackIn(ma.Schema):
    measure = _required_text(64)
    applied = ma.fields.Boolean(required=True)
    reason = ma.fields.String(load_default="", validate=v.Length(max=2000),
                              metadata={"description": "required when applied is false"})
    outcome_text = ma.fields.String(load_default="", validate=v.Length(max=2000))


class DecisionIn(ma.Schema):
    outcome = ma.fields.String(required=True, validate=v.OneOf(OUTCOMES))
    feedback = ma.fields.List(ma.fields.Nested(FeedbackIn), load_default=list, metadata={
        "description": "one item for every measure of the current check"})
    conditions = ma.fields.List(ma.fields.String(validate=v.Length(max=1000)), load_default=list)
    reasons = ma.fields.String(load_default="", validate=v.Length(max=5000))
    expected_version = ma.fields.Integer(allow_none=True, load_default=None, metadata={
        "description": "the case version the decision is based on; 409 when it has moved on"})


class ChannelOut(ma.Schema):
    name = ma.fields.String()
    title_zh = ma.fields.String()
    available = ma.fields.Boolean()
    data_as_of = ma.fields.String(allow_none=True, metadata={"format": "date-time"})
    hits = ma.fields.Integer()
    error = ma.fields.String(allow_none=True)


class HitOut(ma.Schema):
    channel = ma.fields.String()
    code = ma.fields.String(metadata={"description": "list type code or RECORD:<kind>:<severity>"})
    title = ma.fields.String()
    source = ma.fields.String()
    ref = ma.fields.String()
    adverse = ma.fields.Boolean()
    color = ma.fields.String(allow_none=True)
    severity = ma.fields.String(allow_none=True)
    date = ma.fields.String(allow_none=True, metadata={"format": "date"})
    valid_until = ma.fields.String(allow_none=True, metadata={"format": "date"})
    detail = ma.fields.Dict()


class MeasureHitOut(ma.Schema):
    code = ma.fields.String()
    kind = ma.fields.String()
    binding = ma.fields.String()
    effect = ma.fields.String()
    text_zh = ma.fields.String()
    text_en = ma.fields.String()
    legal_basis = ma.fields.String()
    basis_list_version = ma.fields.String()
    source_hits = ma.fields.List(ma.fields.String())


class ReportCopyOut(ma.Schema):
    report_id = ma.fields.String()
    number = ma.fields.String()
    agency_filing_no = ma.fields.String()
    agency_name = ma.fields.String()
    issue_date = ma.fields.String(metadata={"format": "date"})
    valid_until = ma.fields.String(metadata={"format": "date"})
    rating = ma.fields.String()
    valid = ma.fields.Boolean()
    reasons = ma.fields.List(ma.fields.String())
    risk_warnings = ma.fields.List(ma.fields.String())


class GradeOut(ma.Schema):
    scheme = ma.fields.String()
    score = ma.fields.Integer()
    grade = ma.fields.String()
    label_zh = ma.fields.String()
    label_en = ma.fields.String()


class RecommendationOut(ma.Schema):
    outcome = ma.fields.String(metadata={"description": "approve, approve_with_conditions, review or reject"})
    reasons = ma.fields.List(ma.fields.String())


class IncentiveOut(ma.Schema):
    code = ma.fields.String()
    text_zh = ma.fields.String()
    text_en = ma.fields.String()


class CheckOut(ma.Schema):
    id = ma.fields.String()
    request_id = ma.fields.String()
    requested_by = ma.fields.String()
    requested_at = ma.fields.DateTime()
    checked_at = ma.fields.DateTime()
    current = ma.fields.Boolean(metadata={"description": "the check a decision would use now"})
    on = ma.fields.String(metadata={"format": "date"})
    complete = ma.fields.Boolean(metadata={"description": "every required channel answered"})
    channels = ma.fields.List(ma.fields.Nested(ChannelOut))
    hits = ma.fields.List(ma.fields.Nested(HitOut))
    measures = ma.fields.List(ma.fields.Nested(MeasureHitOut))
    skipped_measures = ma.fields.List(ma.fields.Dict())
    reports = ma.fields.List(ma.fields.Nested(ReportCopyOut))
    has_valid_report = ma.fields.Boolean()
    grade = ma.fields.Nested(GradeOut, allow_none=True)
    recommendation = ma.fields.Nested(RecommendationOut, allow_none=True)
    notes = ma.fields.List(ma.fields.String())
    engine = ma.fields.String()
    incentives = ma.fields.List(ma.fields.String(), metadata={
        "description": "reward measures the domain grants (优先办理、绿色通道 ...)"})
    incentive_texts = ma.fields.List(ma.fields.Nested("IncentiveOut"))
    result_hash = ma.fields.String()
    receipt = ma.fields.Dict(metadata={"description": "who asked, when, which channels, result hash"})


class FeedbackOut(ma.Schema):
    measure = ma.fields.String()
    applied = ma.fields.Boolean()
    reason = ma.fields.String()
    outcome_text = ma.fields.String()


class OverrideOut(ma.Schema):
    measures = ma.fields.List(ma.fields.String())
    reason = ma.fields.String()
    reviewer = ma.fields.String()
    approved_at = ma.fields.DateTime()
    check_id = ma.fields.String()


class DecisionOut(ma.Schema):
    outcome = ma.fields.String()
    conditions = ma.fields.List(ma.fields.String())
    reasons = ma.fields.String()
    feedback = ma.fields.List(ma.fields.Nested(FeedbackOut))
    decided_by = ma.fields.String()
    decided_at = ma.fields.DateTime()
    check_id = ma.fields.String()
    check_hash = ma.fields.String()
    override = ma.fields.Nested(OverrideOut, allow_none=True)
    rule_versions = ma.fields.Dict()


class ReviewFlagOut(ma.Schema):
    reason = ma.fields.String()
    raised_at = ma.fields.DateTime()


class EvidenceRefOut(ma.Schema):
    seq = ma.fields.Integer()
    hash = ma.fields.String()


class CaseSummaryOut(ma.Schema):
    id = ma.fields.String()
    domain = ma.fields.String()
    matter = ma.fields.String()
    matter_name = ma.fields.String()
    report_required = ma.fields.Boolean()
    department = ma.fields.String()
    subject = ma.fields.Nested(SubjectRefOut)
    state = ma.fields.String()
    handler = ma.fields.String()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    due_date = ma.fields.Date(allow_none=True)
    priority = ma.fields.Integer()
    red_hits = ma.fields.Integer()
    black_hits = ma.fields.Integer()
    stale_reason = ma.fields.String(allow_none=True)
    review_flagged = ma.fields.Boolean()
    version = ma.fields.Integer(metadata={"description": "send as expected_version when deciding"})


class CaseOut(CaseSummaryOut):
    data = ma.fields.Dict()
    check_request_id = ma.fields.String(allow_none=True)
    latest_check_id = ma.fields.String(allow_none=True)
    checks = ma.fields.List(ma.fields.Nested(CheckOut))
    overrides = ma.fields.List(ma.fields.Nested(OverrideOut))
    decision = ma.fields.Nested(DecisionOut, allow_none=True)
    review_flags = ma.fields.List(ma.fields.Nested(ReviewFlagOut))
    withdrawn_reason = ma.fields.String(allow_none=True)
    evidence = ma.fields.Nested(EvidenceRefOut, allow_none=True)


class ArchiveOut(ma.Schema):
    case_id = ma.fields.String()
    seq = ma.fields.Integer()
    hash = ma.fields.String()
    prev_hash = ma.fields.String()
    created_at = ma.fields.DateTime()


class EvidenceOut(ArchiveOut):
    verified = ma.fields.Boolean(metadata={"description": "the stored hash matches the content"})
    content = ma.fields.Dict(metadata={"description": "the bundle (canonical JSON, parsed)"})


# -- public ----------------------------------------------------------------------------------

class PublicityQuery(ma.Schema):
    q = ma.fields.String(load_default="", validate=v.Length(max=100), metadata={
        "description": "subject name (or part of it), or an exact USCC / ID number"})
    kind = ma.fields.String(validate=v.OneOf(("licence", "penalty")),
                            metadata={"description": "licence 行政许可 or penalty 行政处罚"})


# -- meta ------------------------------------------------------------------------------------

class HealthOut(ma.Schema):
    status = ma.fields.String()
    database = ma.fields.String()
    version = ma.fields.String()


class DomainOut(ma.Schema):
    code = ma.fields.String()
    name_zh = ma.fields.String()
    name_en = ma.fields.String()
    policy_basis = ma.fields.String()
    subject_kinds = ma.fields.List(ma.fields.String())
    required_channels = ma.fields.List(ma.fields.String())
    requires_report = ma.fields.Boolean()
    max_check_age_days = ma.fields.Integer()
    rule_version = ma.fields.String()
    plugin = ma.fields.String(metadata={"description": "the plugin that registers it"})


class PluginOut(ma.Schema):
    name = ma.fields.String()
    version = ma.fields.String(allow_none=True)
    distribution = ma.fields.String()
    domains = ma.fields.List(ma.fields.String())
    channels = ma.fields.List(ma.fields.String())
    hooks = ma.fields.List(ma.fields.String())
