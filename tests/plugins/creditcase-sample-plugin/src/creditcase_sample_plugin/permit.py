"""户外广告设施设置许可 (outdoor advertising permit): a domain from a third party.

Policy: 舞信用办〔2020〕1号 三（四） (行政审批) and 三（五）16 (其他行政管理事项):
the 城市管理局 uses the applicant's credit record when it grants a permit to
put up an outdoor advertising facility.

What the domain declares:

* subjects: legal persons and individual businesses (the advertiser);
* the application (:class:`OutdoorAdvertisingApplication`): where, what kind of
  facility, its area, the display period (at most three years) and the number
  of the structural safety report;
* channels: the local records and lists, and the provincial platform
  (``sample_province``, from this distribution's second plugin). Without that
  channel, or when it does not answer, the check is incomplete and the core
  refuses the decision;
* its own rule: an applicant with adverse credit information gets at most a
  one-year permit. The recommendation becomes ``approve_with_conditions``, the
  check carries a note when the requested period is longer, and a plain
  ``approved`` decision is refused: approve with conditions, or reject.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import marshmallow as ma

from creditcase import hookimpl
from creditcase.core.domains import INDIVIDUAL_BUSINESS, LEGAL, Domain, Recommendation
from creditcase_sample_plugin.channel import CHANNEL_NAME

if TYPE_CHECKING:
    from creditcase.core.cases import Case, Decision
    from creditcase.core.checks import CheckResult, CreditCheck

DOMAIN_CODE = "sample_permit"
FACILITY_TYPES = ("单立柱广告牌", "墙面广告", "屋顶广告", "LED显示屏")
#: the longest display period granted at all, and to an applicant with adverse information
MAX_PERIOD_DAYS = 3 * 366
ADVERSE_MAX_PERIOD_DAYS = 366
CONDITION = "申请人存在不良信用信息：设置期限不超过1年，期满重新申请"
SHORTEN_NOTE = "申请设置期限超过1年，且申请人存在不良信用信息：批准时须将期限缩短至1年以内"


def _area(value: Decimal) -> None:
    if not value.is_finite() or value <= 0 or value > 500:
        raise ma.ValidationError("面积须大于 0 且不超过 500 平方米 (0 < area <= 500 m²)")


class OutdoorAdvertisingApplication(ma.Schema):
    """One facility at one site for one display period."""

    site_address = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200),
                                    metadata={"description": "设置地点"})
    facility_type = ma.fields.String(required=True, validate=ma.validate.OneOf(FACILITY_TYPES),
                                     metadata={"description": "设施类型"})
    area_m2 = ma.fields.Decimal(required=True, as_string=True, validate=_area,
                                metadata={"description": "画面面积（平方米）"})
    display_from = ma.fields.Date(required=True, metadata={"description": "设置期限自"})
    display_until = ma.fields.Date(required=True, metadata={"description": "设置期限至"})
    safety_report_no = ma.fields.String(required=True,
                                        validate=ma.validate.Length(min=1, max=64),
                                        metadata={"description": "结构安全检测报告编号"})

    @ma.validates_schema
    def _period(self, data: dict[str, Any], **kwargs: Any) -> None:
        start, end = data.get("display_from"), data.get("display_until")
        if start is None or end is None:
            return
        if end <= start:
            raise ma.ValidationError("须晚于设置期限自 (must be after display_from)",
                                     field_name="display_until")
        if (end - start).days > MAX_PERIOD_DAYS:
            raise ma.ValidationError("设置期限不超过3年 (at most three years)",
                                     field_name="display_until")


def period_days(case: Case) -> int | None:
    """The requested display period in days, or ``None`` if the data no longer loads."""
    try:
        data = OutdoorAdvertisingApplication().load(dict(case.data or {}))
    except ma.ValidationError:
        return None
    return (data["display_until"] - data["display_from"]).days


class OutdoorAdvertisingDomain(Domain):
    code = DOMAIN_CODE
    name_zh = "户外广告设施设置许可（示例插件）"
    name_en = "Outdoor advertising permit (sample plugin)"
    policy_basis = "舞信用办〔2020〕1号 三（四）、三（五）16"
    subject_kinds = (LEGAL, INDIVIDUAL_BUSINESS)
    application_schema = OutdoorAdvertisingApplication
    required_channels = ("records", "lists", CHANNEL_NAME)
    requires_report = False
    max_check_age = dt.timedelta(days=15)
    rule_version = "sample-1.0"

    def recommend(self, result: CheckResult) -> Recommendation:
        base = super().recommend(result)
        adverse = [h.title for h in result.hits if h.adverse]
        if base.outcome in ("approve", "review") and adverse and not any(
                m.kind == "PUNISH" for m in result.measures):
            return Recommendation("approve_with_conditions", [*adverse, CONDITION])
        return base

    def before_decision(self, case: Case, check: CreditCheck, decision: Decision) -> list[str]:
        reasons = super().before_decision(case, check, decision)
        adverse = any(h.get("adverse") for h in check.result.get("hits", []))
        if adverse and decision.outcome == "approved":
            reasons.append("申请人存在不良信用信息：只能附条件批准（设置期限不超过1年）或不予批准 "
                           "(adverse credit information: approve with conditions or reject)")
        return reasons


DOMAIN = OutdoorAdvertisingDomain()


@hookimpl
def creditcase_register_domains() -> list[Domain]:
    return [DOMAIN]


@hookimpl
def creditcase_evaluate_check(case: Case, result: CheckResult) -> None:
    """Note when the requested period is longer than an applicant with adverse
    information may get."""
    if case.domain != DOMAIN_CODE or not any(h.adverse for h in result.hits):
        return
    days = period_days(case)
    if days is not None and days > ADVERSE_MAX_PERIOD_DAYS:
        result.notes.append(SHORTEN_NOTE)


__all__ = ["CONDITION", "DOMAIN", "DOMAIN_CODE", "SHORTEN_NOTE", "OutdoorAdvertisingApplication",
           "OutdoorAdvertisingDomain"]
