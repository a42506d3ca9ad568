"""The application schema of civil-service and public-institution personnel
matters (公务员、事业单位人员招录、聘用、管理).

One case is one person in one personnel matter: recruitment by examination
(公务员招录, 事业单位公开招聘), engagement (聘用), appraisal (考核) or
appointment (任用). An examination candidate is identified by the exam ticket
number; the person's ID number is the case's subject and is not repeated here.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

EXAMINATIONS = ("公务员招录", "事业单位公开招聘")
RECRUITMENT = (*EXAMINATIONS, "聘用")
MATTER_TYPES = (*RECRUITMENT, "考核", "任用")


def _text(max_length: int, label: str, *, required: bool = True) -> ma.fields.String:
    return ma.fields.String(required=required, metadata={"description": label},
                            validate=ma.validate.Length(min=1, max=max_length,
                                                        error="长度须在 {min} 到 {max} 个字符之间"))


class PersonnelApplication(ma.Schema):
    """One person in one recruitment, engagement, appraisal or appointment."""

    matter_type = ma.fields.String(
        required=True, metadata={"description": "人事事项"},
        validate=ma.validate.OneOf(MATTER_TYPES, error="人事事项须为 {choices} 之一"))
    employer = _text(200, "招录机关或用人单位")
    position_name = _text(100, "职位或岗位名称")
    position_code = _text(32, "职位（岗位）代码", required=False)
    exam_ticket_no = _text(32, "准考证号；考试录用、公开招聘必填", required=False)
    announcement_no = _text(100, "招考公告或任免文件文号", required=False)

    @ma.pre_load
    def strip_strings(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}

    @ma.validates_schema
    def ticket_for_examinations(self, data: dict[str, Any], **kwargs: Any) -> None:
        kind = data.get("matter_type")
        if kind in EXAMINATIONS and not data.get("exam_ticket_no"):
            raise ma.ValidationError(f"{kind}须填写准考证号 (required for {kind})",
                                     field_name="exam_ticket_no")


__all__ = ["EXAMINATIONS", "MATTER_TYPES", "RECRUITMENT", "PersonnelApplication"]
