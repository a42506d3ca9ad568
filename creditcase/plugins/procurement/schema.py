"""The application schema of government centralised procurement (政府集中采购).

One case is one supplier's participation in one procurement project. The
schema validates what the purchaser or its agency records about the project;
it knows nothing of credit. Amounts are ``Decimal`` yuan and are dumped as
strings, because stored case data must never hold floats.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import marshmallow as ma

from creditcase.core.db import BEIJING

#: 政府采购法第二十六条 and 政府采购竞争性磋商采购方式管理暂行办法
PROCUREMENT_METHODS = ("公开招标", "邀请招标", "竞争性谈判", "竞争性磋商", "询价", "单一来源")
#: China has no daylight saving time: Beijing time is UTC+8 all year.


def _text(max_length: int, label: str, *, required: bool = True) -> ma.fields.String:
    return ma.fields.String(required=required, metadata={"description": label},
                            validate=ma.validate.Length(min=1, max=max_length,
                                                        error="长度须在 {min} 到 {max} 个字符之间"))


def _yuan_positive(value: Decimal) -> None:
    if not value.is_finite() or value <= 0:
        raise ma.ValidationError("金额须大于 0 元 (amount must be more than 0 yuan)")
    if value.as_tuple().exponent < -2:
        raise ma.ValidationError("金额最多精确到分 (at most two decimal places)")


class ProcurementApplication(ma.Schema):
    """A supplier's participation in a procurement project (采购项目)."""

    project_code = _text(64, "采购项目编号")
    project_name = _text(200, "采购项目名称")
    procurement_method = ma.fields.String(
        required=True, metadata={"description": "采购方式"},
        validate=ma.validate.OneOf(PROCUREMENT_METHODS, error="采购方式须为 {choices} 之一"))
    budget_amount = ma.fields.Decimal(required=True, as_string=True, validate=_yuan_positive,
                                      metadata={"description": "预算金额（元）"})
    tender_notice_date = ma.fields.Date(required=True, metadata={"description": "采购公告发布日期"})
    bid_deadline = ma.fields.AwareDateTime(
        required=True, default_timezone=BEIJING,
        metadata={"description": "投标（响应）截止时间；未带时区时按北京时间"})
    purchaser = _text(200, "采购人")
    agency = _text(200, "采购代理机构（可选）", required=False)

    @ma.pre_load
    def strip_strings(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}

    @ma.validates_schema
    def deadline_after_notice(self, data: dict[str, Any], **kwargs: Any) -> None:
        notice, deadline = data.get("tender_notice_date"), data.get("bid_deadline")
        if notice and deadline and deadline.astimezone(BEIJING).date() <= notice:
            raise ma.ValidationError(
                "投标截止时间须晚于采购公告发布日期 (bid_deadline must be after tender_notice_date)",
                field_name="bid_deadline")


__all__ = ["BEIJING", "PROCUREMENT_METHODS", "ProcurementApplication"]
