"""保障性住房分配与低保 (affordable housing and subsistence allowance), the domain
of the 住建局 and the 民政局.

Policy: 舞信用办〔2020〕1号 三（五）12 — in allocating affordable housing and
paying the subsistence allowance, the applicant's *personal credit record* is
a necessary review basis (必要的审查依据). What that means here:

* Only natural persons apply. Third-party credit reports are not asked of
  natural persons, so the required channels are the personal record and the
  red and black lists, not reports.
* ``GGZY-SC`` (从严审核) binds as MANDATORY in this domain: the strict review
  is necessary, so leaving it unapplied needs a reviewer's override. Its effect
  stays ``review``: after the review the application may still be granted.
* An approval is refused unless the check it rests on queried the personal
  record and the lists and both answered. The core refuses incomplete checks
  already; this also refuses a check that never asked a required source (one
  taken under an older rule version with fewer channels).
* An approval of an applicant with adverse information must carry the written
  review conclusion (信用记录审查意见): in the decision's ``reasons`` or in
  the outcome text of a measure's feedback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from creditcase import hookimpl
from creditcase.core.domains import NATURAL, Domain
from creditcase.plugins.housing.schema import HousingApplication

if TYPE_CHECKING:
    from creditcase.core.cases import Case, Decision
    from creditcase.core.checks import CreditCheck

#: the policy's strict-review measure, necessary in this domain
REVIEW_MEASURE = "GGZY-SC"
RECORD_CHANNELS = ("records", "lists")


class HousingDomain(Domain):
    code = "housing"
    name_zh = "保障性住房分配与低保"
    name_en = "Affordable housing and subsistence allowance"
    policy_basis = "舞信用办〔2020〕1号 三（五）12"
    subject_kinds = (NATURAL,)
    application_schema = HousingApplication
    required_channels = RECORD_CHANNELS
    requires_report = False
    rule_version = "2026.1"
    pinned_bindings = {REVIEW_MEASURE: "MANDATORY"}

    def before_decision(self, case: Case, check: CreditCheck, decision: Decision) -> list[str]:
        reasons = super().before_decision(case, check, decision)
        if decision.outcome == "rejected":
            return reasons
        answered = {c.get("name"): bool(c.get("available"))
                    for c in check.result.get("channels", [])}
        for name in RECORD_CHANNELS:
            if name not in answered:
                reasons.append(f"个人信用记录是必要的审查依据：本次查询未包括 {name} 渠道，不得批准，"
                               f"请重新查询 (the check did not query {name})")
            elif not answered[name]:
                reasons.append(f"个人信用记录是必要的审查依据：{name} 渠道未能答复，不得批准 "
                               f"(channel {name} did not answer)")
        adverse = [h for h in check.result.get("hits", []) if h.get("adverse")]
        stated = decision.reasons.strip() or any(fb.outcome_text.strip() for fb in decision.feedback)
        if adverse and not stated:
            reasons.append(f"申请人有 {len(adverse)} 条不良信用信息：批准须在决定理由或措施反馈中写明"
                           "信用记录审查意见 (state the credit-record review in reasons or feedback)")
        return reasons


@hookimpl
def creditcase_register_domains() -> list[Domain]:
    return [HousingDomain()]


__all__ = ["RECORD_CHANNELS", "REVIEW_MEASURE", "HousingApplication", "HousingDomain"]
