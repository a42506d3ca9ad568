"""Credit records pushed by departments and courts.

A record is identified by its source department and document number, so a
push is idempotent: the same content again changes nothing; different content
is a correction that creates a new revision (the previous one is kept in
``history``) and a ``record.updated`` event. Licences and penalties carry the
双公示 publication deadline: decision date + 7 working days.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import mongoengine as me

from creditcase.core import audit, outbox, reports
from creditcase.core.accounts import Principal
from creditcase.core.calendar import CalendarDataMissing, current_calendar
from creditcase.core.db import UnitOfWork, utcnow
from creditcase.core.subjects import KINDS, identify

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
STATES = ("active", "disputed", "repaired", "expired", "revoked")
PUBLICITY_STATES = ("not_applicable", "due", "published", "overdue", "ended")
PUBLICATION_WORKING_DAYS = 7


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
    publication_due = me.DateField()
    published_at = me.DateTimeField()
    revision = me.IntField(default=1)
    content_hash = me.StringField(required=True)
    history = me.EmbeddedDocumentListField(RecordRevision)
    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField(required=True)
    version = me.IntField(default=0)

    meta = {"collection": "credit_records", "indexes": [
        {"fields": ["source_department", "doc_no"], "unique": True},
        ("subject_code", "state"),
        ("publicity_state", "publication_due"),
    ]}

    @property
    def department(self) -> str:
        return self.source_department


def _content(values: dict[str, Any]) -> dict[str, Any]:
    keys = ("subject_code", "subject_name", "subject_kind", "kind", "severity", "title",
            "content", "decision_date", "effective_from", "effective_until", "authority",
            "fields")
    return {k: values.get(k) for k in keys}


def content_hash(values: dict[str, Any]) -> str:
    text = json.dumps(_content(values), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def publication_deadline(decision_date: dt.date) -> dt.date | None:
    """双公示: published within 7 working days of the decision (the decision day not
    counted). ``None`` when the official calendar for that period is not loaded: the
    deadline is then shown as unknown, never guessed."""
    try:
        return current_calendar().add_working_days(decision_date, PUBLICATION_WORKING_DAYS)
    except CalendarDataMissing:
        return None


def push_record(principal: Principal, values: dict[str, Any], *,
                source_department: str | None = None) -> tuple[CreditRecord, str]:
    """Store one record. Returns ``(record, outcome)`` where outcome is
    ``created``, ``updated`` or ``unchanged``."""
    values = dict(values)
    kind, code = identify(values["subject_code"], values.get("subject_kind"), field="subject_code")
    values["subject_code"], values["subject_kind"] = code, kind
    department = source_department or principal.department
    digest = content_hash(values)
    now = utcnow()
    existing = CreditRecord.objects(source_department=department, doc_no=values["doc_no"]).first()
    uow = UnitOfWork()
    if existing is None:
        record = CreditRecord(**{k: v for k, v in values.items() if k in CreditRecord._fields},
                              source_department=department, content_hash=digest,
                              created_at=now, updated_at=now)
        if record.kind in PUBLICITY_KINDS:
            # pushing to the platform publishes on the city credit site
            record.publication_due = publication_deadline(record.decision_date)
            record.publicity_state, record.published_at = "published", now
        uow.add(record)
        outcome = "created"
    elif existing.content_hash == digest:
        return existing, "unchanged"
    else:
        record = existing
        record.history.append(RecordRevision(
            revision=record.revision, content_hash=record.content_hash, replaced_at=now,
            snapshot=json.loads(json.dumps(_content(record.to_mongo().to_dict()), default=str))))
        for key, value in values.items():
            if key in CreditRecord._fields and key not in ("doc_no",):
                setattr(record, key, value)
        record.revision += 1
        record.content_hash = digest
        record.updated_at = now
        if record.kind in PUBLICITY_KINDS:
            record.publication_due = publication_deadline(record.decision_date)
        uow.save(record)
        outcome = "updated"
    if is_major_event(record):
        reports.void_reports_before(uow, principal, record.subject_code, record.decision_date,
                                    f"major credit event: {record.title} ({record.doc_no})")
    audit.record(uow, principal, f"record.{outcome}", record, department=department,
                 doc_no=record.doc_no, revision=record.revision)
    outbox.emit(uow, f"record.{outcome}", f"subject/{record.subject_code}",
                record_event_data(record))
    uow.commit()
    return record, outcome


def record_event_data(record: CreditRecord) -> dict[str, Any]:
    return {"record_id": str(record.pk), "subject_code": record.subject_code,
            "kind": record.kind, "severity": record.severity, "doc_no": record.doc_no,
            "source_department": record.source_department, "revision": record.revision,
            "decision_date": record.decision_date.isoformat() if record.decision_date else None,
            "state": record.state, "major": is_major_event(record)}


def is_major_event(record: CreditRecord) -> bool:
    """A major credit event (voids credit reports issued before it)."""
    return (record.kind in {"penalty", "dishonest_debtor", "major_tax_violation"}
            and record.severity == "serious") or record.kind in {"dishonest_debtor",
                                                                 "major_tax_violation"}


def active_records(subject_code: str) -> me.QuerySet:
    return CreditRecord.objects(subject_code=subject_code, state__in=("active", "disputed"))
