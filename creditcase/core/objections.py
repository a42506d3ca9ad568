"""Objections (异议) against credit records (domain.md §7.1).

A subject objects to one of its records: on the public form (no login; name,
code, contact, the record, the grounds) or through the credit office on its
behalf. The case then runs::

    SUBMITTED → ACCEPTED | REJECTED(reason)
    ACCEPTED → PLATFORM_CHECK → UPHELD (the platform's own error)
                              | PROVIDER_CHECK → UPHELD(corrected | revoked) | DISMISSED
    REJECTED | UPHELD | DISMISSED → CLOSED (the result is fed back to the applicant)

Every step has a working-day due date from the official calendar
(:data:`DUE_WORKING_DAYS`; the start day is not counted): 2 working days to
decide on acceptance, 2 from acceptance for the platform's own check, 10 for
the information provider's reply (协查), and 2 to feed the result back. A
deadline in a year without an official schedule is unknown (``None``), never
guessed.

The credit office acts on the platform steps; the record's source department
("谁产生、谁负责") answers the provider step. While the objection is under
review (accepted, not yet decided) the record is marked ``disputed`` (异议标注);
the mark is set and lifted with the record's version guard and a
``record.updated`` event. An upheld objection corrects the record (a new
revision through :func:`creditcase.core.records.push_record`) or revokes it
(``record.revoked``; its publicity ends and list entries founded on it are
removed). Record events carry the subject code, so the stale marker makes the
subject's open cases stale; each step also emits an ``objection.<step>``
event and an audit event.

This module must not import the web or queue layers.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

import mongoengine as me
from bson import ObjectId

from creditcase.core import audit, grades, outbox, procedures
from creditcase.core.accounts import Principal
from creditcase.core.calendar import CalendarDataMissing, current_calendar
from creditcase.core.db import UnitOfWork, local_today, utcnow
from creditcase.core.errors import Conflict, NotFound, PermissionDenied, RuleViolation
from creditcase.core.lists import remove_founded_on
from creditcase.core.subjects import identify

STATES: dict[str, str] = {
    "SUBMITTED": "已提交",
    "ACCEPTED": "已受理",
    "REJECTED": "不予受理",
    "PLATFORM_CHECK": "平台核查中",
    "PROVIDER_CHECK": "信息提供单位核查中",
    "UPHELD": "异议成立",
    "DISMISSED": "异议不成立",
    "CLOSED": "已办结",
}
#: States of an objection still being handled.
OPEN_STATES = ("SUBMITTED", "ACCEPTED", "PLATFORM_CHECK", "PROVIDER_CHECK")
#: States in which the record carries the 异议标注 (disputed) mark.
REVIEW_STATES = ("ACCEPTED", "PLATFORM_CHECK", "PROVIDER_CHECK")
#: Working days allowed for the step that starts in each state (Guangzhou practice,
#: domain.md §7.1). ACCEPTED and PLATFORM_CHECK share one deadline: the platform's
#: own check is due 2 working days after acceptance. The 2 days to feed the result
#: back are a local rule [R].
DUE_WORKING_DAYS: dict[str, int] = {"SUBMITTED": 2, "ACCEPTED": 2, "PROVIDER_CHECK": 10,
                                    "REJECTED": 2, "UPHELD": 2, "DISMISSED": 2}
OUTCOMES = {"corrected": "更正", "revoked": "撤销"}
#: Record fields an upheld objection may correct.
CORRECTABLE = ("subject_name", "title", "content", "severity", "effective_from",
               "effective_until", "authority", "fields")
#: Identity of filings made on the public form.
PUBLIC = Principal("public", "", frozenset())

_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


class Step(me.EmbeddedDocument):
    """One transition: the state entered, when, by whom, and the next deadline."""

    state = me.StringField(required=True, choices=tuple(STATES))
    at = me.DateTimeField(required=True)
    on = me.DateField(required=True, help_text="the (local) day of the step")
    by = me.StringField(required=True)
    department = me.StringField(default="")
    note = me.StringField(default="")
    due = me.DateField(help_text="deadline of the next step; none when unknown or final")


class Objection(me.Document):
    number = me.StringField(required=True, unique=True, help_text="受理编号, given to the applicant")
    record_id = me.StringField(required=True)
    record_doc_no = me.StringField(required=True)
    record_kind = me.StringField(required=True)
    record_source_department = me.StringField(required=True, help_text="answers the provider step")
    subject_code = me.StringField(required=True)
    subject_name = me.StringField(required=True)
    applicant_name = me.StringField(required=True, max_length=200)
    applicant_contact = me.StringField(required=True, max_length=100)
    channel = me.StringField(required=True, choices=("public", "office"))
    filed_by = me.StringField(required=True)
    grounds = me.StringField(required=True, max_length=5000)
    requested = me.StringField(choices=("correct", "revoke", ""), default="")
    state = me.StringField(required=True, choices=tuple(STATES))
    due_date = me.DateField(help_text="deadline of the step now pending")
    due_unknown = me.BooleanField(default=False, help_text="the calendar of the deadline is missing")
    record_prior_state = me.StringField(help_text="record state to restore when the review ends")
    outcome = me.StringField(choices=(*tuple(OUTCOMES), None), null=True)
    decision_reason = me.StringField(default="", help_text="why rejected, upheld or dismissed")
    corrections = me.DictField()
    steps = me.EmbeddedDocumentListField(Step)
    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField(required=True)
    version = me.IntField(default=0)

    meta = {"collection": "objections", "indexes": [
        ("record_id", "state"), ("subject_code", "-created_at"),
        ("state", "due_date"), ("record_source_department", "state")]}

    @property
    def department(self) -> str:
        return self.record_source_department

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


# -- helpers -----------------------------------------------------------------------------------

def working_day_due(on: dt.date, working_days: int) -> dt.date | None:
    """``on`` + ``working_days`` working days, or ``None`` when the calendar is missing."""
    try:
        return current_calendar().add_working_days(on, working_days)
    except CalendarDataMissing:
        return None


def _record(record_id: str) -> Any:
    from creditcase.core.records import CreditRecord

    if not ObjectId.is_valid(record_id or ""):
        return None
    return CreditRecord.objects(pk=record_id).first()


def get(objection_id: str) -> Objection:
    objection = None
    if ObjectId.is_valid(objection_id or ""):
        objection = Objection.objects(pk=objection_id).first()
    objection = objection or Objection.objects(number=objection_id).first()
    if objection is None:
        raise NotFound(f"no objection {objection_id}")
    return objection


def visible(principal: Principal, **filters: Any) -> me.QuerySet:
    """Objections the principal may read: all for the credit office, the ones about its
    own records for a department."""
    scope = {} if principal.has("credit_office") else {
        "record_source_department": principal.department}
    query = {k: v for k, v in filters.items() if v is not None}
    return Objection.objects(**scope, **query).order_by("-created_at")


def get_for(principal: Principal, objection_id: str) -> Objection:
    objection = get(objection_id)
    if not principal.has("credit_office") \
            and principal.department != objection.record_source_department:
        raise NotFound(f"no objection {objection_id}")
    return objection


def track(number: str, subject_code: str) -> Objection:
    """The applicant's view: the objection with this number, if it is about this subject."""
    try:
        _, code = identify(subject_code, field="code")
    except RuleViolation:
        raise NotFound(f"no objection {number} for this subject")
    objection = Objection.objects(number=number, subject_code=code).first()
    if objection is None:
        raise NotFound(f"no objection {number} for this subject")
    return objection


