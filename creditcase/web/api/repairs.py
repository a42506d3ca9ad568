"""Credit repair (信用修复) applications over HTTP.

The credit office (the unified window), or a department's handler or data
provider acting for the subject, drafts and submits an application; the
credit office forwards it to the department that made the finding, which
accepts it, reviews it and decides; the credit office closes it once the
result is served. Submission is refused (422, naming the date) before the
record's minimum publicity period has passed. Approval ends the record's
publicity and sharing, lifts list entries founded on it and recomputes the
subject's grade. Each step is a call into :mod:`creditcase.core.repairs`.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate as v

from creditcase.core import ids
from creditcase.core import repairs as core
from creditcase.core.db import local_today
from creditcase.web.api.steps import step_registrar
from creditcase.web.auth import current_principal, login_required

blp = Blueprint("repairs", __name__, url_prefix="/api/v1/repairs",
                description="信用修复 (credit repair applications)")

_ID = v.Regexp(r"^[0-9a-f]{24}$", error="an id")


class RepairDraftIn(ma.Schema):
    """Presence and types only: the core checks the rules and reports every invalid field."""

    subject_code = ma.fields.String(required=True)
    record_id = ma.fields.String(required=True)
    applicant_name = ma.fields.String(required=True, validate=v.Length(max=200))
    applicant_contact = ma.fields.String(required=True, metadata={
        "description": "mobile or landline number, or e-mail"})
    obligations_evidence = ma.fields.String(load_default="", validate=v.Length(max=20_000), metadata={
        "description": "how the dishonest act was corrected and the obligations performed"})
    commitment_id = ma.fields.String(allow_none=True, load_default=None, metadata={
        "description": "the subject's public 信用修复型 commitment (POST /api/v1/commitments)"})


class RepairDraftPatchIn(ma.Schema):
    expected_version = ma.fields.Integer(allow_none=True, load_default=None)
    applicant_name = ma.fields.String(validate=v.Length(max=200))
    applicant_contact = ma.fields.String()
    obligations_evidence = ma.fields.String(validate=v.Length(max=20_000))
    commitment_id = ma.fields.String(allow_none=True, validate=_ID)


class RepairVersionIn(ma.Schema):
    expected_version = ma.fields.Integer(allow_none=True, load_default=None)


class RepairReasonIn(RepairVersionIn):
    reason = ma.fields.String(required=True, validate=v.Length(min=1, max=5000))


class RepairNoteIn(RepairVersionIn):
    note = ma.fields.String(load_default="", validate=v.Length(max=5000))


class RepairStepOut(ma.Schema):
    state = ma.fields.String()
    state_zh = ma.fields.Function(lambda s: core.STATES.get(s.state, s.state),
                                  metadata={"type": "string"})
    at = ma.fields.DateTime()
    on = ma.fields.Date()
    by = ma.fields.String()
    department = ma.fields.String()
    note = ma.fields.String()
    due = ma.fields.Date(allow_none=True)


class RepairOut(ma.Schema):
    id = ma.fields.String(attribute="pk")
    number = ma.fields.String()
    record_id = ma.fields.String()
    record_doc_no = ma.fields.String()
    record_kind = ma.fields.String()
    deciding_department = ma.fields.String(metadata={"description": "谁认定、谁修复"})
    subject_code = ma.fields.Function(lambda a: ids.mask(a.subject_code),
                                      metadata={"type": "string"})
    subject_name = ma.fields.String()
    applicant_name = ma.fields.String()
    applicant_contact = ma.fields.String()
    obligations_evidence = ma.fields.String()
    commitment_id = ma.fields.String(allow_none=True)
    state = ma.fields.String()
    state_zh = ma.fields.Function(lambda a: core.STATES.get(a.state, a.state),
                                  metadata={"type": "string"})
    due_date = ma.fields.Date(allow_none=True)
    due_unknown = ma.fields.Boolean()
    overdue = ma.fields.Function(lambda a: bool(a.due_date and a.due_date < local_today()
                                                and a.state not in ("DRAFT", "CLOSED")),
                                 metadata={"type": "boolean"})
    regime = ma.fields.String(allow_none=True, metadata={"description": "publicity regime used"})
    min_period_end = ma.fields.Date(allow_none=True)
    decision_reason = ma.fields.String()
    lifted_entries = ma.fields.List(ma.fields.String())
    kept_entries = ma.fields.List(ma.fields.String())
    steps = ma.fields.List(ma.fields.Nested(RepairStepOut))
    window_department = ma.fields.String()
    created_by = ma.fields.String()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    version = ma.fields.Integer()


class RepairQuery(ma.Schema):
    state = ma.fields.String(validate=v.OneOf(tuple(core.STATES)))
    overdue = ma.fields.Boolean(load_default=False)


@blp.route("")
class RepairsView(MethodView):
    @login_required("credit_office", "handler", "data_provider")
    @blp.doc(summary="起草信用修复申请 (draft a repair application)",
             description="Repairable kinds: " + ", ".join(core.REPAIRABLE_KINDS) + ". The record "
                         "must be the subject's and active or disputed; one open application per "
                         "record.")
    @blp.arguments(RepairDraftIn)
    @blp.response(201, RepairOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, body: dict[str, Any]) -> core.RepairApplication:
        return core.draft(current_principal(), body)

    @login_required()
    @blp.doc(summary="修复申请列表 (applications: all for the credit office; a department's own)")
    @blp.arguments(RepairQuery, location="query")
    @blp.response(200, RepairOut(many=True))
    def get(self, query: dict[str, Any]) -> list[core.RepairApplication]:
        principal = current_principal()
        if query["overdue"]:
            return core.overdue(principal)
        return list(core.visible(principal, state=query.get("state")).limit(500))


@blp.route("/<string:application_id>")
class RepairView(MethodView):
    @login_required()
    @blp.doc(summary="修复申请 (an application, by id or number)")
    @blp.response(200, RepairOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, application_id: str) -> core.RepairApplication:
        return core.get_for(current_principal(), application_id)

    @login_required("credit_office", "handler", "data_provider")
    @blp.doc(summary="修改草稿 (change a draft: evidence, commitment, contact)")
    @blp.arguments(RepairDraftPatchIn)
    @blp.response(200, RepairOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def patch(self, body: dict[str, Any], application_id: str) -> core.RepairApplication:
        expected = body.pop("expected_version")
        return core.update_draft(current_principal(), application_id, body,
                                 expected_version=expected)


_step = step_registrar(blp, view_prefix="Repair", id_param="application_id", response=RepairOut)


_step("submit", "提交 (submit the draft)",
      "DRAFT → SUBMITTED. 422 before the minimum publicity period has passed (the error names "
      "the date), without evidence of the obligations performed, or without a public 信用修复型 "
      "commitment of the subject.",
      RepairVersionIn, lambda p, i, b: core.submit(p, i, expected_version=b["expected_version"]))
_step("forward", "转认定单位 (forward to the department that made the finding)",
      "Credit office. SUBMITTED → FORWARDED.",
      RepairVersionIn, lambda p, i, b: core.forward(p, i, expected_version=b["expected_version"]))
_step("accept", "受理 (accept)", "The deciding department. FORWARDED → ACCEPTED.",
      RepairVersionIn, lambda p, i, b: core.accept(p, i, expected_version=b["expected_version"]))
_step("not-accept", "不予受理 (do not accept, with the reason)",
      "The deciding department. FORWARDED → NOT_ACCEPTED.",
      RepairReasonIn, lambda p, i, b: core.not_accept(p, i, b["reason"],
                                                expected_version=b["expected_version"]))
_step("review", "开始审核 (start the review)", "The deciding department. ACCEPTED → UNDER_REVIEW.",
      RepairVersionIn, lambda p, i, b: core.start_review(p, i, expected_version=b["expected_version"]))
_step("approve", "准予修复 (approve)",
      "The deciding department. UNDER_REVIEW → APPROVED: the record becomes `repaired` (publicity "
      "ended, no longer shared or returned by checks), black-list entries founded on it are "
      "removed with the reason 信用修复 where the list allows early removal, and the grade is "
      "recomputed.",
      RepairNoteIn, lambda p, i, b: core.approve(p, i, b["note"], expected_version=b["expected_version"]))
_step("reject", "不予修复 (reject, with the reason)",
      "The deciding department. UNDER_REVIEW → REJECTED.",
      RepairReasonIn, lambda p, i, b: core.reject(p, i, b["reason"],
                                            expected_version=b["expected_version"]))
_step("close", "办结 (close: the result was served)",
      "Credit office. NOT_ACCEPTED, APPROVED or REJECTED → CLOSED.",
      RepairNoteIn, lambda p, i, b: core.close(p, i, b["note"], expected_version=b["expected_version"]))
