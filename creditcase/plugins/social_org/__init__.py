"""社会组织登记 (registration of social organisations), the 民政局's domain.

Policy: 舞信用办〔2020〕1号 三（五）14 — when a legal person or an individual is
the main sponsor of a social organisation, the registration authority uses the
sponsor's credit status as an *important* reference.

* The case's subject is the main sponsor: a legal person (主要发起单位) or a
  natural person (主要发起人). The application says which; anything but a
  rejection is refused when that does not match the subject.
* ``SHZZ-XZ`` (dishonest judgment debtors may not found social organisations,
  中办发〔2016〕64号) binds as MANDATORY with effect ``reject``.
* Other adverse information makes the recommendation ``review``; as the
  reference is an important one, an approval despite adverse information
  needs written reasons.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from creditcase import hookimpl
from creditcase.core.domains import LEGAL, NATURAL, Domain
from creditcase.plugins.social_org.schema import (
    SPONSOR_PERSON,
    SPONSOR_UNIT,
    SocialOrganisationApplication,
)

if TYPE_CHECKING:
    from creditcase.core.cases import Case, Decision
    from creditcase.core.checks import CreditCheck

#: dishonest judgment debtors may not found social organisations
FOUNDING_BAR_MEASURE = "SHZZ-XZ"
SPONSOR_KINDS = {SPONSOR_UNIT: LEGAL, SPONSOR_PERSON: NATURAL}


class SocialOrganisationDomain(Domain):
    code = "social_org"
    name_zh = "社会组织登记"
    name_en = "Registration of social organisations"
    policy_basis = "舞信用办〔2020〕1号 三（五）14"
    subject_kinds = (LEGAL, NATURAL)
    application_schema = SocialOrganisationApplication
    required_channels = ("records", "lists", "reports")
    requires_report = False
    max_check_age = dt.timedelta(days=30)
    rule_version = "2026.1"
    pinned_bindings = {FOUNDING_BAR_MEASURE: "MANDATORY"}

    def before_decision(self, case: Case, check: CreditCheck, decision: Decision) -> list[str]:
        reasons = super().before_decision(case, check, decision)
        if decision.outcome == "rejected":
            return reasons
        sponsor = (case.data or {}).get("sponsor_type")
        if sponsor in SPONSOR_KINDS and SPONSOR_KINDS[sponsor] != case.subject_kind:
            reasons.append(f"申请人身份为{sponsor}，与主体类别（{case.subject_kind}）不符：主要发起单位须为"
                           "法人或其他组织，主要发起人须为自然人 (the sponsor type does not fit the subject)")
        adverse = [h for h in check.result.get("hits", []) if h.get("adverse")]
        if adverse and not decision.reasons.strip():
            reasons.append(f"发起人有 {len(adverse)} 条不良信用信息：信用状况是重要参考依据，准予登记须在"
                           "决定理由中写明审查意见 (approval needs reasons)")
        return reasons


@hookimpl
def creditcase_register_domains() -> list[Domain]:
    return [SocialOrganisationDomain()]


__all__ = ["FOUNDING_BAR_MEASURE", "SPONSOR_KINDS", "SocialOrganisationApplication",
           "SocialOrganisationDomain"]