def overdue(on: dt.date | None = None, principal: Principal | None = None) -> list[Objection]:
    """Objections whose pending step is past its due date."""
    on = on or local_today()
    query = Objection.objects(state__in=(*OPEN_STATES, "REJECTED", "UPHELD", "DISMISSED"),
                              due_date__lt=on)
    if principal is not None and not principal.has("credit_office"):
        query = query.filter(record_source_department=principal.department)
    return list(query.order_by("due_date"))


def event_data(objection: Objection) -> dict[str, Any]:
    return {"objection_id": str(objection.pk), "number": objection.number,
            "record_id": objection.record_id, "subject_code": objection.subject_code,
            "state": objection.state, "outcome": objection.outcome,
            "due_date": objection.due_date.isoformat() if objection.due_date else None,
            "source_department": objection.record_source_department}


_COMPUTE: Any = object()


def _enter(objection: Objection, state: str, principal: Principal, on: dt.date, note: str = "",
           *, due: Any = _COMPUTE) -> None:
    """Move to ``state``; the deadline of the next step is computed from
    :data:`DUE_WORKING_DAYS` unless ``due`` is given."""
    if due is _COMPUTE:
        days = DUE_WORKING_DAYS.get(state)
        due = working_day_due(on, days) if days is not None else None
        objection.due_unknown = days is not None and due is None
    objection.state = state
    objection.due_date = due
    objection.updated_at = utcnow()
    objection.steps.append(Step(state=state, at=objection.updated_at, on=on, by=principal.username,
                                department=principal.department, note=note, due=due))


