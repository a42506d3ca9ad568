"""The application schema of affordable housing and subsistence allowance
(保障性住房分配、低保资金发放).

One case is one household's application, filed by the applicant in person.
The housing area per capita is what the housing types are allocated on, so it
is required for 公租房 and 廉租房 and optional for 低保. Income and area are
``Decimal`` and dumped as strings: stored case data never holds floats. The
local eligibility thresholds (income and area limits) are set by the housing
and civil-affairs departments each year and are checked by the handler, not
hard-coded here.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import marshmallow as ma

HOUSING_TYPES = ("公租房", "廉租房")
APPLICATION_TYPES = (*HOUSING_TYPES, "低保")


def _non_negative(places: int, what: str):
    def check(value: Decimal) -> None:
        if not value.is_finite() or value < 0:
            raise ma.ValidationError(f"{what}不能为负数 ({what} must not be negative)")
        if value.as_tuple().exponent < -places:
            raise ma.ValidationError(f"{what}最多保留 {places} 位小数 (at most {places} decimals)")

    return check


class HousingApplication(ma.Schema):
    """A household's application for affordable housing or the subsistence allowance."""

    application_type = ma.fields.String(
        required=True, metadata={"description": "申请类别"},
        validate=ma.validate.OneOf(APPLICATION_TYPES, error="申请类别须为 {choices} 之一"))
    household_size = ma.fields.Integer(
        required=True, strict=True,
        validate=ma.validate.Range(min=1, max=20, error="家庭人口须在 {min} 到 {max} 人之间"),
        metadata={"description": "家庭人口数"})
    monthly_income_per_capita = ma.fields.Decimal(
        required=True, as_string=True, validate=_non_negative(2, "人均月收入"),
        metadata={"description": "家庭人均月收入（元）"})
    residence_district = ma.fields.String(
        required=True, validate=ma.validate.Length(min=1, max=100, error="请填写户籍或居住所在地"),
        metadata={"description": "户籍或居住所在乡（镇）、街道"})
    current_housing_m2_per_capita = ma.fields.Decimal(
        as_string=True, validate=_non_negative(2, "人均住房面积"),
        metadata={"description": "现人均住房建筑面积（平方米）；公租房、廉租房申请必填"})

    @ma.pre_load
    def strip_strings(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}

    @ma.validates_schema
    def housing_area_for_housing_types(self, data: dict[str, Any], **kwargs: Any) -> None:
        kind = data.get("application_type")
        area = data.get("current_housing_m2_per_capita")
        if kind in HOUSING_TYPES and area is None:
            raise ma.ValidationError(f"{kind}申请须填写现人均住房面积 (required for housing)",
                                     field_name="current_housing_m2_per_capita")


__all__ = ["APPLICATION_TYPES", "HOUSING_TYPES", "HousingApplication"]
