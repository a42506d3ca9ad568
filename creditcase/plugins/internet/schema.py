"""The application schema of internet applications and services
(互联网应用及服务).

One case is one internet organisation's or enterprise's industry access
(行业准入: a licence or filing for a service) or business evaluation
(业务评价: the periodic evaluation of a service it runs). The service is
named by its platform and main domain name; the domain is validated as a
host name and stored in lower case, the ICP filing number (when there is
one) in its national shape ``豫ICP备12345678号`` (an optional ``-n`` suffix
numbers the site). A business evaluation concerns a licensed service, so it
names the licence.
"""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma

ACCESS = "行业准入"
EVALUATION = "业务评价"
MATTER_TYPES = (ACCESS, EVALUATION)
SERVICE_TYPES = ("互联网信息服务", "网络文化经营", "网络出版服务", "网络餐饮服务", "互联网药品信息服务",
                 "网络交易平台", "其他互联网服务")
HOST_NAME = re.compile(r"^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
ICP_FILING = re.compile(r"^[\u4e00-\u9fa5]ICP备\d{8,10}号(-\d{1,3})?$")


def _text(max_length: int, label: str, *, required: bool = True) -> ma.fields.String:
    return ma.fields.String(required=required, metadata={"description": label},
                            validate=ma.validate.Length(min=1, max=max_length,
                                                        error="长度须在 {min} 到 {max} 个字符之间"))


class InternetServiceApplication(ma.Schema):
    """An internet service's industry access or business evaluation."""

    matter_type = ma.fields.String(
        required=True, metadata={"description": "事项类型"},
        validate=ma.validate.OneOf(MATTER_TYPES, error="事项类型须为 {choices} 之一"))
    service_type = ma.fields.String(
        required=True, metadata={"description": "服务类别"},
        validate=ma.validate.OneOf(SERVICE_TYPES, error="服务类别须为 {choices} 之一"))
    platform_name = _text(200, "网站或应用名称")
    domain_name = ma.fields.String(required=True, metadata={"description": "主域名"})
    icp_filing_no = ma.fields.String(
        metadata={"description": "ICP备案号（已备案的填写）"},
        validate=ma.validate.Regexp(ICP_FILING, error="ICP备案号格式应如 豫ICP备12345678号"))
    licence_no = _text(64, "许可证编号；业务评价必填", required=False)

    @ma.pre_load
    def normalise(self, data: Any, **kwargs: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
        if isinstance(data.get("domain_name"), str):
            data["domain_name"] = data["domain_name"].lower().rstrip(".")
        return data

    @ma.validates("domain_name")
    def host_name(self, value: str, **kwargs: Any) -> None:
        if not HOST_NAME.match(value):
            raise ma.ValidationError("主域名格式不正确，应如 example.com.cn，不含协议和路径 "
                                     "(a host name such as example.com.cn)")

    @ma.validates_schema
    def licence_for_evaluation(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("matter_type") == EVALUATION and not data.get("licence_no"):
            raise ma.ValidationError("业务评价须填写许可证编号 (required for a business evaluation)",
                                     field_name="licence_no")


__all__ = ["ACCESS", "EVALUATION", "ICP_FILING", "MATTER_TYPES", "SERVICE_TYPES",
           "InternetServiceApplication"]
