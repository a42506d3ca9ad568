"""其他行政管理事项 (other administrative matters), a generic domain for the key
sectors of 舞信用办〔2020〕1号 三（五）16: food and drug safety, environmental
protection, work safety, product quality, health care, construction,
education and research, e-commerce, financing guarantees and market
intermediaries.

* The application names the sector (validated against the policy's list),
  the matter's legal basis, and how credit is used in it (三（四）: a
  *necessary condition* or a reference).
* Where credit is a necessary condition (``必要条件``), adverse information is
  noted on the check with the sector, the recommendation is ``reject``, and an
  approval needs written reasons. Where it is a reference, the common rule
  applies (adverse information: ``review``).
* Subjects: legal persons, individual businesses and natural persons; records,
  lists and reports are queried, no report is required.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from creditcase import hookimpl
from creditcase.core.domains import INDIVIDUAL_BUSINESS, LEGAL, NATURAL, Domain, Recommendation
from creditcase.plugins.other.schema import NECESSARY, OtherMatterApplication

if TYPE_CHECKING:
    from creditcase.core.cases import Case, Decision
    from creditcase.core.checks import CheckResult, CreditCheck

#: every necessary-condition finding on a check starts with this text
NECESSARY_NOTE = "信用状况为本事项的必要条件"


class OtherMattersDomain(Domain):
    code = "other"
    name_zh = "其他行政管理事项"
    name_en = "Other administrative matters"
    policy_basis = "舞信用办〔2020〕1号 三（五）16"
    subject_kinds = (LEGAL, INDIVIDUAL_BUSINESS, NATURAL)
    application_schema = OtherMatterApplication
    required_channels = ("records", "lists", "reports")
    requires_report = False
    max_check_age = dt.timedelta(days=30)
    rule_version = "2026.1"

    def recommend(self, result: CheckResult) -> Recommendation:
        base = super().recommend(result)
        findings = [n for n in result.notes if n.startswith(NECESSARY_NOTE)]
        if base.outcome == "reject" or not findings:
            return base
        return Recommendation("reject", [*base.reasons, *findings])

    def before_decision(self, case: Case, check: CreditCheck, decision: Decision) -> list[str]:
        reasons = super().before_decision(case, check, decision)
        findings = [n for n in check.result.get("notes", []) if n.startswith(NECESSARY_NOTE)]
        if findings and decision.outcome != "rejected" and not decision.reasons.strip():
            reasons.append("信用状况是本事项的必要条件且申请人有不良信用信息：批准须在决定理由中说明依据 "
                           "(approval needs reasons)")
        return reasons


@hookimpl
def creditcase_register_domains() -> list[Domain]:
    return [OtherMattersDomain()]


@hookimpl
def creditcase_evaluate_check(case: Case, result: CheckResult) -> None:
    """Where credit is a necessary condition, note the adverse information found."""
    if case.domain != OtherMattersDomain.code:
        return
    data = case.data or {}
    if data.get("credit_use") != NECESSARY:
        return
    adverse = [h for h in result.hits if h.adverse]
    if adverse:
        result.notes.append(f"{NECESSARY_NOTE}（{data.get('sector', '')}：{data.get('matter_name', '')}），"
                            f"申请人有 {len(adverse)} 条不良信用信息：" + "；".join(h.title for h in adverse))


__all__ = ["NECESSARY_NOTE", "OtherMatterApplication", "OtherMattersDomain"]
