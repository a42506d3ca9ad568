"""The check engine: channels -> hits -> measures -> result.

Each channel answers for one source of credit information with the time its
data is as of. Hits carry a code (a list type such as ``SXBZXR`` or
``RECORD:<kind>:<severity>``) that the measure catalogue matches on. Only
measures that apply to the case's domain and have a legal basis are raised;
the others are listed as skipped. The frozen result is stored as an immutable
``CreditCheck`` with a receipt (who asked, when, which channels, result hash).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import mongoengine as me

from creditcase import hookimpl
from creditcase.core import grades
from creditcase.core.canonical import digest, plain
from creditcase.core.db import as_utc, local_today, utcnow
from creditcase.core.lists import ListEntry, ListType, Measure
from creditcase.core.records import ADVERSE_KINDS, KINDS_OF_RECORD, SEVERITIES, CreditRecord
from creditcase.core.reports import Agency, CreditReport, report_validity

if TYPE_CHECKING:
    from creditcase.core.cases import Case
    from creditcase.core.domains import Domain
    from creditcase.core.plugins import PluginHost

log = logging.getLogger(__name__)

ENGINE_VERSION = "check-engine/1"


@dataclass
class SubjectRef:
    code: str
    name: str
    kind: str


@dataclass
class Hit:
    channel: str
    code: str
    title: str
    source: str
    ref: str
    adverse: bool
    color: str | None = None
    severity: str | None = None
    date: dt.date | None = None
    valid_until: dt.date | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReportCopy:
    report_id: str
    number: str
    agency_filing_no: str
    agency_name: str
    issue_date: dt.date
    valid_until: dt.date
    rating: str
    valid: bool
    reasons: list[str]
    sections: dict[str, Any] = field(default_factory=dict)
    risk_warnings: list[str] = field(default_factory=list)


@dataclass
class ChannelAnswer:
    available: bool
    data_as_of: dt.datetime
    hits: list[Hit] = field(default_factory=list)
    reports: list[ReportCopy] = field(default_factory=list)
    error: str | None = None


@runtime_checkable
class Channel(Protocol):
    """A source of credit information. ``query`` must not raise for "nothing found";
    it raises (or returns ``available=False``) only when the source cannot answer."""

    name: str
    title_zh: str

    def query(self, subject: SubjectRef, on: dt.date) -> ChannelAnswer: ...


@dataclass
class MeasureHit:
    code: str
    kind: str
    binding: str
    effect: str
    text_zh: str
    text_en: str
    legal_basis: str
    basis_list_version: str
    source_hits: list[str]


@dataclass
class ChannelReceipt:
    name: str
    title_zh: str
    available: bool
    data_as_of: dt.datetime | None
    hits: int
    error: str | None = None


@dataclass
class CheckResult:
    domain: str
    subject: SubjectRef
    on: dt.date
    channels: list[ChannelReceipt] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    reports: list[ReportCopy] = field(default_factory=list)
    measures: list[MeasureHit] = field(default_factory=list)
    skipped_measures: list[dict[str, str]] = field(default_factory=list)
    grade: dict[str, Any] | None = None
    #: codes of the reward measures the domain grants (优先办理 and the like)
    incentives: list[str] = field(default_factory=list)
    incentive_texts: list[dict[str, str]] = field(default_factory=list)
    recommendation: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def has_valid_report(self) -> bool:
        return any(r.valid for r in self.reports)

    @property
    def complete(self) -> bool:
        return all(c.available for c in self.channels)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["has_valid_report"] = self.has_valid_report
        data["complete"] = self.complete
        data["engine"] = ENGINE_VERSION
        return plain(data)


class CreditCheck(me.Document):
    """An immutable snapshot of one check. Never updated after insert."""

    case_id = me.StringField(required=True)
    request_id = me.StringField(required=True, unique=True)
    department = me.StringField(required=True)
    domain = me.StringField(required=True)
    subject_code = me.StringField(required=True)
    requested_by = me.StringField(required=True)
    requested_at = me.DateTimeField(required=True)
    checked_at = me.DateTimeField(required=True)
    result = me.DictField(required=True)
    result_hash = me.StringField(required=True)
    receipt = me.DictField(required=True)

    meta = {"collection": "credit_checks", "indexes": [("case_id", "-checked_at")]}

    @property
    def measures(self) -> list[dict[str, Any]]:
        return self.result.get("measures", [])

    @property
    def has_valid_report(self) -> bool:
        return bool(self.result.get("has_valid_report"))

    @property
    def complete(self) -> bool:
        return bool(self.result.get("complete"))

    def age(self, now: dt.datetime) -> dt.timedelta:
        return now - as_utc(self.checked_at)


# -- the built-in channels ---------------------------------------------------------------------

class RecordsChannel:
    name = "records"
    title_zh = "本地公共信用记录"

    def query(self, subject: SubjectRef, on: dt.date) -> ChannelAnswer:
        as_of = utcnow()
        hits = []
        for r in CreditRecord.objects(subject_code=subject.code, state__in=("active", "disputed")):
            if r.effective_until and r.effective_until < on:
                continue
            code = f"RECORD:{r.kind}:{r.severity or ''}"
            label = KINDS_OF_RECORD[r.kind] + (f"（{SEVERITIES[r.severity]}）" if r.severity else "")
            hits.append(Hit(channel=self.name, code=code, title=f"{label} {r.title}",
                            source=r.authority or r.source_department, ref=str(r.pk),
                            adverse=r.kind in ADVERSE_KINDS, severity=r.severity,
                            date=r.decision_date, valid_until=r.effective_until,
                            detail={"doc_no": r.doc_no, "state": r.state,
                                    "source_department": r.source_department,
                                    "revision": r.revision}))
        return ChannelAnswer(True, as_of, hits)


class ListsChannel:
    name = "lists"
    title_zh = "红黑名单"

    def query(self, subject: SubjectRef, on: dt.date) -> ChannelAnswer:
        as_of = utcnow()
        names = {t.code: t.name_zh for t in ListType.objects.only("code", "name_zh")}
        hits = []
        for e in ListEntry.objects(subject_code=subject.code, valid_until__gte=on,
                                   removed_at=None):
            if e.listed_on > on:
                continue
            hits.append(Hit(channel=self.name, code=e.list_type,
                            title=names.get(e.list_type, e.list_type), source=e.issuer,
                            ref=str(e.pk), adverse=e.color == "black", color=e.color,
                            date=e.listed_on, valid_until=e.valid_until,
                            detail={"basis_doc_no": e.basis_doc_no}))
        return ChannelAnswer(True, as_of, hits)


class ReportsChannel:
    name = "reports"
    title_zh = "第三方信用报告"

    def query(self, subject: SubjectRef, on: dt.date) -> ChannelAnswer:
        as_of = utcnow()
        copies = []
        for report in CreditReport.objects(subject_code=subject.code).order_by("-issue_date")[:5]:
            agency = Agency.objects(filing_no=report.agency_filing_no).first()
            validity = report_validity(report, on, agency)
            copies.append(ReportCopy(
                report_id=str(report.pk), number=report.number,
                agency_filing_no=report.agency_filing_no,
                agency_name=agency.name if agency else "", issue_date=report.issue_date,
                valid_until=report.valid_until, rating=report.rating, valid=validity.valid,
                reasons=validity.reasons, sections=dict(report.sections or {}),
                risk_warnings=list(report.risk_warnings or [])))
        return ChannelAnswer(True, as_of, reports=copies)


class BuiltinChannels:
    """The core's own channels, registered like any plugin."""

    @hookimpl
    def creditcase_check_channels(self):
        return [RecordsChannel(), ListsChannel(), ReportsChannel()]


