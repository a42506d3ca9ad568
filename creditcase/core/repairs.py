"""Credit repair (信用修复) under the regime in force from 2026-04-01
(国办发〔2025〕22号 and NDRC Order 2025 No. 36; domain.md §7.2).

An application runs::

    DRAFT → SUBMITTED → FORWARDED → ACCEPTED | NOT_ACCEPTED(reason)
    ACCEPTED → UNDER_REVIEW → APPROVED | REJECTED(reason)
    NOT_ACCEPTED | APPROVED | REJECTED → CLOSED

The credit office is the unified window: it (or a department's handler or data
provider acting for the subject) drafts the application, forwards it and
closes it once the result is served. The department that made the finding,
the record's source department, decides ("谁认定、谁修复"). Submission is
refused before the minimum publicity period has passed
(:func:`creditcase.core.publicity.min_period_end`; the error names the date)
and needs the other conditions: the obligations performed (evidence) and a
public 信用修复型 credit commitment (:mod:`creditcase.core.commitments`).
Records of kinds whose removal stays with their issuing body (court and tax
lists) are not repaired here.

Approval ends the record's publicity and its sharing: the record becomes
``repaired`` (publicity ``ended``), so no check returns it any more, with a
``record.updated`` event; black-list entries founded on it are removed with
the reason "信用修复" where the list type allows early removal; and the
subject's grade is recomputed (Order 36: "更新信用评价结果").

Each step has a working-day due date (:data:`DUE_WORKING_DAYS`): local rules
[R], configurable here (Jiangxi: 10 working days when the materials are in
order; press summaries of 22号: the deciding department within 3).

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
from creditcase.core.db import UnitOfWork, local_today, utcnow
from creditcase.core.errors import Conflict, NotFound, PermissionDenied, RuleViolation
from creditcase.core.lists import REPAIR_REASON, remove_founded_on
from creditcase.core.objections import OPEN_STATES as OPEN_OBJECTION_STATES
from creditcase.core.objections import Objection, working_day_due
from creditcase.core.subjects import identify

STATES: dict[str, str] = {
    "DRAFT": "草稿",
    "SUBMITTED": "已提交",
    "FORWARDED": "已转认定单位",
    "ACCEPTED": "已受理",
    "NOT_ACCEPTED": "不予受理",
    "UNDER_REVIEW": "审核中",
    "APPROVED": "准予修复",
    "REJECTED": "不予修复",
    "CLOSED": "已办结",
}
OPEN_STATES = ("DRAFT", "SUBMITTED", "FORWARDED", "ACCEPTED", "UNDER_REVIEW")
#: Working days for the step that starts in each state. UNDER_REVIEW keeps the
#: deadline set at acceptance (the decision is due 10 working days after it).
DUE_WORKING_DAYS: dict[str, int] = {"SUBMITTED": 2, "FORWARDED": 3, "ACCEPTED": 10,
                                    "NOT_ACCEPTED": 2, "APPROVED": 2, "REJECTED": 2}
#: Record kinds a repair here may lift. Court and tax lists (失信被执行人, 重大税收违法)
#: are removed by their issuing body under its own rules.
REPAIRABLE_KINDS = ("penalty", "enforcement", "commitment_breach")
#: The regime this workflow implements applies to applications from this day.
REGIME_FROM = dt.date(2026, 4, 1)

_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


class RepairStep(me.EmbeddedDocument):
    state = me.StringField(required=True, choices=tuple(STATES))
    at = me.DateTimeField(required=True)
    on = me.DateField(required=True)
    by = me.StringField(required=True)
    department = me.StringField(default="")
    note = me.StringField(default="")
    due = me.DateField()


class RepairApplication(me.Document):
    number = me.StringField(required=True, unique=True, help_text="修复申请编号")
    record_id = me.StringField(required=True)
    record_doc_no = me.StringField(required=True)
    record_kind = me.StringField(required=True)
    deciding_department = me.StringField(required=True, help_text="the record's source department")
    subject_code = me.StringField(required=True)
    subject_name = me.StringField(required=True)
    applicant_name = me.StringField(required=True, max_length=200)
    applicant_contact = me.StringField(required=True, max_length=100)
    obligations_evidence = me.StringField(default="", max_length=20_000,
                                          help_text="how the obligations were performed")
    commitment_id = me.StringField(help_text="the public 信用修复型 commitment")
    state = me.StringField(required=True, choices=tuple(STATES))
    due_date = me.DateField()
    due_unknown = me.BooleanField(default=False)
    regime = me.StringField(help_text="publicity regime of the record, at submission")
    min_period_end = me.DateField(help_text="end of the minimum publicity period")
    decision_reason = me.StringField(default="")
    lifted_entries = me.ListField(me.StringField(), help_text="list entries removed on approval")
    kept_entries = me.ListField(me.StringField(),
                                help_text="entries founded on the record left to their issuer")
    steps = me.EmbeddedDocumentListField(RepairStep)
    window_department = me.StringField(required=True, help_text="where it was drafted")
    created_by = me.StringField(required=True)
    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField(required=True)
    version = me.IntField(default=0)

    meta = {"collection": "repair_applications", "indexes": [
        ("record_id", "state"), ("subject_code", "-created_at"),
        ("deciding_department", "state"), ("state", "due_date")]}

    @property
    def department(self) -> str:
        return self.deciding_department


# -- helpers -----------------------------------------------------------------------------------

def _record(record_id: str) -> Any:
    from creditcase.core.records import CreditRecord

    return CreditRecord.objects(pk=record_id).first() if ObjectId.is_valid(record_id or "") else None


def get(application_id: str) -> RepairApplication:
    application = None
    if ObjectId.is_valid(application_id or ""):
        application = RepairApplication.objects(pk=application_id).first()
    application = application or RepairApplication.objects(number=application_id).first()
    if application is None:
        raise NotFound(f"no repair application {application_id}")
    return application


def _may_read(principal: Principal, application: RepairApplication) -> bool:
    return principal.has("credit_office") or principal.department in (
        application.deciding_department, application.window_department)


def visible(principal: Principal, **filters: Any) -> me.QuerySet:
    query = {k: v for k, v in filters.items() if v is not None}
    if principal.has("credit_office"):
        return RepairApplication.objects(**query).order_by("-created_at")
    return RepairApplication.objects(
        me.Q(deciding_department=principal.department)
        | me.Q(window_department=principal.department), **query).order_by("-created_at")


def get_for(principal: Principal, application_id: str) -> RepairApplication:
    application = get(application_id)
    if not _may_read(principal, application):
        raise NotFound(f"no repair application {application_id}")
    return application


def overdue(principal: Principal, on: dt.date | None = None) -> list[RepairApplication]:
    on = on or local_today()
    return list(visible(principal, state__in=[s for s in STATES if s not in ("DRAFT", "CLOSED")],
                        due_date__lt=on).order_by("due_date"))


def _enter(application: RepairApplication, state: str, principal: Principal, on: dt.date,
           note: str = "", *, keep_due: bool = False) -> None:
    if not keep_due:
        days = DUE_WORKING_DAYS.get(state)
        application.due_date = working_day_due(on, days) if days is not None else None
        application.due_unknown = days is not None and application.due_date is None
    application.state = state
    application.updated_at = utcnow()
    application.steps.append(RepairStep(state=state, at=application.updated_at, on=on,
                                        by=principal.username, department=principal.department,
                                        note=note, due=application.due_date))


def _commit(uow: UnitOfWork, principal: Principal, application: RepairApplication, action: str,
            **detail: Any) -> None:
    audit.record(uow, principal, f"repair.{action}", application,
                 department=application.deciding_department, number=application.number,
                 state=application.state, **detail)
    uow.commit()


def _require_window(principal: Principal, application: RepairApplication | None = None) -> None:
    if principal.has("credit_office"):
        return
    if not principal.has("handler", "data_provider") or (
            application is not None and principal.department != application.window_department):
        raise PermissionDenied("repair applications are drafted and submitted at the credit "
                               "office or by a department's handler or data provider for the subject")


def _require_office(principal: Principal, step: str) -> None:
    if not principal.has("credit_office"):
        raise PermissionDenied(f"the credit office {step}")


def _require_decider(principal: Principal, application: RepairApplication) -> None:
    if "admin" in principal.roles:
        return
    if principal.department != application.deciding_department \
            or not principal.has("reviewer", "data_provider", "dept_admin"):
        raise PermissionDenied(f"the department that made the finding "
                               f"({application.deciding_department}) decides (谁认定、谁修复)")


# -- drafting and submitting -------------------------------------------------------------------

def draft(principal: Principal, values: dict[str, Any], *, on: dt.date | None = None
          ) -> RepairApplication:
    """Start an application for one record of the subject."""
    _require_window(principal)
    errors: dict[str, list[str]] = {}
    code = None
    try:
        _, code = identify(str(values.get("subject_code") or ""), field="subject_code")
    except RuleViolation as exc:
        errors.update(exc.errors)
    if not str(values.get("applicant_name") or "").strip():
        errors["applicant_name"] = ["required"]
    contact = re.sub(r"\s", "", str(values.get("applicant_contact") or ""))
    if not (_PHONE.match(contact) or _EMAIL.match(contact)):
        errors["applicant_contact"] = ["a mobile or landline number or an e-mail address"]
    if not ObjectId.is_valid(str(values.get("record_id") or "")):
        errors["record_id"] = ["the id of the record to repair"]
    if values.get("commitment_id") and not ObjectId.is_valid(str(values["commitment_id"])):
        errors["commitment_id"] = ["the id of a commitment"]
    if errors:
        raise RuleViolation("the repair application is not valid", errors=errors)
    record = _record(str(values.get("record_id") or ""))
    if record is None or record.subject_code != code:
        raise NotFound("no such record for this subject",
                       errors={"record_id": ["no record with this id for this subject"]})
    if record.kind not in REPAIRABLE_KINDS:
        raise RuleViolation(f"a {record.kind} record is not repaired here", errors={"record_id": [
            f"repairable kinds: {', '.join(REPAIRABLE_KINDS)}; court and tax lists are removed "
            "by their issuing body"]})
    if record.state not in ("active", "disputed"):
        raise Conflict(f"the record is {record.state}", errors={"record_id": [
            f"the record is {record.state}: nothing to repair"]})
    if RepairApplication.objects(record_id=str(record.pk), state__in=OPEN_STATES).only("id").first():
        raise Conflict("a repair application for this record is open",
                       errors={"record_id": ["a repair application for this record is open"]})
    on = on or local_today()
    now = utcnow()
    application = RepairApplication(
        number=f"XF{on:%Y%m%d}{secrets.token_hex(4).upper()}", record_id=str(record.pk),
        record_doc_no=record.doc_no, record_kind=record.kind,
        deciding_department=record.source_department, subject_code=record.subject_code,
        subject_name=record.subject_name, applicant_name=values["applicant_name"].strip(),
        applicant_contact=contact,
        obligations_evidence=str(values.get("obligations_evidence") or "").strip(),
        commitment_id=values.get("commitment_id") or None, state="DRAFT",
        window_department=principal.department, created_by=principal.username,
        created_at=now, updated_at=now)
    _enter(application, "DRAFT", principal, on)
    uow = UnitOfWork()
    uow.add(application)
    _commit(uow, principal, application, "drafted", record_id=application.record_id)
    return application


def update_draft(principal: Principal, application_id: str, changes: dict[str, Any], *,
                 expected_version: int | None = None) -> RepairApplication:
    """Change the evidence, the commitment or the contact of a draft."""
    application = get(application_id)
    _require_window(principal, application)
    procedures.expect(application, "repair application", "DRAFT", expected_version=expected_version)
    allowed = ("obligations_evidence", "commitment_id", "applicant_contact", "applicant_name")
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise RuleViolation("these fields cannot be changed",
                            errors={k: ["cannot be changed"] for k in unknown})
    changes = {k: re.sub(r"\s", "", v) if k == "applicant_contact" else v.strip()
               if isinstance(v, str) else v for k, v in changes.items()}
    errors: dict[str, list[str]] = {}
    if "applicant_contact" in changes and not (_PHONE.match(changes["applicant_contact"] or "")
                                               or _EMAIL.match(changes["applicant_contact"] or "")):
        errors["applicant_contact"] = ["a mobile or landline number or an e-mail address"]
    if "applicant_name" in changes and not changes["applicant_name"]:
        errors["applicant_name"] = ["required"]
    if errors:
        raise RuleViolation("the change is not valid", errors=errors)
    for key, value in changes.items():
        setattr(application, key, value or ("" if key != "commitment_id" else None))
    application.updated_at = utcnow()
    uow = UnitOfWork()
    uow.save(application)
    _commit(uow, principal, application, "draft_updated", fields=sorted(changes))
    return application


def _commitment_errors(application: RepairApplication) -> list[str]:
    from creditcase.core.commitments import TYPES, Commitment

    if not application.commitment_id:
        return ["a public 信用修复型 credit commitment is required (link it by commitment_id)"]
    commitment = Commitment.objects(pk=application.commitment_id).first() \
        if ObjectId.is_valid(application.commitment_id) else None
    if commitment is None or commitment.subject_code != application.subject_code:
        return ["no commitment with this id for this subject"]
    problems = []
    if commitment.type != "REPAIR":
        problems.append(f"the commitment is {TYPES[commitment.type]}, a 信用修复型 one is required")
    if not commitment.public:
        problems.append("the commitment must be public (公开承诺)")
    if commitment.status == "BREACHED":
        problems.append("the commitment has been breached")
    if commitment.record_id and commitment.record_id != application.record_id:
        problems.append("the commitment is for another record")
    return problems


def submit(principal: Principal, application_id: str, *, on: dt.date | None = None,
           expected_version: int | None = None) -> RepairApplication:
    """Submit the draft. Refused before the minimum publicity period ends, without
    evidence of the obligations performed, or without a public repair commitment."""
    from creditcase.core import publicity

    application = get(application_id)
    _require_window(principal, application)
    procedures.expect(application, "repair application", "DRAFT", expected_version=expected_version)
    on = on or local_today()
    if on < REGIME_FROM:
        raise RuleViolation("this repair procedure applies from 2026-04-01",
                            errors={"_schema": ["信用修复按 2026-04-01 起施行的规定办理"]})
    record = _record(application.record_id)
    if record is None or record.state not in ("active", "disputed"):
        state = record.state if record is not None else "gone"
        raise Conflict(f"the record is {state}", errors={"record_id": [f"the record is {state}"]})
    earliest = publicity.min_period_end(record)
    if earliest is not None and on < earliest:
        raise RuleViolation(
            f"the minimum publicity period ends on {earliest.isoformat()}; repair may be "
            f"applied for from that day",
            errors={"record_id": [f"最短公示期至 {earliest.isoformat()} 届满，届满前不得申请信用修复 "
                                  f"(minimum publicity period ends {earliest.isoformat()})"]})
    errors: dict[str, list[str]] = {}
    if len(application.obligations_evidence or "") < 5:
        errors["obligations_evidence"] = ["evidence that the dishonest act was corrected and "
                                          "the obligations fully performed"]
    problems = _commitment_errors(application)
    if problems:
        errors["commitment_id"] = problems
    if errors:
        raise RuleViolation("the conditions of a credit repair are not met", errors=errors)
    try:
        application.regime = publicity.regime_for(record.decision_date).id
    except publicity.RegimeMissing:
        application.regime = None
    application.min_period_end = earliest
    _enter(application, "SUBMITTED", principal, on)
    uow = UnitOfWork()
    uow.save(application)
    _commit(uow, principal, application, "submitted", regime=application.regime,
            min_period_end=earliest.isoformat() if earliest else None)
    return application


# -- the window and the deciding department ----------------------------------------------------

def forward(principal: Principal, application_id: str, *, on: dt.date | None = None,
            expected_version: int | None = None) -> RepairApplication:
    """The credit office forwards the application to the deciding department."""
    _require_office(principal, "forwards repair applications")
    application = get(application_id)
    procedures.expect(application, "repair application", "SUBMITTED", expected_version=expected_version)
    _enter(application, "FORWARDED", principal, on or local_today(),
           f"转 {application.deciding_department}")
    uow = UnitOfWork()
    uow.save(application)
    _commit(uow, principal, application, "forwarded", to=application.deciding_department)
    return application


def accept(principal: Principal, application_id: str, *, on: dt.date | None = None,
           expected_version: int | None = None) -> RepairApplication:
    application = get(application_id)
    _require_decider(principal, application)
    procedures.expect(application, "repair application", "FORWARDED", expected_version=expected_version)
    _enter(application, "ACCEPTED", principal, on or local_today())
    uow = UnitOfWork()
    uow.save(application)
    _commit(uow, principal, application, "accepted")
    return application


def not_accept(principal: Principal, application_id: str, reason: str, *,
               on: dt.date | None = None, expected_version: int | None = None) -> RepairApplication:
    application = get(application_id)
    _require_decider(principal, application)
    procedures.expect(application, "repair application", "FORWARDED", expected_version=expected_version)
    application.decision_reason = procedures.required_reason(reason)
    _enter(application, "NOT_ACCEPTED", principal, on or local_today(), application.decision_reason)
    uow = UnitOfWork()
    uow.save(application)
    _commit(uow, principal, application, "not_accepted", reason=application.decision_reason)
    return application


def start_review(principal: Principal, application_id: str, *, on: dt.date | None = None,
                 expected_version: int | None = None) -> RepairApplication:
    application = get(application_id)
    _require_decider(principal, application)
    procedures.expect(application, "repair application", "ACCEPTED", expected_version=expected_version)
    _enter(application, "UNDER_REVIEW", principal, on or local_today(), keep_due=True)
    uow = UnitOfWork()
    uow.save(application)
    _commit(uow, principal, application, "under_review")
    return application


def reject(principal: Principal, application_id: str, reason: str, *, on: dt.date | None = None,
           expected_version: int | None = None) -> RepairApplication:
    application = get(application_id)
    _require_decider(principal, application)
    procedures.expect(application, "repair application", "UNDER_REVIEW", expected_version=expected_version)
    application.decision_reason = procedures.required_reason(reason)
    _enter(application, "REJECTED", principal, on or local_today(), application.decision_reason)
    uow = UnitOfWork()
    uow.save(application)
    _commit(uow, principal, application, "rejected", reason=application.decision_reason)
    return application


def approve(principal: Principal, application_id: str, note: str = "", *,
            on: dt.date | None = None, expected_version: int | None = None) -> RepairApplication:
    """Approve: end the record's publicity and sharing, lift the list entries founded on
    it (where the list allows early removal), and recompute the subject's grade."""
    from creditcase.core.records import record_event_data

    application = get(application_id)
    _require_decider(principal, application)
    procedures.expect(application, "repair application", "UNDER_REVIEW", expected_version=expected_version)
    record = _record(application.record_id)
    if record is None or record.state != "active":
        state = record.state if record is not None else "gone"
        raise Conflict(f"the record is {state}" + (
            ": an objection is being handled; decide after it" if state == "disputed" else ""),
            errors={"record_id": [f"the record is {state}"]})
    if Objection.objects(record_id=application.record_id,
                         state__in=OPEN_OBJECTION_STATES).only("id").first():
        raise Conflict("an objection to the record is being handled; decide after it",
                       errors={"record_id": ["an objection to this record is open"]})
    on = on or local_today()
    now = utcnow()
    uow = UnitOfWork()
    record.state, record.updated_at = "repaired", now
    if record.publicity_state in ("due", "overdue", "published"):
        record.publicity_state = "ended"
        if "publicity_ended_at" in type(record)._fields:
            record.publicity_ended_at = now
    uow.save(record)
    audit.record(uow, principal, "record.repaired", record, department=record.source_department,
                 doc_no=record.doc_no, repair=application.number)
    outbox.emit(uow, "record.updated", f"subject/{record.subject_code}", record_event_data(record))
    removed, kept = remove_founded_on(uow, principal, record, REPAIR_REASON)
    application.lifted_entries = [str(e.pk) for e in removed]
    application.kept_entries = [str(e.pk) for e in kept]
    application.decision_reason = (note or "").strip()
    _enter(application, "APPROVED", principal, on, application.decision_reason)
    uow.save(application)
    _commit(uow, principal, application, "approved", lifted=application.lifted_entries,
            kept=application.kept_entries)
    grades.recompute(application.subject_code, on=on)
    return application


def close(principal: Principal, application_id: str, note: str = "", *,
          on: dt.date | None = None, expected_version: int | None = None) -> RepairApplication:
    """The result has been served on the applicant (办结)."""
    _require_office(principal, "closes repair applications")
    application = get(application_id)
    procedures.expect(application, "repair application", "NOT_ACCEPTED", "APPROVED", "REJECTED",
                      expected_version=expected_version)
    _enter(application, "CLOSED", principal, on or local_today(), (note or "").strip())
    uow = UnitOfWork()
    uow.save(application)
    _commit(uow, principal, application, "closed")
    return application