def _commit(uow: UnitOfWork, principal: Principal, objection: Objection, action: str,
            **detail: Any) -> None:
    audit.record(uow, principal, f"objection.{action}", objection,
                 department=objection.record_source_department, number=objection.number,
                 state=objection.state, **detail)
    outbox.emit(uow, f"objection.{action}", f"objection/{objection.pk}", event_data(objection))
    uow.commit()


def _require_office(principal: Principal, step: str) -> None:
    if not principal.has("credit_office"):
        raise PermissionDenied(f"the credit office {step}")


def _require_provider(principal: Principal, objection: Objection) -> None:
    if "admin" in principal.roles:
        return
    if principal.department != objection.record_source_department \
            or not principal.has("data_provider", "reviewer", "dept_admin"):
        raise PermissionDenied(f"the record's source department ({objection.record_source_department})"
                               " answers the provider check")


def _mark(uow: UnitOfWork, principal: Principal, record: Any, state: str) -> None:
    """Set the record's state (version-guarded) with its audit and ``record.updated`` event."""
    from creditcase.core.records import record_event_data

    previous = record.state
    record.state, record.updated_at = state, utcnow()
    uow.save(record)
    audit.record(uow, principal, "record.updated", record, department=record.source_department,
                 doc_no=record.doc_no, state=state, previous_state=previous)
    outbox.emit(uow, "record.updated", f"subject/{record.subject_code}", record_event_data(record))


# -- filing ------------------------------------------------------------------------------------

def _validate_filing(values: dict[str, Any]) -> tuple[dict[str, list[str]], str | None]:
    errors: dict[str, list[str]] = {}
    code = None
    name = str(values.get("name") or "").strip()
    if not name or len(name) > 200:
        errors["name"] = ["required, at most 200 characters"]
    try:
        _, code = identify(str(values.get("code") or ""), field="code")
    except RuleViolation as exc:
        errors.update(exc.errors)
    contact = re.sub(r"\s", "", str(values.get("contact") or ""))
    if not (_PHONE.match(contact) or _EMAIL.match(contact)):
        errors["contact"] = ["a mobile or landline number (e.g. 13800000000, 0375-1234567) "
                             "or an e-mail address"]
    grounds = str(values.get("grounds") or "").strip()
    if len(grounds) < 5 or len(grounds) > 5000:
        errors["grounds"] = ["the grounds of the objection, 5 to 5000 characters"]
    if values.get("requested") not in (None, "", "correct", "revoke"):
        errors["requested"] = ["correct or revoke"]
    if not ObjectId.is_valid(str(values.get("record_id") or "")):
        errors["record_id"] = ["the id of the record objected to"]
    return errors, code


