"""社会法人、个人资质审核或认定 (qualification review and recognition of legal
and natural persons), the domain of every department that grants
qualifications.

Policy: 舞信用办〔2020〕1号 三（五）10 — when reviewing or recognising the
qualifications of legal persons and individuals, the departments use the
applicant's credit record or credit report as one reference for its
management capability and reputation.

* Subjects: legal persons, individual businesses and natural persons. The
  application says whether an organisation's qualification or a person's
  professional qualification is sought; anything but a rejection is refused
  when that does not match the subject (a person's qualification for a
  company, or the reverse).
* ``ZZRD-XZ`` (restriction in qualification recognition: dishonest judgment
  debtors, 法释〔2017〕7号第八条; market-supervision serious violators,
  总局令2021年第44号) is discretionary. Once applied, the qualification cannot
  be granted unconditionally: the outcome is ``rejected`` or
  ``approved_with_conditions`` naming the restriction (a lower grade, a
  shorter term, a narrower scope).
* Credit reports are read when filed but not required: the policy asks for
  the record *or* the report, and natural persons have no third-party report.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from creditcase import hookimpl
from creditcase.core.domains import INDIVIDUAL_BUSINESS, LEGAL, NATURAL, Domain, Recommendation
from creditcase.plugins.qualification.schema import ORGANISATION, PERSON, QualificationApplication

if TYPE_CHECKING:
    from creditcase.core.cases import Case, Decision
    from creditcase.core.checks import CheckResult, CreditCheck

#: restriction in qualification review and recognition
RESTRICTION_MEASURE = "ZZRD-XZ"
#: which subjects hold which kind of qualification
HOLDERS = {ORGANISATION: (LEGAL, INDIVIDUAL_BUSINESS), PERSON: (NATURAL,)}
REFERENCE_NOTE = ("信用记录是衡量管理能力和信誉水平的参考依据之一（舞信用办〔2020〕1号 三（五）10），"
                  "须结合资质标准综合审查")


class QualificationDomain(Domain):
    code = "qualification"
    name_zh = "社会法人、个人资质审核或认定"
    name_en = "Qualification review and recognition"
    policy_basis = "舞信用办〔2020〕1号 三（五）10"
    subject_kinds = (LEGAL, INDIVIDUAL_BUSINESS, NATURAL)
    application_schema = QualificationApplication
    required_channels = ("records", "lists", "reports")
    requires_report = False
    max_check_age = dt.timedelta(days=30)
    rule_version = "2026.1"

    def recommend(self, result: CheckResult) -> Recommendation:
        base = super().recommend(result)
        if base.outcome == "review":
            base.reasons.append(REFERENCE_NOTE)
        return base

    def before_decision(self, case: Case, check: CreditCheck, decision: Decision) -> list[str]:
        reasons = super().before_decision(case, check, decision)
        if decision.outcome == "rejected":
            return reasons
        holder = (case.data or {}).get("holder_type")
        if holder in HOLDERS and case.subject_kind not in HOLDERS[holder]:
            reasons.append(f"{holder}不能授予该类主体（{case.subject_kind}）：单位资质授予法人、其他组织"
                           "和个体工商户，个人资格授予自然人 (the qualification does not fit the subject)")
        applied = {fb.measure for fb in decision.feedback if fb.applied}
        if RESTRICTION_MEASURE in applied and decision.outcome == "approved":
            reasons.append(f"{RESTRICTION_MEASURE} 已执行：不得无条件授予资质，请不予认定，或附条件认定并"
                           "写明限制内容（如降低等级、缩短有效期、限定业务范围） (a restriction was "
                           "applied: reject, or approve with conditions)")
        return reasons


@hookimpl
def creditcase_register_domains() -> list[Domain]:
    return [QualificationDomain()]


__all__ = ["HOLDERS", "REFERENCE_NOTE", "RESTRICTION_MEASURE", "QualificationApplication",
           "QualificationDomain"]
