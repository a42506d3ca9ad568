"""The Case document and the workflow service.

States: applied -> checking -> checked -> decided -> archived, plus ``stale``
(credit data changed after the check; a new check is queued) and
``withdrawn``. Every transition is one unit of work: the case is replaced only
if its version is unchanged, together with its audit event and outbox
entries. The guards of design §4 live in :meth:`WorkflowService.decide`.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
import uuid
from typing import TYPE_CHECKING, Any

import marshmallow as ma
import mongoengine as me

from creditcase.core import audit, checks, matters, outbox
from creditcase.core.accounts import SYSTEM, Department, Principal
from creditcase.core.calendar import CalendarDataMissing, current_calendar
from creditcase.core.db import UnitOfWork, local_today, utcnow
from creditcase.core.errors import (
    ConcurrentUpdate,
    Conflict,
    NotFound,
    PermissionDenied,
    RuleViolation,
)
from creditcase.core.subjects import KINDS, identify, upsert_subject

if TYPE_CHECKING:
    from creditcase.core.evidence import EvidenceBundle
    from creditcase.core.plugins import PluginHost

log = logging.getLogger(__name__)

STATES = ("applied", "checking", "checked", "stale", "decided", "archived", "withdrawn")
OPEN_STATES = ("applied", "checking", "checked", "stale")
CHECKABLE_STATES = ("applied", "checking", "stale")
OUTCOMES = ("approved", "approved_with_conditions", "rejected")
#: statutory time limit for handling an application (行政许可法 第四十二条: 20 working days)
DEFAULT_TIME_LIMIT_WORKING_DAYS = 20


class Feedback(me.EmbeddedDocument):
    measure = me.StringField(required=True)
    applied = me.BooleanField(required=True)
    reason = me.StringField(default="")
    outcome_text = me.StringField(default="")


class Override(me.EmbeddedDocument):
    """A reviewer's approval to leave MANDATORY measures unapplied on one check."""

    measures = me.ListField(me.StringField(), required=True)
    reason = me.StringField(required=True)
    reviewer = me.StringField(required=True)
    approved_at = me.DateTimeField(required=True)
    check_id = me.StringField(required=True)


class Decision(me.EmbeddedDocument):
    outcome = me.StringField(required=True, choices=OUTCOMES)
    conditions = me.ListField(me.StringField())
    reasons = me.StringField(default="")
    feedback = me.EmbeddedDocumentListField(Feedback)
    decided_by = me.StringField(required=True)
    decided_at = me.DateTimeField(required=True)
    check_id = me.StringField(required=True)
    check_hash = me.StringField(required=True)
    override = me.EmbeddedDocumentField(Override)
    rule_versions = me.DictField()


class ReviewFlag(me.EmbeddedDocument):
    reason = me.StringField(required=True)
    raised_at = me.DateTimeField(required=True)


class Case(me.Document):
    domain = me.StringField(required=True)
    matter = me.StringField(required=True, max_length=200, help_text="事项 code or name")
    matter_name = me.StringField(default="", help_text="the catalogue's name of the matter")
    report_required = me.BooleanField(
        default=False, help_text="the matter requires a valid third-party credit report")
    department = me.StringField(required=True)
    subject_code = me.StringField(required=True)
    subject_name = me.StringField(required=True)
    subject_kind = me.StringField(required=True, choices=tuple(KINDS))
    related_subjects = me.ListField(me.StringField(),
                                    help_text="other parties the check covers (e.g. a transferor)")
    data = me.DictField(help_text="the application, valid under the domain's schema")
    state = me.StringField(required=True, choices=STATES)
    handler = me.StringField(required=True, help_text="who took the application")
    created_at = me.DateTimeField(required=True)
    updated_at = me.DateTimeField(required=True)
    due_date = me.DateField(help_text="statutory time limit in working days")
    check_request_id = me.StringField(help_text="the check the case is waiting for or used")
    latest_check_id = me.StringField()
    stale_reason = me.StringField()
    priority = me.IntField(default=0, help_text="1 for red-list incentives (优先办理)")
    red_hits = me.IntField(default=0)
    black_hits = me.IntField(default=0)
    overrides = me.EmbeddedDocumentListField(Override)
    decision = me.EmbeddedDocumentField(Decision)
    review_flags = me.EmbeddedDocumentListField(ReviewFlag)
    evidence_seq = me.IntField()
    evidence_hash = me.StringField()
    withdrawn_reason = me.StringField()
    version = me.IntField(default=0)

    meta = {"collection": "cases", "indexes": [
        ("department", "state", "-priority", "created_at"),
        ("subject_code", "state"),
        ("related_subjects", "state"),
        ("department", "domain"),
    ]}