def file_objection(principal: Principal | None, values: dict[str, Any], *,
                   on: dt.date | None = None) -> Objection:
    """File an objection. ``principal`` ``None`` is the public form; otherwise the
    credit office files on the subject's behalf. The record must be about the subject
    named by ``code`` (otherwise it is reported as not found) and be active, with no
    other objection open."""
    if principal is not None and not principal.has("credit_office"):
        raise PermissionDenied("only the credit office files objections on a subject's behalf")
    errors, code = _validate_filing(values)
    if errors:
        raise RuleViolation("the objection is not valid", errors=errors)
    record = _record(values["record_id"])
    if record is None or record.subject_code != code:
        raise NotFound("no such record for this subject",
                       errors={"record_id": ["no record with this id for this subject"]})
    if Objection.objects(record_id=str(record.pk), state__in=OPEN_STATES).only("id").first():
        raise Conflict("an objection to this record is already being handled",
                       errors={"record_id": ["an objection to this record is open"]})
    if record.state != "active":
        raise Conflict(f"the record is {record.state}: no objection can be filed against it",
                       errors={"record_id": [f"the record is {record.state}"]})
    on = on or local_today()
    actor = principal or PUBLIC
    now = utcnow()
    objection = Objection(
        number=f"YY{on:%Y%m%d}{secrets.token_hex(4).upper()}", record_id=str(record.pk),
        record_doc_no=record.doc_no, record_kind=record.kind,
        record_source_department=record.source_department, subject_code=record.subject_code,
        subject_name=record.subject_name, applicant_name=values["name"].strip(),
        applicant_contact=re.sub(r"\s", "", values["contact"]),
        channel="public" if principal is None else "office", filed_by=actor.username,
        grounds=values["grounds"].strip(), requested=values.get("requested") or "",
        state="SUBMITTED", created_at=now, updated_at=now)
    _enter(objection, "SUBMITTED", actor, on)
    uow = UnitOfWork()
    uow.add(objection)
    _commit(uow, actor, objection, "submitted", channel=objection.channel)
    return objection


# -- platform steps (credit office) ------------------------------------------------------------

def accept(principal: Principal, objection_id: str, *, on: dt.date | None = None,
           expected_version: int | None = None) -> Objection:
    """Accept the objection: the record is marked disputed until the review ends."""
    _require_office(principal, "decides on acceptance")
    objection = get(objection_id)
    procedures.expect(objection, "objection", "SUBMITTED", expected_version=expected_version)
    record = _record(objection.record_id)
    if record is None or record.state != "active":
        state = record.state if record is not None else "gone"
        raise Conflict(f"the record is {state}; reject the objection instead",
                       errors={"record_id": [f"the record is {state}"]})
    on = on or local_today()
    objection.record_prior_state = record.state
    _enter(objection, "ACCEPTED", principal, on)
    uow = UnitOfWork()
    uow.save(objection)
    _mark(uow, principal, record, "disputed")
    _commit(uow, principal, objection, "accepted")
    return objection


def reject(principal: Principal, objection_id: str, reason: str, *, on: dt.date | None = None,
           expected_version: int | None = None) -> Objection:
    """Do not accept the objection (不予受理), with the reason."""
    _require_office(principal, "decides on acceptance")
    objection = get(objection_id)
    procedures.expect(objection, "objection", "SUBMITTED", expected_version=expected_version)
    objection.decision_reason = procedures.required_reason(reason)
    _enter(objection, "REJECTED", principal, on or local_today(), objection.decision_reason)
    uow = UnitOfWork()
    uow.save(objection)
    _commit(uow, principal, objection, "rejected", reason=objection.decision_reason)
    return objection


