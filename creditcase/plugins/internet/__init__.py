"""互联网应用及服务 (internet applications and services), the domain of the
departments that admit and evaluate internet services (网信、通信管理、文化、
市场监管 and the sector authorities).

Policy: 舞信用办〔2020〕1号 三（五）13 — in the operation of internet
organisations and enterprises, the departments use their credit records *and*
credit reports as one reference for industry access (行业准入) and business
evaluation (业务评价). Therefore:

* A valid third-party credit report is required evidence (``requires_report``)
  next to the record; without one an approval is refused.
* ``HLW-XZ`` (restriction in industry access and evaluation: dishonest
  judgment debtors, market-supervision serious violators) is discretionary.
  Once applied, the outcome cannot be an unconditional approval: it is
  ``rejected`` or ``approved_with_conditions`` naming the restriction.
* For a business evaluation the check result carries the public credit grade
  as a note: it is the credit part of the evaluation.
* Subjects: legal persons and individual businesses (online shops run as
  individual businesses are internet enterprises too).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from creditcase import hookimpl
from creditcase.core.domains import INDIVIDUAL_BUSINESS, LEGAL, Domain
from creditcase.plugins.internet.schema import EVALUATION, InternetServiceApplication

if TYPE_CHECKING:
    from creditcase.core.cases import Case, Decision
    from creditcase.core.checks import CheckResult, CreditCheck

#: restriction in internet industry access and business evaluation
RESTRICTION_MEASURE = "HLW-XZ"
#: every grade note on an internet check starts with this text
GRADE_NOTE = "业务评价信用参考"


class InternetDomain(Domain):
    code = "internet"
    name_zh = "互联网应用及服务"
    name_en = "Internet applications and services"
    policy_basis = "舞信用办〔2020〕1号 三（五）13"
    subject_kinds = (LEGAL, INDIVIDUAL_BUSINESS)
    application_schema = InternetServiceApplication
    required_channels = ("records", "lists", "reports")
    requires_report = True
    max_check_age = dt.timedelta(days=30)
    rule_version = "2026.1"

    def before_decision(self, case: Case, check: CreditCheck, decision: Decision) -> list[str]:
        reasons = super().before_decision(case, check, decision)
        applied = {fb.measure for fb in decision.feedback if fb.applied}
        if RESTRICTION_MEASURE in applied and decision.outcome == "approved":
            reasons.append(f"{RESTRICTION_MEASURE} 已执行：不得无条件准入或评为合格，请不予通过，或附条件"
                           "通过并写明限制内容 (a restriction was applied: reject, or approve with "
                           "conditions)")
        return reasons


@hookimpl
def creditcase_register_domains() -> list[Domain]:
    return [InternetDomain()]


@hookimpl
def creditcase_evaluate_check(case: Case, result: CheckResult) -> None:
    """For a business evaluation, note the public credit grade it scores."""
    if case.domain != InternetDomain.code or (case.data or {}).get("matter_type") != EVALUATION:
        return
    if result.grade:
        grade = result.grade
        result.notes.append(f"{GRADE_NOTE}：公共信用综合评价 {grade['grade']}级（{grade['label_zh']}，"
                            f"{grade['score']} 分，评价方案 {grade['scheme']}）")


__all__ = ["GRADE_NOTE", "RESTRICTION_MEASURE", "InternetDomain", "InternetServiceApplication"]
