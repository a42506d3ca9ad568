"""Credit service agencies and the third-party credit reports they issue.

The credit office keeps the registry of filed agencies (备案证号, filing
authority, filing valid until, status ``filed`` / ``suspended`` / ``revoked``),
each agency's own credit records and its staff with theirs (policy §四(七):
"建立健全征信机构及其从业人员信用记录"). Every change is audited; a status
change keeps its reason.

A report carries its number, subject, agency, issue date, rating (AAA … C,
with + / −), the content sections of policy §二(三) and risk warnings. It is
usable only if

* its agency is filed and in good standing (status ``filed``, filing not expired),
* it was issued less than one year ago, and
* no major credit event (a serious penalty, a dishonest-debtor or major-tax
  record, or a black-list entry) happened to the subject after its issue date.

A major event voids the subject's earlier reports (:func:`void_reports_before`,
called by the record and list services in the same unit of work) and emits
``report.invalidated``; a report filed after such an event is void from the
start. An agency that loses good standing makes its reports unusable without
voiding them: :func:`report_validity` checks the agency on every read.

This module must not import the web or queue layers; it reaches the record
module only inside functions (records imports this module).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import mongoengine as me
from bson import ObjectId

from creditcase.core import audit, ids, outbox
from creditcase.core.accounts import Principal
from creditcase.core.db import UnitOfWork, utcnow
from creditcase.core.errors import ConcurrentUpdate, Conflict, NotFound, PermissionDenied, RuleViolation
from creditcase.core.subjects import identify

#: Three bands, nine grades; AA to CCC may carry + or -.
RATINGS = ("AAA", "AA+", "AA", "AA-", "A+", "A", "A-", "BBB+", "BBB", "BBB-", "BB+", "BB", "BB-",
           "B+", "B", "B-", "CCC+", "CCC", "CCC-", "CC", "C")
AGENCY_STATUSES = {"filed": "已备案", "suspended": "暂停", "revoked": "撤销备案"}
#: Allowed status changes; a revoked filing is final (a new filing gets a new number).
AGENCY_TRANSITIONS = {"filed": ("suspended", "revoked"), "suspended": ("filed", "revoked"),
                      "revoked": ()}
VALIDITY_YEARS = 1
#: The content sections of a credit report (舞信用办〔2020〕1号 §二(三)), in report order.
#: 综合评价 is the overall assessment; its 信用等级 is ``rating`` and its 风险提示 are
#: ``risk_warnings``.
REPORT_SECTIONS = ("基本情况", "经营业务", "主要财务数据与指标", "银行信用记录", "合同履约",
                   "公共信用监管信息", "司法信用信息", "网络信用信息", "其他相关信息", "综合评价")
#: Kinds of an agency's or a staff member's credit entry.
AGENCY_CREDIT_KINDS = {"commendation": "表彰奖励", "warning": "警示约谈", "penalty": "行政处罚",
                       "complaint": "投诉核实", "dishonesty": "失信行为"}
AGENCY_FIELDS = ("name", "filing_authority", "filing_valid_until")


class AgencyCreditEntry(me.EmbeddedDocument):
    """One credit record of an agency or of a member of its staff."""

    entry_id = me.StringField(required=True)
    kind = me.StringField(required=True, choices=tuple(AGENCY_CREDIT_KINDS))
    title = me.StringField(required=True, max_length=500)
    date = me.DateField(required=True)
    doc_no = me.StringField(default="")
    source = me.StringField(default="", help_text="who recorded it (authority or department)")
    recorded_by = me.StringField(required=True)
    recorded_at = me.DateTimeField(required=True)


class AgencyStaff(me.EmbeddedDocument):
    staff_id = me.StringField(required=True)
    name = me.StringField(required=True, max_length=100)
    id_number = me.StringField(required=True, help_text="公民身份号码; masked on every surface")
    qualification = me.StringField(default="", help_text="从业资格 (e.g. 信用管理师二级)")
    active = me.BooleanField(default=True)
    credit_records = me.EmbeddedDocumentListField(AgencyCreditEntry)
    added_at = me.DateTimeField(required=True)

    @property
    def masked_id_number(self) -> str:
        return ids.mask_id_number(self.id_number)


class Agency(me.Document):
    name = me.StringField(required=True)
    uscc = me.StringField(required=True)
    filing_no = me.StringField(required=True, unique=True, help_text="备案证号")
    filing_authority = me.StringField(required=True)
    filing_valid_until = me.DateField(required=True)
    status = me.StringField(default="filed", choices=tuple(AGENCY_STATUSES))
    status_reason = me.StringField(default="")
    status_changed_at = me.DateTimeField()
    credit_records = me.EmbeddedDocumentListField(AgencyCreditEntry)
    staff = me.EmbeddedDocumentListField(AgencyStaff)
    version = me.IntField(default=0)

    meta = {"collection": "agencies"}

    def standing(self, on: dt.date) -> list[str]:
        """Why the agency is not in good standing on ``on`` (empty: it is)."""
        reasons = []
        if self.status != "filed":
            reasons.append(f"agency {self.name} is {self.status} "
                           f"({AGENCY_STATUSES.get(self.status, self.status)})")
        if self.filing_valid_until < on:
            reasons.append(f"agency filing expired on {self.filing_valid_until}")
        return reasons

    def in_good_standing(self, on: dt.date) -> bool:
        return not self.standing(on)


class CreditReport(me.Document):
    number = me.StringField(required=True, unique=True, help_text="报告编号")
    subject_code = me.StringField(required=True)
    subject_name = me.StringField(required=True)
    agency_filing_no = me.StringField(required=True)
    issue_date = me.DateField(required=True)
    rating = me.StringField(required=True, choices=RATINGS)
    sections = me.DictField(help_text="content sections of policy §二(三)")
    risk_warnings = me.ListField(me.StringField())
    void = me.BooleanField(default=False)
    void_reason = me.StringField()
    voided_at = me.DateTimeField()
    filed_by = me.StringField()
    created_at = me.DateTimeField(default=utcnow)
    version = me.IntField(default=0)

    meta = {"collection": "credit_reports", "indexes": [("subject_code", "-issue_date")]}

    @property
    def valid_until(self) -> dt.date:
        return add_years(self.issue_date, VALIDITY_YEARS)

    @property
    def missing_sections(self) -> list[str]:
        """Sections of §二(三) the report does not contain (综合评价 counts as present
        when the report has a rating)."""
        present = set(self.sections or {})
        return [s for s in REPORT_SECTIONS
                if s not in present and s not in ("综合评价", "其他相关信息")]


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@dataclass
class Validity:
    valid: bool
    reasons: list[str] = field(default_factory=list)


def report_validity(report: CreditReport, on: dt.date, agency: Agency | None = None) -> Validity:
    reasons = []
    agency = agency or Agency.objects(filing_no=report.agency_filing_no).first()
    if agency is None:
        reasons.append(f"agency {report.agency_filing_no} is not filed")
    else:
        reasons.extend(agency.standing(on))
    if report.issue_date > on:
        reasons.append(f"issued in the future ({report.issue_date})")
    if on >= report.valid_until:
        reasons.append(f"older than {VALIDITY_YEARS} year (issued {report.issue_date})")
    if report.void:
        reasons.append(f"void: {report.void_reason}")
    return Validity(not reasons, reasons)


# -- agencies ----------------------------------------------------------------------------------

def _require_office(principal: Principal) -> None:
    if not principal.has("credit_office"):
        raise PermissionDenied("only the credit office manages credit service agencies")


def register_agency(principal: Principal, values: dict) -> Agency:
    """Register a filed credit service agency; a filing number already present is a conflict."""
    _require_office(principal)
    values = {k: v for k, v in values.items() if k in ("name", "uscc", "filing_no",
                                                      "filing_authority", "filing_valid_until",
                                                      "status")}
    agency = Agency(**values, status_changed_at=utcnow())
    uow = UnitOfWork()
    uow.add(agency)
    audit.record(uow, principal, "agency.registered", agency, filing_no=agency.filing_no,
                 status=agency.status)
    uow.commit()
    return agency


def get_agency(agency_id: str) -> Agency:
    """An agency by id or by filing number."""
    agency = None
    if ObjectId.is_valid(agency_id):
        agency = Agency.objects(pk=agency_id).first()
    agency = agency or Agency.objects(filing_no=agency_id).first()
    if agency is None:
        raise NotFound(f"no agency {agency_id}")
    return agency


def _guard(agency: Agency, expected_version: int | None) -> None:
    if expected_version is not None and agency.version != expected_version:
        raise ConcurrentUpdate(
            f"agency {agency.filing_no} is at version {agency.version}, not {expected_version}",
            errors={"expected_version": [f"current version is {agency.version}"]})


def update_agency(principal: Principal, agency_id: str, changes: dict[str, Any], *,
                  expected_version: int) -> Agency:
    """Change an agency's name, filing authority or filing validity (e.g. a renewal)."""
    _require_office(principal)
    agency = get_agency(agency_id)
    _guard(agency, expected_version)
    unknown = sorted(set(changes) - set(AGENCY_FIELDS))
    if unknown:
        raise RuleViolation("these fields cannot be changed",
                            errors={k: ["cannot be changed"] for k in unknown})
    before = {k: getattr(agency, k) for k in AGENCY_FIELDS}
    changed = {k: v for k, v in changes.items() if before[k] != v}
    if not changed:
        return agency
    for key, value in changed.items():
        setattr(agency, key, value)
    uow = UnitOfWork()
    uow.save(agency)
    audit.record(uow, principal, "agency.updated", agency, filing_no=agency.filing_no,
                 changed={k: [str(before[k]), str(v)] for k, v in changed.items()})
    uow.commit()
    return agency


