"""Supervision for the credit office (信用办): how departments use the check.

Per department and domain, for a quarter (or all time): cases handled, cases
open and overdue, checks run, the share of decisions whose measure feedback is
complete, reviewer overrides, and 双公示 publicity on time against the
7-working-day deadline. Charts are inline SVG (:mod:`.charts`) with the same
numbers as tables. The quarterly measure-feedback report (per list issuer and
measure: times raised, applied, not applied with the reasons) is shown and
exported as CSV and XLSX.

The credit office and admins see the whole city; a department's reviewer or
admin sees the same page for their own department only.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bson import ObjectId
from flask import Response, render_template, request
from flask_babel import gettext as _

from creditcase.core.accounts import Department, Principal
from creditcase.core.cases import OPEN_STATES, Case
from creditcase.core.checks import CreditCheck
from creditcase.core.records import PUBLICITY_KINDS, CreditRecord
from creditcase.web.context import plugin_host
from creditcase.web.ui.charts import Chart, Series
from creditcase.web.ui.common import BEIJING, as_date, login_required, page_blueprint, principal, today
from creditcase.web.ui.i18n import label, pick

bp = page_blueprint("ui_supervision", __name__, url_prefix="/supervision")

SUPERVISORS = ("credit_office", "reviewer", "dept_admin")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


# -- periods ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    code: str  # "2026Q4" or "all"
    start: dt.date | None
    end: dt.date | None  # exclusive

    @property
    def bounds(self) -> tuple[dt.datetime, dt.datetime] | None:
        """The period as UTC instants (quarters are Beijing calendar quarters)."""
        if self.start is None or self.end is None:
            return None
        return (dt.datetime.combine(self.start, dt.time(), BEIJING).astimezone(dt.UTC),
                dt.datetime.combine(self.end, dt.time(), BEIJING).astimezone(dt.UTC))

    def contains_day(self, day: dt.date | None) -> bool:
        if self.start is None or self.end is None:
            return True
        return day is not None and self.start <= day < self.end


def quarter_of(day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def parse_period(code: str | None, *, allow_all: bool = True) -> Period:
    """``2026Q3`` -> that quarter; ``all`` -> no bounds; anything else -> this quarter."""
    if allow_all and code == "all":
        return Period("all", None, None)
    match = _QUARTER.match(code or "")
    if not match:
        return parse_period(quarter_of(today()), allow_all=allow_all)
    year, quarter = int(match.group(1)), int(match.group(2))
    start = dt.date(year, 3 * quarter - 2, 1)
    end = dt.date(year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 1)
    return Period(f"{year}Q{quarter}", start, end)


def recent_quarters(count: int = 8) -> list[str]:
    day = today()
    codes = []
    year, quarter = day.year, (day.month - 1) // 3 + 1
    for _step in range(count):
        codes.append(f"{year}Q{quarter}")
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    return codes


# -- the statistics --------------------------------------------------------------------------

@dataclass
class Cell:
    """Numbers of one department and domain."""

    handled: int = 0
    open: int = 0
    overdue: int = 0
    checks: int = 0
    decisions_with_measures: int = 0
    complete_feedback: int = 0
    overrides: int = 0

    def add(self, other: Cell) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def complete_share(self) -> float | None:
        if not self.decisions_with_measures:
            return None
        return 100.0 * self.complete_feedback / self.decisions_with_measures


@dataclass
class Publicity:
    on_time: int = 0
    late: int = 0
    overdue: int = 0
    pending: int = 0

    @property
    def due_total(self) -> int:
        return self.on_time + self.late + self.overdue

    @property
    def on_time_share(self) -> float | None:
        return 100.0 * self.on_time / self.due_total if self.due_total else None


@dataclass
class Stats:
    cells: dict[tuple[str, str], Cell] = field(default_factory=dict)
    publicity: dict[str, Publicity] = field(default_factory=dict)

    def cell(self, department: str, domain: str) -> Cell:
        return self.cells.setdefault((department, domain), Cell())

    def by_department(self) -> dict[str, Cell]:
        out: dict[str, Cell] = {}
        for (department, _domain), cell in self.cells.items():
            out.setdefault(department, Cell()).add(cell)
        return out

    def by_domain(self) -> dict[str, Cell]:
        out: dict[str, Cell] = {}
        for (_department, domain), cell in self.cells.items():
            out.setdefault(domain, Cell()).add(cell)
        return out

    def total(self) -> Cell:
        out = Cell()
        for cell in self.cells.values():
            out.add(cell)
        return out

    def publicity_total(self) -> Publicity:
        out = Publicity()
        for item in self.publicity.values():
            for name in ("on_time", "late", "overdue", "pending"):
                setattr(out, name, getattr(out, name) + getattr(item, name))
        return out


def _in_period(period: Period, path: str, *, dates: bool = False) -> dict[str, Any]:
    """A query condition keeping ``path`` inside the period. Timestamps are compared
    as instants (Beijing quarters); ``dates`` (stored as midnight UTC by a DateField)
    as days."""
    if period.start is None or period.end is None:
        return {}
    if dates:
        start = dt.datetime.combine(period.start, dt.time(), dt.UTC)
        end = dt.datetime.combine(period.end, dt.time(), dt.UTC)
    else:
        start, end = period.bounds  # type: ignore[misc]
    return {path: {"$gte": start, "$lt": end}}


def _feedback_complete(decision: dict[str, Any], measure_codes: list[str]) -> bool:
    given = {f.get("measure"): f for f in decision.get("feedback") or []}
    for code in measure_codes:
        item = given.get(code)
        if item is None or not isinstance(item.get("applied"), bool):
            return False
        if not item["applied"] and not (item.get("reason") or "").strip():
            return False
    return True


def _check_measures(check_ids: list[str]) -> dict[str, list[str]]:
    wanted = [ObjectId(i) for i in check_ids if ObjectId.is_valid(i)]
    out: dict[str, list[str]] = {}
    for raw in CreditCheck.objects(pk__in=wanted).only("result.measures").as_pymongo():
        out[str(raw["_id"])] = [m.get("code") for m in
                                (raw.get("result") or {}).get("measures") or []]
    return out


def compute_stats(who: Principal, period: Period) -> Stats:
    """Every number of the dashboard, scoped to what ``who`` may see."""
    scope = who.department_filter()
    stats = Stats()
    decided = list(Case.objects(__raw__={**scope, **_in_period(period, "decision.decided_at"),
                                         "decision": {"$ne": None}})
                   .only("department", "domain", "decision").as_pymongo())
    measures = _check_measures([c["decision"].get("check_id", "") for c in decided])
    for raw in decided:
        cell = stats.cell(raw["department"], raw["domain"])
        decision = raw["decision"]
        cell.handled += 1
        codes = measures.get(decision.get("check_id", ""), [])
        if codes:
            cell.decisions_with_measures += 1
            cell.complete_feedback += _feedback_complete(decision, codes)
        if decision.get("override"):
            cell.overrides += 1
    on = today()
    open_cases = Case.objects(__raw__={**scope, "state": {"$in": list(OPEN_STATES)}}) \
        .only("department", "domain", "due_date").as_pymongo()
    for raw in open_cases:
        cell = stats.cell(raw["department"], raw["domain"])
        cell.open += 1
        due = as_date(raw.get("due_date"))
        if due is not None and due < on:
            cell.overdue += 1
    pipeline = [{"$match": {**scope, **_in_period(period, "checked_at")}},
                {"$group": {"_id": {"department": "$department", "domain": "$domain"},
                            "n": {"$sum": 1}}}]
    for row in CreditCheck.objects.aggregate(pipeline):
        stats.cell(row["_id"]["department"], row["_id"]["domain"]).checks += row["n"]
    record_scope = {"source_department": scope["department"]} if scope else {}
    records = CreditRecord.objects(__raw__={
        **record_scope, "kind": {"$in": sorted(PUBLICITY_KINDS)},
        # records the rules keep private (e.g. 轻微 penalties) have no deadline to meet
        "publicity_state": {"$ne": "not_applicable"},
        **_in_period(period, "decision_date", dates=True)}) \
        .only("source_department", "publication_due", "published_at").as_pymongo()
    for raw in records:
        item = stats.publicity.setdefault(raw["source_department"], Publicity())
        due = as_date(raw.get("publication_due"))
        published = raw.get("published_at")
        if published is not None:
            published_day = (published if published.tzinfo else published.replace(tzinfo=dt.UTC)) \
                .astimezone(BEIJING).date()
            if due is None or published_day <= due:
                item.on_time += 1
            else:
                item.late += 1
        elif due is not None and due < on:
            item.overdue += 1
        else:
            item.pending += 1
    return stats


# -- names -----------------------------------------------------------------------------------

def department_names() -> dict[str, str]:
    return {d.code: pick(d.name_zh, d.name_en) for d in
            Department.objects.only("code", "name_zh", "name_en")}


def domain_names() -> dict[str, str]:
    return {code: pick(d.name_zh, d.name_en) for code, d in plugin_host().domains.items()}


# -- charts ----------------------------------------------------------------------------------

def build_charts(stats: Stats, departments: dict[str, str], domains: dict[str, str]) -> list[Chart]:
    by_department = stats.by_department()
    order = sorted(by_department, key=lambda d: departments.get(d, d))
    charts = [
        Chart("chart-cases", _("各部门办件量"),
              _("每个部门本期办结的案件数和目前在办的案件数。"),
              [departments.get(d, d) for d in order],
              [Series(_("本期办结"), [by_department[d].handled for d in order]),
               Series(_("在办"), [by_department[d].open for d in order])]),
    ]
    by_domain = stats.by_domain()
    domain_order = sorted(by_domain, key=lambda d: -by_domain[d].checks)
    charts.append(Chart(
        "chart-checks", _("各领域信用核查次数"), _("本期每个业务领域运行的信用核查次数。"),
        [domains.get(d, d) for d in domain_order],
        [Series(_("核查次数"), [by_domain[d].checks for d in domain_order])]))
    with_measures = [d for d in order if by_department[d].decisions_with_measures]
    charts.append(Chart(
        "chart-feedback", _("措施反馈完整率"),
        _("有联合奖惩措施的决定中，逐项反馈了措施执行情况的比例。"),
        [departments.get(d, d) for d in with_measures],
        [Series(_("反馈完整"), [round(by_department[d].complete_share or 0, 1)
                               for d in with_measures], "#2e8b57"),
         Series(_("不完整"), [round(100 - (by_department[d].complete_share or 0), 1)
                             for d in with_measures], "#d5dbe1")],
        unit="%", percent=True))
    publicity_order = sorted(stats.publicity, key=lambda d: departments.get(d, d))
    charts.append(Chart(
        "chart-publicity", _("双公示按时公示情况"),
        _("本期作出的行政许可和行政处罚，在 7 个工作日内公示、逾期公示、逾期未公示和尚未到期的数量。"),
        [departments.get(d, d) for d in publicity_order],
        [Series(_("按时公示"), [stats.publicity[d].on_time for d in publicity_order], "#2e8b57"),
         Series(_("逾期公示"), [stats.publicity[d].late for d in publicity_order], "#e08a1e"),
         Series(_("逾期未公示"), [stats.publicity[d].overdue for d in publicity_order], "#b83227"),
         Series(_("未到期"), [stats.publicity[d].pending for d in publicity_order], "#7a8793")]))
    return charts


# -- the measure-feedback report -------------------------------------------------------------

@dataclass
class FeedbackRow:
    issuer: str
    measure: str
    text: str
    binding: str
    kind: str
    raised: int = 0
    applied: int = 0
    not_applied: int = 0
    reasons: Counter = field(default_factory=Counter)

    @property
    def reasons_text(self) -> str:
        return "；".join(f"{reason}（{n}）" if n > 1 else reason
                        for reason, n in self.reasons.most_common())


@dataclass
class NotAppliedItem:
    case_id: str
    department: str
    domain: str
    issuer: str
    measure: str
    reason: str
    decided_at: dt.datetime | None


def feedback_report(who: Principal, period: Period) -> tuple[list[FeedbackRow],
                                                             list[NotAppliedItem]]:
    """Per list issuer and measure: how often the check raised it in decisions of the
    period, how often it was applied, and why it was not. A measure raised by hits of
    several issuers counts once for each of them."""
    scope = who.department_filter()
    decided = list(Case.objects(__raw__={**scope, **_in_period(period, "decision.decided_at"),
                                         "decision": {"$ne": None}})
                   .only("department", "domain", "decision").as_pymongo())
    check_ids = [ObjectId(c["decision"]["check_id"]) for c in decided
                 if ObjectId.is_valid(c["decision"].get("check_id", ""))]
    checks = {str(raw["_id"]): raw.get("result") or {} for raw in
              CreditCheck.objects(pk__in=check_ids).only("result.measures", "result.hits")
              .as_pymongo()}
    rows: dict[tuple[str, str], FeedbackRow] = {}
    items: list[NotAppliedItem] = []
    for case in decided:
        decision = case["decision"]
        result = checks.get(decision.get("check_id", ""), {})
        sources = {h.get("ref"): h.get("source") or "" for h in result.get("hits") or []}
        catalogue = {m.get("code"): m for m in result.get("measures") or []}
        for item in decision.get("feedback") or []:
            measure = catalogue.get(item.get("measure"), {})
            issuers = sorted({sources.get(ref, "") for ref in measure.get("source_hits") or []}
                             - {""}) or ["—"]
            for issuer in issuers:
                key = (issuer, item.get("measure", ""))
                row = rows.get(key)
                if row is None:
                    row = rows[key] = FeedbackRow(
                        issuer=issuer, measure=item.get("measure", ""),
                        text=pick(measure.get("text_zh"), measure.get("text_en")),
                        binding=measure.get("binding", ""), kind=measure.get("kind", ""))
                row.raised += 1
                if item.get("applied"):
                    row.applied += 1
                else:
                    row.not_applied += 1
                    reason = (item.get("reason") or "").strip()
                    row.reasons[reason] += 1
                    items.append(NotAppliedItem(str(case["_id"]), case["department"],
                                                case["domain"], issuer, row.measure, reason,
                                                decision.get("decided_at")))
    ordered = sorted(rows.values(), key=lambda r: (r.issuer, r.measure))
    items.sort(key=lambda i: (i.issuer, i.measure, i.decided_at or dt.datetime.min))
    return ordered, items


def _headers() -> list[str]:
    return [_("季度"), _("名单发布机关"), _("措施代码"), _("措施内容"), _("类别"), _("约束力"),
            _("触发次数"), _("已执行"), _("未执行"), _("未执行理由")]


def _row_values(period: Period, row: FeedbackRow) -> list[Any]:
    from creditcase.web.ui.i18n import BINDINGS, MEASURE_KINDS

    return [period.code, row.issuer, row.measure, row.text, label(MEASURE_KINDS, row.kind),
            label(BINDINGS, row.binding), row.raised, row.applied, row.not_applied,
            row.reasons_text]


# -- pages -----------------------------------------------------------------------------------

@bp.get("")
@login_required(*SUPERVISORS)
def dashboard() -> str:
    who = principal()
    period = parse_period(request.args.get("period"))
    stats = compute_stats(who, period)
    departments, domains = department_names(), domain_names()
    report_period = period if period.code != "all" else parse_period(None, allow_all=False)
    rows, _items = feedback_report(who, report_period)
    by_department = stats.by_department()
    return render_template(
        "supervision/dashboard.html", period=period, quarters=recent_quarters(),
        stats=stats, total=stats.total(), publicity=stats.publicity_total(),
        charts=build_charts(stats, departments, domains), departments=departments,
        domains=domains, by_department=by_department,
        department_order=sorted(by_department, key=lambda d: departments.get(d, d)),
        cells=sorted(stats.cells.items(), key=lambda kv: (departments.get(kv[0][0], kv[0][0]),
                                                          domains.get(kv[0][1], kv[0][1]))),
        report_rows=rows, report_period=report_period, city_wide=who.city_wide)


@bp.get("/feedback")
@login_required(*SUPERVISORS)
def feedback() -> str:
    who = principal()
    period = parse_period(request.args.get("quarter"), allow_all=False)
    rows, items = feedback_report(who, period)
    return render_template("supervision/feedback.html", period=period, rows=rows, items=items,
                           quarters=recent_quarters(), departments=department_names(),
                           domains=domain_names(), city_wide=who.city_wide)


@bp.get("/feedback.csv")
@login_required(*SUPERVISORS)
def feedback_csv() -> Response:
    period = parse_period(request.args.get("quarter"), allow_all=False)
    rows, _items = feedback_report(principal(), period)
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel opens UTF-8 CSV correctly only with the BOM
    writer = csv.writer(buffer)
    writer.writerow(_headers())
    for row in rows:
        writer.writerow(_row_values(period, row))
    return Response(buffer.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="measure-feedback-{period.code}.csv"'})


@bp.get("/feedback.xlsx")
@login_required(*SUPERVISORS)
def feedback_xlsx() -> Response:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    who = principal()
    period = parse_period(request.args.get("quarter"), allow_all=False)
    rows, items = feedback_report(who, period)
    book = Workbook()
    sheet = book.active
    sheet.title = _("措施反馈汇总")
    sheet.append(_headers())
    for row in rows:
        sheet.append(_row_values(period, row))
    detail = book.create_sheet(_("未执行明细"))
    detail.append([_("季度"), _("名单发布机关"), _("措施代码"), _("部门"), _("业务领域"),
                   _("案件编号"), _("决定时间"), _("未执行理由")])
    departments, domains = department_names(), domain_names()
    for item in items:
        decided = item.decided_at
        if decided is not None:
            decided = (decided if decided.tzinfo else decided.replace(tzinfo=dt.UTC)) \
                .astimezone(BEIJING).replace(tzinfo=None)
        detail.append([period.code, item.issuer, item.measure,
                       departments.get(item.department, item.department),
                       domains.get(item.domain, item.domain), item.case_id, decided,
                       item.reason])
    for ws, widths in ((sheet, (10, 22, 14, 44, 8, 8, 10, 8, 8, 50)),
                       (detail, (10, 22, 14, 22, 18, 26, 18, 50))):
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(vertical="center", wrap_text=True)
        for index, width in enumerate(widths):
            ws.column_dimensions[chr(ord("A") + index)].width = width
        ws.freeze_panes = "A2"
    for row in detail.iter_rows(min_row=2, min_col=7, max_col=7):
        for cell in row:
            cell.number_format = "yyyy-mm-dd hh:mm"
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(buffer.getvalue(),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition":
                             f'attachment; filename="measure-feedback-{period.code}.xlsx"'})


__all__ = ["Period", "bp", "compute_stats", "feedback_report", "parse_period", "quarter_of"]
