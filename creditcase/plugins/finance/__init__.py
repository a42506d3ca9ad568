"""金融监督管理 (local financial supervision), the domain of the 地方金融监督管理
部门.

Policy: 舞信用办〔2020〕1号 三（五）7 — when reviewing applications to set up a
microcredit company or a financing guarantee company, and an enterprise's
investment in a financial institution, the financial supervision authority
requires the market subject to provide an *enterprise credit report*.

* Subjects: legal persons (the investing enterprise). The report is required
  evidence (``requires_report``): without a valid one the recommendation is
  ``reject`` and an approval is refused.
* ``JR-XZ`` (dishonest judgment debtors may not set up or invest in financial
  companies, 中办发〔2016〕64号) binds as MANDATORY with effect ``reject``. For a
  stake in a banking institution the same opinion treats the listing as a
  prudential reference; leaving the measure unapplied then goes through a
  reviewer's override with its reasons, like any mandatory measure.
* Shareholders of a financing guarantee company must have had no major
  violation in the last three years (融资担保公司监督管理条例, 国务院令第683号),
  and the other matters apply the same prudential test: a serious penalty
  decided within the three years before the check is noted on the result,
  the recommendation is ``review``, and an approval needs written reasons.
* A speculative-grade report (below BBB-) makes the recommendation ``review``.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from creditcase import hookimpl
from creditcase.core.domains import LEGAL, Domain, Recommendation
from creditcase.core.reports import RATINGS, add_years
from creditcase.plugins.finance.schema import GUARANTEE, FinanceApplication

if TYPE_CHECKING:
    from creditcase.core.cases import Case, Decision
    from creditcase.core.checks import CheckResult, CreditCheck

#: dishonest judgment debtors may not set up or invest in financial companies
FINANCE_BAR_MEASURE = "JR-XZ"
LOOKBACK_YEARS = 3
#: every three-year finding on a finance check starts with this text
THREE_YEAR_NOTE = "最近3年重大违法违规记录"
#: ratings below the investment grade (BBB- and above is investment grade)
SPECULATIVE = frozenset(RATINGS[RATINGS.index("BBB-") + 1:])


def three_year_note(title: str, decided: dt.date, source: str, matter: str) -> str:
    rule = ("融资担保公司股东须信誉良好、最近3年无重大违法违规记录（国务院令第683号）" if matter == GUARANTEE
            else "作为审慎性条件审查")
    return f"{THREE_YEAR_NOTE}：{title}（{decided.isoformat()}，{source}）——{rule}"


class FinanceDomain(Domain):
    code = "finance"
    name_zh = "金融监督管理"
    name_en = "Financial supervision approvals"
    policy_basis = "舞信用办〔2020〕1号 三（五）7"
    subject_kinds = (LEGAL,)
    application_schema = FinanceApplication
    required_channels = ("records", "lists", "reports")
    requires_report = True
    max_check_age = dt.timedelta(days=30)
    rule_version = "2026.1"
    pinned_bindings = {FINANCE_BAR_MEASURE: "MANDATORY"}

    def recommend(self, result: CheckResult) -> Recommendation:
        base = super().recommend(result)
        if base.outcome == "reject":
            return base
        reasons = [n for n in result.notes if n.startswith(THREE_YEAR_NOTE)]
        latest = next((r for r in result.reports if r.valid), None)
        if latest is not None and latest.rating in SPECULATIVE:
            reasons.append(f"企业信用报告 {latest.number} 评级 {latest.rating}，低于投资级（BBB-），"
                           "须审慎审查出资能力和信用状况")
        if not reasons:
            return base
        return Recommendation("review", [*base.reasons, *reasons])

    def before_decision(self, case: Case, check: CreditCheck, decision: Decision) -> list[str]:
        reasons = super().before_decision(case, check, decision)
        findings = [n for n in check.result.get("notes", []) if n.startswith(THREE_YEAR_NOTE)]
        if findings and decision.outcome != "rejected" and not decision.reasons.strip():
            reasons.append("申请人最近3年有重大违法违规记录：批准须在决定理由中说明审查意见 "
                           "(approval needs reasons)")
        return reasons


@hookimpl
def creditcase_register_domains() -> list[Domain]:
    return [FinanceDomain()]


@hookimpl
def creditcase_evaluate_check(case: Case, result: CheckResult) -> None:
    """Note every serious penalty decided within the three years before the check."""
    if case.domain != FinanceDomain.code:
        return
    since = add_years(result.on, -LOOKBACK_YEARS)
    matter = (case.data or {}).get("matter_type", "")
    for hit in result.hits:
        if hit.code == "RECORD:penalty:serious" and hit.date is not None and hit.date >= since:
            result.notes.append(three_year_note(hit.title, hit.date, hit.source, matter))


__all__ = ["FINANCE_BAR_MEASURE", "LOOKBACK_YEARS", "SPECULATIVE", "THREE_YEAR_NOTE", "FinanceApplication",
           "FinanceDomain", "three_year_note"]