def set_agency_status(principal: Principal, agency_id: str, status: str, reason: str, *,
                      expected_version: int | None = None) -> Agency:
    """Suspend, restore or revoke an agency's filing, with the reason. Its reports
    are unusable while it is not ``filed``."""
    _require_office(principal)
    agency = get_agency(agency_id)
    _guard(agency, expected_version)
    if status not in AGENCY_STATUSES:
        raise RuleViolation("unknown status", errors={"status": [
            f"one of {', '.join(AGENCY_STATUSES)}"]})
    if not reason.strip():
        raise RuleViolation("a status change needs a reason", errors={"reason": ["required"]})
    if status not in AGENCY_TRANSITIONS[agency.status]:
        raise Conflict(f"an agency that is {agency.status} cannot become {status}",
                       errors={"status": [f"not allowed from {agency.status}"]})
    previous = agency.status
    agency.status, agency.status_reason, agency.status_changed_at = status, reason.strip(), utcnow()
    uow = UnitOfWork()
    uow.save(agency)
    audit.record(uow, principal, "agency.status_changed", agency, filing_no=agency.filing_no,
                 previous=previous, status=status, reason=reason.strip())
    uow.commit()
    return agency


def _credit_entry(principal: Principal, values: dict[str, Any]) -> AgencyCreditEntry:
    errors: dict[str, list[str]] = {}
    if values.get("kind") not in AGENCY_CREDIT_KINDS:
        errors["kind"] = [f"one of {', '.join(AGENCY_CREDIT_KINDS)}"]
    if not str(values.get("title") or "").strip():
        errors["title"] = ["required"]
    if not isinstance(values.get("date"), dt.date):
        errors["date"] = ["a date"]
    if errors:
        raise RuleViolation("the credit entry is not valid", errors=errors)
    return AgencyCreditEntry(entry_id=uuid.uuid4().hex, kind=values["kind"],
                             title=values["title"].strip(), date=values["date"],
                             doc_no=values.get("doc_no") or "", source=values.get("source") or "",
                             recorded_by=principal.username, recorded_at=utcnow())


