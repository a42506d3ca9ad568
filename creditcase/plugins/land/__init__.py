"""土地使用权出让 (grant of state-owned land-use rights), the 自然资源局's domain.

Policy: 舞信用办〔2020〕1号 三（五）2 — when granting land-use rights, the land
authority uses the credit records of the enterprises and natural persons that
bid as *one reference* for judging their development capability and
qualification. Credit is therefore a basis for close review, never an
automatic bar:

* ``TD-ZDSC`` (竞买资格重点审查) always binds as DISCRETIONARY, whatever the
  catalogue says; the recommendation for serious adverse information or any
  punishment measure is ``review`` with the reasons listed, and never
  ``reject`` unless some other measure is a MANDATORY rejection.
* Confirming the bidding qualification (an approval) needs the bid deposit
  (竞买保证金) to have been paid: 国土资源部令第39号 admits only bidders who paid it.

Subjects: legal persons, individual businesses and natural persons. Credit
reports are queried (they inform the development-capability judgement) but
not required.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from creditcase import hookimpl
from creditcase.core.domains import INDIVIDUAL_BUSINESS, LEGAL, NATURAL, Domain, Recommendation
from creditcase.plugins.land.schema import LandApplication

if TYPE_CHECKING:
    from creditcase.core.cases import Case, Decision
    from creditcase.core.checks import CheckResult, CreditCheck

#: the policy's close-review measure; a reference only, never binding
REVIEW_MEASURE = "TD-ZDSC"
BINDING_LABELS = {"MANDATORY": "必须执行", "DISCRETIONARY": "裁量适用"}
REFERENCE_NOTE = ("信用记录是开发能力和资质评判的参考依据之一（舞信用办〔2020〕1号 三（五）2）："
                  "须结合竞买资格综合审查，不据此自动否决")


class LandDomain(Domain):
    code = "land"
    name_zh = "土地使用权出让"
    name_en = "Grant of land-use rights"
    policy_basis = "舞信用办〔2020〕1号 三（五）2"
    subject_kinds = (LEGAL, INDIVIDUAL_BUSINESS, NATURAL)
    application_schema = LandApplication
    required_channels = ("records", "lists", "reports")
    requires_report = False
    rule_version = "2026.1"
    pinned_bindings = {REVIEW_MEASURE: "DISCRETIONARY"}

    def recommend(self, result: CheckResult) -> Recommendation:
        mandatory = [m for m in result.measures
                     if m.kind == "PUNISH" and m.binding == "MANDATORY" and m.effect == "reject"]
        if mandatory:
            return Recommendation("reject", [f"{m.code}: {m.text_zh}" for m in mandatory])
        punish = [m for m in result.measures if m.kind == "PUNISH"]
        serious = [h for h in result.hits
                   if h.adverse and (h.severity == "serious" or h.channel == "lists")]
        other = [h for h in result.hits if h.adverse and h not in serious]
        if not (punish or serious or other):
            return Recommendation("approve", [])
        reasons = [f"{m.code}: {m.text_zh}（{BINDING_LABELS.get(m.binding, m.binding)}）" for m in punish]
        reasons += [f"严重失信信息：{h.title}" for h in serious]
        reasons += [f"不良信息：{h.title}" for h in other]
        reasons.append(REFERENCE_NOTE)
        return Recommendation("review", reasons)

    def before_decision(self, case: Case, check: CreditCheck, decision: Decision) -> list[str]:
        reasons = super().before_decision(case, check, decision)
        if decision.outcome != "rejected" and (case.data or {}).get("bid_deposit_paid") is not True:
            reasons.append("竞买保证金未缴纳，不得确认竞买资格 (the bid deposit has not been paid)")
        return reasons


@hookimpl
def creditcase_register_domains() -> list[Domain]:
    return [LandDomain()]


__all__ = ["REFERENCE_NOTE", "REVIEW_MEASURE", "LandApplication", "LandDomain"]
