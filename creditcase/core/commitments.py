"""Credit commitments (信用承诺) and self-declared information (自主申报), domain.md §6.2.

A commitment is signed by the subject and recorded by the department that
accepts it (the subject acts through that department's handler or data
provider, or through the credit office; there is no anonymous form, because a
commitment has legal consequences). It names the matter, its type (审批替代型,
容缺受理型, 信用修复型, 主动型, 行业自律型), the version of the commitment
text, when it was signed, whether it is public, and the items due with their
dates. The department tracks it to ``FULFILLED`` or ``BREACHED``:

* evidence is recorded per due item (:func:`fulfil_item`);
* :func:`verify` closes it: fulfilled (every due item done) or breached. A
  breach becomes a credit record of kind ``commitment_breach`` (document number
  = the commitment id, with a severity) through
  :func:`creditcase.core.records.push_record`, so it raises hits and measures
  like any other record, and the subject's grade is recomputed.

A public 信用修复型 commitment is one of the conditions of a credit repair
(:mod:`creditcase.core.repairs`).

Self-declared information (企业信息自主申报) is stored as a record of kind
``self_declared`` (:func:`declare`), idempotent by content.

This module must not import the web or queue layers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from typing import Any

import mongoengine as me
from bson import ObjectId

from creditcase.core import audit, grades
from creditcase.core.accounts import Principal
from creditcase.core.db import UnitOfWork, as_utc, local_today, utcnow
from creditcase.core.errors import ConcurrentUpdate, Conflict, NotFound, PermissionDenied, RuleViolation
from creditcase.core.subjects import KINDS, identify

#: Commitment types (国办发〔2019〕35号; domain.md §6.2).
TYPES: dict[str, str] = {
    "APPROVAL_SUBSTITUTE": "审批替代型",
    "TOLERANT_ACCEPTANCE": "容缺受理型",
    "REPAIR": "信用修复型",
    "VOLUNTARY": "主动型",
    "SELF_DISCIPLINE": "行业自律型",
}
#: Types made for an administrative matter: they name its 事项编码.
MATTER_TYPES = ("APPROVAL_SUBSTITUTE", "TOLERANT_ACCEPTANCE")
STATUSES: dict[str, str] = {"PENDING": "履约中", "FULFILLED": "已履约", "BREACHED": "已违约"}
SEVERITIES = ("minor", "general", "serious")
#: Roles that record commitments and declarations for a subject.
RECORDERS = ("handler", "data_provider", "credit_office")


class DueItem(me.EmbeddedDocument):
    item_id = me.StringField(required=True)
    description = me.StringField(required=True, max_length=1000)
    due_date = me.DateField(required=True)
    fulfilled_on = me.DateField()
    evidence = me.StringField(default="", max_length=5000)
    recorded_by = me.StringField()


class Commitment(me.Document):
    subject_code = me.StringField(required=True)
    subject_name = me.StringField(required=True)
    subject_kind = me.StringField(required=True, choices=tuple(KINDS))
    matter_code = me.StringField(default="", help_text="政务服务事项编码")
    matter_name = me.StringField(default="")
    type = me.StringField(required=True, choices=tuple(TYPES))
    text_version = me.StringField(required=True, help_text="version of the commitment text signed")
    text = me.StringField(default="", max_length=20_000)
    signed_at = me.DateTimeField(required=True)
    signatory = me.StringField(default="", help_text="who signed for the subject")
    public = me.BooleanField(default=True, help_text="published (公开承诺)")
    due_items = me.EmbeddedDocumentListField(DueItem)
    record_id = me.StringField(help_text="for 信用修复型: the record to be repaired")
    status = me.StringField(default="PENDING", choices=tuple(STATUSES))
    verified_at = me.DateTimeField()
    verified_by = me.StringField()
    verification_note = me.StringField(default="")
    breach_severity = me.StringField(choices=(*SEVERITIES, None), null=True)
    breach_record_id = me.StringField()
    department = me.StringField(required=True, help_text="the department that accepted it")
    created_by = me.StringField(required=True)
    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField(required=True)
    version = me.IntField(default=0)

    meta = {"collection": "commitments", "indexes": [
        ("subject_code", "-signed_at"), ("department", "status"), ("status", "due_items.due_date")]}

    def overdue_items(self, on: dt.date) -> list[DueItem]:
        return [i for i in self.due_items if i.fulfilled_on is None and i.due_date < on]


def commitment_type(value: str) -> str | None:
    """The type code for a code or its Chinese name (``信用修复型`` → ``REPAIR``)."""
    if value in TYPES:
        return value
    return next((code for code, label in TYPES.items() if label == value), None)


def get(commitment_id: str) -> Commitment:
    commitment = Commitment.objects(pk=commitment_id).first() if ObjectId.is_valid(
        commitment_id or "") else None
    if commitment is None:
        raise NotFound(f"no commitment {commitment_id}")
    return commitment


def visible(principal: Principal, **filters: Any) -> me.QuerySet:
    """Commitments the principal may read: its department's, or all for the credit office."""
    scope = {} if principal.has("credit_office") else {"department": principal.department}
    query = {k: v for k, v in filters.items() if v is not None}
    return Commitment.objects(**scope, **query).order_by("-signed_at")


