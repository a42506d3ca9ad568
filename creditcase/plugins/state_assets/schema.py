"""The application schema of a state-owned property-rights transaction
(国有资产产权交易).

One case is one intended transferee's qualification review (受让方资格审查)
in one listed transaction. The transaction types are those of
企业国有资产交易监督管理办法 (国务院国资委 财政部令第32号): transfer of
enterprise property rights, capital increase, and transfer of enterprise
assets. The transferor is named with its USCC, because the policy asks for
the credit of *both* parties; the code is validated and stored normalised.
Amounts are ``Decimal`` dumped as strings: stored case data never holds floats.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import marshmallow as ma

from creditcase.core import ids

EQUITY_TRANSFER = "企业产权转让"
CAPITAL_INCREASE = "企业增资"
ASSET_TRANSFER = "企业资产转让"
TRANSACTION_TYPES = (EQUITY_TRANSFER, CAPITAL_INCREASE, ASSET_TRANSFER)


def _text(max_length: int, label: str) -> ma.fields.String:
    return ma.fields.String(required=True, metadata={"description": label},
                            validate=ma.validate.Length(min=1, max=max_length,
                                                        error="长度须在 {min} 到 {max} 个字符之间"))


def _positive(places: int, what: str, *, at_most: Decimal | None = None):
    def check(value: Decimal) -> None:
        if not value.is_finite() or value <= 0:
            raise ma.ValidationError(f"{what}须大于 0 ({what} must be positive)")
        if at_most is not None and value > at_most:
            raise ma.ValidationError(f"{what}不能超过 {at_most} ({what} must be at most {at_most})")
        if value.as_tuple().exponent < -places:
            raise ma.ValidationError(f"{what}最多保留 {places} 位小数 (at most {places} decimals)")

    return check


class OrganisationCode(ma.fields.String):
    """A USCC, validated (GB 32100) and normalised; an ID number is refused."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            kind, code = ids.validate(text)
        except ids.IdentityCodeError as exc:
            raise ma.ValidationError(f"统一社会信用代码无效 ({exc.rule}: {exc.message})") from exc
        if kind != "uscc":
            raise ma.ValidationError("转让方须为国家出资企业或其他组织，请填写统一社会信用代码，"
                                     "不能填写身份证号码 (a USCC is required, not an ID number)")
        return code


class StateAssetsApplication(ma.Schema):
    """An intended transferee's qualification review in one listed transaction."""

    project_no = _text(64, "交易项目编号（产权交易机构挂牌编号）")
    transaction_type = ma.fields.String(
        required=True, metadata={"description": "交易类型"},
        validate=ma.validate.OneOf(TRANSACTION_TYPES, error="交易类型须为 {choices} 之一"))
    target_name = _text(200, "交易标的名称")
    transferor_name = _text(200, "转让方（增资企业）名称")
    transferor_code = OrganisationCode(required=True,
                                       metadata={"description": "转让方（增资企业）统一社会信用代码"})
    listing_price = ma.fields.Decimal(required=True, as_string=True, validate=_positive(2, "挂牌价格"),
                                      metadata={"description": "挂牌价格或拟募集资金金额（元）"})
    equity_ratio_percent = ma.fields.Decimal(
        as_string=True, validate=_positive(4, "股权比例", at_most=Decimal(100)),
        metadata={"description": "转让或新增股权比例（%）；产权转让、增资必填，资产转让不填"})

    @ma.pre_load
    def strip_strings(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}

    @ma.validates_schema
    def equity_ratio_by_type(self, data: dict[str, Any], **kwargs: Any) -> None:
        kind, ratio = data.get("transaction_type"), data.get("equity_ratio_percent")
        if kind in (EQUITY_TRANSFER, CAPITAL_INCREASE) and ratio is None:
            raise ma.ValidationError(f"{kind}须填写股权比例 (required for {kind})",
                                     field_name="equity_ratio_percent")
        if kind == ASSET_TRANSFER and ratio is not None:
            raise ma.ValidationError("资产转让不填写股权比例 (not for asset transfers)",
                                     field_name="equity_ratio_percent")


__all__ = ["ASSET_TRANSFER", "CAPITAL_INCREASE", "EQUITY_TRANSFER", "TRANSACTION_TYPES",
           "OrganisationCode", "StateAssetsApplication"]
