"""Credit service agencies (filed with the credit office) and the third-party
credit reports they issue. Reports are filed through
:func:`creditcase.core.reports.file_report`; each response carries the
report's validity today (filed agency, under one year old, not voided by a
major credit event)."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint

from creditcase.core.db import utcnow
from creditcase.core.reports import Agency, file_report, register_agency
from creditcase.web.auth import current_principal, login_required
from creditcase.web.presenters import report_view
from creditcase.web.schemas import AgencyIn, AgencyOut, ReportIn, ReportOut

blp = Blueprint("reports", __name__, url_prefix="/api/v1",
                description="信用服务机构与信用报告 (credit agencies and credit reports)")


@blp.route("/agencies")
class AgenciesView(MethodView):
    @login_required("credit_office")
    @blp.doc(summary="登记信用服务机构 (register a filed credit agency)")
    @blp.arguments(AgencyIn)
    @blp.response(201, AgencyOut)
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, values: dict[str, Any]) -> Agency:
        return register_agency(current_principal(), values)

    @login_required()
    @blp.doc(summary="信用服务机构名录 (the filed agencies)")
    @blp.response(200, AgencyOut(many=True))
    def get(self) -> list[Agency]:
        return list(Agency.objects.order_by("name"))


@blp.route("/reports")
class ReportsView(MethodView):
    @login_required("data_provider", "credit_office")
    @blp.doc(summary="报送第三方信用报告 (file a third-party credit report)",
             description="The agency must be registered (`agency_filing_no`). The response "
                         "states whether the report is valid today. A report number already "
                         "filed is a conflict (409).")
    @blp.arguments(ReportIn)
    @blp.response(201, ReportOut)
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, values: dict[str, Any]) -> dict[str, Any]:
        report = file_report(current_principal(), values)
        return report_view(report, utcnow().date())
