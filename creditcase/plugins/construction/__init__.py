"""工程建设招投标 (bidding for government-invested construction projects), the
domain of the 住建局 and the other project authorities.

Policy: 舞信用办〔2020〕1号 三（五）3 — in the bidding of government-invested
projects, the housing and construction department and the project
authorities use the bidders' credit records as one reference for
prequalification (资格预审), bid evaluation (评标) and pricing (定价).

* Subjects: legal persons and other organisations. 招标投标法第二十五条 makes
  bidders 法人或者其他组织; construction qualifications are not issued to
  natural persons or individual businesses.
* ``ZTB-XZ`` (限制参与政府投资工程建设项目招标投标, dishonest judgment debtors)
  always binds as MANDATORY with effect ``reject``, whatever the catalogue
  says: 法释〔2017〕7号第八条 restricts them in 招标投标.
* ``TQ-XZ`` (wage-arrears offenders, 保障农民工工资支付条例第四十八条) is a
  restriction: once applied, the bidder cannot pass unconditionally; the
  outcome is ``rejected`` or ``approved_with_conditions`` (e.g. a credit-score
  deduction in evaluation).
* At the evaluation and pricing stages the check result carries the public
  credit grade as a note: it is the reference the evaluation committee scores.
* A check is valid for 7 days: prequalification, opening and evaluation follow
  each other closely.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from creditcase import hookimpl
from creditcase.core.domains import LEGAL, Domain, Recommendation
from creditcase.plugins.construction.schema import ConstructionBidApplication

if TYPE_CHECKING:
    from creditcase.core.cases import Case, Decision
    from creditcase.core.checks import CheckResult, CreditCheck

#: 限制参与政府投资工程建设项目招标投标 (dishonest judgment debtors)
BIDDING_BAR_MEASURE = "ZTB-XZ"
#: restriction of wage-arrears offenders
WAGE_ARREARS_MEASURE = "TQ-XZ"
REFERENCE_NOTE = ("信用记录是资格预审、评标、定价的参考依据之一（舞信用办〔2020〕1号 三（五）3），"
                  "须结合资格条件和评标办法综合判断")
#: every grade note on a construction check starts with this text
GRADE_NOTE = "评标、定价信用参考"
#: the stages at which the committee scores the bidder's credit
GRADED_STAGES = ("评标", "定价")


class ConstructionDomain(Domain):
    code = "construction"
    name_zh = "工程建设招投标"
    name_en = "Bidding for construction projects"
    policy_basis = "舞信用办〔2020〕1号 三（五）3；法释〔2017〕7号第八条"
    subject_kinds = (LEGAL,)
    application_schema = ConstructionBidApplication
    required_channels = ("records", "lists", "reports")
    requires_report = False
    max_check_age = dt.timedelta(days=7)
    rule_version = "2026.1"
    pinned_bindings = {BIDDING_BAR_MEASURE: "MANDATORY"}

    def recommend(self, result: CheckResult) -> Recommendation:
        base = super().recommend(result)
        if base.outcome == "review":
            base.reasons.append(REFERENCE_NOTE)
        if WAGE_ARREARS_MEASURE in {m.code for m in result.measures} and base.outcome != "reject":
            base.reasons.append("拖欠农民工工资失信联合惩戒对象：依法依规限制，不得无条件通过")
        return base

    def before_decision(self, case: Case, check: CreditCheck, decision: Decision) -> list[str]:
        reasons = super().before_decision(case, check, decision)
        applied = {fb.measure for fb in decision.feedback if fb.applied}
        if WAGE_ARREARS_MEASURE in applied and decision.outcome == "approved":
            reasons.append(f"{WAGE_ARREARS_MEASURE} 已执行：限制类措施下不得无条件通过，请选择不予通过，"
                           "或附条件通过并写明限制内容（如评标信用分扣减） (a restriction was applied: "
                           "reject, or approve with conditions)")
        return reasons


@hookimpl
def creditcase_register_domains() -> list[Domain]:
    return [ConstructionDomain()]


@hookimpl
def creditcase_evaluate_check(case: Case, result: CheckResult) -> None:
    """At evaluation and pricing, note the public credit grade the committee scores."""
    if case.domain != ConstructionDomain.code:
        return
    stage = (case.data or {}).get("stage")
    if stage not in GRADED_STAGES or not result.grade:
        return
    grade = result.grade
    result.notes.append(f"{GRADE_NOTE}（{stage}）：公共信用综合评价 {grade['grade']}级"
                        f"（{grade['label_zh']}，{grade['score']} 分，评价方案 {grade['scheme']}）")


__all__ = ["BIDDING_BAR_MEASURE", "GRADED_STAGES", "GRADE_NOTE", "REFERENCE_NOTE", "WAGE_ARREARS_MEASURE",
           "ConstructionBidApplication", "ConstructionDomain"]
