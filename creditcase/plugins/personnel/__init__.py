"""公务员、事业单位人员招录、聘用、管理 (civil-service and public-institution
personnel), the domain of the organisation and personnel departments and the
employing bodies.

Policy: 舞信用办〔2020〕1号 三（五）15 — in recruiting, engaging, appraising and
appointing civil servants and public-institution staff, the personal credit
status of the person concerned is *one reference*. Therefore:

* Subjects are natural persons only; the personal record and the lists are
  queried, not third-party reports.
* Every measure binds as DISCRETIONARY here, whatever the catalogue says, and
  the recommendation is never ``reject``: adverse information makes it
  ``review`` with the reasons listed. Leaving a measure unapplied needs a
  reason (as everywhere), not a reviewer's override.
* ``GWY-XZ`` (restricted recruitment of dishonest judgment debtors,
  中办发〔2016〕64号) means different things by matter: applied in a
  recruitment or engagement, the person is not taken on, so the outcome must
  be ``rejected``; applied in an appraisal or appointment, it is a reference
  and its feedback must say how it was weighed (``outcome_text``).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from creditcase import hookimpl
from creditcase.core.domains import NATURAL, Domain, Recommendation
from creditcase.plugins.personnel.schema import RECRUITMENT, PersonnelApplication

if TYPE_CHECKING:
    from creditcase.core.cases import Case, Decision
    from creditcase.core.checks import CheckResult, CreditCheck

#: restricted recruitment; a reference in appraisal and appointment
RESTRICTION_MEASURE = "GWY-XZ"
REFERENCE_NOTE = ("个人信用状况是招录、聘用、考核、任用的参考依据之一（舞信用办〔2020〕1号 三（五）15），"
                  "由组织人事部门和用人机关综合研判")


class PersonnelDomain(Domain):
    code = "personnel"
    name_zh = "公务员、事业单位人员招录、聘用、管理"
    name_en = "Civil-service and public-institution personnel"
    policy_basis = "舞信用办〔2020〕1号 三（五）15"
    subject_kinds = (NATURAL,)
    application_schema = PersonnelApplication
    required_channels = ("records", "lists")
    requires_report = False
    max_check_age = dt.timedelta(days=30)
    rule_version = "2026.1"

    def binding(self, measure_code: str, default: str) -> str:
        return "DISCRETIONARY"

    def recommend(self, result: CheckResult) -> Recommendation:
        punish = [f"{m.code}: {m.text_zh}" for m in result.measures if m.kind == "PUNISH"]
        adverse = [h.title for h in result.hits if h.adverse]
        if not (punish or adverse):
            return Recommendation("approve", [])
        return Recommendation("review", [*punish, *adverse, REFERENCE_NOTE])

    def before_decision(self, case: Case, check: CreditCheck, decision: Decision) -> list[str]:
        reasons = super().before_decision(case, check, decision)
        feedback = next((fb for fb in decision.feedback
                         if fb.measure == RESTRICTION_MEASURE and fb.applied), None)
        if feedback is None:
            return reasons
        matter = (case.data or {}).get("matter_type")
        if matter in RECRUITMENT and decision.outcome != "rejected":
            reasons.append(f"{RESTRICTION_MEASURE} 已执行：{matter}中限制招录（聘）即不予录用（聘用），"
                           "结果须为不予通过 (applied in recruitment: the outcome must be rejected)")
        if matter not in RECRUITMENT and not feedback.outcome_text.strip():
            reasons.append(f"{RESTRICTION_MEASURE} 已执行：{matter}中作为参考依据，须在措施反馈中写明如何"
                           "考虑其失信情况 (state in the feedback how it was weighed)")
        return reasons


@hookimpl
def creditcase_register_domains() -> list[Domain]:
    return [PersonnelDomain()]


__all__ = ["REFERENCE_NOTE", "RESTRICTION_MEASURE", "PersonnelApplication", "PersonnelDomain"]
