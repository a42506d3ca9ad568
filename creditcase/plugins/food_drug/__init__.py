"""食品药品招标采购 (food and drug tendering), the domain of the authority in
charge of food and drug procurement (医疗保障、市场监管 and the purchasers).

Policy: 舞信用办〔2020〕1号 三（五）5 — the enterprise credit report is an
*important* reference for the bidder's qualification review. Therefore:

* A valid third-party credit report is required evidence
  (``requires_report``): without one the recommendation is ``reject`` and an
  approval is refused; a rejection stays possible.
* The latest valid report's rating and risk warnings inform the review: a
  rating in the C band (CCC+ and below: substantial default risk) makes the
  recommendation ``review``, and an approval then needs written reasons. The
  rating is never an automatic bar: 发改办财金〔2023〕860号 forbids using
  credit evaluations to build bidding barriers.
* ``YPCG-XZ`` (dishonest judgment debtors barred from these tenders,
  法释〔2017〕7号第八条) binds as MANDATORY with effect ``reject``.
* Subjects: legal persons and individual businesses (a canteen's food supplier
  may be an individual business holding a food licence).
* A check is valid for 7 days: qualification review follows the bid deadline.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING, Any

from creditcase import hookimpl
from creditcase.core.domains import INDIVIDUAL_BUSINESS, LEGAL, Domain, Recommendation
from creditcase.plugins.food_drug.schema import FoodDrugTenderApplication

if TYPE_CHECKING:
    from creditcase.core.cases import Case, Decision
    from creditcase.core.checks import CheckResult, CreditCheck

#: dishonest judgment debtors are barred from food and drug tenders
TENDER_BAR_MEASURE = "YPCG-XZ"
#: ratings of substantial default risk (three bands, nine grades; C band = CCC+ to C)
C_BAND = frozenset({"CCC+", "CCC", "CCC-", "CC", "C"})


def latest_valid_report(reports: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest valid report copy (the reports channel lists them newest first)."""
    return next((r for r in reports if r.get("valid")), None)


def report_findings(reports: list[dict[str, Any]]) -> list[str]:
    """Reasons for a close review drawn from the latest valid report, or none."""
    report = latest_valid_report(reports)
    if report is None:
        return []
    label = f"信用报告 {report['number']}（{report.get('agency_name') or '信用服务机构'}）"
    findings = []
    if report["rating"] in C_BAND:
        findings.append(f"{label}评级 {report['rating']}：违约风险较高，须重点审查投标人资格")
    findings += [f"{label}风险提示：{w}" for w in report.get("risk_warnings") or []]
    return findings


class FoodDrugDomain(Domain):
    code = "food_drug"
    name_zh = "食品药品招标采购"
    name_en = "Food and drug tendering"
    policy_basis = "舞信用办〔2020〕1号 三（五）5"
    subject_kinds = (LEGAL, INDIVIDUAL_BUSINESS)
    application_schema = FoodDrugTenderApplication
    required_channels = ("records", "lists", "reports")
    requires_report = True
    max_check_age = dt.timedelta(days=7)
    rule_version = "2026.1"
    pinned_bindings = {TENDER_BAR_MEASURE: "MANDATORY"}

    def recommend(self, result: CheckResult) -> Recommendation:
        base = super().recommend(result)
        if base.outcome == "reject":
            return base
        findings = report_findings([dataclasses.asdict(r) for r in result.reports])
        if not findings:
            return base
        return Recommendation("review", [*base.reasons, *findings,
                                         "信用报告是投标人资格审查的重要参考依据，不得据此设置投标门槛"])

    def before_decision(self, case: Case, check: CreditCheck, decision: Decision) -> list[str]:
        reasons = super().before_decision(case, check, decision)
        report = latest_valid_report(check.result.get("reports", []))
        if decision.outcome != "rejected" and report is not None and report["rating"] in C_BAND \
                and not decision.reasons.strip():
            reasons.append(f"投标人信用报告评级为 {report['rating']}：通过资格审查须在决定理由中说明审查意见 "
                           "(approval despite a C-band rating needs reasons)")
        return reasons


@hookimpl
def creditcase_register_domains() -> list[Domain]:
    return [FoodDrugDomain()]


__all__ = ["C_BAND", "TENDER_BAR_MEASURE", "FoodDrugDomain", "FoodDrugTenderApplication",
           "latest_valid_report", "report_findings"]
