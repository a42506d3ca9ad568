"""The application schema of the local financial-supervision approvals named by
the policy (金融监督管理): setting up a microcredit company (小额贷款公司) or a
financing guarantee company (融资担保公司), and an enterprise's investment in a
financial institution (投资入股金融机构).

The subject of the case is the investing enterprise; the schema records the
institution and the stake. Statutory minimum registered capital is checked:
a financing guarantee company needs at least 20 million yuan paid in
(融资担保公司监督管理条例, 国务院令第683号), a microcredit company at least
5 million yuan (关于小额贷款公司试点的指导意见, 银监发〔2008〕23号, limited
company). Provincial rules may set higher floors; the handler checks those.
At set-up a contribution cannot exceed the registered capital; a later
investment may (shares bought at a premium). Amounts are ``Decimal`` yuan
dumped as strings.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import marshmallow as ma

MICROCREDIT = "设立小额贷款公司"
GUARANTEE = "设立融资担保公司"
INVESTMENT = "投资入股金融机构"
MATTER_TYPES = (MICROCREDIT, GUARANTEE, INVESTMENT)
INVESTOR_ROLES = ("主发起人", "发起人", "股东")
#: statutory minimum registered capital (yuan) of the institutions being set up
MIN_CAPITAL = {GUARANTEE: Decimal(20_000_000), MICROCREDIT: Decimal(5_000_000)}


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


class FinanceApplication(ma.Schema):
    """An enterprise's part in setting up, or investing in, a financial institution."""

    matter_type = ma.fields.String(
        required=True, metadata={"description": "事项类型"},
        validate=ma.validate.OneOf(MATTER_TYPES, error="事项类型须为 {choices} 之一"))
    institution_name = _text(200, "拟设立或被投资机构名称")
    investor_role = ma.fields.String(
        required=True, metadata={"description": "申请人身份"},
        validate=ma.validate.OneOf(INVESTOR_ROLES, error="申请人身份须为 {choices} 之一"))
    registered_capital = ma.fields.Decimal(required=True, as_string=True,
                                           validate=_positive(2, "注册资本"),
                                           metadata={"description": "机构注册资本（元）"})
    investment_amount = ma.fields.Decimal(required=True, as_string=True,
                                          validate=_positive(2, "出资额"),
                                          metadata={"description": "申请人出资额（元）"})
    shareholding_percent = ma.fields.Decimal(
        required=True, as_string=True, validate=_positive(4, "持股比例", at_most=Decimal(100)),
        metadata={"description": "持股比例（%）"})

    @ma.pre_load
    def strip_strings(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}

    @ma.validates_schema
    def capital_rules(self, data: dict[str, Any], **kwargs: Any) -> None:
        kind, capital = data.get("matter_type"), data.get("registered_capital")
        amount = data.get("investment_amount")
        if capital is None:
            return
        floor = MIN_CAPITAL.get(kind)
        if floor is not None and capital < floor:
            raise ma.ValidationError(f"{kind}注册资本不得低于人民币 {floor / 10000:.0f} 万元 "
                                     "(below the statutory minimum capital)",
                                     field_name="registered_capital")
        if floor is not None and amount is not None and amount > capital:
            raise ma.ValidationError("发起设立时出资额不能超过拟设立机构的注册资本 (at set-up the "
                                     "contribution cannot exceed the registered capital)",
                                     field_name="investment_amount")


__all__ = ["GUARANTEE", "INVESTMENT", "INVESTOR_ROLES", "MATTER_TYPES", "MICROCREDIT", "MIN_CAPITAL",
           "FinanceApplication"]