def get_for(principal: Principal, commitment_id: str) -> Commitment:
    commitment = get(commitment_id)
    if not principal.has("credit_office") and principal.department != commitment.department:
        raise NotFound(f"no commitment {commitment_id}")
    return commitment


def _require_recorder(principal: Principal) -> None:
    if not principal.has(*RECORDERS):
        raise PermissionDenied("commitments and declarations are recorded by a handler, a data "
                               "provider or the credit office")


def _require_verifier(principal: Principal, commitment: Commitment) -> None:
    if principal.has("credit_office"):
        return
    if principal.department != commitment.department \
            or not principal.has("handler", "reviewer", "data_provider", "dept_admin"):
        raise PermissionDenied(f"the accepting department ({commitment.department}) or the "
                               "credit office tracks this commitment")


def _guard(commitment: Commitment, expected_version: int | None, *states: str) -> None:
    if expected_version is not None and commitment.version != expected_version:
        raise ConcurrentUpdate(f"commitment {commitment.pk} is at version {commitment.version}",
                               errors={"expected_version": [f"current version is {commitment.version}"]})
    if commitment.status not in states:
        raise Conflict(f"the commitment is {commitment.status}",
                       errors={"status": [f"is {commitment.status}, expected {' or '.join(states)}"]})


def make_commitment(principal: Principal, values: dict[str, Any], *,
                    on: dt.date | None = None) -> Commitment:
    """Record a signed commitment (status PENDING)."""
    _require_recorder(principal)
    on = on or local_today()
    errors: dict[str, list[str]] = {}
    kind = code = None
    try:
        kind, code = identify(str(values.get("subject_code") or ""), values.get("subject_kind"),
                              field="subject_code")
    except RuleViolation as exc:
        errors.update(exc.errors)
    if not str(values.get("subject_name") or "").strip():
        errors["subject_name"] = ["required"]
    ctype = commitment_type(str(values.get("type") or ""))
    if ctype is None:
        errors["type"] = ["one of " + ", ".join(f"{c} ({z})" for c, z in TYPES.items())]
    if ctype in MATTER_TYPES and not str(values.get("matter_code") or "").strip():
        errors["matter_code"] = [f"required for a {TYPES[ctype]} commitment"]
    if not str(values.get("text_version") or "").strip():
        errors["text_version"] = ["required: the version of the commitment text signed"]
    signed_at = as_utc(values.get("signed_at")).astimezone(dt.UTC) if isinstance(values.get("signed_at"),
                                                               dt.datetime) else None
    if signed_at is None:
        errors["signed_at"] = ["a date-time"]
    elif signed_at > utcnow():
        errors["signed_at"] = ["must not be in the future"]
    items = []
    for i, item in enumerate(values.get("due_items") or []):
        description = str((item or {}).get("description") or "").strip()
        due = (item or {}).get("due_date")
        if not description:
            errors[f"due_items.{i}.description"] = ["required"]
        if not isinstance(due, dt.date):
            errors[f"due_items.{i}.due_date"] = ["a date"]
        elif isinstance(signed_at, dt.datetime) and due < signed_at.date():
            errors[f"due_items.{i}.due_date"] = ["must not be before signed_at"]
        if description and isinstance(due, dt.date):
            items.append(DueItem(item_id=uuid.uuid4().hex[:12], description=description, due_date=due))
    if ctype in ("APPROVAL_SUBSTITUTE", "TOLERANT_ACCEPTANCE") and not values.get("due_items"):
        errors.setdefault("due_items", []).append(
            f"a {TYPES[ctype]} commitment lists what is to be delivered and by when")
    record_id = values.get("record_id")
    if record_id:
        from creditcase.core.records import CreditRecord

        record = CreditRecord.objects(pk=record_id).only("subject_code").first() \
            if ObjectId.is_valid(record_id) else None
        if record is None or (code and record.subject_code != code):
            errors["record_id"] = ["no record with this id for this subject"]
    if errors:
        raise RuleViolation("the commitment is not valid", errors=errors)
    now = utcnow()
    commitment = Commitment(
        subject_code=code, subject_name=values["subject_name"].strip(), subject_kind=kind,
        matter_code=(values.get("matter_code") or "").strip(),
        matter_name=(values.get("matter_name") or "").strip(), type=ctype,
        text_version=values["text_version"].strip(), text=values.get("text") or "",
        signed_at=signed_at, signatory=(values.get("signatory") or "").strip(),
        public=bool(values.get("public", True)), due_items=items, record_id=record_id or None,
        department=principal.department, created_by=principal.username, created_at=now,
        updated_at=now)
    uow = UnitOfWork()
    uow.add(commitment)
    audit.record(uow, principal, "commitment.made", commitment, department=commitment.department,
                 type=ctype, subject_code=code, on=on.isoformat())
    uow.commit()
    return commitment


