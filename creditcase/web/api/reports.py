"""Credit service agencies (filed with the credit office) and the third-party
credit reports they issue.

The credit office registers agencies, renews their filing, suspends, restores
or revokes them (with a reason, audited), and records the credit entries of
an agency and of its staff; staff ID numbers are masked in every response.
Reports are filed through :func:`creditcase.core.reports.file_report`; each
response carries the report's validity today (agency filed and in good
standing, under one year old, not voided by a major credit event) and the
§二(三) sections it lacks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate as v

from creditcase.core import ids
from creditcase.core.db import local_today
from creditcase.core.reports import (
    AGENCY_CREDIT_KINDS,
    AGENCY_STATUSES,
    RATINGS,
    REPORT_SECTIONS,
    Agency,
    AgencyStaff,
    CreditReport,
    add_agency_credit_record,
    add_staff,
    add_staff_credit_record,
    file_report,
    get_agency,
    get_report,
    register_agency,
    report_validity,
    reports_of,
    set_agency_status,
    update_agency,
)
from creditcase.web.auth import current_principal, login_required
from creditcase.web.schemas import AgencyIn

blp = Blueprint("reports", __name__, url_prefix="/api/v1",
                description="信用服务机构与信用报告 (credit agencies and credit reports)")


# -- schemas -----------------------------------------------------------------------------------

class AgencyCreditEntryIn(ma.Schema):
    kind = ma.fields.String(required=True, validate=v.OneOf(tuple(AGENCY_CREDIT_KINDS)), metadata={
        "description": ", ".join(f"{k} {zh}" for k, zh in AGENCY_CREDIT_KINDS.items())})
    title = ma.fields.String(required=True, validate=v.Length(min=1, max=500))
    date = ma.fields.Date(required=True)
    doc_no = ma.fields.String(load_default="", validate=v.Length(max=128))
    source = ma.fields.String(load_default="", validate=v.Length(max=200))


class AgencyCreditEntryOut(ma.Schema):
    entry_id = ma.fields.String()
    kind = ma.fields.String()
    kind_zh = ma.fields.Function(lambda e: AGENCY_CREDIT_KINDS.get(e.kind, e.kind),
                                 metadata={"type": "string"})
    title = ma.fields.String()
    date = ma.fields.Date()
    doc_no = ma.fields.String()
    source = ma.fields.String()
    recorded_by = ma.fields.String()
    recorded_at = ma.fields.DateTime()


class AgencyStaffIn(ma.Schema):
    name = ma.fields.String(required=True, validate=v.Length(min=1, max=100))
    id_number = ma.fields.String(required=True, validate=v.Length(min=15, max=30), metadata={
        "description": "公民身份号码; validated, stored, never returned in full"})
    qualification = ma.fields.String(load_default="", validate=v.Length(max=200))


class AgencyStaffOut(ma.Schema):
    staff_id = ma.fields.String()
    name = ma.fields.String()
    id_number = ma.fields.Function(lambda s: ids.mask_id_number(s.id_number),
                                   metadata={"type": "string", "description": "masked"})
    qualification = ma.fields.String()
    active = ma.fields.Boolean()
    added_at = ma.fields.DateTime()
    credit_records = ma.fields.List(ma.fields.Nested(AgencyCreditEntryOut))


class AgencyStandingOut(ma.Schema):
    good = ma.fields.Boolean()
    reasons = ma.fields.List(ma.fields.String())
    on = ma.fields.Date()


class AgencyDetailOut(ma.Schema):
    id = ma.fields.String(attribute="pk")
    name = ma.fields.String()
    uscc = ma.fields.String()
    filing_no = ma.fields.String()
    filing_authority = ma.fields.String()
    filing_valid_until = ma.fields.Date()
    status = ma.fields.String()
    status_zh = ma.fields.Function(lambda a: AGENCY_STATUSES.get(a.status, a.status),
                                   metadata={"type": "string"})
    status_reason = ma.fields.String()
    status_changed_at = ma.fields.DateTime(allow_none=True)
    standing = ma.fields.Function(
        lambda a: AgencyStandingOut().dump({"good": not a.standing(local_today()),
                                      "reasons": a.standing(local_today()), "on": local_today()}),
        metadata={"type": "object", "description": "good standing today: filed, filing valid"})
    credit_records = ma.fields.List(ma.fields.Nested(AgencyCreditEntryOut))
    staff = ma.fields.List(ma.fields.Nested(AgencyStaffOut))
    version = ma.fields.Integer()


class AgencyPatchIn(ma.Schema):
    expected_version = ma.fields.Integer(required=True)
    name = ma.fields.String(validate=v.Length(min=1, max=200))
    filing_authority = ma.fields.String(validate=v.Length(min=1, max=200))
    filing_valid_until = ma.fields.Date(metadata={"description": "e.g. after a renewal"})


class AgencyStatusIn(ma.Schema):
    status = ma.fields.String(required=True, validate=v.OneOf(tuple(AGENCY_STATUSES)), metadata={
        "description": "filed (restore), suspended or revoked (final)"})
    reason = ma.fields.String(required=True, validate=v.Length(min=1, max=2000))
    expected_version = ma.fields.Integer(allow_none=True, load_default=None)


class CreditReportIn(ma.Schema):
    number = ma.fields.String(required=True, validate=v.Length(min=1, max=64),
                              metadata={"description": "报告编号"})
    subject_code = ma.fields.String(required=True, validate=v.Length(min=1, max=40))
    subject_name = ma.fields.String(required=True, validate=v.Length(min=1, max=200))
    agency_filing_no = ma.fields.String(required=True, validate=v.Length(min=1, max=64))
    issue_date = ma.fields.Date(required=True)
    rating = ma.fields.String(required=True, metadata={
        "enum": list(RATINGS),
        "description": "信用等级: AAA, AA, A, BBB, BB, B, CCC, CC, C; AA to CCC may carry + or -"})
    sections = ma.fields.Dict(keys=ma.fields.String(), load_default=dict, metadata={
        "description": "section name -> text; names: " + "、".join(REPORT_SECTIONS)})
    risk_warnings = ma.fields.List(ma.fields.String(validate=v.Length(max=1000)),
                                   load_default=list, metadata={"description": "风险提示"})


class ReportValidityOut(ma.Schema):
    valid = ma.fields.Boolean()
    reasons = ma.fields.List(ma.fields.String())
    on = ma.fields.Date()


class ReportAssessmentOut(ma.Schema):
    rating = ma.fields.String(data_key="信用等级")
    risk_warnings = ma.fields.List(ma.fields.String(), data_key="风险提示")
    summary = ma.fields.String(allow_none=True, data_key="评述")


class CreditReportOut(ma.Schema):
    id = ma.fields.String()
    number = ma.fields.String()
    subject_code = ma.fields.String(metadata={"description": "ID numbers masked"})
    subject_name = ma.fields.String()
    agency_filing_no = ma.fields.String()
    agency_name = ma.fields.String(allow_none=True)
    issue_date = ma.fields.Date()
    valid_until = ma.fields.Date()
    rating = ma.fields.String()
    sections = ma.fields.Dict()
    missing_sections = ma.fields.List(ma.fields.String(), metadata={
        "description": "sections of policy §二(三) the report lacks"})
    assessment = ma.fields.Nested(ReportAssessmentOut, metadata={
        "description": "综合评价: 信用等级 and 风险提示"})
    risk_warnings = ma.fields.List(ma.fields.String())
    void = ma.fields.Boolean()
    void_reason = ma.fields.String(allow_none=True)
    voided_at = ma.fields.DateTime(allow_none=True)
    validity = ma.fields.Nested(ReportValidityOut)
    created_at = ma.fields.DateTime()


def report_view(report: CreditReport, on: dt.date) -> dict[str, Any]:
    agency = Agency.objects(filing_no=report.agency_filing_no).first()
    validity = report_validity(report, on, agency)
    return {
        "id": str(report.pk), "number": report.number, "subject_code": ids.mask(report.subject_code),
        "subject_name": report.subject_name, "agency_filing_no": report.agency_filing_no,
        "agency_name": agency.name if agency else None, "issue_date": report.issue_date,
        "valid_until": report.valid_until, "rating": report.rating,
        "sections": dict(report.sections or {}), "missing_sections": report.missing_sections,
        "assessment": {"rating": report.rating, "risk_warnings": list(report.risk_warnings or []),
                       "summary": (report.sections or {}).get("综合评价")},
        "risk_warnings": list(report.risk_warnings or []), "void": report.void,
        "void_reason": report.void_reason, "voided_at": report.voided_at,
        "validity": {"valid": validity.valid, "reasons": validity.reasons, "on": on},
        "created_at": report.created_at,
    }


# -- agencies ----------------------------------------------------------------------------------

@blp.route("/agencies")
class AgenciesView(MethodView):
    @login_required("credit_office")
    @blp.doc(summary="登记信用服务机构 (register a filed credit agency)")
    @blp.arguments(AgencyIn)
    @blp.response(201, AgencyDetailOut)
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, values: dict[str, Any]) -> Agency:
        return register_agency(current_principal(), values)

    @login_required()
    @blp.doc(summary="信用服务机构名录 (the filed agencies)")
    @blp.response(200, AgencyDetailOut(many=True))
    def get(self) -> list[Agency]:
        return list(Agency.objects.order_by("name"))


@blp.route("/agencies/<string:agency_id>")
class AgencyView(MethodView):
    @login_required()
    @blp.doc(summary="信用服务机构 (an agency, by id or filing number)",
             description="With its standing today, its credit records and its staff (ID numbers "
                         "masked).")
    @blp.response(200, AgencyDetailOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, agency_id: str) -> Agency:
        return get_agency(agency_id)

    @login_required("credit_office")
    @blp.doc(summary="修改机构备案信息 (change the name, filing authority or filing validity)")
    @blp.arguments(AgencyPatchIn)
    @blp.response(200, AgencyDetailOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def patch(self, body: dict[str, Any], agency_id: str) -> Agency:
        expected = body.pop("expected_version")
        return update_agency(current_principal(), agency_id, body, expected_version=expected)


@blp.route("/agencies/<string:agency_id>/status")
class AgencyStatusView(MethodView):
    @login_required("credit_office")
    @blp.doc(summary="暂停、恢复或撤销备案 (suspend, restore or revoke a filing)",
             description="A report is usable only while its agency is `filed` and its filing "
                         "valid. `revoked` is final. The change and its reason are audited.")
    @blp.arguments(AgencyStatusIn)
    @blp.response(200, AgencyDetailOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, body: dict[str, Any], agency_id: str) -> Agency:
        return set_agency_status(current_principal(), agency_id, body["status"], body["reason"],
                                 expected_version=body["expected_version"])


@blp.route("/agencies/<string:agency_id>/credit-records")
class AgencyCreditView(MethodView):
    @login_required("credit_office")
    @blp.doc(summary="记录机构信用信息 (record an agency's credit entry)")
    @blp.arguments(AgencyCreditEntryIn)
    @blp.response(201, AgencyDetailOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, body: dict[str, Any], agency_id: str) -> Agency:
        return add_agency_credit_record(current_principal(), agency_id, body)


@blp.route("/agencies/<string:agency_id>/staff")
class StaffView(MethodView):
    @login_required("credit_office")
    @blp.doc(summary="登记从业人员 (add a member of staff)")
    @blp.arguments(AgencyStaffIn)
    @blp.response(201, AgencyStaffOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, body: dict[str, Any], agency_id: str) -> AgencyStaff:
        return add_staff(current_principal(), agency_id, body)


@blp.route("/agencies/<string:agency_id>/staff/<string:staff_id>/credit-records")
class StaffCreditView(MethodView):
    @login_required("credit_office")
    @blp.doc(summary="记录从业人员信用信息 (record a staff member's credit entry)")
    @blp.arguments(AgencyCreditEntryIn)
    @blp.response(201, AgencyStaffOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, body: dict[str, Any], agency_id: str, staff_id: str) -> AgencyStaff:
        return add_staff_credit_record(current_principal(), agency_id, staff_id, body)


# -- reports -----------------------------------------------------------------------------------

@blp.route("/reports")
class ReportsView(MethodView):
    @login_required("data_provider", "credit_office")
    @blp.doc(summary="报送第三方信用报告 (file a third-party credit report)",
             description="The agency must be registered (`agency_filing_no`); sections are "
                         "named as in policy §二(三). The response states whether the report is "
                         "valid today; a report issued before a major credit event already on "
                         "record is stored void. A report number already filed is a conflict "
                         "(409).")
    @blp.arguments(CreditReportIn)
    @blp.response(201, CreditReportOut)
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, values: dict[str, Any]) -> dict[str, Any]:
        report = file_report(current_principal(), values)
        return report_view(report, local_today())


@blp.route("/reports/<string:report_id>")
class ReportView(MethodView):
    @login_required()
    @blp.doc(summary="信用报告及其今日有效性 (a report, by id or number, with its validity today)")
    @blp.response(200, CreditReportOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, report_id: str) -> dict[str, Any]:
        return report_view(get_report(report_id), local_today())


@blp.route("/subjects/<string:code>/reports")
class SubjectReportsView(MethodView):
    @login_required()
    @blp.doc(summary="主体的信用报告 (a subject's reports, newest first, with validity today)")
    @blp.response(200, CreditReportOut(many=True))
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, code: str) -> list[dict[str, Any]]:
        today = local_today()
        return [report_view(r, today) for r in reports_of(code)]
