"""国有资产产权交易 (state-owned property-rights transactions), the domain of the
state-assets authority (国资管理部门) and the property-rights exchange.

Policy: 舞信用办〔2020〕1号 三（五）4 — in a state-owned property-rights
transaction, the state-assets authority uses the credit reports or credit
records of *both parties* as one reference for the transferee's
qualification review.

* The case's subject is the intended transferee (a legal person, an
  individual business or a natural person: 企业国有资产交易监督管理办法 lets
  any of them bid unless the listing conditions say otherwise). The
  counterparty, the transferor (or the enterprise taking capital in an
  increase), is named with its USCC in the application and checked by this
  plugin's ``creditcase_evaluate_check`` hook (see :mod:`.counterparty`): its
  hits are added under the ``counterparty`` channel with codes prefixed
  ``COUNTERPARTY:`` and raise ``GYCQ-DFSC`` (close review of title, seizures
  and genuineness of the deal). A black-listed counterparty therefore makes a
  hit and a measure even when the transferee is clean.
* ``GYCQ-XZ`` (a transferee who is a dishonest judgment debtor is barred from
  state-asset transactions, 中办发〔2016〕64号) binds as MANDATORY with effect
  ``reject`` in this domain, whatever the catalogue says.
* A decision other than a rejection needs a check that queried the
  counterparty named in the application, and a transferor distinct from the
  transferee.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import marshmallow as ma

from creditcase import hookimpl
from creditcase.core.checks import ChannelReceipt
from creditcase.core.domains import INDIVIDUAL_BUSINESS, LEGAL, NATURAL, Domain, Recommendation
from creditcase.plugins.state_assets import counterparty
from creditcase.plugins.state_assets.schema import StateAssetsApplication

if TYPE_CHECKING:
    from creditcase.core.cases import Case, Decision
    from creditcase.core.checks import CheckResult, CreditCheck

#: a dishonest judgment debtor may not acquire state assets
TRANSFEREE_BAR_MEASURE = "GYCQ-XZ"
#: close review when the counterparty has adverse information
COUNTERPARTY_REVIEW_MEASURE = "GYCQ-DFSC"
REFERENCE_NOTE = ("双方信用记录是受让方资格审查的参考依据之一（舞信用办〔2020〕1号 三（五）4）：交易对方的"
                  "失信信息不改变受让方自身的资格条件，但须审查交易标的权属和交易真实性")


class StateAssetsDomain(Domain):
    code = "state_assets"
    name_zh = "国有资产产权交易"
    name_en = "State-owned property-rights transactions"
    policy_basis = ("舞信用办〔2020〕1号 三（五）4；"
                    "企业国有资产交易监督管理办法（国务院国资委 财政部令第32号）")
    subject_kinds = (LEGAL, INDIVIDUAL_BUSINESS, NATURAL)
    application_schema = StateAssetsApplication
    required_channels = ("records", "lists", "reports")
    requires_report = False
    max_check_age = dt.timedelta(days=15)
    rule_version = "2026.1"
    pinned_bindings = {TRANSFEREE_BAR_MEASURE: "MANDATORY"}

    def recommend(self, result: CheckResult) -> Recommendation:
        base = super().recommend(result)
        if any(h.channel == counterparty.CHANNEL and h.adverse for h in result.hits):
            base.reasons.append(REFERENCE_NOTE)
        return base

    def related_subjects(self, data: dict[str, Any]) -> list[str]:
        """The transferor: a change to its credit makes the case stale too."""
        return [data["transferor_code"]]

    def before_decision(self, case: Case, check: CreditCheck, decision: Decision) -> list[str]:
        reasons = super().before_decision(case, check, decision)
        if decision.outcome == "rejected":
            return reasons
        application = load_application(case)
        if application is None:
            return [*reasons, "交易申请数据不符合现行规则版本，无法核对交易对方，请更正申请 "
                              "(the application no longer validates under the current rules)"]
        code = application["transferor_code"]
        if code == case.subject_code:
            reasons.append("转让方与受让方为同一主体，不得确认受让资格 (transferor and transferee are "
                           "the same subject)")
        if not counterparty.was_queried(check.result.get("notes", []), code):
            reasons.append(f"本次信用查询未包括交易对方（转让方，{code}），双方信用记录均须查询，请重新查询 "
                           "(the check did not query the counterparty)")
        return reasons


DOMAIN = StateAssetsDomain()


def load_application(case: Case) -> dict[str, Any] | None:
    """The case's application, typed again, or ``None`` if it no longer validates."""
    try:
        return StateAssetsApplication().load(dict(case.data or {}))
    except ma.ValidationError:
        return None


@hookimpl
def creditcase_register_domains() -> list[Domain]:
    return [DOMAIN]


@hookimpl
def creditcase_evaluate_check(case: Case, result: CheckResult) -> None:
    """Check the counterparty of a state-assets case (see :mod:`.counterparty`)."""
    if case.domain != StateAssetsDomain.code:
        return
    application = load_application(case)
    if application is None:
        result.channels.append(ChannelReceipt(
            counterparty.CHANNEL, counterparty.CHANNEL_TITLE, False, None, 0,
            "the application does not validate: the counterparty cannot be identified"))
        result.notes.append("交易申请数据无法解析，未能查询交易对方（转让方）信用记录")
        return
    counterparty.add_to_result(result, DOMAIN, application["transferor_code"],
                               application["transferor_name"])


__all__ = ["COUNTERPARTY_REVIEW_MEASURE", "REFERENCE_NOTE", "TRANSFEREE_BAR_MEASURE",
           "StateAssetsApplication", "StateAssetsDomain", "load_application"]
