"""Red and black lists and the measure catalogue.

List entries: add (a black-list entry voids the subject's earlier credit
reports), read, remove early with a reason (the issuing department or the
credit office), and the expiry sweep. List types: read, and change their
issuer, basis or period rules (credit office, version-guarded). Measures: the
credit office creates, updates (with ``expected_version``) and deactivates
them; a measure without a legal basis is stored as a draft and never enforced.
Every write goes through :mod:`creditcase.core.lists`, which audits it.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import validate as v

from creditcase.core import ids
from creditcase.core.lists import (
    BINDINGS,
    EFFECTS,
    MEASURE_KINDS,
    ListEntry,
    ListType,
    Measure,
    add_entry,
    create_measure,
    deactivate_measure,
    entries_of,
    expire_entries,
    get_entry,
    get_list_type,
    get_measure,
    remove_entry,
    update_list_type,
    update_measure,
)
from creditcase.core.subjects import identify
from creditcase.web.auth import current_principal, login_required
from creditcase.web.context import plugin_host
from creditcase.web.schemas import ListEntryIn, MeasureOut, MeasureQuery, ReasonIn

blp = Blueprint("lists", __name__, url_prefix="/api/v1",
                description="红黑名单与联合奖惩措施 (red and black lists, measures)")


# -- schemas -----------------------------------------------------------------------------------

class ListEntryWithRecordIn(ListEntryIn):
    record_id = ma.fields.String(validate=v.Regexp(r"^[0-9a-f]{24}$", error="a record id"),
                                 allow_none=True, load_default=None, metadata={
                                     "description": "the credit record the entry is founded on"})


class ListEntryDetailOut(ma.Schema):
    id = ma.fields.String(attribute="pk")
    list_type = ma.fields.String()
    color = ma.fields.String()
    subject_code = ma.fields.Function(lambda e: ids.mask(e.subject_code),
                                      metadata={"type": "string"})
    subject_name = ma.fields.String()
    issuer = ma.fields.String()
    basis_doc_no = ma.fields.String()
    record_id = ma.fields.String(allow_none=True)
    listed_on = ma.fields.Date()
    valid_until = ma.fields.Date()
    source_department = ma.fields.String()
    removed_at = ma.fields.DateTime(allow_none=True)
    removal_reason = ma.fields.String(allow_none=True)
    removed_by = ma.fields.String(allow_none=True)
    expired = ma.fields.Boolean()
    created_at = ma.fields.DateTime()


class ListEntriesQuery(ma.Schema):
    subject_code = ma.fields.String(required=True, validate=v.Length(min=1, max=40))
    include_removed = ma.fields.Boolean(load_default=False)


class ListExpireOut(ma.Schema):
    expired = ma.fields.Integer()
    entries = ma.fields.List(ma.fields.Nested(ListEntryDetailOut))


class ListTypeRevisionOut(ma.Schema):
    version = ma.fields.Integer()
    snapshot = ma.fields.Dict()
    changed_at = ma.fields.DateTime()
    changed_by = ma.fields.String()
    reason = ma.fields.String()


class ListTypeDetailOut(ma.Schema):
    code = ma.fields.String()
    color = ma.fields.String()
    name_zh = ma.fields.String()
    name_en = ma.fields.String()
    issuer = ma.fields.String()
    basis = ma.fields.String()
    period_months = ma.fields.Integer(allow_none=True)
    extension_months = ma.fields.List(ma.fields.Integer())
    max_period_months = ma.fields.Integer(allow_none=True)
    early_removal = ma.fields.Boolean()
    catalogue_version = ma.fields.String(allow_none=True)
    version = ma.fields.Integer()
    history = ma.fields.List(ma.fields.Nested(ListTypeRevisionOut))


class ListTypePatchIn(ma.Schema):
    expected_version = ma.fields.Integer(required=True)
    reason = ma.fields.String(required=True, validate=v.Length(min=1, max=2000))
    name_zh = ma.fields.String(validate=v.Length(min=1, max=200))
    name_en = ma.fields.String(validate=v.Length(max=200))
    issuer = ma.fields.String(validate=v.Length(min=1, max=200))
    basis = ma.fields.String(validate=v.Length(min=1, max=2000))
    period_months = ma.fields.Integer(validate=v.Range(min=1, max=240), allow_none=True)
    extension_months = ma.fields.List(ma.fields.Integer(validate=v.Range(min=1, max=240)))
    early_removal = ma.fields.Boolean()


class MeasureFieldsIn(ma.Schema):
    kind = ma.fields.String(validate=v.OneOf(MEASURE_KINDS))
    binding = ma.fields.String(validate=v.OneOf(BINDINGS))
    effect = ma.fields.String(validate=v.OneOf(EFFECTS), metadata={
        "description": "reject, restrict, review (punishments) or incentive (rewards)"})
    text_zh = ma.fields.String(validate=v.Length(min=1, max=2000))
    text_en = ma.fields.String(validate=v.Length(max=2000))
    legal_basis = ma.fields.String(validate=v.Length(max=4000), metadata={
        "description": "empty: stored as a draft, never enforced"})
    basis_list_version = ma.fields.String(validate=v.Length(max=200), metadata={
        "description": "e.g. 全国失信惩戒措施基础清单（2024年版）; required with a legal basis"})
    domains = ma.fields.List(ma.fields.String(validate=v.Length(min=1, max=64)), metadata={
        "description": 'domain codes, or "*" for every domain'})
    triggers = ma.fields.List(ma.fields.String(validate=v.Length(min=1, max=100)), metadata={
        "description": "list type codes or RECORD:<kind>:<severity> (severity may be empty), "
                       "optionally prefixed COUNTERPARTY:"})
    active = ma.fields.Boolean()


class MeasureCreateIn(MeasureFieldsIn):
    """Only presence and types are checked here; the rules (codes, enums, triggers,
    domains, the basis version) are checked together by the core, so one response
    reports every invalid field."""

    code = ma.fields.String(required=True, validate=v.Length(max=64))
    kind = ma.fields.String(required=True, metadata={"enum": list(MEASURE_KINDS)})
    binding = ma.fields.String(required=True, metadata={"enum": list(BINDINGS)})
    effect = ma.fields.String(required=True, metadata={"enum": list(EFFECTS)})
    text_zh = ma.fields.String(required=True, validate=v.Length(max=2000))
    domains = ma.fields.List(ma.fields.String(validate=v.Length(max=64)), required=True)
    triggers = ma.fields.List(ma.fields.String(validate=v.Length(max=100)), required=True)


class MeasurePatchIn(MeasureFieldsIn):
    expected_version = ma.fields.Integer(required=True, metadata={
        "description": "the version you read; 409 when the measure has changed since"})


class MeasureDeactivateIn(ma.Schema):
    reason = ma.fields.String(required=True, validate=v.Length(min=1, max=2000))
    expected_version = ma.fields.Integer(allow_none=True, load_default=None)


class MeasureDetailOut(MeasureOut):
    status = ma.fields.String(metadata={"description": "enforceable, draft (no legal basis: "
                                                       "never enforced) or inactive"})
    deactivated_reason = ma.fields.String(allow_none=True)
    updated_at = ma.fields.DateTime(allow_none=True)
    updated_by = ma.fields.String(allow_none=True)
    version = ma.fields.Integer()


def _known_domains() -> list[str]:
    return sorted(plugin_host().domains)


# -- entries -----------------------------------------------------------------------------------

@blp.route("/lists/entries")
class EntriesView(MethodView):
    @login_required("credit_office", "data_provider")
    @blp.doc(summary="添加名单条目 (add a list entry)",
             description="A black-list entry voids the subject's credit reports issued before "
                         "`listed_on`. `valid_until` defaults to the list type's period and may "
                         "not exceed the period plus its longest extension.")
    @blp.arguments(ListEntryWithRecordIn)
    @blp.response(201, ListEntryDetailOut)
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, values: dict[str, Any]) -> ListEntry:
        return add_entry(current_principal(), **values)

    @login_required()
    @blp.doc(summary="主体的名单条目 (a subject's list entries)")
    @blp.arguments(ListEntriesQuery, location="query")
    @blp.response(200, ListEntryDetailOut(many=True))
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def get(self, query: dict[str, Any]) -> list[ListEntry]:
        _, code = identify(query["subject_code"], field="subject_code")
        return list(entries_of(code, include_removed=query["include_removed"]))


@blp.route("/lists/entries/<string:entry_id>")
class EntryView(MethodView):
    @login_required()
    @blp.doc(summary="名单条目 (a list entry)")
    @blp.response(200, ListEntryDetailOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, entry_id: str) -> ListEntry:
        return get_entry(entry_id)

    @login_required("credit_office", "data_provider")
    @blp.doc(summary="提前移出名单 (remove a list entry early, with a reason)",
             description="Only the issuing department (the entry's source department) or the "
                         "credit office. The entry is kept with its removal time, reason and "
                         "remover; it no longer produces hits. 409 when it was already removed "
                         "or expired.")
    @blp.arguments(ReasonIn)
    @blp.response(200, ListEntryDetailOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def delete(self, body: dict[str, Any], entry_id: str) -> ListEntry:
        return remove_entry(current_principal(), entry_id, body["reason"].strip())


@blp.route("/lists/expire")
class ExpireView(MethodView):
    @login_required("credit_office")
    @blp.doc(summary="到期移出 (expire entries whose period has ended)",
             description="Marks every entry with `valid_until` before today as removed with the "
                         "reason `expired` and emits `list.entry.removed` for each. Also run by "
                         "`creditcase lists expire`; safe to repeat.")
    @blp.response(200, ListExpireOut)
    def post(self) -> dict[str, Any]:
        expired = expire_entries(principal=current_principal())
        return {"expired": len(expired), "entries": expired}


# -- list types --------------------------------------------------------------------------------

@blp.route("/lists/types")
class TypesView(MethodView):
    @login_required()
    @blp.doc(summary="名单类型 (list types)")
    @blp.response(200, ListTypeDetailOut(many=True))
    def get(self) -> list[ListType]:
        return list(ListType.objects.order_by("color", "code"))


@blp.route("/lists/types/<string:code>")
class TypeView(MethodView):
    @login_required()
    @blp.doc(summary="名单类型 (a list type, with its change history)")
    @blp.response(200, ListTypeDetailOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, code: str) -> ListType:
        return get_list_type(code)

    @login_required("credit_office")
    @blp.doc(summary="修改名单类型 (change a list type's issuer, basis or period rules)",
             description="The previous values are kept in `history`. 409 when "
                         "`expected_version` is not the current version.")
    @blp.arguments(ListTypePatchIn)
    @blp.response(200, ListTypeDetailOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def patch(self, body: dict[str, Any], code: str) -> ListType:
        expected, reason = body.pop("expected_version"), body.pop("reason")
        return update_list_type(current_principal(), code, body, expected_version=expected,
                                reason=reason)


# -- measures ----------------------------------------------------------------------------------

@blp.route("/measures")
class MeasuresView(MethodView):
    @login_required()
    @blp.doc(summary="联合奖惩措施清单 (joint reward/punishment measures)")
    @blp.arguments(MeasureQuery, location="query")
    @blp.response(200, MeasureDetailOut(many=True))
    def get(self, query: dict[str, Any]) -> list[Measure]:
        filters = {k: query[k] for k in ("kind", "binding") if k in query}
        measures = Measure.objects(**filters).order_by("code")
        if "domain" in query:
            return [m for m in measures if m.applies_to(query["domain"])]
        return list(measures)

    @login_required("credit_office")
    @blp.doc(summary="新增措施 (add a measure)",
             description="Every field is validated: triggers name existing list types or "
                         "`RECORD:<kind>:<severity>`, domains are installed domain codes or `*`. "
                         "Without `legal_basis` the measure is stored as a **draft** and never "
                         "enforced; with one, `basis_list_version` is required.")
    @blp.arguments(MeasureCreateIn)
    @blp.response(201, MeasureDetailOut)
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, body: dict[str, Any]) -> Measure:
        return create_measure(current_principal(), body, known_domains=_known_domains())


@blp.route("/measures/<string:code>")
class MeasureView(MethodView):
    @login_required()
    @blp.doc(summary="措施 (a measure)")
    @blp.response(200, MeasureDetailOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, code: str) -> Measure:
        return get_measure(code)

    @login_required("credit_office")
    @blp.doc(summary="修改措施 (change a measure)",
             description="Send only the fields to change, with `expected_version`. Clearing "
                         "`legal_basis` turns the measure back into a draft.")
    @blp.arguments(MeasurePatchIn)
    @blp.response(200, MeasureDetailOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def patch(self, body: dict[str, Any], code: str) -> Measure:
        expected = body.pop("expected_version")
        return update_measure(current_principal(), code, body, expected_version=expected,
                              known_domains=_known_domains())


@blp.route("/measures/<string:code>/deactivate")
class DeactivateView(MethodView):
    @login_required("credit_office")
    @blp.doc(summary="停用措施 (deactivate a measure, with a reason)")
    @blp.arguments(MeasureDeactivateIn)
    @blp.response(200, MeasureDetailOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, body: dict[str, Any], code: str) -> Measure:
        return deactivate_measure(current_principal(), code, body["reason"],
                                  expected_version=body["expected_version"])
