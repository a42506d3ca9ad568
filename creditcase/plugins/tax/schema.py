"""The application schema of a tax incentive (税收优惠) claim.

One case is one taxpayer's claim for one incentive in one tax year. An export
tax refund is handled inside the refund plan the state issues
(出口退税计划), so its plan number is required for 出口退税 and refused for
the other incentive types. The claimed amount is ``Decimal`` yuan, dumped as a
string: stored case data never holds floats.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import marshmallow as ma

from creditcase.core.db import BEIJING

EXPORT_REFUND = "出口退税"
INCENTIVE_TYPES = (EXPORT_REFUND, "小微企业减免", "高新技术企业", "研发费用加计扣除", "节能减排")
FIRST_TAX_YEAR = 2000


def _yuan_positive(value: Decimal) -> None:
    if not value.is_finite() or value <= 0:
        raise ma.ValidationError("金额须大于 0 元 (amount must be more than 0 yuan)")
    if value.as_tuple().exponent < -2:
        raise ma.ValidationError("金额最多精确到分 (at most two decimal places)")


class TaxIncentiveApplication(ma.Schema):
    """A taxpayer's claim for one tax incentive."""

    incentive_type = ma.fields.String(
        required=True, metadata={"description": "优惠类型"},
        validate=ma.validate.OneOf(INCENTIVE_TYPES, error="优惠类型须为 {choices} 之一"))
    tax_year = ma.fields.Integer(required=True, strict=True, metadata={"description": "所属税款年度"})
    amount_claimed = ma.fields.Decimal(required=True, as_string=True, validate=_yuan_positive,
                                       metadata={"description": "申请优惠（退税）金额（元）"})
    export_refund_plan_no = ma.fields.String(
        validate=ma.validate.Length(min=1, max=64, error="长度须在 {min} 到 {max} 个字符之间"),
        metadata={"description": "出口退税计划编号；出口退税必填"})

    @ma.pre_load
    def strip_strings(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}

    @ma.validates("tax_year")
    def tax_year_not_in_future(self, value: int, **kwargs: Any) -> None:
        this_year = dt.datetime.now(BEIJING).year
        if not FIRST_TAX_YEAR <= value <= this_year:
            raise ma.ValidationError(f"税款年度须在 {FIRST_TAX_YEAR} 到 {this_year} 之间")

    @ma.validates_schema
    def refund_plan_for_export_refunds(self, data: dict[str, Any], **kwargs: Any) -> None:
        kind, plan = data.get("incentive_type"), data.get("export_refund_plan_no")
        if kind == EXPORT_REFUND and not plan:
            raise ma.ValidationError("出口退税须填写出口退税计划编号 (required for export refunds)",
                                     field_name="export_refund_plan_no")
        if kind in INCENTIVE_TYPES and kind != EXPORT_REFUND and plan:
            raise ma.ValidationError(f"{kind}不填写出口退税计划编号 (only for export refunds)",
                                     field_name="export_refund_plan_no")


__all__ = ["EXPORT_REFUND", "INCENTIVE_TYPES", "TaxIncentiveApplication"]
