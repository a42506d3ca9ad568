"""The application schema of construction-project bidding (工程建设招投标).

One case is one bidder in one bid section (标段) of a government-invested
project, at one stage of the procurement: prequalification (资格预审), bid
evaluation (评标) or pricing (定价). The schema records what the tendering
agency (招标人 or its agent) knows of the bid; it knows nothing of credit.
Amounts are ``Decimal`` yuan dumped as strings: stored case data never holds
floats.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import marshmallow as ma

#: the three uses the policy names for the bidder's credit record
STAGES = ("资格预审", "评标", "定价")
#: 招标投标法实施条例 and 必须招标的工程项目规定 (国家发展改革委令第16号)
TENDER_TYPES = ("施工", "勘察", "设计", "监理", "工程总承包", "重要设备材料")


def _text(max_length: int, label: str, *, required: bool = True) -> ma.fields.String:
    return ma.fields.String(required=required, metadata={"description": label},
                            validate=ma.validate.Length(min=1, max=max_length,
                                                        error="长度须在 {min} 到 {max} 个字符之间"))


def _yuan_positive(value: Decimal) -> None:
    if not value.is_finite() or value <= 0:
        raise ma.ValidationError("金额须大于 0 元 (amount must be more than 0 yuan)")
    if value.as_tuple().exponent < -2:
        raise ma.ValidationError("金额最多精确到分 (at most two decimal places)")


class ConstructionBidApplication(ma.Schema):
    """A bidder's participation in one bid section of a government-invested project."""

    project_code = _text(64, "项目编号（全国投资项目在线审批监管平台代码或招标项目编号）")
    project_name = _text(200, "工程项目名称")
    bid_section = _text(100, "标段（包）名称")
    tenderer = _text(200, "招标人")
    tender_type = ma.fields.String(
        required=True, metadata={"description": "招标类别"},
        validate=ma.validate.OneOf(TENDER_TYPES, error="招标类别须为 {choices} 之一"))
    stage = ma.fields.String(
        required=True, metadata={"description": "信用记录使用环节"},
        validate=ma.validate.OneOf(STAGES, error="使用环节须为 {choices} 之一"))
    ceiling_price = ma.fields.Decimal(required=True, as_string=True, validate=_yuan_positive,
                                      metadata={"description": "最高投标限价（元）"})
    qualification_certificate_no = _text(64, "投标人资质证书编号")

    @ma.pre_load
    def strip_strings(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}


__all__ = ["STAGES", "TENDER_TYPES", "ConstructionBidApplication"]
