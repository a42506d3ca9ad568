"""落实税收优惠政策 (tax incentives), the 税务局's domain.

Policy: 舞信用办〔2020〕1号 三（五）8 — when applying incentives for small and
medium enterprises, energy saving, investment promotion and innovation, the
tax authority reviews the enterprise's credit, gives priority to enterprises
in good credit standing, and within the export refund plan the state issues
handles their export tax refunds first.

* Subjects: legal persons and individual businesses (the incentives are
  enterprise incentives).
* A-grade taxpayers (red list ``A_TAXPAYER``) raise ``A-LSTD`` (绿色通道、优先
  办理出口退税): the core puts the case first in the queue (priority 1), the
  recommendation names the incentive, and the check result carries a note
  (``A级纳税人：出口退税优先办理`` for an export refund, the green channel
  otherwise).
* Major tax violators (``ZDSSWF``) raise ``SSYH-XZ`` (从严审核，不予优先办理):
  the recommendation is ``review``. Whenever a punishment measure is raised,
  the punishment prevails: :meth:`TaxDomain.incentives` is empty, and the
  recommendation and the note say that the A-grade incentive is withheld.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from creditcase import hookimpl
from creditcase.core.domains import INDIVIDUAL_BUSINESS, LEGAL, Domain, Recommendation
from creditcase.plugins.tax.schema import EXPORT_REFUND, TaxIncentiveApplication

if TYPE_CHECKING:
    from creditcase.core.cases import Case
    from creditcase.core.checks import CheckResult, MeasureHit

#: reward of A-grade taxpayers (发改财金〔2016〕1467号)
A_GRADE_MEASURE = "A-LSTD"
#: strict review of major tax violators (发改财金〔2014〕3062号)
STRICT_REVIEW_MEASURE = "SSYH-XZ"
EXPORT_PRIORITY_NOTE = "A级纳税人：出口退税优先办理（在国家下达的出口退税计划内优先安排）"
GREEN_CHANNEL_NOTE = "A级纳税人：税收优惠审核绿色通道，优先办理"
WITHHELD_NOTE = "存在失信惩戒措施：从严审核，A级纳税人激励暂不适用，不予优先办理"


class TaxDomain(Domain):
    code = "tax"
    name_zh = "落实税收优惠政策"
    name_en = "Tax incentives"
    policy_basis = "舞信用办〔2020〕1号 三（五）8"
    subject_kinds = (LEGAL, INDIVIDUAL_BUSINESS)
    application_schema = TaxIncentiveApplication
    required_channels = ("records", "lists")
    requires_report = False
    rule_version = "2026.1"

    def incentives(self, result: CheckResult) -> list[MeasureHit]:
        """Rewards apply only while no punishment measure is raised (the punishment prevails)."""
        if any(m.kind == "PUNISH" for m in result.measures):
            return []
        return [m for m in result.measures if m.kind == "REWARD"]

    def recommend(self, result: CheckResult) -> Recommendation:
        base = super().recommend(result)
        if A_GRADE_MEASURE not in {m.code for m in result.measures}:
            return base
        if not self.incentives(result):
            base.reasons.append(WITHHELD_NOTE)
            return base
        reward = next(m for m in result.measures if m.code == A_GRADE_MEASURE)
        reasons = [f"{reward.code}: {reward.text_zh}",
                   "纳税信用A级：优先支持，在出口退税计划内优先办理出口退税（舞信用办〔2020〕1号 三（五）8）"]
        if base.outcome == "approve":
            return Recommendation("approve", reasons)
        return Recommendation(base.outcome, [*base.reasons, *reasons])


DOMAIN = TaxDomain()


@hookimpl
def creditcase_register_domains() -> list[Domain]:
    return [DOMAIN]


@hookimpl
def creditcase_evaluate_check(case: Case, result: CheckResult) -> None:
    """Note the A-grade incentive (or why it is withheld) on a tax check."""
    if case.domain != TaxDomain.code:
        return
    if A_GRADE_MEASURE not in {m.code for m in result.measures}:
        return
    if not DOMAIN.incentives(result):
        result.notes.append(WITHHELD_NOTE)
    elif (case.data or {}).get("incentive_type") == EXPORT_REFUND:
        result.notes.append(EXPORT_PRIORITY_NOTE)
    else:
        result.notes.append(GREEN_CHANNEL_NOTE)


__all__ = ["A_GRADE_MEASURE", "EXPORT_PRIORITY_NOTE", "GREEN_CHANNEL_NOTE", "STRICT_REVIEW_MEASURE",
           "WITHHELD_NOTE", "TaxDomain", "TaxIncentiveApplication"]
