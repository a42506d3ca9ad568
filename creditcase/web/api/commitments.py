"""Credit commitments (信用承诺) and self-declarations (自主申报) over HTTP.

Both are recorded for the subject by an authenticated user: a handler or a
data provider of the department that takes the commitment or the
declaration, or the credit office. There is no anonymous form: a commitment
is a signed undertaking with legal consequences, and a declaration becomes a
credit record. The accepting department (or the credit office) tracks a
commitment to fulfilled or breached; a breach becomes a ``commitment_breach``
credit record that raises hits and measures like any other.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate as v

from creditcase.core import commitments as core
from creditcase.core import ids
from creditcase.core.db import BEIJING, local_today
from creditcase.core.subjects import KINDS
from creditcase.web.auth import current_principal, login_required
from creditcase.web.schemas import PushOut

#: China Standard Time, assumed for a signing time sent without an offset.


blp = Blueprint("commitments", __name__, url_prefix="/api/v1",
                description="信用承诺与自主申报 (credit commitments and self-declarations)")


class CommitmentDueItemIn(ma.Schema):
    description = ma.fields.String(required=True, validate=v.Length(min=1, max=1000))
    due_date = ma.fields.Date(required=True)


class CommitmentIn(ma.Schema):
    subject_code = ma.fields.String(required=True, validate=v.Length(max=40))
    subject_name = ma.fields.String(required=True, validate=v.Length(max=200))
    subject_kind = ma.fields.String(validate=v.OneOf(tuple(KINDS)), allow_none=True,
                                    load_default=None)
    type = ma.fields.String(required=True, metadata={
        "description": "; ".join(f"{c} {zh}" for c, zh in core.TYPES.items())
                       + " (the Chinese name is accepted too)"})
    matter_code = ma.fields.String(load_default="", validate=v.Length(max=64), metadata={
        "description": "政务服务事项编码; required for 审批替代型 and 容缺受理型"})
    matter_name = ma.fields.String(load_default="", validate=v.Length(max=200))
    text_version = ma.fields.String(required=True, validate=v.Length(max=200), metadata={
        "description": "the version of the commitment text signed"})
    text = ma.fields.String(load_default="", validate=v.Length(max=20_000))
    signed_at = ma.fields.AwareDateTime(required=True, default_timezone=BEIJING, metadata={
        "description": "without an offset, China Standard Time (UTC+8)"})
    signatory = ma.fields.String(load_default="", validate=v.Length(max=100))
    public = ma.fields.Boolean(load_default=True, metadata={"description": "公开承诺"})
    due_items = ma.fields.List(ma.fields.Nested(CommitmentDueItemIn), load_default=list)
    record_id = ma.fields.String(allow_none=True, load_default=None,
                                 validate=v.Regexp(r"^[0-9a-f]{24}$", error="a record id"),
                                 metadata={"description": "信用修复型: the record to be repaired"})


class CommitmentDueItemOut(ma.Schema):
    item_id = ma.fields.String()
    description = ma.fields.String()
    due_date = ma.fields.Date()
    fulfilled_on = ma.fields.Date(allow_none=True)
    evidence = ma.fields.String()
    recorded_by = ma.fields.String(allow_none=True)


class CommitmentOut(ma.Schema):
    id = ma.fields.String(attribute="pk")
    subject_code = ma.fields.Function(lambda c: ids.mask(c.subject_code),
                                      metadata={"type": "string"})
    subject_name = ma.fields.String()
    subject_kind = ma.fields.String()
    type = ma.fields.String()
    type_zh = ma.fields.Function(lambda c: core.TYPES.get(c.type, c.type),
                                 metadata={"type": "string"})
    matter_code = ma.fields.String()
    matter_name = ma.fields.String()
    text_version = ma.fields.String()
    text = ma.fields.String()
    signed_at = ma.fields.DateTime()
    signatory = ma.fields.String()
    public = ma.fields.Boolean()
    due_items = ma.fields.List(ma.fields.Nested(CommitmentDueItemOut))
    overdue_items = ma.fields.Function(lambda c: [i.item_id for i in c.overdue_items(local_today())]
                                       if c.status == "PENDING" else [],
                                       metadata={"type": "array"})
    record_id = ma.fields.String(allow_none=True)
    status = ma.fields.String()
    status_zh = ma.fields.Function(lambda c: core.STATUSES.get(c.status, c.status),
                                   metadata={"type": "string"})
    verified_at = ma.fields.DateTime(allow_none=True)
    verified_by = ma.fields.String(allow_none=True)
    verification_note = ma.fields.String()
    breach_severity = ma.fields.String(allow_none=True)
    breach_record_id = ma.fields.String(allow_none=True, metadata={
        "description": "the commitment_breach credit record"})
    department = ma.fields.String()
    created_by = ma.fields.String()
    created_at = ma.fields.DateTime()
    version = ma.fields.Integer()


class CommitmentQuery(ma.Schema):
    status = ma.fields.String(validate=v.OneOf(tuple(core.STATUSES)))
    subject_code = ma.fields.String(validate=v.Length(min=1, max=40))
    overdue = ma.fields.Boolean(load_default=False, metadata={
        "description": "pending commitments with a due item past its date"})


class CommitmentFulfilIn(ma.Schema):
    evidence = ma.fields.String(required=True, validate=v.Length(min=1, max=5000))
    expected_version = ma.fields.Integer(allow_none=True, load_default=None)


class CommitmentVerifyIn(ma.Schema):
    status = ma.fields.String(required=True, validate=v.OneOf(("FULFILLED", "BREACHED")))
    note = ma.fields.String(load_default="", validate=v.Length(max=5000), metadata={
        "description": "required for a breach: what was not honoured"})
    severity = ma.fields.String(allow_none=True, load_default=None,
                                validate=v.OneOf(core.SEVERITIES), metadata={
                                    "description": "required for a breach: minor, general, serious"})
    expected_version = ma.fields.Integer(allow_none=True, load_default=None)


class SelfDeclarationIn(ma.Schema):
    subject_code = ma.fields.String(required=True, validate=v.Length(max=40))
    subject_name = ma.fields.String(required=True)
    subject_kind = ma.fields.String(validate=v.OneOf(tuple(KINDS)), allow_none=True,
                                    load_default=None)
    title = ma.fields.String(required=True, metadata={
        "description": "at most 500 characters, e.g. 资质证书、荣誉、合同履约情况"})
    content = ma.fields.String(required=True, validate=v.Length(max=20_000))
    declared_on = ma.fields.Date(allow_none=True, load_default=None)


@blp.route("/commitments")
class CommitmentsView(MethodView):
    @login_required(*core.RECORDERS)
    @blp.doc(summary="记录信用承诺 (record a signed credit commitment)",
             description="Recorded for the subject by the department that takes it (or the "
                         "credit office), which then tracks it. 审批替代型 and 容缺受理型 name the "
                         "matter and list the items due with their dates.")
    @blp.arguments(CommitmentIn)
    @blp.response(201, CommitmentOut)
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, body: dict[str, Any]) -> core.Commitment:
        return core.make_commitment(current_principal(), body)

    @login_required()
    @blp.doc(summary="信用承诺列表 (your department's commitments; all for the credit office)")
    @blp.arguments(CommitmentQuery, location="query")
    @blp.response(200, CommitmentOut(many=True))
    def get(self, query: dict[str, Any]) -> list[core.Commitment]:
        principal = current_principal()
        if query["overdue"]:
            return core.overdue(principal)
        filters: dict[str, Any] = {"status": query.get("status")}
        if query.get("subject_code"):
            filters["subject_code"] = ids.normalize(query["subject_code"])
        return list(core.visible(principal, **filters).limit(500))


@blp.route("/commitments/<string:commitment_id>")
class CommitmentView(MethodView):
    @login_required()
    @blp.doc(summary="信用承诺 (a commitment)")
    @blp.response(200, CommitmentOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, commitment_id: str) -> core.Commitment:
        return core.get_for(current_principal(), commitment_id)


@blp.route("/commitments/<string:commitment_id>/items/<string:item_id>/fulfil")
class FulfilView(MethodView):
    @login_required()
    @blp.doc(summary="登记承诺事项履行 (record that a due item was delivered)")
    @blp.arguments(CommitmentFulfilIn)
    @blp.response(200, CommitmentOut)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, body: dict[str, Any], commitment_id: str, item_id: str) -> core.Commitment:
        return core.fulfil_item(current_principal(), commitment_id, item_id, body["evidence"],
                                expected_version=body["expected_version"])


@blp.route("/commitments/<string:commitment_id>/verify")
class VerifyView(MethodView):
    @login_required()
    @blp.doc(summary="核查履约：已履约或违约 (close as fulfilled or breached)",
             description="FULFILLED needs every due item delivered. BREACHED needs a severity and "
                         "a note; it stores a `commitment_breach` credit record (document number "
                         "= the commitment id) that raises hits and measures, and recomputes the "
                         "subject's grade.")
    @blp.arguments(CommitmentVerifyIn)
    @blp.response(200, CommitmentOut)
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, body: dict[str, Any], commitment_id: str) -> core.Commitment:
        return core.verify(current_principal(), commitment_id, body["status"], body["note"],
                           severity=body["severity"], expected_version=body["expected_version"])


@blp.route("/self-declarations")
class DeclarationsView(MethodView):
    @login_required(*core.RECORDERS)
    @blp.doc(summary="企业信息自主申报 (record information the subject declares)",
             description="Stored as a credit record of kind `self_declared` of your department; "
                         "the same declaration again is `unchanged`.")
    @blp.arguments(SelfDeclarationIn)
    @blp.response(200, PushOut)
    @blp.alt_response(201, schema=PushOut, description="created", success=True)
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
        record, outcome = core.declare(current_principal(), body)
        return {"outcome": outcome, "record": record}, 201 if outcome == "created" else 200
