"""The application schema of a special fiscal fund subsidy (财政专项资金补助).

One case is one applicant's request for support from one special fund in one
fund year. The subsidy may not exceed the project's total investment.
Amounts are ``Decimal`` yuan dumped as strings: stored case data never holds
floats. The fund's own eligibility rules (ratios, ceilings, sectors) are set
by each fund's management measures and checked by the handler.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import marshmallow as ma

from creditcase.core.db import BEIJING

SUPPORT_METHODS = ("无偿资助", "贷款贴息", "以奖代补", "先建后补", "风险补偿")
FIRST_FUND_YEAR = 2000


def _text(max_length: int, label: str) -> ma.fields.String:
    return ma.fields.String(required=True, metadata={"description": label},
                            validate=ma.validate.Length(min=1, max=max_length,
                                                        error="长度须在 {min} 到 {max} 个字符之间"))


def _yuan_positive(value: Decimal) -> None:
    if not value.is_finite() or value <= 0:
        raise ma.ValidationError("金额须大于 0 元 (amount must be more than 0 yuan)")
    if value.as_tuple().exponent < -2:
        raise ma.ValidationError("金额最多精确到分 (at most two decimal places)")


class SubsidyApplication(ma.Schema):
    """An applicant's request for support from one special fund."""

    fund_name = _text(200, "专项资金名称")
    fund_year = ma.fields.Integer(required=True, strict=True, metadata={"description": "资金年度"})
    project_name = _text(200, "申报项目名称")
    support_method = ma.fields.String(
        required=True, metadata={"description": "支持方式"},
        validate=ma.validate.OneOf(SUPPORT_METHODS, error="支持方式须为 {choices} 之一"))
    amount_requested = ma.fields.Decimal(required=True, as_string=True, validate=_yuan_positive,
                                         metadata={"description": "申请补助金额（元）"})
    total_investment = ma.fields.Decimal(required=True, as_string=True, validate=_yuan_positive,
                                         metadata={"description": "项目总投资（元）"})
    competent_department = _text(200, "项目主管部门")

    @ma.pre_load
    def strip_strings(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}

    @ma.validates("fund_year")
    def fund_year_in_range(self, value: int, **kwargs: Any) -> None:
        next_year = dt.datetime.now(BEIJING).year + 1
        if not FIRST_FUND_YEAR <= value <= next_year:
            raise ma.ValidationError(f"资金年度须在 {FIRST_FUND_YEAR} 到 {next_year} 之间")

    @ma.validates_schema
    def subsidy_within_investment(self, data: dict[str, Any], **kwargs: Any) -> None:
        amount, total = data.get("amount_requested"), data.get("total_investment")
        if amount is not None and total is not None and amount > total:
            raise ma.ValidationError("申请补助金额不能超过项目总投资 (the subsidy exceeds the total "
                                     "investment)", field_name="amount_requested")


__all__ = ["SUPPORT_METHODS", "SubsidyApplication"]
