"""The application schema of the other administrative matters (其他行政管理事项).

A generic schema for the key sectors the policy lists in 三（五）16, for
matters no specific domain covers. Each department must say which of its
matters use credit and on what basis (舞信用办〔2020〕1号 六（十一）), so the
matter names its sector, its legal basis, and how credit is used in it: as a
necessary condition (必要条件) or as a reference (重要参考依据, 参考依据), the
two uses 三（四） distinguishes. The matter code, when given, is the
government-service matter code (政务服务事项编码): letters and digits.
"""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma

#: the key sectors of 舞信用办〔2020〕1号 三（五）16
SECTORS = ("食品药品安全", "环境保护", "安全生产", "产品质量", "医疗卫生", "工程建设", "教育科研",
           "电子商务", "融资担保", "市场中介")
NECESSARY = "必要条件"
CREDIT_USES = (NECESSARY, "重要参考依据", "参考依据")
MATTER_CODE = re.compile(r"^[0-9A-Z]{6,64}$")


def _text(max_length: int, label: str, *, required: bool = True) -> ma.fields.String:
    return ma.fields.String(required=required, metadata={"description": label},
                            validate=ma.validate.Length(min=1, max=max_length,
                                                        error="长度须在 {min} 到 {max} 个字符之间"))


class OtherMatterApplication(ma.Schema):
    """An application in one of the key sectors without a domain of its own."""

    sector = ma.fields.String(
        required=True, metadata={"description": "重点领域"},
        validate=ma.validate.OneOf(SECTORS, error="重点领域须为 {choices} 之一"))
    matter_name = _text(200, "行政管理事项名称")
    matter_code = ma.fields.String(
        metadata={"description": "政务服务事项编码（可选）"},
        validate=ma.validate.Regexp(MATTER_CODE, error="事项编码应为 6 到 64 位数字或大写字母"))
    legal_basis = _text(500, "事项设定依据")
    credit_use = ma.fields.String(
        required=True, metadata={"description": "信用记录和信用报告的使用方式"},
        validate=ma.validate.OneOf(CREDIT_USES, error="使用方式须为 {choices} 之一"))
    description = _text(2000, "申请事项说明（可选）", required=False)

    @ma.pre_load
    def normalise(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
        if isinstance(data.get("matter_code"), str):
            data["matter_code"] = data["matter_code"].upper()
        return data


__all__ = ["CREDIT_USES", "MATTER_CODE", "NECESSARY", "SECTORS", "OtherMatterApplication"]