def case_event_data(case: Case, **extra: Any) -> dict[str, Any]:
    data = {"case_id": str(case.pk), "department": case.department, "domain": case.domain,
            "matter": case.matter, "subject_code": case.subject_code, "state": case.state,
            "version": case.version}
    data.update(extra)
    return data


class WorkflowService:
    """Every case transition. Callers pass the acting :class:`Principal`."""

    def __init__(self, host: PluginHost):
        self.host = host

    # -- reading ---------------------------------------------------------------------------
    def get(self, principal: Principal, case_id: str) -> Case:
        """The case if the principal's department may see it; otherwise NotFound."""
        try:
            case = Case.objects(pk=case_id, **principal.department_filter()).first()
        except me.ValidationError:
            case = None
        if case is None:
            raise NotFound(f"no case {case_id}")
        return case

    def queue(self, principal: Principal, **filters: Any) -> me.QuerySet:
        query = {k: v for k, v in filters.items() if v is not None}
        return Case.objects(**principal.department_filter(), **query).order_by(
            "-priority", "created_at")

    def checks(self, case: Case) -> list[checks.CreditCheck]:
        return list(checks.CreditCheck.objects(case_id=str(case.pk)).order_by("checked_at"))

    def latest_check(self, case: Case) -> checks.CreditCheck | None:
        if not case.latest_check_id:
            return None
        return checks.CreditCheck.objects(pk=case.latest_check_id).first()

    # -- apply -----------------------------------------------------------------------------
    def apply(self, principal: Principal, *, domain: str, matter: str, subject: dict[str, Any],
              data: dict[str, Any]) -> Case:
        if not principal.has("handler"):
            raise PermissionDenied("only case handlers take applications")
        plugin = self.host.domain(domain)
        if plugin is None:
            raise RuleViolation(f"unknown domain {domain!r}",
                                errors={"domain": [f"unknown domain {domain!r}"]})
        department = Department.objects(code=principal.department).first()
        if department is None or domain not in (department.enabled_domains or []):
            raise RuleViolation(
                f"domain {domain!r} is not enabled for department {principal.department}",
                errors={"domain": [f"本部门未启用该领域 (not enabled for department "
                                   f"{principal.department})"]})
        entry = matters.matter_for_application(principal.department, domain, matter)
        kind, code = identify(subject.get("code", ""), subject.get("kind"), field="subject.code")
        if kind not in plugin.subject_kinds:
            raise RuleViolation(
                f"domain {domain} does not accept {kind} subjects",
                errors={"subject.kind": [f"{domain} accepts {', '.join(plugin.subject_kinds)}"]})
        subject_errors = plugin.subject_errors(kind, code)
        if subject_errors:
            raise RuleViolation(f"domain {domain} does not accept this subject",
                                errors=subject_errors)
        try:
            loaded = plugin.application_schema().load(data or {})
        except ma.ValidationError as exc:
            raise RuleViolation("the application is not valid for this domain",
                                errors=_prefixed("data", exc.normalized_messages()))
        name = (subject.get("name") or "").strip()
        if not name:
            raise RuleViolation("subject name required", errors={"subject.name": ["required"]})
        upsert_subject(principal, code, name, kind)
        now = utcnow()
        request_id = str(uuid.uuid4())
        case = Case(domain=domain, matter=entry.code if entry else matter,
                    matter_name=entry.name if entry else "",
                    report_required=bool(entry and entry.report_required),
                    department=principal.department,
                    subject_code=code, subject_name=name, subject_kind=kind,
                    data=_json_ready(plugin.application_schema().dump(loaded)), state="applied",
                    related_subjects=sorted(set(plugin.related_subjects(loaded)) - {code}),
                    handler=principal.username, created_at=now, updated_at=now,
                    due_date=_due_date(local_today()), check_request_id=request_id)
        uow = UnitOfWork()
        uow.add(case)
        audit.record(uow, principal, "case.applied", case, department=case.department,
                     domain=domain, matter=case.matter, report_required=case.report_required)
        outbox.emit(uow, "case.applied", f"case/{case.pk}", case_event_data(case))
        outbox.request_check(uow, str(case.pk), request_id, principal.username)
        uow.commit()
        self.host.on_case_event(case, "case.applied", case_event_data(case))
        return case

    # -- checking --------------------------------------------------------------------------
    def request_check(self, principal: Principal, case_id: str) -> Case:
        if not principal.has("handler", "reviewer"):
            raise PermissionDenied("only handlers and reviewers request checks")
        case = self.get(principal, case_id)
        if case.state not in ("applied", "checking", "checked", "stale"):
            raise Conflict(f"a {case.state} case cannot be checked again")
        request_id = str(uuid.uuid4())
        case.state, case.check_request_id, case.updated_at = "checking", request_id, utcnow()
        uow = UnitOfWork()
        uow.save(case)
        audit.record(uow, principal, "case.check_requested", case, department=case.department,
                     request_id=request_id)
        outbox.request_check(uow, str(case.pk), request_id, principal.username)
        uow.commit()
        return case

    def perform_check(self, case_id: str, request_id: str, requested_by: str,
                      requested_at: dt.datetime | None = None) -> checks.CreditCheck | None:
        """Run a requested check. Returns ``None`` when the case no longer needs this
        request (superseded, decided, withdrawn, or already done)."""
        case = Case.objects(pk=case_id).first()
        if case is None or case.state not in CHECKABLE_STATES \
                or case.check_request_id != request_id:
            return None
        check = checks.run_check(self.host, case, request_id=request_id,
                                 requested_by=requested_by, requested_at=requested_at)
        uow = UnitOfWork()
        uow.add(check)
        measures = check.result.get("measures", [])
        hits = check.result.get("hits", [])
        case.state, case.latest_check_id, case.stale_reason = "checked", str(check.pk), None
        case.updated_at = check.checked_at
        case.priority = 1 if check.result.get("incentives") else 0
        case.red_hits = sum(1 for h in hits if h.get("color") == "red")
        case.black_hits = sum(1 for h in hits if h.get("color") == "black")
        uow.save(case)
        audit.record(uow, SYSTEM, "case.checked", case, department=case.department,
                     check_id=str(check.pk), result_hash=check.result_hash)
        data = case_event_data(case, check_id=str(check.pk), result_hash=check.result_hash,
                               hits=len(hits), measures=[m["code"] for m in measures],
                               recommendation=check.result["recommendation"]["outcome"])
        outbox.emit(uow, "case.checked", f"case/{case.pk}", data)
        try:
            uow.commit()
        except (ConcurrentUpdate, Conflict):
            log.info("check %s for case %s superseded while running", request_id, case_id)
            return None
        self.host.on_case_event(case, "case.checked", data)
        return check

    def perform_queued_checks(self) -> int:
        """Perform every check request still in the outbox, in-process and without a
        broker (demo loading, tests, maintenance); returns how many checks ran."""
        done = 0
        for entry in outbox.OutboxEntry.objects(exchange=outbox.CHECKS_EXCHANGE,
                                                sent_at=None).order_by("created_at"):
            data = entry.body["data"]
            if self.perform_check(data["case_id"], data["request_id"], data["requested_by"]):
                done += 1
            entry.update(set__sent_at=utcnow())
        return done

    def mark_stale(self, case_id: str, reason: str, principal: Principal = SYSTEM) -> bool:
        """Mark one open case stale and queue a new check. False if it was not open or
        changed meanwhile (the caller may retry)."""
        case = Case.objects(pk=case_id).first()
        if case is None or case.state not in ("checking", "checked", "stale"):
            return False
        if case.state == "stale" and case.stale_reason == reason:
            return True  # the same change seen twice: its re-check is already queued
        request_id = str(uuid.uuid4())
        case.state, case.stale_reason, case.check_request_id = "stale", reason, request_id
        case.updated_at = utcnow()
        uow = UnitOfWork()
        uow.save(case)
        audit.record(uow, principal, "case.stale", case, department=case.department,
                     reason=reason)
        data = case_event_data(case, reason=reason)
        outbox.emit(uow, "case.stale", f"case/{case.pk}", data)
        outbox.request_check(uow, str(case.pk), request_id, principal.username)
        try:
            uow.commit()
        except ConcurrentUpdate:
            return False
        self.host.on_case_event(case, "case.stale", data)
        return True

    def flag_for_review(self, case_id: str, reason: str, principal: Principal = SYSTEM) -> bool:
        case = Case.objects(pk=case_id).first()
        if case is None or case.state not in ("decided", "archived"):
            return False
        if any(f.reason == reason for f in case.review_flags):
            return False
        case.review_flags.append(ReviewFlag(reason=reason, raised_at=utcnow()))
        uow = UnitOfWork()
        uow.save(case)
        audit.record(uow, principal, "case.review_flagged", case, department=case.department,
                     reason=reason)
        try:
            uow.commit()
        except ConcurrentUpdate:
            return False
        return True

    def subject_changed(self, subject_code: str, reason: str, *, serious: bool,
                        principal: Principal = SYSTEM) -> dict[str, int]:
        """A record, list or report event for a subject: open checked cases go stale;
        decided cases are flagged for review when the change is serious."""
        stale = flagged = 0
        party = me.Q(subject_code=subject_code) | me.Q(related_subjects=subject_code)
        for case in Case.objects(party, state__in=("checking", "checked", "stale")).only("id"):
            for _ in range(3):
                if self.mark_stale(str(case.pk), reason, principal):
                    stale += 1
                    break
                current = Case.objects(pk=case.pk).only("state").first()
                if current is None or current.state not in ("checking", "checked", "stale"):
                    break
        if serious:
            for case in Case.objects(party, state__in=("decided", "archived")).only("id"):
                flagged += self.flag_for_review(str(case.pk), reason, principal)
        return {"stale": stale, "flagged": flagged}

    # -- overriding and deciding -----------------------------------------------------------
    def approve_override(self, principal: Principal, case_id: str, *, measures: list[str],
                         reason: str) -> Case:
        if not principal.has("reviewer"):
            raise PermissionDenied("only a reviewer may approve an override")
        case = self.get(principal, case_id)
        if case.state != "checked":
            raise Conflict(f"overrides are approved on a checked case, not a {case.state} one")
        check = self.latest_check(case)
        mandatory = {m["code"] for m in check.measures
                     if m["binding"] == "MANDATORY" and m["kind"] == "PUNISH"}
        unknown = [m for m in measures if m not in mandatory]
        errors: dict[str, list[str]] = {}
        if not measures:
            errors["measures"] = ["name at least one mandatory measure"]
        if unknown:
            errors["measures"] = [f"{', '.join(unknown)}: not a mandatory punishment of "
                                  "the current check"]
        if not (reason or "").strip():
            errors["reason"] = ["an override needs a reason"]
        if errors:
            raise RuleViolation("override refused", errors=errors)
        case.overrides.append(Override(measures=sorted(set(measures)), reason=reason.strip(),
                                       reviewer=principal.username, approved_at=utcnow(),
                                       check_id=str(check.pk)))
        case.updated_at = utcnow()
        uow = UnitOfWork()
        uow.save(case)
        audit.record(uow, principal, "case.override_approved", case, department=case.department,
                     measures=sorted(set(measures)), reason=reason.strip(),
                     check_id=str(check.pk))
        uow.commit()
        return case

    def decide(self, principal: Principal, case_id: str, *, outcome: str,
               feedback: list[dict[str, Any]], conditions: list[str] | None = None,
               reasons: str = "", expected_version: int | None = None) -> Case:
        if not principal.has("handler", "reviewer"):
            raise PermissionDenied("only handlers and reviewers decide cases")
        case = self.get(principal, case_id)
        if expected_version is not None and expected_version != case.version:
            raise ConcurrentUpdate(f"case is at version {case.version}, not {expected_version}")
        plugin = self.host.domain(case.domain)
        if plugin is None:
            raise Conflict(f"domain {case.domain} is not installed")
        check = self._valid_check(case, plugin.max_check_age)
        conditions = [c.strip() for c in conditions or [] if c and c.strip()]
        errors: dict[str, list[str]] = {}
        if outcome not in OUTCOMES:
            errors["outcome"] = [f"must be one of {', '.join(OUTCOMES)}"]
        if outcome == "approved_with_conditions" and not conditions:
            errors["conditions"] = ["approval with conditions needs at least one condition"]
        if outcome == "rejected" and not (reasons or "").strip():
            errors["reasons"] = ["a rejection needs reasons"]
        measures = {m["code"]: m for m in check.measures}
        given: dict[str, Feedback] = {}
        for i, item in enumerate(feedback or []):
            code = item.get("measure")
            if code not in measures:
                errors.setdefault(f"feedback.{i}.measure", []).append(
                    f"{code!r} is not a measure of check {check.pk}")
                continue
            if code in given:
                errors.setdefault(f"feedback.{i}.measure", []).append(
                    f"{code} has feedback twice")
                continue
            applied = item.get("applied")
            if not isinstance(applied, bool):
                errors.setdefault(f"feedback.{i}.applied", []).append("true or false required")
                continue
            reason = (item.get("reason") or "").strip()
            if not applied and not reason:
                errors.setdefault(f"feedback.{i}.reason", []).append(
                    f"{code} not applied: a reason is required")
            given[code] = Feedback(measure=code, applied=applied, reason=reason,
                                   outcome_text=(item.get("outcome_text") or "").strip())
        missing = [code for code in measures if code not in given]
        if missing:
            errors.setdefault("feedback", []).append(
                f"feedback required for every measure; missing: {', '.join(missing)}")
        override = self._override_for(case, check, given, measures, principal, errors)
        for code, fb in given.items():
            m = measures[code]
            if fb.applied and m["effect"] == "reject" and outcome != "rejected":
                errors.setdefault("outcome", []).append(
                    f"{code} ({m['text_zh']}) is applied, so the outcome must be rejected")
        if case.report_required and outcome != "rejected" and not check.has_valid_report:
            errors.setdefault("outcome", []).append(
                f"事项 {case.matter} 须有有效的第三方信用报告，本次核查没有，不能批准 (the matter "
                "requires a valid third-party credit report; the check found none)")
        if errors:
            raise RuleViolation("the decision breaks the workflow rules", errors=errors)
        decision = Decision(outcome=outcome, conditions=conditions, reasons=(reasons or "").strip(),
                            feedback=[given[c] for c in measures], decided_by=principal.username,
                            decided_at=utcnow(), check_id=str(check.pk),
                            check_hash=check.result_hash, override=override,
                            rule_versions={"domain": f"{plugin.code}/{plugin.rule_version}",
                                           "engine": check.receipt.get("engine", ""),
                                           "measures": sorted({m["basis_list_version"]
                                                               for m in check.measures})})
        vetoes = plugin.before_decision(case, check, decision) + \
            self.host.before_decision(case, check, decision)
        if vetoes:
            raise RuleViolation("the domain refuses this decision", errors={"outcome": vetoes})
        case.decision, case.state, case.updated_at = decision, "decided", decision.decided_at
        uow = UnitOfWork()
        uow.save(case)
        audit.record(uow, principal, "case.decided", case, department=case.department,
                     outcome=outcome, check_id=str(check.pk),
                     override=bool(override), feedback={c: f.applied for c, f in given.items()})
        data = case_event_data(case, outcome=outcome, check_id=str(check.pk),
                               feedback=[{"measure": f.measure, "applied": f.applied,
                                          "reason": f.reason} for f in decision.feedback],
                               override=bool(override))
        outbox.emit(uow, "case.decided", f"case/{case.pk}", data)
        uow.commit()
        self.host.on_case_event(case, "case.decided", data)
        return case

    def _valid_check(self, case: Case, max_age: dt.timedelta) -> checks.CreditCheck:
        if case.state in ("decided", "archived"):
            raise Conflict(f"the case is already {case.state}")
        if case.state == "withdrawn":
            raise Conflict("the case was withdrawn")
        if case.state == "stale":
            raise Conflict(f"the check is stale ({case.stale_reason}); a new check is running")
        if case.state != "checked":
            raise Conflict("no credit check yet: 逢办必查, the decision waits for the check")
        check = self.latest_check(case)
        if check is None or check.request_id != case.check_request_id:
            raise Conflict("no valid credit check for this case")
        if check.age(utcnow()) > max_age:
            raise Conflict(f"the check of {check.checked_at:%Y-%m-%d %H:%M} is older than "
                           f"{max_age.days} days; run a new check")
        if not check.complete:
            down = [c["name"] for c in check.result["channels"] if not c["available"]]
            raise Conflict(f"channel unavailable ({', '.join(down)}); run the check again")
        return check

    @staticmethod
    def _override_for(case: Case, check: checks.CreditCheck, given: dict[str, Feedback],
                      measures: dict[str, dict], principal: Principal,
                      errors: dict[str, list[str]]) -> Override | None:
        needed = [code for code, fb in given.items() if not fb.applied
                  and measures[code]["binding"] == "MANDATORY"
                  and measures[code]["kind"] == "PUNISH"]
        if not needed:
            return None
        overrides = [o for o in case.overrides if o.check_id == str(check.pk)]
        for code in needed:
            cover = next((o for o in reversed(overrides) if code in o.measures), None)
            if cover is None:
                errors.setdefault("feedback", []).append(
                    f"{code} is a MANDATORY punishment: not applying it needs a reviewer's "
                    "approved override")
            elif cover.reviewer == principal.username:
                errors.setdefault("feedback", []).append(
                    f"{code}: the reviewer who approved the override cannot also decide")
        return next((o for o in reversed(overrides) if set(needed) <= set(o.measures)), None)

    # -- archiving and withdrawing ---------------------------------------------------------
    def archive(self, principal: Principal, case_id: str) -> EvidenceBundle:
        from creditcase.core import evidence

        if not principal.has("handler", "reviewer"):
            raise PermissionDenied("only handlers and reviewers archive cases")
        for attempt in range(10):
            case = self.get(principal, case_id)
            if case.state == "archived":
                raise Conflict("the case is already archived")
            if case.state != "decided":
                raise Conflict(f"only a decided case can be archived, not a {case.state} one")
            uow = UnitOfWork()
            event = audit.AuditEvent(at=utcnow(), actor=principal.username,
                                     department=case.department, action="case.archived",
                                     object_type="Case", object_id=str(case.pk), detail={})
            bundle = evidence.build_bundle(case, self.checks(case), archive_event=event, uow=uow)
            event.detail = {"evidence_seq": bundle.seq, "evidence_hash": bundle.hash}
            case.state, case.evidence_seq, case.evidence_hash = "archived", bundle.seq, bundle.hash
            case.updated_at = event.at
            uow.save(case)
            uow.add(event)
            data = case_event_data(case, evidence_seq=bundle.seq, evidence_hash=bundle.hash)
            outbox.emit(uow, "case.archived", f"case/{case.pk}", data)
            try:
                uow.commit()
            except Conflict:
                if attempt == 9:
                    raise
                time.sleep(random.uniform(0, 0.02 * (attempt + 1)))
                continue  # another archive moved the chain head: chain again
            self.host.on_case_event(case, "case.archived", data)
            return bundle
        raise AssertionError("unreachable")

    def withdraw(self, principal: Principal, case_id: str, reason: str) -> Case:
        if not principal.has("handler", "reviewer"):
            raise PermissionDenied("only handlers and reviewers withdraw cases")
        case = self.get(principal, case_id)
        if case.state not in OPEN_STATES:
            raise Conflict(f"a {case.state} case cannot be withdrawn")
        if not (reason or "").strip():
            raise RuleViolation("a withdrawal needs a reason", errors={"reason": ["required"]})
        case.state, case.withdrawn_reason, case.updated_at = "withdrawn", reason.strip(), utcnow()
        uow = UnitOfWork()
        uow.save(case)
        audit.record(uow, principal, "case.withdrawn", case, department=case.department,
                     reason=reason.strip())
        outbox.emit(uow, "case.withdrawn", f"case/{case.pk}", case_event_data(case))
        uow.commit()
        return case


def _prefixed(prefix: str, messages: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}

    def walk(path: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{path}.{key}", sub)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            out[path] = list(value)
        elif isinstance(value, list):
            for i, sub in enumerate(value):
                walk(f"{path}.{i}", sub)
        else:
            out[path] = [str(value)]

    walk(prefix, messages)
    return out


def _json_ready(data: dict[str, Any]) -> dict[str, Any]:
    from creditcase.core.canonical import plain

    def fix(value: Any) -> Any:
        if isinstance(value, float):
            return str(value)
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fix(v) for v in value]
        return value

    return plain(fix(data))


def _due_date(day: dt.date) -> dt.date | None:
    try:
        return current_calendar().add_working_days(day, DEFAULT_TIME_LIMIT_WORKING_DAYS)
    except CalendarDataMissing:
        return None