def start_platform_check(principal: Principal, objection_id: str, *, on: dt.date | None = None,
                         expected_version: int | None = None) -> Objection:
    """The platform checks its own processing; due 2 working days after acceptance."""
    _require_office(principal, "runs the platform check")
    objection = get(objection_id)
    procedures.expect(objection, "objection", "ACCEPTED", expected_version=expected_version)
    _enter(objection, "PLATFORM_CHECK", principal, on or local_today(), due=objection.due_date)
    uow = UnitOfWork()
    uow.save(objection)
    _commit(uow, principal, objection, "platform_check")
    return objection


def refer_to_provider(principal: Principal, objection_id: str, note: str = "", *,
                      on: dt.date | None = None, expected_version: int | None = None) -> Objection:
    """Send the 协查函 to the record's source department: reply due in 10 working days."""
    _require_office(principal, "refers an objection to the information provider")
    objection = get(objection_id)
    procedures.expect(objection, "objection", "PLATFORM_CHECK", expected_version=expected_version)
    _enter(objection, "PROVIDER_CHECK", principal, on or local_today(), note.strip())
    uow = UnitOfWork()
    uow.save(objection)
    _commit(uow, principal, objection, "provider_check", note=note.strip())
    return objection


# -- outcome ---------------------------------------------------------------------------------

def _validate_corrections(corrections: dict[str, Any]) -> None:
    from creditcase.core.records import SEVERITIES

    errors: dict[str, list[str]] = {}
    for key, value in corrections.items():
        if key not in CORRECTABLE:
            errors[f"corrections.{key}"] = [f"cannot be corrected; correctable: {', '.join(CORRECTABLE)}"]
        elif key == "severity" and value not in (*SEVERITIES, None):
            errors[f"corrections.{key}"] = [f"one of {', '.join(SEVERITIES)} or null"]
        elif key in ("effective_from", "effective_until") and value is not None \
                and not isinstance(value, dt.date):
            errors[f"corrections.{key}"] = ["a date"]
        elif key == "fields" and not isinstance(value, dict):
            errors[f"corrections.{key}"] = ["an object of national field codes"]
        elif key in ("subject_name", "title") and not str(value or "").strip():
            errors[f"corrections.{key}"] = ["must not be empty"]
    if not corrections:
        errors["corrections"] = ["an upheld objection that corrects the record names the "
                                 "corrected fields"]
    if errors:
        raise RuleViolation("the corrections are not valid", errors=errors)


def _corrected_values(record: Any, corrections: dict[str, Any]) -> dict[str, Any]:
    keys = ("subject_code", "subject_name", "subject_kind", "kind", "severity", "title", "content",
            "doc_no", "decision_date", "effective_from", "effective_until", "authority", "fields",
            "type_severities", "publish_minor", "sector")
    values = {k: getattr(record, k, None) for k in keys}
    values["fields"] = dict(values["fields"] or {})
    values["type_severities"] = dict(values["type_severities"] or {})
    values["publish_minor"] = bool(values["publish_minor"])
    for key, value in corrections.items():
        if key == "fields":
            for code, text in value.items():
                if text is None:
                    values["fields"].pop(code, None)
                else:
                    values["fields"][code] = text
        else:
            values[key] = value
    return values