# -- the engine --------------------------------------------------------------------------------

def _grade_codes(hits: list[Hit]) -> list[str]:
    return [h.code if h.channel == "records" else f"LIST:{h.color}"
            for h in hits if h.channel in ("records", "lists")]


def match_measures(domain: Domain, hits: list[Hit]) -> tuple[list[MeasureHit], list[dict]]:
    codes = {h.code for h in hits}
    raised: list[MeasureHit] = []
    skipped: list[dict[str, str]] = []
    if not codes:
        return raised, skipped
    for m in Measure.objects(triggers__in=list(codes), active=True).order_by("code"):
        if not m.applies_to(domain.code):
            continue
        if not m.enforceable:
            skipped.append({"code": m.code, "reason": "no legal basis: not enforceable"})
            continue
        sources = sorted(h.ref for h in hits if h.code in m.triggers)
        raised.append(MeasureHit(code=m.code, kind=m.kind,
                                 binding=domain.binding(m.code, m.binding), effect=m.effect,
                                 text_zh=m.text_zh, text_en=m.text_en, legal_basis=m.legal_basis,
                                 basis_list_version=m.basis_list_version, source_hits=sources))
    return raised, skipped


def run_check(host: PluginHost, case: Case, *, request_id: str, requested_by: str,
              requested_at: dt.datetime | None = None) -> CreditCheck:
    """Query every channel the domain requires and build the immutable check."""
    domain = host.domain(case.domain)
    if domain is None:
        raise LookupError(f"domain {case.domain} is not available")
    now = utcnow()
    subject = SubjectRef(case.subject_code, case.subject_name, case.subject_kind)
    result = CheckResult(domain=domain.code, subject=subject, on=local_today())
    channels = host.channels
    for name in domain.required_channels:
        channel = channels.get(name)
        if channel is None:
            result.channels.append(ChannelReceipt(name, name, False, None, 0,
                                                  "channel not installed"))
            continue
        try:
            answer = channel.query(subject, result.on)
        except Exception as exc:  # a failing source must block, not pass silently
            log.warning("channel %s failed for case %s: %s", name, case.pk, exc)
            answer = ChannelAnswer(False, now, error=f"channel unavailable: {exc}")
        result.channels.append(ChannelReceipt(name, channel.title_zh, answer.available,
                                              answer.data_as_of, len(answer.hits), answer.error))
        result.hits.extend(answer.hits)
        result.reports.extend(answer.reports)
    result.measures, result.skipped_measures = match_measures(domain, result.hits)
    result.grade = grades.compute(_grade_codes(result.hits)).as_dict()
    host.evaluate_check(case, result)
    recommendation = domain.recommend(result)
    if not result.complete:
        recommendation.outcome = "review"
        recommendation.reasons.insert(0, "a required channel did not answer: check again")
    granted = list(domain.incentives(result))
    result.incentives = [m.code for m in granted]
    result.incentive_texts = [{"code": m.code, "text_zh": m.text_zh, "text_en": m.text_en}
                              for m in granted]
    result.recommendation = {"outcome": recommendation.outcome,
                             "reasons": recommendation.reasons}
    data = result.as_dict()
    result_hash = digest(data)
    checked_at = utcnow()
    receipt = plain({
        "request_id": request_id, "requested_by": requested_by,
        "requested_at": requested_at or checked_at, "checked_at": checked_at,
        "case_id": str(case.pk), "domain": domain.code, "domain_rule_version": domain.rule_version,
        "engine": ENGINE_VERSION,
        "channels": [{"name": c.name, "data_as_of": c.data_as_of, "available": c.available}
                     for c in result.channels],
        "result_hash": result_hash,
    })
    return CreditCheck(case_id=str(case.pk), request_id=request_id, department=case.department,
                       domain=domain.code, subject_code=case.subject_code,
                       requested_by=requested_by, requested_at=requested_at or checked_at,
                       checked_at=checked_at, result=data, result_hash=result_hash,
                       receipt=receipt)
