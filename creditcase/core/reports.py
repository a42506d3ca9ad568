"""Credit service agencies and the third-party credit reports they issue.

A report is usable only if its agency is filed and in good standing, it was
issued less than one year ago, and no major credit event happened to the
subject after its issue date (such an event voids it and emits
``report.invalidated``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import mongoengine as me

from creditcase.core import audit, outbox
from creditcase.core.accounts import Principal
from creditcase.core.db import UnitOfWork, utcnow
from creditcase.core.errors import RuleViolation
from creditcase.core.subjects import identify

#: Three bands, nine grades; AA to CCC may carry + or -.
RATINGS = ("AAA", "AA+", "AA", "AA-", "A+", "A", "A-", "BBB+", "BBB", "BBB-", "BB+", "BB", "BB-",
           "B+", "B", "B-", "CCC+", "CCC", "CCC-", "CC", "C")
AGENCY_STATUSES = {"filed": "已备案", "suspended": "暂停", "revoked": "撤销备案"}
VALIDITY_YEARS = 1


class Agency(me.Document):
    name = me.StringField(required=True)
    uscc = me.StringField(required=True)
    filing_no = me.StringField(required=True, unique=True, help_text="备案证号")
    filing_authority = me.StringField(required=True)
    filing_valid_until = me.DateField(required=True)
    status = me.StringField(default="filed", choices=tuple(AGENCY_STATUSES))
    version = me.IntField(default=0)

    meta = {"collection": "agencies"}


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
    created_at = me.DateTimeField(default=utcnow)
    version = me.IntField(default=0)

    meta = {"collection": "credit_reports", "indexes": [("subject_code", "-issue_date")]}

    @property
    def valid_until(self) -> dt.date:
        return add_years(self.issue_date, VALIDITY_YEARS)


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
        if agency.status != "filed":
            reasons.append(f"agency {agency.name} is {agency.status}")
        if agency.filing_valid_until < on:
            reasons.append(f"agency filing expired on {agency.filing_valid_until}")
    if report.issue_date > on:
        reasons.append(f"issued in the future ({report.issue_date})")
    if on >= report.valid_until:
        reasons.append(f"older than {VALIDITY_YEARS} year (issued {report.issue_date})")
    if report.void:
        reasons.append(f"void: {report.void_reason}")
    return Validity(not reasons, reasons)


def register_agency(principal: Principal, values: dict) -> Agency:
    """Register a filed credit service agency; a filing number already present is a conflict."""
    agency = Agency(**values)
    uow = UnitOfWork()
    uow.add(agency)
    audit.record(uow, principal, "agency.registered", agency, filing_no=agency.filing_no,
                 status=agency.status)
    uow.commit()
    return agency


def file_report(principal: Principal, values: dict) -> CreditReport:
    """File a third-party report: the subject code must be valid and the agency registered."""
    values = dict(values)
    _, values["subject_code"] = identify(values["subject_code"], field="subject_code")
    if Agency.objects(filing_no=values["agency_filing_no"]).only("id").first() is None:
        raise RuleViolation("the agency is not registered",
                            errors={"agency_filing_no": ["no registered agency with this "
                                                         "filing number"]})
    report = CreditReport(**values)
    uow = UnitOfWork()
    uow.add(report)
    audit.record(uow, principal, "report.filed", report, number=report.number)
    outbox.emit(uow, "report.filed", f"subject/{report.subject_code}",
                {"report_id": str(report.pk), "number": report.number,
                 "subject_code": report.subject_code, "rating": report.rating,
                 "issue_date": report.issue_date.isoformat()})
    uow.commit()
    return report


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
