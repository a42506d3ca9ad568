"""评优评级与周期性审验 (awards, ratings and periodic re-examination of
enterprises), the domain of every department that grants honours or grades.

Policy: 舞信用办〔2020〕1号 三（五）9 — when rating enterprises' honours, tax,
reputation, trademarks and the like, and when re-examining them
periodically, the departments use the applicant's credit record or credit
report as one reference.

* ``PYXX-XZ`` (取消参加评先评优资格: dishonest judgment debtors, major tax
  violators, market-supervision serious violators) binds as MANDATORY with
  effect ``reject``. In a periodic re-examination it means the honour or grade
  is not kept.
* A serious penalty decided within the assessment period (考察期, from
  ``period_start``) is noted on the check; the recommendation is ``reject``
  (an honour certifies good conduct over that period), and an approval needs
  written reasons saying why the penalty does not disqualify.
* Red-list incentives (``SX-YXBL``) apply as usual: the case is put first.
* Subjects: legal persons and individual businesses (the policy speaks of
  enterprises).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from creditcase import hookimpl
from creditcase.core.domains import INDIVIDUAL_BUSINESS, LEGAL, Domain, Recommendation
from creditcase.plugins.awards.schema import AwardApplication

if TYPE_CHECKING:
    from creditcase.core.cases import Case, Decision
    from creditcase.core.checks import CheckResult, CreditCheck

#: 取消参加评先评优资格
AWARD_BAR_MEASURE = "PYXX-XZ"
#: every assessment-period finding on an awards check starts with this text
PERIOD_NOTE = "考察期内严重失信记录"


class AwardsDomain(Domain):
    code = "awards"
    name_zh = "评优评级与周期性审验"
    name_en = "Awards, ratings and periodic re-examination"
    policy_basis = "舞信用办〔2020〕1号 三（五）9；国发〔2016〕33号"
    subject_kinds = (LEGAL, INDIVIDUAL_BUSINESS)
    application_schema = AwardApplication
    required_channels = ("records", "lists", "reports")
    requires_report = False
    max_check_age = dt.timedelta(days=30)
    rule_version = "2026.1"
    pinned_bindings = {AWARD_BAR_MEASURE: "MANDATORY"}

    def recommend(self, result: CheckResult) -> Recommendation:
        base = super().recommend(result)
        findings = [n for n in result.notes if n.startswith(PERIOD_NOTE)]
        if base.outcome == "reject" or not findings:
            return base
        return Recommendation("reject", [*base.reasons, *findings,
                                         "荣誉和等级评定以考察期内的守信表现为条件：考察期内受到严重行政处罚的，"
                                         "原则上不予评定或不予通过审验"])

    def before_decision(self, case: Case, check: CreditCheck, decision: Decision) -> list[str]:
        reasons = super().before_decision(case, check, decision)
        findings = [n for n in check.result.get("notes", []) if n.startswith(PERIOD_NOTE)]
        if findings and decision.outcome != "rejected" and not decision.reasons.strip():
            reasons.append("考察期内有严重失信记录：评定或通过审验须在决定理由中说明该记录不影响评定的依据 "
                           "(approval needs reasons)")
        return reasons


@hookimpl
def creditcase_register_domains() -> list[Domain]:
    return [AwardsDomain()]


@hookimpl
def creditcase_evaluate_check(case: Case, result: CheckResult) -> None:
    """Note every serious penalty decided within the assessment period."""
    if case.domain != AwardsDomain.code:
        return
    try:
        since = dt.date.fromisoformat((case.data or {}).get("period_start", ""))
    except (TypeError, ValueError):
        result.notes.append("考察期起始日无法解析，未核对考察期内的严重失信记录")
        return
    for hit in result.hits:
        if hit.code == "RECORD:penalty:serious" and hit.date is not None and hit.date >= since:
            result.notes.append(f"{PERIOD_NOTE}（自 {since.isoformat()} 起）：{hit.title}"
                                f"（{hit.date.isoformat()}，{hit.source}）")


__all__ = ["AWARD_BAR_MEASURE", "PERIOD_NOTE", "AwardApplication", "AwardsDomain"]