def fulfil_item(principal: Principal, commitment_id: str, item_id: str, evidence: str, *,
                on: dt.date | None = None, expected_version: int | None = None) -> Commitment:
    """Record that one due item was delivered, with the evidence."""
    commitment = get(commitment_id)
    _require_verifier(principal, commitment)
    _guard(commitment, expected_version, "PENDING")
    item = next((i for i in commitment.due_items if i.item_id == item_id), None)
    if item is None:
        raise NotFound(f"no due item {item_id}")
    if item.fulfilled_on is not None:
        raise Conflict("this item is already fulfilled")
    if not evidence.strip():
        raise RuleViolation("evidence is required", errors={"evidence": ["required"]})
    item.fulfilled_on, item.evidence = on or local_today(), evidence.strip()
    item.recorded_by = principal.username
    commitment.updated_at = utcnow()
    uow = UnitOfWork()
    uow.save(commitment)
    audit.record(uow, principal, "commitment.item_fulfilled", commitment,
                 department=commitment.department, item_id=item_id)
    uow.commit()
    return commitment


def verify(principal: Principal, commitment_id: str, status: str, note: str, *,
           severity: str | None = None, on: dt.date | None = None,
           expected_version: int | None = None) -> Commitment:
    """Close a pending commitment as FULFILLED (every due item delivered) or BREACHED
    (with a severity: the breach becomes a ``commitment_breach`` credit record)."""
    commitment = get(commitment_id)
    _require_verifier(principal, commitment)
    _guard(commitment, expected_version, "PENDING")
    on = on or local_today()
    note = (note or "").strip()
    if status == "FULFILLED":
        open_items = [i.description for i in commitment.due_items if i.fulfilled_on is None]
        if open_items:
            raise RuleViolation("due items are not fulfilled yet", errors={
                "due_items": [f"not fulfilled: {d}" for d in open_items]})
    elif status == "BREACHED":
        errors = {}
        if severity not in SEVERITIES:
            errors["severity"] = ["required for a breach: minor, general or serious"]
        if not note:
            errors["note"] = ["required for a breach: what was not honoured"]
        if errors:
            raise RuleViolation("the breach is not valid", errors=errors)
        record = _breach_record(principal, commitment, severity or "general", note, on)
        commitment.breach_record_id, commitment.breach_severity = str(record.pk), severity
    else:
        raise RuleViolation("unknown status", errors={"status": ["FULFILLED or BREACHED"]})
    commitment.status, commitment.verification_note = status, note
    commitment.verified_at, commitment.verified_by = utcnow(), principal.username
    commitment.updated_at = commitment.verified_at
    uow = UnitOfWork()
    uow.save(commitment)
    audit.record(uow, principal, f"commitment.{status.lower()}", commitment,
                 department=commitment.department, note=note, severity=severity,
                 record_id=commitment.breach_record_id)
    uow.commit()
    if status == "BREACHED":
        grades.recompute(commitment.subject_code, on=on)
    return commitment


