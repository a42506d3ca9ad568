"""Red and black lists, their entries, and the catalogue of joint
reward/punishment measures.

List types and measures ship as versioned data (``core/data``) and are loaded
into the database by :func:`ensure_catalogue`; the credit office manages them
from there. A measure without a legal basis is never enforced: the check
engine skips it and says so.
"""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources

import mongoengine as me

from creditcase.core import audit, outbox
from creditcase.core.accounts import Principal
from creditcase.core.db import UnitOfWork, utcnow
from creditcase.core.errors import Conflict, NotFound, RuleViolation
from creditcase.core.subjects import identify

BINDINGS = ("MANDATORY", "DISCRETIONARY")
MEASURE_KINDS = ("REWARD", "PUNISH")
#: What applying a measure means for the outcome: ``reject`` requires a rejection.
EFFECTS = ("reject", "restrict", "review", "incentive")


class ListType(me.Document):
    code = me.StringField(required=True, unique=True)
    color = me.StringField(required=True, choices=("red", "black"))
    name_zh = me.StringField(required=True)
    name_en = me.StringField(default="")
    issuer = me.StringField(required=True)
    basis = me.StringField(required=True)
    period_months = me.IntField(min_value=1)
    early_removal = me.BooleanField(default=True)
    catalogue_version = me.StringField()

    meta = {"collection": "list_types"}


class Measure(me.Document):
    code = me.StringField(required=True, unique=True)
    kind = me.StringField(required=True, choices=MEASURE_KINDS)
    binding = me.StringField(required=True, choices=BINDINGS)
    effect = me.StringField(required=True, choices=EFFECTS)
    text_zh = me.StringField(required=True)
    text_en = me.StringField(default="")
    legal_basis = me.StringField(default="")
    basis_list_version = me.StringField(default="")
    domains = me.ListField(me.StringField(), help_text='domain codes, or "*" for all')
    triggers = me.ListField(me.StringField(),
                            help_text="hit codes: list type codes or RECORD:<kind>:<severity>")
    active = me.BooleanField(default=True)
    version = me.IntField(default=0)

    meta = {"collection": "measures", "indexes": ["triggers"]}

    @property
    def enforceable(self) -> bool:
        return self.active and bool((self.legal_basis or "").strip())

    def applies_to(self, domain: str) -> bool:
        return "*" in self.domains or domain in self.domains


class ListEntry(me.Document):
    list_type = me.StringField(required=True)
    color = me.StringField(required=True, choices=("red", "black"))
    subject_code = me.StringField(required=True)
    subject_name = me.StringField(required=True)
    issuer = me.StringField(required=True)
    basis_doc_no = me.StringField(required=True, help_text="认定文书号")
    listed_on = me.DateField(required=True)
    valid_until = me.DateField(required=True)
    source_department = me.StringField(required=True)
    removed_at = me.DateTimeField()
    removal_reason = me.StringField()
    created_at = me.DateTimeField(default=utcnow)
    version = me.IntField(default=0)

    meta = {"collection": "list_entries", "indexes": [
        ("subject_code", "valid_until"),
        {"fields": ["list_type", "basis_doc_no"], "unique": True}]}

    def in_force(self, on: dt.date) -> bool:
        return self.removed_at is None and self.listed_on <= on <= self.valid_until


def _data(name: str) -> dict:
    return json.loads(resources.files("creditcase.core").joinpath("data", name).read_text("utf-8"))


def ensure_catalogue() -> None:
    """Load shipped list types and measures that the database does not have yet."""
    types = _data("list_types.json")
    for item in types["list_types"]:
        fields = {k: v for k, v in item.items() if k in ListType._fields}
        ListType.objects(code=item["code"]).update_one(
            upsert=True, **{f"set_on_insert__{k}": v for k, v in fields.items()},
            set_on_insert__catalogue_version=types["version"])
    measures = _data("measures.json")
    for item in measures["measures"]:
        fields = {k: v for k, v in item.items() if k in Measure._fields}
        fields.setdefault("basis_list_version", measures["basis_list_version"])
        Measure.objects(code=item["code"]).update_one(
            upsert=True, **{f"set_on_insert__{k}": v for k, v in fields.items()},
            set_on_insert__version=0, set_on_insert__active=True)


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months, clamped to the month's end (2026-11-30 + 3 = 2027-02-28)."""
    import calendar

    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_entry(principal: Principal, *, list_type: str, subject_code: str, subject_name: str,
              basis_doc_no: str, listed_on: dt.date, valid_until: dt.date | None = None,
              source_department: str | None = None) -> ListEntry:
    lt = ListType.objects(code=list_type).first()
    if lt is None:
        raise RuleViolation(f"unknown list type {list_type}",
                            errors={"list_type": [f"unknown list type {list_type}"]})
    _, code = identify(subject_code, field="subject_code")
    valid_until = valid_until or add_months(listed_on, lt.period_months or 36)
    if valid_until < listed_on:
        raise RuleViolation("valid_until before listed_on",
                            errors={"valid_until": ["must not be before listed_on"]})
    entry = ListEntry(list_type=lt.code, color=lt.color, subject_code=code,
                      subject_name=subject_name, issuer=lt.issuer, basis_doc_no=basis_doc_no,
                      listed_on=listed_on, valid_until=valid_until,
                      source_department=source_department or principal.department)
    uow = UnitOfWork()
    uow.add(entry)
    if lt.color == "black":
        from creditcase.core.reports import void_reports_before

        void_reports_before(uow, principal, code, listed_on,
                            f"black-list entry: {lt.name_zh} ({basis_doc_no})")
    audit.record(uow, principal, "list.entry.added", entry, department=entry.source_department,
                 list_type=lt.code)
    outbox.emit(uow, "list.entry.added", f"subject/{code}", entry_event_data(entry))
    uow.commit()
    return entry


def remove_entry(principal: Principal, entry_id: str, reason: str) -> ListEntry:
    entry = ListEntry.objects(pk=entry_id).first()
    if entry is None:
        raise NotFound(f"no list entry {entry_id}")
    if entry.removed_at is not None:
        raise Conflict("entry already removed")
    if not reason.strip():
        raise RuleViolation("a removal needs a reason", errors={"reason": ["required"]})
    entry.removed_at, entry.removal_reason = utcnow(), reason
    uow = UnitOfWork()
    uow.save(entry)
    audit.record(uow, principal, "list.entry.removed", entry, department=entry.source_department,
                 reason=reason)
    outbox.emit(uow, "list.entry.removed", f"subject/{entry.subject_code}",
                entry_event_data(entry))
    uow.commit()
    return entry


def entry_event_data(entry: ListEntry) -> dict:
    return {"entry_id": str(entry.pk), "list_type": entry.list_type, "color": entry.color,
            "subject_code": entry.subject_code, "listed_on": entry.listed_on.isoformat(),
            "valid_until": entry.valid_until.isoformat(),
            "removed": entry.removed_at is not None}
