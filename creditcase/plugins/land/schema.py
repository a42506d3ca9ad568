"""The application schema of a bid for state-owned land-use rights (土地使用权出让).

One case is one bidder's application for the bidding qualification (竞买资格)
on one parcel. The grant term, when the announcement states one, may not
exceed the statutory maximum for the land use (城镇国有土地使用权出让和转让暂行
条例第十二条). Amounts and areas are
``Decimal`` and dumped as strings: stored case data never holds floats.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import marshmallow as ma

#: land use -> longest grant term in years (暂行条例第十二条)
MAX_TERM_YEARS = {
    "住宅": 70,
    "工业": 50,
    "仓储": 50,
    "教育科技文化卫生体育": 50,
    "商服": 40,
    "综合": 50,
}
LAND_USES = tuple(MAX_TERM_YEARS)
#: 招标拍卖挂牌出让国有建设用地使用权规定 (国土资源部令第39号)
TRANSFER_METHODS = ("招标", "拍卖", "挂牌")


def _text(max_length: int, label: str) -> ma.fields.String:
    return ma.fields.String(required=True, metadata={"description": label},
                            validate=ma.validate.Length(min=1, max=max_length,
                                                        error="长度须在 {min} 到 {max} 个字符之间"))


def _positive(places: int, what: str):
    def check(value: Decimal) -> None:
        if not value.is_finite() or value <= 0:
            raise ma.ValidationError(f"{what}须大于 0 ({what} must be positive)")
        if value.as_tuple().exponent < -places:
            raise ma.ValidationError(f"{what}最多保留 {places} 位小数 (at most {places} decimals)")

    return check


class LandApplication(ma.Schema):
    """A bidder's application for the bidding qualification on one parcel (宗地)."""

    parcel_no = _text(64, "宗地编号")
    location = _text(200, "宗地坐落")
    area_m2 = ma.fields.Decimal(required=True, as_string=True, validate=_positive(2, "面积"),
                                metadata={"description": "出让面积（平方米）"})
    land_use = ma.fields.String(required=True, metadata={"description": "土地用途"},
                                validate=ma.validate.OneOf(LAND_USES, error="土地用途须为 {choices} 之一"))
    term_years = ma.fields.Integer(strict=True,
                                   validate=ma.validate.Range(min=1, error="出让年限至少 1 年"),
                                   metadata={"description": "出让年限（年）；不填则按该用途法定最高年限"})
    transfer_method = ma.fields.String(
        required=True, metadata={"description": "出让方式"},
        validate=ma.validate.OneOf(TRANSFER_METHODS, error="出让方式须为 {choices} 之一"))
    starting_price = ma.fields.Decimal(required=True, as_string=True,
                                       validate=_positive(2, "起始价"),
                                       metadata={"description": "起始价（元）"})
    bid_deposit_paid = ma.fields.Boolean(required=True,
                                         metadata={"description": "竞买保证金已缴纳"})

    @ma.pre_load
    def strip_strings(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}

    @ma.validates_schema
    def term_within_statutory_maximum(self, data: dict[str, Any], **kwargs: Any) -> None:
        use, term = data.get("land_use"), data.get("term_years")
        if use in MAX_TERM_YEARS and term is not None and term > MAX_TERM_YEARS[use]:
            raise ma.ValidationError(
                f"{use}用地出让年限最高 {MAX_TERM_YEARS[use]} 年 (the grant term exceeds the "
                "statutory maximum)", field_name="term_years")


__all__ = ["LAND_USES", "MAX_TERM_YEARS", "TRANSFER_METHODS", "LandApplication"]
