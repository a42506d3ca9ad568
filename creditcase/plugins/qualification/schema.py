"""The application schema of qualification review and recognition
(社会法人、个人资质审核或认定).

One case is one application for a qualification: an organisation's
qualification (单位资质, e.g. a trade or service qualification grade) or a
person's professional qualification (个人资格). A renewal, upgrade or added
scope names the certificate held; a first application has none.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

ORGANISATION = "单位资质"
PERSON = "个人资格"
HOLDER_TYPES = (ORGANISATION, PERSON)
FIRST_APPLICATION = "首次申请"
APPLICATION_TYPES = (FIRST_APPLICATION, "延续", "升级", "增项")


def _text(max_length: int, label: str, *, required: bool = True) -> ma.fields.String:
    return ma.fields.String(required=required, metadata={"description": label},
                            validate=ma.validate.Length(min=1, max=max_length,
                                                        error="长度须在 {min} 到 {max} 个字符之间"))


class QualificationApplication(ma.Schema):
    """An application for an organisation's qualification or a person's professional one."""

    qualification_name = _text(200, "资质（资格）名称")
    holder_type = ma.fields.String(
        required=True, metadata={"description": "资质类别"},
        validate=ma.validate.OneOf(HOLDER_TYPES, error="资质类别须为 {choices} 之一"))
    application_type = ma.fields.String(
        required=True, metadata={"description": "申请类型"},
        validate=ma.validate.OneOf(APPLICATION_TYPES, error="申请类型须为 {choices} 之一"))
    level = _text(50, "申请等级（无等级划分的不填）", required=False)
    issuing_authority = _text(200, "审核或认定机关")
    current_certificate_no = _text(64, "现持证书编号；延续、升级、增项必填", required=False)

    @ma.pre_load
    def strip_strings(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}

    @ma.validates_schema
    def certificate_by_application_type(self, data: dict[str, Any], **kwargs: Any) -> None:
        kind, certificate = data.get("application_type"), data.get("current_certificate_no")
        if kind in APPLICATION_TYPES and kind != FIRST_APPLICATION and not certificate:
            raise ma.ValidationError(f"{kind}须填写现持证书编号 (required for {kind})",
                                     field_name="current_certificate_no")
        if kind == FIRST_APPLICATION and certificate:
            raise ma.ValidationError("首次申请不填写现持证书编号 (not for a first application)",
                                     field_name="current_certificate_no")


__all__ = ["APPLICATION_TYPES", "FIRST_APPLICATION", "HOLDER_TYPES", "ORGANISATION", "PERSON",
           "QualificationApplication"]
