"""The application schema of awards, ratings and periodic re-examination
(评优评级与周期性审验).

One case is one enterprise's application for an honour or a grade (荣誉称号,
纳税、信誉、商标 and similar 等级评定), or the periodic re-examination (周期性
审验) of one it holds; a re-examination names the certificate under review.
The assessment period (考察期) is the span of conduct the award looks at; its
start may not lie in the future.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma

from creditcase.core.db import BEIJING

RE_EXAMINATION = "周期性审验"
ASSESSMENT_KINDS = ("评优评先", "等级评定", RE_EXAMINATION)
#: what is assessed, after the policy's list (荣誉称号、纳税、信誉、商标等)
SUBJECT_MATTERS = ("荣誉称号", "纳税", "信誉", "商标", "质量", "其他")
FIRST_YEAR = 2000


def _text(max_length: int, label: str, *, required: bool = True) -> ma.fields.String:
    return ma.fields.String(required=required, metadata={"description": label},
                            validate=ma.validate.Length(min=1, max=max_length,
                                                        error="长度须在 {min} 到 {max} 个字符之间"))


class AwardApplication(ma.Schema):
    """An application for an honour or grade, or its periodic re-examination."""

    assessment_kind = ma.fields.String(
        required=True, metadata={"description": "评定类型"},
        validate=ma.validate.OneOf(ASSESSMENT_KINDS, error="评定类型须为 {choices} 之一"))
    subject_matter = ma.fields.String(
        required=True, metadata={"description": "评定内容"},
        validate=ma.validate.OneOf(SUBJECT_MATTERS, error="评定内容须为 {choices} 之一"))
    title = _text(200, "荣誉称号或等级名称")
    organiser = _text(200, "评定或审验机关")
    assessment_year = ma.fields.Integer(required=True, strict=True, metadata={"description": "评定年度"})
    period_start = ma.fields.Date(required=True, metadata={"description": "考察期起始日"})
    certificate_no = _text(64, "所持荣誉或等级证书编号；周期性审验必填", required=False)

    @ma.pre_load
    def strip_strings(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}

    @ma.validates("assessment_year")
    def year_in_range(self, value: int, **kwargs: Any) -> None:
        this_year = dt.datetime.now(BEIJING).year
        if not FIRST_YEAR <= value <= this_year + 1:
            raise ma.ValidationError(f"评定年度须在 {FIRST_YEAR} 到 {this_year + 1} 之间")

    @ma.validates("period_start")
    def period_not_in_future(self, value: dt.date, **kwargs: Any) -> None:
        if value > dt.datetime.now(BEIJING).date():
            raise ma.ValidationError("考察期起始日不能晚于今天 (the assessment period starts in the future)")

    @ma.validates_schema
    def certificate_for_re_examination(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("assessment_kind") == RE_EXAMINATION and not data.get("certificate_no"):
            raise ma.ValidationError("周期性审验须填写所持证书编号 (required for a re-examination)",
                                     field_name="certificate_no")


__all__ = ["ASSESSMENT_KINDS", "RE_EXAMINATION", "SUBJECT_MATTERS", "AwardApplication"]
