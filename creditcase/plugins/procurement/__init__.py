"""政府集中采购 (government centralised procurement), the 财政局's domain.

Policy: 舞信用办〔2020〕1号 三（五）1 — the supplier's credit record or credit
report is one of the important review bases when it bids for a government
procurement project; 财库〔2016〕125号 — suppliers on the dishonest judgment
debtor list (SXBZXR), the major tax violator list (ZDSSWF) or the procurement
serious-violation list (ZFCG_YZWF) must be rejected.

Subjects: legal persons and other organisations, individual businesses, and
natural persons. 政府采购法第二十一条 defines a supplier as a 法人、其他组织或者
自然人, and 财办库〔2016〕320号 registers persons by their ID number, so a
natural person may supply too.

Rules this plugin adds to the core workflow:

* ``ZFCG-JZ`` (拒绝参加政府采购活动) always binds as MANDATORY with effect
  ``reject``, whatever the catalogue says: the rejection is statutory, so
  leaving it unapplied needs a reviewer's override like any mandatory measure.
* A serious penalty within the three years before the bid deadline is an
  Art. 22(5) finding (see :mod:`.rules`): the check result carries a note, the
  recommendation is ``reject``, and approving anyway needs written reasons that
  say why the record is not a 重大违法记录.
* The decision must rest on the evaluation-time check (query window of
  财库〔2016〕125号, see :mod:`.rules`).
* A check is valid for 7 days: evaluation follows the bid deadline closely.

A credit report is not required: the policy asks for the credit record *or*
the report, and the record is always queried.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import marshmallow as ma

from creditcase import hookimpl
from creditcase.core.domains import INDIVIDUAL_BUSINESS, LEGAL, NATURAL, Domain, Recommendation
from creditcase.plugins.procurement import rules
from creditcase.plugins.procurement.schema import ProcurementApplication

if TYPE_CHECKING:
    from creditcase.core.cases import Case, Decision
    from creditcase.core.checks import CheckResult, CreditCheck

#: the statutory rejection of listed suppliers (财库〔2016〕125号)
REJECTION_MEASURE = "ZFCG-JZ"


class ProcurementDomain(Domain):
    code = "procurement"
    name_zh = "政府集中采购"
    name_en = "Government centralised procurement"
    policy_basis = "舞信用办〔2020〕1号 三（五）1；财库〔2016〕125号；政府采购法第二十二条"
    subject_kinds = (LEGAL, INDIVIDUAL_BUSINESS, NATURAL)
    application_schema = ProcurementApplication
    required_channels = ("records", "lists", "reports")
    requires_report = False
    max_check_age = dt.timedelta(days=7)
    rule_version = "2026.1"
    pinned_bindings = {REJECTION_MEASURE: "MANDATORY"}

    def recommend(self, result: CheckResult) -> Recommendation:
        base = super().recommend(result)
        if base.outcome == "reject":
            return base
        findings = rules.art22_findings(result.notes)
        if findings:
            return Recommendation("reject", [
                *findings,
                "供应商参加政府采购活动前三年内在经营活动中须没有重大违法记录；如该处罚属于政府采购法"
                "实施条例第十九条所称重大违法记录（较大数额罚款、责令停产停业、吊销许可证或者执照等），"
                "应认定其不符合供应商资格条件"])
        return base

    def before_decision(self, case: Case, check: CreditCheck, decision: Decision) -> list[str]:
        reasons = super().before_decision(case, check, decision)
        application = load_application(case)
        if application is None:
            return [*reasons, "采购申请数据不符合现行规则版本，无法核对查询时间，请更正申请 "
                              "(the application no longer validates under the current rules)"]
        reasons += rules.query_window_problems(check.checked_at, application["tender_notice_date"],
                                               application["bid_deadline"])
        findings = rules.art22_findings(check.result.get("notes", []))
        if findings and decision.outcome != "rejected" and not decision.reasons.strip():
            reasons.append("供应商近三年内有重大违法记录（政府采购法第二十二条第一款第五项）：批准须在"
                           "决定理由中说明该记录不构成重大违法记录的依据 (approval needs reasons)")
        return reasons


def load_application(case: Case) -> dict[str, Any] | None:
    """The case's application, typed again (dates and datetimes), or ``None`` if it no
    longer validates under the current schema."""
    try:
        return ProcurementApplication().load(dict(case.data or {}))
    except ma.ValidationError:
        return None


@hookimpl
def creditcase_register_domains() -> list[Domain]:
    return [ProcurementDomain()]


@hookimpl
def creditcase_evaluate_check(case: Case, result: CheckResult) -> None:
    """Note every Art. 22(5) finding on a procurement check, dated from the bid deadline."""
    if case.domain != ProcurementDomain.code:
        return
    application = load_application(case)
    if application is None:
        result.notes.append("采购申请数据无法解析，未按投标截止时间核对近三年重大违法记录")
        return
    deadline = application["bid_deadline"]
    since = rules.lookback_start(deadline)
    for hit in rules.serious_violations(result.hits, deadline):
        result.notes.append(rules.art22_note(hit, since))


__all__ = ["REJECTION_MEASURE", "ProcurementApplication", "ProcurementDomain", "load_application"]
