"""Departments: the domains each one handles and its catalogue of matters (事项).

A department's ``dept_admin`` enables the domain plugins it uses
(``PUT /departments/{code}/domains``) and keeps the catalogue of its matters
with the domain, whether a credit report is required and the stage at which
credit is queried (``/departments/{code}/matters``). The credit office reads
``/departments/domains-usage``: every department against every domain with
the enabled flag, case counts and matter counts.

The rules live in :mod:`creditcase.core.accounts` and
:mod:`creditcase.core.matters`; this module only translates HTTP.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate as v

from creditcase.core import accounts, matters
from creditcase.core.matters import CHECK_STAGES, Matter
from creditcase.web.auth import current_principal, login_required
from creditcase.web.context import plugin_host

blp = Blueprint("departments", __name__, url_prefix="/api/v1/departments",
                description="部门：启用的业务领域与事项目录 (departments: enabled domains, "
                            "catalogue of matters)")

_STAGES = ", ".join(f"{code} {zh}" for code, zh in CHECK_STAGES.items())


# -- schemas -----------------------------------------------------------------------------------

class DomainsIn(ma.Schema):
    domains = ma.fields.List(ma.fields.String(validate=v.Length(min=1, max=64)), required=True,
                             metadata={"description": "the domain codes the department handles "
                                                      "(all others are disabled)"})


class DepartmentDomainOut(ma.Schema):
    code = ma.fields.String()
    name_zh = ma.fields.String()
    name_en = ma.fields.String()
    enabled = ma.fields.Boolean()
    installed = ma.fields.Boolean(metadata={"description": "false: enabled, but its plugin is "
                                                           "not installed (or disabled)"})


class DepartmentDomainsOut(ma.Schema):
    department = ma.fields.String()
    name_zh = ma.fields.String()
    enabled_domains = ma.fields.List(ma.fields.String())
    domains = ma.fields.List(ma.fields.Nested(DepartmentDomainOut))


class UsageCellOut(ma.Schema):
    domain = ma.fields.String()
    enabled = ma.fields.Boolean()
    cases = ma.fields.Integer()
    open_cases = ma.fields.Integer()
    matters = ma.fields.Integer(metadata={"description": "matters of the catalogue in this domain"})
    active_matters = ma.fields.Integer()
    report_required_matters = ma.fields.Integer(metadata={
        "description": "active matters that require a third-party credit report"})


class UsageDepartmentOut(ma.Schema):
    code = ma.fields.String()
    name_zh = ma.fields.String()
    name_en = ma.fields.String()
    is_credit_office = ma.fields.Boolean()
    enabled_domains = ma.fields.List(ma.fields.String())
    domains = ma.fields.List(ma.fields.Nested(UsageCellOut))


class UsageDomainOut(ma.Schema):
    code = ma.fields.String()
    name_zh = ma.fields.String()
    name_en = ma.fields.String()
    installed = ma.fields.Boolean()
    departments = ma.fields.Integer(metadata={"description": "departments that enabled it"})
    cases = ma.fields.Integer()


class DomainsUsageOut(ma.Schema):
    domains = ma.fields.List(ma.fields.Nested(UsageDomainOut))
    departments = ma.fields.List(ma.fields.Nested(UsageDepartmentOut))


class MatterIn(ma.Schema):
    code = ma.fields.String(required=True, validate=v.Length(min=1, max=64),
                            metadata={"description": "政务服务事项编码"})
    name = ma.fields.String(required=True, validate=v.Length(min=1, max=200),
                            metadata={"description": "事项名称"})
    domain = ma.fields.String(required=True, validate=v.Length(min=1, max=64))
    report_required = ma.fields.Boolean(load_default=False, metadata={
        "description": "approval needs a valid third-party credit report in the check"})
    check_stage = ma.fields.String(load_default="ACCEPT", validate=v.OneOf(tuple(CHECK_STAGES)),
                                   metadata={"description": f"查询信用的环节: {_STAGES}"})
    active = ma.fields.Boolean(load_default=True)


class MatterPatchIn(ma.Schema):
    name = ma.fields.String(validate=v.Length(min=1, max=200))
    domain = ma.fields.String(validate=v.Length(min=1, max=64))
    report_required = ma.fields.Boolean()
    check_stage = ma.fields.String(validate=v.OneOf(tuple(CHECK_STAGES)))
    active = ma.fields.Boolean()
    expected_version = ma.fields.Integer(allow_none=True, load_default=None, metadata={
        "description": "the version the change is based on; 409 when it has moved on"})


class MatterQuery(ma.Schema):
    domain = ma.fields.String(validate=v.Length(min=1, max=64))
    active = ma.fields.Boolean()


class MatterOut(ma.Schema):
    department = ma.fields.String()
    code = ma.fields.String()
    name = ma.fields.String()
    domain = ma.fields.String()
    report_required = ma.fields.Boolean()
    check_stage = ma.fields.String()
    check_stage_zh = ma.fields.String()
    active = ma.fields.Boolean()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    updated_by = ma.fields.String()
    version = ma.fields.Integer(metadata={"description": "send as expected_version when changing"})


# -- domains -----------------------------------------------------------------------------------

def _domains_view(code: str) -> dict[str, Any]:
    principal = current_principal()
    rows = accounts.department_domains(principal, code, plugin_host().domains)
    department = accounts.get_department(code)
    return {"department": department.code, "name_zh": department.name_zh,
            "enabled_domains": sorted(department.enabled_domains or []), "domains": rows}


@blp.route("/domains-usage")
class DomainsUsageView(MethodView):
    @login_required("credit_office")
    @blp.doc(summary="各部门业务领域使用情况 (which departments use which domains)",
             description="Every department against every domain: enabled, cases (all and "
                         "open), and the matters of its catalogue in that domain. For the "
                         "credit office's supervision (舞信用办〔2020〕1号 六（十二）).")
    @blp.response(200, DomainsUsageOut)
    def get(self) -> dict[str, Any]:
        return accounts.domains_usage(current_principal(), plugin_host().domains)


@blp.route("/<string:code>/domains")
class DepartmentDomainsView(MethodView):
    @login_required()
    @blp.doc(summary="部门启用的业务领域 (the domains of a department)",
             description="Every installed domain with `enabled`. Users of the department and "
                         "the credit office may read it.")
    @blp.response(200, DepartmentDomainsOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, code: str) -> dict[str, Any]:
        return _domains_view(code)

    @login_required("dept_admin")
    @blp.doc(summary="设置部门启用的业务领域 (set the domains a department handles)",
             description="Replaces the list. 422 naming each code that is not an installed "
                         "domain. Only the department's own dept_admin (or admin). Open cases "
                         "stay; new applications need the domain enabled.")
    @blp.arguments(DomainsIn)
    @blp.response(200, DepartmentDomainsOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def put(self, body: dict[str, Any], code: str) -> dict[str, Any]:
        accounts.set_enabled_domains(current_principal(), code, body["domains"],
                                     available=set(plugin_host().domains))
        return _domains_view(code)


# -- matters -----------------------------------------------------------------------------------

@blp.route("/<string:code>/matters")
class MattersView(MethodView):
    @login_required()
    @blp.doc(summary="部门事项目录 (the department's catalogue of matters)")
    @blp.arguments(MatterQuery, location="query")
    @blp.response(200, MatterOut(many=True))
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, query: dict[str, Any], code: str) -> list[Matter]:
        return matters.list_matters(current_principal(), code, domain=query.get("domain"),
                                    active=query.get("active"))

    @login_required("dept_admin")
    @blp.doc(summary="新增事项 (add a matter)",
             description="The domain must be installed and enabled for the department; "
                         "`report_required` needs a domain whose checks query credit reports. "
                         "Once a department has a catalogue, every application must name one of "
                         "its active matters (by code) in the application's domain.")
    @blp.arguments(MatterIn)
    @blp.response(201, MatterOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, body: dict[str, Any], code: str) -> tuple[Matter, int, dict[str, str]]:
        matter = matters.create_matter(current_principal(), code, body,
                                       domains=plugin_host().domains)
        location = url_for("departments.MatterView", code=code, matter_code=matter.code)
        return matter, 201, {"Location": location}


@blp.route("/<string:code>/matters/<string:matter_code>")
class MatterView(MethodView):
    @login_required()
    @blp.doc(summary="事项 (one matter)")
    @blp.response(200, MatterOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, code: str, matter_code: str) -> Matter:
        return matters.get_matter(current_principal(), code, matter_code)

    @login_required("dept_admin")
    @blp.doc(summary="修改事项 (change a matter)",
             description="Only the fields sent change; the code cannot. 409 when "
                         "`expected_version` is behind.")
    @blp.arguments(MatterPatchIn)
    @blp.response(200, MatterOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def patch(self, body: dict[str, Any], code: str, matter_code: str) -> Matter:
        expected = body.pop("expected_version", None)
        return matters.update_matter(current_principal(), code, matter_code, body,
                                     domains=plugin_host().domains, expected_version=expected)

    @login_required("dept_admin")
    @blp.doc(summary="停用事项 (take a matter out of use)",
             description="The matter stays in the catalogue, inactive, because cases and the "
                         "audit trail refer to it; applications can no longer name it.")
    @blp.response(200, MatterOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def delete(self, code: str, matter_code: str) -> Matter:
        return matters.deactivate_matter(current_principal(), code, matter_code)


__all__ = ["blp"]
