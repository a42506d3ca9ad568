"""The application schema of social organisation registration (社会组织登记).

One case is one sponsor's part in founding a social organisation: the case's
subject is the main sponsoring organisation or person (主要发起单位或个人).
The statutory founding conditions that the application itself can show are
checked here:

* 社会团体 (社会团体登记管理条例第十条): at least 50 individual or 30 unit
  members, or 50 in all when mixed, and at least 30 000 yuan of activity funds
  for a local society; a society first applies to prepare (筹备申请), then to
  register (成立登记).
* 基金会 (基金会管理条例第八条): an original fund of at least 2 000 000 yuan.
* 民办非企业单位: lawful assets fit for its activities (more than nothing).

Amounts are ``Decimal`` yuan dumped as strings.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import marshmallow as ma

SOCIETY = "社会团体"
PRIVATE_NON_ENTERPRISE = "民办非企业单位"
FOUNDATION = "基金会"
ORGANISATION_TYPES = (SOCIETY, PRIVATE_NON_ENTERPRISE, FOUNDATION)
SPONSOR_UNIT = "主要发起单位"
SPONSOR_PERSON = "主要发起人"
SPONSOR_TYPES = (SPONSOR_UNIT, SPONSOR_PERSON)
PREPARATION = "筹备申请"
STAGES = (PREPARATION, "成立登记")
#: minimum founding funds (yuan) of a local organisation of each type
MIN_FUNDS = {SOCIETY: Decimal(30_000), FOUNDATION: Decimal(2_000_000)}


def _text(max_length: int, label: str, *, required: bool = True) -> ma.fields.String:
    return ma.fields.String(required=required, metadata={"description": label},
                            validate=ma.validate.Length(min=1, max=max_length,
                                                        error="长度须在 {min} 到 {max} 个字符之间"))


def _members(label: str) -> ma.fields.Integer:
    return ma.fields.Integer(strict=True, metadata={"description": label},
                             validate=ma.validate.Range(min=0, error="会员数不能为负数"))


def _funds(value: Decimal) -> None:
    if not value.is_finite() or value <= 0:
        raise ma.ValidationError("资金须大于 0 元 (funds must be more than 0 yuan)")
    if value.as_tuple().exponent < -2:
        raise ma.ValidationError("金额最多精确到分 (at most two decimal places)")


class SocialOrganisationApplication(ma.Schema):
    """A sponsor's application to found a social organisation."""

    organisation_name = _text(200, "拟成立社会组织名称")
    organisation_type = ma.fields.String(
        required=True, metadata={"description": "社会组织类型"},
        validate=ma.validate.OneOf(ORGANISATION_TYPES, error="社会组织类型须为 {choices} 之一"))
    sponsor_type = ma.fields.String(
        required=True, metadata={"description": "申请人身份"},
        validate=ma.validate.OneOf(SPONSOR_TYPES, error="申请人身份须为 {choices} 之一"))
    stage = ma.fields.String(
        required=True, metadata={"description": "登记环节"},
        validate=ma.validate.OneOf(STAGES, error="登记环节须为 {choices} 之一"))
    business_supervisor = _text(200, "业务主管单位（直接登记的不填）", required=False)
    funds = ma.fields.Decimal(required=True, as_string=True, validate=_funds,
                              metadata={"description": "活动资金、开办资金或原始基金（元）"})
    individual_members = _members("个人会员数（社会团体必填）")
    unit_members = _members("单位会员数（社会团体必填）")

    @ma.pre_load
    def strip_strings(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}

    @ma.validates_schema
    def founding_conditions(self, data: dict[str, Any], **kwargs: Any) -> None:
        kind, funds = data.get("organisation_type"), data.get("funds")
        if funds is not None and kind in MIN_FUNDS and funds < MIN_FUNDS[kind]:
            raise ma.ValidationError(f"{kind}资金不得少于 {MIN_FUNDS[kind]} 元 (below the statutory "
                                     "minimum funds)", field_name="funds")
        if data.get("stage") == PREPARATION and kind in ORGANISATION_TYPES and kind != SOCIETY:
            raise ma.ValidationError(f"{kind}直接申请成立登记，不经筹备 (only a society applies to "
                                     "prepare)", field_name="stage")
        persons, units = data.get("individual_members"), data.get("unit_members")
        if kind != SOCIETY:
            if persons is not None or units is not None:
                raise ma.ValidationError("只有社会团体填写会员数 (members are for societies only)",
                                         field_name="individual_members")
            return
        if persons is None or units is None:
            raise ma.ValidationError("社会团体须填写个人会员数和单位会员数 (required for a society)",
                                     field_name="individual_members" if persons is None
                                     else "unit_members")
        enough = units >= 30 if persons == 0 else persons + units >= 50
        if not enough:
            raise ma.ValidationError("社会团体须有 50 个以上个人会员或 30 个以上单位会员，混合组成的会员"
                                     "总数不得少于 50 个 (社会团体登记管理条例第十条)",
                                     field_name="individual_members")


__all__ = ["FOUNDATION", "MIN_FUNDS", "ORGANISATION_TYPES", "PREPARATION", "PRIVATE_NON_ENTERPRISE",
           "SOCIETY", "SPONSOR_PERSON", "SPONSOR_TYPES", "SPONSOR_UNIT", "STAGES",
           "SocialOrganisationApplication"]
