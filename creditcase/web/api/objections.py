"""Objections (异议) over HTTP.

Two blueprints:

* ``public_objections`` (``/api/v1/public/objections``, no login, rate-limited
  per client address): a subject files an objection against one of its
  records (name, code, contact, record id, grounds) and follows it with the
  number it was given and its code.
* ``objections`` (``/api/v1/objections``, bearer token): the credit office
  files on a subject's behalf, lists and reads objections, and moves them
  through their steps; the record's source department answers the provider
  check. Every step is a call into :mod:`creditcase.core.objections`, which
  checks who may act, computes the working-day due dates and writes the
  audit trail and events.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Flask, current_app
from flask.views import MethodView
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint
from marshmallow import validate as v

from creditcase.core import ids
from creditcase.core import objections as core
from creditcase.core.db import local_today
from creditcase.web import limits
from creditcase.web.api.steps import step_registrar
from creditcase.web.auth import current_principal, login_required
from creditcase.web.context import current_runtime

blp = Blueprint("objections", __name__, url_prefix="/api/v1/objections",
                description="异议处理 (objections against credit records)")
public_blp = Blueprint("public_objections", __name__, url_prefix="/api/v1/public/objections",
                       description="异议申请（无需登录）(file and follow an objection, no login)")

#: Flask config key overriding the public limit (default: the public search limit).
LIMIT_CONFIG_KEY = "CREDITCASE_PUBLIC_OBJECTION_LIMIT"


# -- schemas -----------------------------------------------------------------------------------

class ObjectionFilingIn(ma.Schema):
    """Presence and types only: the core checks every rule at once and reports each
    invalid field."""

    name = ma.fields.String(required=True, metadata={
        "description": "the applicant's (subject's) name, at most 200 characters"})
    code = ma.fields.String(required=True, metadata={
        "description": "the subject's USCC or ID number; must be the record's subject"})
    contact = ma.fields.String(required=True, metadata={
        "description": "mobile or landline number, or e-mail"})
    record_id = ma.fields.String(required=True, metadata={"description": "the record objected to"})
    grounds = ma.fields.String(required=True, metadata={"description": "5 to 5000 characters"})
    requested = ma.fields.String(load_default="", metadata={
        "description": "correct (更正) or revoke (撤销)", "enum": ["", "correct", "revoke"]})


class ObjectionTrackQuery(ma.Schema):
    code = ma.fields.String(required=True, validate=v.Length(min=1, max=40), metadata={
        "description": "the subject's code given when filing"})


class ObjectionStepOut(ma.Schema):
    state = ma.fields.String()
    state_zh = ma.fields.Function(lambda s: core.STATES.get(s.state, s.state),
                                  metadata={"type": "string"})
    at = ma.fields.DateTime()
    on = ma.fields.Date()
    by = ma.fields.String()
    department = ma.fields.String()
    note = ma.fields.String()
    due = ma.fields.Date(allow_none=True)


class PublicObjectionStepOut(ma.Schema):
    state = ma.fields.String()
    state_zh = ma.fields.Function(lambda s: core.STATES.get(s.state, s.state),
                                  metadata={"type": "string"})
    on = ma.fields.Date()
    due = ma.fields.Date(allow_none=True)


class PublicObjectionOut(ma.Schema):
    number = ma.fields.String(metadata={"description": "keep it to follow the objection"})
    record_doc_no = ma.fields.String()
    state = ma.fields.String()
    state_zh = ma.fields.Function(lambda o: core.STATES.get(o.state, o.state),
                                  metadata={"type": "string"})
    due_date = ma.fields.Date(allow_none=True)
    outcome = ma.fields.String(allow_none=True)
    decision_reason = ma.fields.String()
    steps = ma.fields.List(ma.fields.Nested(PublicObjectionStepOut))
    created_at = ma.fields.DateTime()


class ObjectionOut(ma.Schema):
    id = ma.fields.String(attribute="pk")
    number = ma.fields.String()
    record_id = ma.fields.String()
    record_doc_no = ma.fields.String()
    record_kind = ma.fields.String()
    record_source_department = ma.fields.String()
    subject_code = ma.fields.Function(lambda o: ids.mask(o.subject_code),
                                      metadata={"type": "string", "description": "ID numbers masked"})
    subject_name = ma.fields.String()
    applicant_name = ma.fields.String()
    applicant_contact = ma.fields.String()
    channel = ma.fields.String(metadata={"description": "public or office"})
    filed_by = ma.fields.String()
    grounds = ma.fields.String()
    requested = ma.fields.String()
    state = ma.fields.String()
    state_zh = ma.fields.Function(lambda o: core.STATES.get(o.state, o.state),
                                  metadata={"type": "string"})
    due_date = ma.fields.Date(allow_none=True, metadata={"description": "the pending step's deadline"})
    due_unknown = ma.fields.Boolean(metadata={
        "description": "the deadline falls in a year without an official calendar"})
    overdue = ma.fields.Function(lambda o: bool(o.due_date and o.due_date < local_today()
                                                and o.state != "CLOSED"),
                                 metadata={"type": "boolean"})
    outcome = ma.fields.String(allow_none=True)
    decision_reason = ma.fields.String()
    corrections = ma.fields.Dict()
    steps = ma.fields.List(ma.fields.Nested(ObjectionStepOut))
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    version = ma.fields.Integer()


class ObjectionQuery(ma.Schema):
    state = ma.fields.String(validate=v.OneOf(tuple(core.STATES)))
    subject_code = ma.fields.String(validate=v.Length(min=1, max=40))
    overdue = ma.fields.Boolean(load_default=False, metadata={
        "description": "only objections whose pending step is past its due date"})


class ObjectionVersionIn(ma.Schema):
    expected_version = ma.fields.Integer(allow_none=True, load_default=None, metadata={
        "description": "the version you read; 409 when the objection has moved on"})


class ObjectionReasonIn(ObjectionVersionIn):
    reason = ma.fields.String(required=True, validate=v.Length(min=1, max=5000))


class ObjectionNoteIn(ObjectionVersionIn):
    note = ma.fields.String(load_default="", validate=v.Length(max=5000))


class ObjectionUpholdIn(ObjectionVersionIn):
    outcome = ma.fields.String(required=True, validate=v.OneOf(tuple(core.OUTCOMES)), metadata={
        "description": "corrected (the record gets a new revision) or revoked"})
    reason = ma.fields.String(required=True, validate=v.Length(min=1, max=5000))
    corrections = ma.fields.Dict(keys=ma.fields.String(validate=v.OneOf(core.CORRECTABLE)),
                                 load_default=dict, metadata={
                                     "description": "corrected record fields (outcome corrected): "
                                                    + ", ".join(core.CORRECTABLE)})

    @ma.post_load
    def _dates(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        errors = {}
        for key in ("effective_from", "effective_until"):
            value = data["corrections"].get(key)
            if isinstance(value, str):
                try:
                    data["corrections"][key] = ma.fields.Date().deserialize(value)
                except ma.ValidationError as exc:
                    errors[key] = exc.messages
        if errors:
            raise ma.ValidationError({"corrections": errors})
        return data


# -- the public form ---------------------------------------------------------------------------

def _public_limit() -> str:
    return current_app.config.get(LIMIT_CONFIG_KEY) or current_runtime().settings.public_rate_limit


def _public_key() -> str:
    return f"objection@{get_remote_address()}"


@public_blp.record_once
def _limit_public(state: Any) -> None:
    app: Flask = state.app
    limits.limit_blueprint(app, public_blp, _public_limit, key_func=_public_key,
                           error_message="提交过于频繁，请稍后再试 (too many requests; try again later)")


@public_blp.route("")
class PublicFilingView(MethodView):
    @public_blp.doc(summary="提交异议申请 (file an objection, no login)",
                    description="The record must be about the subject named by `code` (otherwise "
                                "404), be active and have no other open objection (409). The "
                                "response gives the number to follow the objection with. "
                                "Acceptance is decided within 2 working days. Rate-limited per "
                                "client address (429).", security=[])
    @public_blp.arguments(ObjectionFilingIn)
    @public_blp.response(201, PublicObjectionOut)
    @public_blp.alt_response(404, response="NOT_FOUND")
    @public_blp.alt_response(409, response="CONFLICT")
    @public_blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @public_blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, body: dict[str, Any]) -> core.Objection:
        return core.file_objection(None, body)


@public_blp.route("/<string:number>")
class PublicTrackView(MethodView):
    @public_blp.doc(summary="查询异议办理进度 (follow an objection by its number and the subject's code)",
                    security=[])
    @public_blp.arguments(ObjectionTrackQuery, location="query")
    @public_blp.response(200, PublicObjectionOut)
    @public_blp.alt_response(404, response="NOT_FOUND")
    @public_blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def get(self, query: dict[str, Any], number: str) -> core.Objection:
        return core.track(number, query["code"])


# -- staff -------------------------------------------------------------------------------------

@blp.route("")
class ObjectionsView(MethodView):
    @login_required("credit_office")
    @blp.doc(summary="代为提交异议 (file an objection on a subject's behalf)")
    @blp.arguments(ObjectionFilingIn)
    @blp.response(201, ObjectionOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, body: dict[str, Any]) -> core.Objection:
        return core.file_objection(current_principal(), body)

    @login_required()
    @blp.doc(summary="异议列表 (objections: all for the credit office, a department's own records)")
    @blp.arguments(ObjectionQuery, location="query")
    @blp.response(200, ObjectionOut(many=True))
    def get(self, query: dict[str, Any]) -> list[core.Objection]:
        principal = current_principal()
        if query["overdue"]:
            return core.overdue(local_today(), principal)
        filters: dict[str, Any] = {"state": query.get("state")}
        if query.get("subject_code"):
            filters["subject_code"] = ids.normalize(query["subject_code"])
        return list(core.visible(principal, **filters).limit(500))


@blp.route("/<string:objection_id>")
class ObjectionView(MethodView):
    @login_required()
    @blp.doc(summary="异议详情 (an objection, by id or number, with its steps)")
    @blp.response(200, ObjectionOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, objection_id: str) -> core.Objection:
        return core.get_for(current_principal(), objection_id)


_step = step_registrar(blp, view_prefix="Objection", id_param="objection_id", response=ObjectionOut)


_step("accept", "受理 (accept; the record is marked disputed)",
      "Credit office. SUBMITTED → ACCEPTED; the platform check is due 2 working days later.",
      ObjectionVersionIn, lambda p, i, b: core.accept(p, i, expected_version=b["expected_version"]))
_step("reject", "不予受理 (do not accept, with the reason)",
      "Credit office. SUBMITTED → REJECTED.",
      ObjectionReasonIn, lambda p, i, b: core.reject(p, i, b["reason"],
                                            expected_version=b["expected_version"]))
_step("platform-check", "平台核查 (start the platform's own check)",
      "Credit office. ACCEPTED → PLATFORM_CHECK; due 2 working days after acceptance.",
      ObjectionVersionIn, lambda p, i, b: core.start_platform_check(
          p, i, expected_version=b["expected_version"]))
_step("refer", "转信息提供单位核查 (send the 协查函 to the record's source department)",
      "Credit office. PLATFORM_CHECK → PROVIDER_CHECK; the reply is due in 10 working days.",
      ObjectionNoteIn, lambda p, i, b: core.refer_to_provider(p, i, b["note"],
                                                     expected_version=b["expected_version"]))
_step("uphold", "异议成立 (uphold: correct or revoke the record)",
      "From PLATFORM_CHECK (credit office, the platform's own error) or PROVIDER_CHECK (the "
      "record's source department). `corrected` stores a new revision of the record with the "
      "corrections; `revoked` revokes it, ends its publicity and removes list entries founded "
      "on it. Either way `record.*` events make the subject's open cases stale.",
      ObjectionUpholdIn, lambda p, i, b: core.uphold(p, i, b["outcome"], b["reason"],
                                            corrections=b["corrections"],
                                            expected_version=b["expected_version"]))
_step("dismiss", "异议不成立 (dismiss: the provider confirms the record)",
      "The record's source department. PROVIDER_CHECK → DISMISSED; the disputed mark is lifted.",
      ObjectionReasonIn, lambda p, i, b: core.dismiss(p, i, b["reason"],
                                             expected_version=b["expected_version"]))
_step("close", "办结 (close: the result was fed back to the applicant)",
      "Credit office. REJECTED, UPHELD or DISMISSED → CLOSED.",
      ObjectionNoteIn, lambda p, i, b: core.close(p, i, b["note"], expected_version=b["expected_version"]))
