"""The application schema of food and drug tendering (食品药品招标采购).

One case is one bidder in one tender for drugs, medical consumables, medical
devices or food (for example centralised drug procurement or a canteen's food
supply tender). The bidder's production or trading licence is recorded; food
licence numbers have a fixed national shape (``SC`` or ``JY`` and 14 digits:
食品生产许可管理办法, 食品经营许可和备案管理办法), the others vary by
province and are only length-checked. Amounts are ``Decimal`` yuan dumped as
strings: stored case data never holds floats.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import marshmallow as ma

FOOD = "食品"
CATEGORIES = ("药品", "医用耗材", "医疗器械", FOOD)
FOOD_LICENCE = re.compile(r"^(SC|JY)\d{14}$")


def _text(max_length: int, label: str) -> ma.fields.String:
    return ma.fields.String(required=True, metadata={"description": label},
                            validate=ma.validate.Length(min=1, max=max_length,
                                                        error="长度须在 {min} 到 {max} 个字符之间"))


def _yuan_positive(value: Decimal) -> None:
    if not value.is_finite() or value <= 0:
        raise ma.ValidationError("金额须大于 0 元 (amount must be more than 0 yuan)")
    if value.as_tuple().exponent < -2:
        raise ma.ValidationError("金额最多精确到分 (at most two decimal places)")


class FoodDrugTenderApplication(ma.Schema):
    """A bidder's participation in one food or drug tender."""

    project_code = _text(64, "招标采购项目编号")
    project_name = _text(200, "招标采购项目名称")
    category = ma.fields.String(
        required=True, metadata={"description": "采购品类"},
        validate=ma.validate.OneOf(CATEGORIES, error="采购品类须为 {choices} 之一"))
    purchaser = _text(200, "采购人或集中采购机构")
    licence_no = _text(64, "投标人生产或经营许可证编号")
    product_count = ma.fields.Integer(
        required=True, strict=True,
        validate=ma.validate.Range(min=1, max=10000, error="投标品规数须在 {min} 到 {max} 之间"),
        metadata={"description": "投标品种（品规）数量"})
    budget_amount = ma.fields.Decimal(required=True, as_string=True, validate=_yuan_positive,
                                      metadata={"description": "采购预算金额（元）"})

    @ma.pre_load
    def strip_strings(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}

    @ma.validates_schema
    def food_licence_shape(self, data: dict[str, Any], **kwargs: Any) -> None:
        licence = data.get("licence_no")
        if data.get("category") == FOOD and licence and not FOOD_LICENCE.match(licence):
            raise ma.ValidationError("食品生产或经营许可证编号应为 SC 或 JY 加 14 位数字 "
                                     "(a food licence is SC or JY and 14 digits)", field_name="licence_no")


__all__ = ["CATEGORIES", "FOOD", "FOOD_LICENCE", "FoodDrugTenderApplication"]
