"""双公示 timeliness for departments and the credit office: the overdue report per
department (published on time vs late, due, overdue), the list of a
department's licences and penalties by publicity state, and the sweep that
moves ``due`` → ``overdue`` and ends publication at the end of the period.

The credit office sees every department; any other user sees their own
department only (enforced in :mod:`creditcase.core.publicity`). The report runs
the sweep first, so its figures are current even where no scheduled sweep runs.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from creditcase.core import publicity
from creditcase.core.errors import PermissionDenied
from creditcase.core.records import CreditRecord
from creditcase.web.api.records import RecordDetailOut
from creditcase.web.auth import current_principal, login_required

blp = Blueprint("publicity", __name__, url_prefix="/api/v1/publicity",
                description="双公示时效 (publication deadlines, overdue report, sweep)")

LISTED_STATES = ("due", "published", "overdue", "ended")


class DepartmentQuery(ma.Schema):
    department = ma.fields.String(validate=ma.validate.Length(min=1, max=32), metadata={
        "description": "a department code (the credit office may name any; others their own)"})


class RecordsQuery(DepartmentQuery):
    state = ma.fields.String(validate=ma.validate.OneOf(LISTED_STATES), metadata={
        "description": "due 待公示, published 已公示, overdue 逾期未公示, ended 公示结束"})
    kind = ma.fields.String(validate=ma.validate.OneOf(("licence", "penalty")))


class DepartmentCountsOut(ma.Schema):
    department = ma.fields.String()
    on_time = ma.fields.Integer(metadata={"description": "published by the deadline"})
    late = ma.fields.Integer(metadata={"description": "published after the deadline"})
    due = ma.fields.Integer(metadata={"description": "not yet published, deadline not passed"})
    overdue = ma.fields.Integer(metadata={"description": "not published, deadline passed"})
    unknown = ma.fields.Integer(metadata={"description": "deadline unknown (no official "
                                                         "calendar for the period)"})
    total = ma.fields.Integer()


class OverdueRecordOut(ma.Schema):
    id = ma.fields.String()
    source_department = ma.fields.String()
    doc_no = ma.fields.String()
    kind = ma.fields.String()
    subject_name = ma.fields.String()
    decision_date = ma.fields.Date()
    publication_due = ma.fields.Date(allow_none=True)
    working_days_late = ma.fields.Integer(allow_none=True)


class SweepOut(ma.Schema):
    overdue = ma.fields.Integer(metadata={"description": "due records that became overdue"})
    ended = ma.fields.Integer(metadata={"description": "published records whose publicity ended"})


class OverdueReportOut(ma.Schema):
    as_of = ma.fields.Date()
    swept = ma.fields.Nested(SweepOut)
    departments = ma.fields.List(ma.fields.Nested(DepartmentCountsOut))
    overdue = ma.fields.List(ma.fields.Nested(OverdueRecordOut), metadata={
        "description": "overdue records, oldest deadline first (at most 1000)"})


@blp.route("/overdue")
class OverdueView(MethodView):
    @login_required()
    @blp.doc(summary="双公示逾期报告 (publication timeliness per department)",
             description="Counts per source department of licences and penalties published on "
                         "time and late, still due, and overdue, with the overdue records. The "
                         "credit office sees all departments (or the one named); a department "
                         "its own. Runs the publicity sweep first.")
    @blp.arguments(DepartmentQuery, location="query")
    @blp.response(200, OverdueReportOut)
    @blp.alt_response(403, response="FORBIDDEN")
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        return publicity.overdue_report(current_principal(), department=query.get("department"))


@blp.route("/records")
class PublicityRecordsView(MethodView):
    @login_required()
    @blp.doc(summary="按公示状态列出许可和处罚 (licences and penalties by publicity state)",
             description="A department's records (the credit office: any department's or all), "
                         "filtered by publicity state, newest decisions first. Paginated "
                         "(`X-Pagination`).")
    @blp.arguments(RecordsQuery, location="query")
    @blp.response(200, RecordDetailOut(many=True))
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.paginate()
    def get(self, query: dict[str, Any], pagination_parameters: Any) -> list[CreditRecord]:
        principal = current_principal()
        department = query.get("department")
        if not principal.city_wide:
            if department and department != principal.department:
                raise PermissionDenied("a department lists its own records only",
                                       errors={"department": ["must be your own department"]})
            department = principal.department
        filters: dict[str, Any] = {"kind__in": [query["kind"]] if query.get("kind")
                                   else ["licence", "penalty"]}
        filters["publicity_state__in"] = [query["state"]] if query.get("state") \
            else list(LISTED_STATES)
        if department:
            filters["source_department"] = department
        records = CreditRecord.objects(**filters).order_by("-decision_date")
        pagination_parameters.item_count = records.count()
        return list(records.skip(pagination_parameters.first_item)
                    .limit(pagination_parameters.page_size))


@blp.route("/sweep")
class SweepView(MethodView):
    @login_required("credit_office")
    @blp.doc(summary="执行公示状态更新 (run the publicity sweep now)",
             description="Moves due records past their deadline to overdue and ends the "
                         "publication of records whose period is over (or that were repaired "
                         "or revoked). Safe to repeat; `creditcase publicity sweep` does the "
                         "same from cron.")
    @blp.response(200, SweepOut)
    def post(self) -> dict[str, int]:
        return publicity.sweep().as_dict()


__all__ = ["blp"]