def add_agency_credit_record(principal: Principal, agency_id: str,
                             values: dict[str, Any]) -> Agency:
    _require_office(principal)
    agency = get_agency(agency_id)
    entry = _credit_entry(principal, values)
    agency.credit_records.append(entry)
    uow = UnitOfWork()
    uow.save(agency)
    audit.record(uow, principal, "agency.credit_recorded", agency, filing_no=agency.filing_no,
                 entry_id=entry.entry_id, kind=entry.kind)
    uow.commit()
    return agency


def add_staff(principal: Principal, agency_id: str, values: dict[str, Any]) -> AgencyStaff:
    """Add a member of staff; the ID number is validated and stored, never shown in full."""
    _require_office(principal)
    agency = get_agency(agency_id)
    errors: dict[str, list[str]] = {}
    if not str(values.get("name") or "").strip():
        errors["name"] = ["required"]
    try:
        id_number = ids.validate_id_number(str(values.get("id_number") or ""))
    except ids.IdentityCodeError as exc:
        errors["id_number"] = [f"{exc.rule}: {exc.message}"]
        id_number = ""
    if errors:
        raise RuleViolation("the staff member is not valid", errors=errors)
    if any(s.id_number == id_number and s.active for s in agency.staff):
        raise Conflict("this person is already on the agency's staff",
                       errors={"id_number": ["already on the staff"]})
    staff = AgencyStaff(staff_id=uuid.uuid4().hex, name=values["name"].strip(), id_number=id_number,
                        qualification=(values.get("qualification") or "").strip(),
                        added_at=utcnow())
    agency.staff.append(staff)
    uow = UnitOfWork()
    uow.save(agency)
    audit.record(uow, principal, "agency.staff_added", agency, filing_no=agency.filing_no,
                 staff_id=staff.staff_id, id_number=staff.masked_id_number)
    uow.commit()
    return staff


def find_staff(agency: Agency, staff_id: str) -> AgencyStaff:
    for staff in agency.staff:
        if staff.staff_id == staff_id:
            return staff
    raise NotFound(f"no staff member {staff_id} at {agency.filing_no}")


