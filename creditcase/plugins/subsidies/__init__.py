"""财政专项资金补助 (special fiscal fund subsidies), the domain of the 财政局, the
发改委 and the other departments that administer special funds.

Policy: 舞信用办〔2020〕1号 三（五）6 — when reviewing who qualifies for fund
support, the departments use the applicant's credit record *or* credit report
as one reference. The record is always queried and reports are read when
filed; a report is not required.

* ``CZZJ-XZ`` (dishonest judgment debtors and major tax violators may not
  apply for fiscal funds and subsidies, 法释〔2017〕7号第八条) binds as
  MANDATORY with effect ``reject`` in this domain, whatever the catalogue
  says: a listed applicant is refused unless a reviewer approves an override.
* ``TQ-XZ`` (wage-arrears offenders, 保障农民工工资支付条例第四十八条) is a
  restriction: once applied, the support cannot be granted unconditionally;
  the outcome is ``rejected`` or ``approved_with_conditions`` (for example a
  reduced amount, or payment after the wages are settled).
* Subjects: legal persons, individual businesses and natural persons (many
  agricultural subsidies go to farmers).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from creditcase import hookimpl
from creditcase.core.domains import INDIVIDUAL_BUSINESS, LEGAL, NATURAL, Domain
from creditcase.plugins.subsidies.schema import SubsidyApplication

if TYPE_CHECKING:
    from creditcase.core.cases import Case, Decision
    from creditcase.core.checks import CreditCheck

#: 限制申请财政性资金项目和政府补贴
FUND_BAR_MEASURE = "CZZJ-XZ"
#: restriction of wage-arrears offenders
WAGE_ARREARS_MEASURE = "TQ-XZ"


class SubsidiesDomain(Domain):
    code = "subsidies"
    name_zh = "财政专项资金补助"
    name_en = "Special fiscal fund subsidies"
    policy_basis = "舞信用办〔2020〕1号 三（五）6；法释〔2017〕7号第八条"
    subject_kinds = (LEGAL, INDIVIDUAL_BUSINESS, NATURAL)
    application_schema = SubsidyApplication
    required_channels = ("records", "lists", "reports")
    requires_report = False
    max_check_age = dt.timedelta(days=30)
    rule_version = "2026.1"
    pinned_bindings = {FUND_BAR_MEASURE: "MANDATORY"}

    def before_decision(self, case: Case, check: CreditCheck, decision: Decision) -> list[str]:
        reasons = super().before_decision(case, check, decision)
        applied = {fb.measure for fb in decision.feedback if fb.applied}
        if WAGE_ARREARS_MEASURE in applied and decision.outcome == "approved":
            reasons.append(f"{WAGE_ARREARS_MEASURE} 已执行：限制类措施下不得无条件给予资金支持，请选择不予"
                           "支持，或附条件支持并写明限制内容 (a restriction was applied: reject, or "
                           "approve with conditions)")
        return reasons


@hookimpl
def creditcase_register_domains() -> list[Domain]:
    return [SubsidiesDomain()]


__all__ = ["FUND_BAR_MEASURE", "WAGE_ARREARS_MEASURE", "SubsidiesDomain", "SubsidyApplication"]
