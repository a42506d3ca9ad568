"""The application schema of public-institution staffing (事业机构编制).

One case is one 事业单位's staffing matter before the staffing authority
(编制管理部门): approving its staff quota (编制核定), raising or lowering it,
or adjusting the institution (机构调整: functions, grade, merger). The quota
figures must agree with the matter: a raise asks for more than the current
quota, a cut for less.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

INCREASE = "编制增加"
DECREASE = "编制减少"
MATTER_TYPES = ("编制核定", INCREASE, DECREASE, "机构调整")
#: 中共中央 国务院关于分类推进事业单位改革的指导意见 (2011)
CATEGORIES = ("承担行政职能", "公益一类", "公益二类", "从事生产经营活动")


def _quota(label: str) -> ma.fields.Integer:
    return ma.fields.Integer(required=True, strict=True, metadata={"description": label},
                             validate=ma.validate.Range(min=0, max=100000,
                                                        error="编制数须在 {min} 到 {max} 之间"))


class StaffingApplication(ma.Schema):
    """A public institution's staffing matter."""

    matter_type = ma.fields.String(
        required=True, metadata={"description": "编制事项"},
        validate=ma.validate.OneOf(MATTER_TYPES, error="编制事项须为 {choices} 之一"))
    institution_category = ma.fields.String(
        required=True, metadata={"description": "事业单位分类"},
        validate=ma.validate.OneOf(CATEGORIES, error="事业单位分类须为 {choices} 之一"))
    supervising_department = ma.fields.String(
        required=True, metadata={"description": "主管部门"},
        validate=ma.validate.Length(min=1, max=200, error="长度须在 {min} 到 {max} 个字符之间"))
    current_quota = _quota("现有编制数")
    requested_quota = _quota("拟核定编制数")
    duties = ma.fields.String(
        required=True, metadata={"description": "主要职责及调整理由"},
        validate=ma.validate.Length(min=10, max=2000, error="请用 {min} 到 {max} 个字符说明职责和理由"))

    @ma.pre_load
    def strip_strings(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}

    @ma.validates_schema
    def quota_matches_matter(self, data: dict[str, Any], **kwargs: Any) -> None:
        kind = data.get("matter_type")
        current, requested = data.get("current_quota"), data.get("requested_quota")
        if current is None or requested is None:
            return
        if kind == INCREASE and requested <= current:
            raise ma.ValidationError("编制增加须使拟核定编制数大于现有编制数 (a raise must ask for more)",
                                     field_name="requested_quota")
        if kind == DECREASE and requested >= current:
            raise ma.ValidationError("编制减少须使拟核定编制数小于现有编制数 (a cut must ask for less)",
                                     field_name="requested_quota")


__all__ = ["CATEGORIES", "DECREASE", "INCREASE", "MATTER_TYPES", "StaffingApplication"]