def uphold(principal: Principal, objection_id: str, outcome: str, reason: str, *,
           corrections: dict[str, Any] | None = None, on: dt.date | None = None,
           expected_version: int | None = None) -> Objection:
    """The objection is founded: correct the record (a new revision) or revoke it.

    From PLATFORM_CHECK (the platform's own error, credit office) or PROVIDER_CHECK
    (the record's source department)."""
    objection = get(objection_id)
    procedures.expect(objection, "objection", "PLATFORM_CHECK", "PROVIDER_CHECK",
                      expected_version=expected_version)
    if objection.state == "PLATFORM_CHECK":
        _require_office(principal, "upholds an objection at the platform check")
    else:
        _require_provider(principal, objection)
    if outcome not in OUTCOMES:
        raise RuleViolation("unknown outcome", errors={"outcome": ["corrected or revoked"]})
    reason = procedures.required_reason(reason)
    corrections = dict(corrections or {})
    if outcome == "corrected":
        _validate_corrections(corrections)
    elif corrections:
        raise RuleViolation("a revoked record is not corrected",
                            errors={"corrections": ["only with the outcome corrected"]})
    on = on or local_today()
    record = _record(objection.record_id)
    if record is None:
        raise Conflict("the record no longer exists", errors={"record_id": ["not found"]})
    if outcome == "corrected":
        from creditcase.core.records import push_record

        try:
            record, _ = push_record(principal, _corrected_values(record, corrections),
                                    source_department=record.source_department)
        except RuleViolation as exc:
            raise RuleViolation(f"the corrected record is not valid: {exc.detail}", errors={
                f"corrections.{k}": v for k, v in exc.errors.items()}) from exc
    objection.outcome, objection.decision_reason = outcome, reason
    objection.corrections = {k: (v.isoformat() if isinstance(v, dt.date) else v)
                             for k, v in corrections.items()}
    _enter(objection, "UPHELD", principal, on, reason)
    uow = UnitOfWork()
    uow.save(objection)
    if outcome == "revoked":
        _revoke(uow, principal, record, objection)
    elif record.state == "disputed":
        _mark(uow, principal, record, objection.record_prior_state or "active")
    _commit(uow, principal, objection, "upheld", outcome=outcome, reason=reason)
    grades.recompute(objection.subject_code, on=on)
    return objection


def _revoke(uow: UnitOfWork, principal: Principal, record: Any, objection: Objection) -> None:
    from creditcase.core.records import record_event_data

    previous = record.state
    now = utcnow()
    record.state, record.updated_at = "revoked", now
    if record.publicity_state in ("due", "overdue", "published"):
        record.publicity_state = "ended"
        if "publicity_ended_at" in type(record)._fields:
            record.publicity_ended_at = now
    uow.save(record)
    audit.record(uow, principal, "record.revoked", record, department=record.source_department,
                 doc_no=record.doc_no, previous_state=previous, objection=objection.number)
    outbox.emit(uow, "record.revoked", f"subject/{record.subject_code}", record_event_data(record))
    remove_founded_on(uow, principal, record, f"异议成立，信用记录撤销（{objection.number}）",
                      early_removal_only=False)


def dismiss(principal: Principal, objection_id: str, reason: str, *, on: dt.date | None = None,
            expected_version: int | None = None) -> Objection:
    """The provider confirms the record: the objection is not founded; the mark is lifted."""
    objection = get(objection_id)
    procedures.expect(objection, "objection", "PROVIDER_CHECK", expected_version=expected_version)
    _require_provider(principal, objection)
    objection.decision_reason = procedures.required_reason(reason)
    on = on or local_today()
    _enter(objection, "DISMISSED", principal, on, objection.decision_reason)
    record = _record(objection.record_id)
    uow = UnitOfWork()
    uow.save(objection)
    if record is not None and record.state == "disputed":
        _mark(uow, principal, record, objection.record_prior_state or "active")
    _commit(uow, principal, objection, "dismissed", reason=objection.decision_reason)
    return objection


def close(principal: Principal, objection_id: str, note: str = "", *, on: dt.date | None = None,
          expected_version: int | None = None) -> Objection:
    """The result has been fed back to the applicant (办结)."""
    _require_office(principal, "closes objections")
    objection = get(objection_id)
    procedures.expect(objection, "objection", "REJECTED", "UPHELD", "DISMISSED",
                      expected_version=expected_version)
    _enter(objection, "CLOSED", principal, on or local_today(), note.strip(), due=None)
    objection.due_unknown = False
    uow = UnitOfWork()
    uow.save(objection)
    _commit(uow, principal, objection, "closed", note=note.strip())
    return objection