def _breach_record(principal: Principal, commitment: Commitment, severity: str, note: str,
                   on: dt.date) -> Any:
    from creditcase.core.records import push_record

    what = commitment.matter_name or commitment.matter_code or TYPES[commitment.type]
    values = {
        "subject_code": commitment.subject_code, "subject_name": commitment.subject_name,
        "subject_kind": commitment.subject_kind, "kind": "commitment_breach",
        "severity": severity, "title": f"未履行{TYPES[commitment.type]}信用承诺：{what}",
        "content": f"{note}（承诺文本 {commitment.text_version}，"
                   f"签署于 {commitment.signed_at:%Y-%m-%d}）",
        "doc_no": str(commitment.pk), "decision_date": on, "fields": {},
    }
    record, _ = push_record(principal, values, source_department=commitment.department)
    return record


def overdue(principal: Principal, on: dt.date | None = None) -> list[Commitment]:
    """Pending commitments with a due item past its date and not delivered."""
    on = on or local_today()
    return [c for c in visible(principal, status="PENDING", due_items__due_date__lt=on)
            if c.overdue_items(on)]


# -- self-declaration ---------------------------------------------------------------------------

def declare(principal: Principal, values: dict[str, Any], *,
            on: dt.date | None = None) -> tuple[Any, str]:
    """Store information the subject declares itself (企业信息自主申报) as a record of kind
    ``self_declared``. The document number is derived from the content, so the same
    declaration twice is stored once. Returns ``(record, outcome)``."""
    from creditcase.core.records import push_record

    _require_recorder(principal)
    errors: dict[str, list[str]] = {}
    kind = code = None
    try:
        kind, code = identify(str(values.get("subject_code") or ""), values.get("subject_kind"),
                              field="subject_code")
    except RuleViolation as exc:
        errors.update(exc.errors)
    for key, limit in (("subject_name", 200), ("title", 500)):
        if not str(values.get(key) or "").strip() or len(str(values.get(key))) > limit:
            errors[key] = [f"required, at most {limit} characters"]
    content = str(values.get("content") or "").strip()
    if not content:
        errors["content"] = ["required: what the subject declares"]
    declared_on = values.get("declared_on") or on or local_today()
    if not isinstance(declared_on, dt.date):
        errors["declared_on"] = ["a date"]
    elif declared_on > (on or local_today()):
        errors["declared_on"] = ["must not be in the future"]
    if errors:
        raise RuleViolation("the declaration is not valid", errors=errors)
    digest = hashlib.sha256(json.dumps([code, values["title"].strip(), content],
                                       ensure_ascii=False).encode()).hexdigest()
    record_values = {
        "subject_code": code, "subject_name": values["subject_name"].strip(),
        "subject_kind": kind, "kind": "self_declared", "severity": None,
        "title": values["title"].strip(), "content": content,
        "doc_no": f"ZZSB-{digest[:20].upper()}", "decision_date": declared_on,
        "authority": "自主申报", "fields": {},
    }
    return push_record(principal, record_values)