def add_staff_credit_record(principal: Principal, agency_id: str, staff_id: str,
                            values: dict[str, Any]) -> AgencyStaff:
    _require_office(principal)
    agency = get_agency(agency_id)
    staff = find_staff(agency, staff_id)
    entry = _credit_entry(principal, values)
    staff.credit_records.append(entry)
    uow = UnitOfWork()
    uow.save(agency)
    audit.record(uow, principal, "agency.staff_credit_recorded", agency,
                 filing_no=agency.filing_no, staff_id=staff_id, entry_id=entry.entry_id,
                 kind=entry.kind)
    uow.commit()
    return staff


# -- reports -----------------------------------------------------------------------------------

def section_errors(sections: Any) -> list[str]:
    """Messages for a ``sections`` value that is not ``{section name: text}`` with names
    from :data:`REPORT_SECTIONS`."""
    if not isinstance(sections, dict):
        return ["an object of section name -> text"]
    problems = []
    for name, text in sections.items():
        if name not in REPORT_SECTIONS:
            problems.append(f"unknown section {name!r}; sections are {'、'.join(REPORT_SECTIONS)}")
        elif not isinstance(text, str):
            problems.append(f"section {name} must be text")
    return problems


def major_event_after(subject_code: str, day: dt.date) -> str | None:
    """A description of the subject's first major credit event after ``day`` (a
    serious penalty, a dishonest-debtor or major-tax record, a black-list entry),
    or ``None``."""
    from creditcase.core.lists import ListEntry
    from creditcase.core.records import CreditRecord, is_major_event

    for record in CreditRecord.objects(subject_code=subject_code, decision_date__gt=day,
                                       state__in=("active", "disputed")).order_by("decision_date"):
        if is_major_event(record):
            return f"major credit event: {record.title} ({record.doc_no})"
    entry = ListEntry.objects(subject_code=subject_code, color="black",
                              listed_on__gt=day).order_by("listed_on").first()
    if entry is not None:
        return f"black-list entry: {entry.list_type} ({entry.basis_doc_no})"
    return None


def file_report(principal: Principal, values: dict) -> CreditReport:
    """File a third-party report: the subject code must be valid, the agency registered
    and the sections those of §二(三). A report issued before a major credit event
    already on record is stored void."""
    values = dict(values)
    errors: dict[str, list[str]] = {}
    try:
        _, values["subject_code"] = identify(values["subject_code"], field="subject_code")
    except RuleViolation as exc:
        errors.update(exc.errors)
    if Agency.objects(filing_no=values["agency_filing_no"]).only("id").first() is None:
        errors["agency_filing_no"] = ["no registered agency with this filing number"]
    problems = section_errors(values.get("sections") or {})
    if problems:
        errors["sections"] = problems
    if values.get("rating") not in RATINGS:
        errors["rating"] = [f"one of {', '.join(RATINGS)}"]
    if errors:
        raise RuleViolation("the report is not valid", errors=errors)
    report = CreditReport(**values, filed_by=principal.username)
    earlier_event = major_event_after(report.subject_code, report.issue_date)
    if earlier_event:
        report.void, report.void_reason, report.voided_at = True, earlier_event, utcnow()
    uow = UnitOfWork()
    uow.add(report)
    audit.record(uow, principal, "report.filed", report, number=report.number, void=report.void)
    outbox.emit(uow, "report.filed", f"subject/{report.subject_code}",
                {"report_id": str(report.pk), "number": report.number,
                 "subject_code": report.subject_code, "rating": report.rating,
                 "issue_date": report.issue_date.isoformat(), "void": report.void})
    uow.commit()
    return report


def get_report(report_id: str) -> CreditReport:
    """A report by id or by number."""
    report = None
    if ObjectId.is_valid(report_id):
        report = CreditReport.objects(pk=report_id).first()
    report = report or CreditReport.objects(number=report_id).first()
    if report is None:
        raise NotFound(f"no credit report {report_id}")
    return report


def reports_of(subject_code: str) -> list[CreditReport]:
    _, code = identify(subject_code, field="subject_code")
    return list(CreditReport.objects(subject_code=code).order_by("-issue_date", "-created_at"))


def void_reports_before(uow: UnitOfWork, principal: Principal, subject_code: str,
                        event_date: dt.date, reason: str) -> list[CreditReport]:
    """Void the subject's reports issued before a major credit event on ``event_date``."""
    voided = []
    for report in CreditReport.objects(subject_code=subject_code, void=False,
                                       issue_date__lt=event_date):
        report.void, report.void_reason, report.voided_at = True, reason, utcnow()
        uow.save(report)
        audit.record(uow, principal, "report.invalidated", report, reason=reason)
        outbox.emit(uow, "report.invalidated", f"subject/{subject_code}",
                    {"report_id": str(report.pk), "number": report.number,
                     "subject_code": subject_code, "reason": reason})
        voided.append(report)
    return voided
