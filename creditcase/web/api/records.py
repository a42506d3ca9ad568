"""Credit records pushed by departments and courts: one at a time, in bulk, read
back, and published later (双公示).

A record is sent in the generic form or in the national 双公示 form (field codes
``XK_*`` / ``CF_*`` at the top level); both are validated by
:func:`creditcase.core.records.load_record`, which reports every invalid field
with its rule (422, ``errors``). Storing goes through
:func:`creditcase.core.records.store_batch`: idempotent per source department and
document number, with the audit events and outbox entries in the same
transaction. Views never write documents themselves.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from creditcase.core import ids, publicity
from creditcase.core.accounts import Principal
from creditcase.core.errors import PermissionDenied, RuleViolation
from creditcase.core.records import (
    PUBLICITY_STATES,
    SECTORS,
    STATES,
    CreditRecord,
    LicenceSchema,
    PenaltySchema,
    RecordSchema,
    find_record,
    load_record,
    store_batch,
)
from creditcase.core.subjects import NATURAL
from creditcase.web.auth import current_principal, login_required
from creditcase.web.schemas import BULK_MAX, BulkOut, RecordOut

blp = Blueprint("records", __name__, url_prefix="/api/v1/records",
                description="信用记录 (credit records: licences, penalties, judgments, ...)")

PUSHERS = ("data_provider", "credit_office")

#: The request body of a push: the generic form or a national form.
RECORD_BODY = {"required": True, "content": {"application/json": {"schema": {
    "oneOf": [RecordSchema, LicenceSchema, PenaltySchema]}}}}


class RecordDetailOut(RecordOut):
    """A record as its source department (or the credit office) sees it; ID numbers
    masked."""

    subject_code = ma.fields.Function(
        lambda r: ids.mask_id_number(r.subject_code) if r.subject_kind == NATURAL
        else ids.mask(r.subject_code), metadata={"type": "string",
                                                 "description": "ID numbers masked"})
    severity_zh = ma.fields.Function(lambda r: {"minor": "轻微", "general": "一般",
                                                "serious": "严重"}.get(r.severity or ""),
                                     metadata={"type": "string"})
    type_severities = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    publish_minor = ma.fields.Boolean()
    sector = ma.fields.String(allow_none=True, metadata={"enum": list(SECTORS)})
    state = ma.fields.String(metadata={"enum": list(STATES)})
    publicity_state = ma.fields.String(metadata={"enum": list(PUBLICITY_STATES)})
    published_late = ma.fields.Boolean(allow_none=True)
    publicity_regime = ma.fields.String(allow_none=True, metadata={
        "description": "the publicity regime applied (effective-dated rules)"})
    publicity_min_until = ma.fields.Date(allow_none=True, metadata={
        "description": "end of the minimum publicity period (repair possible from then)"})
    publicity_until = ma.fields.Date(allow_none=True, metadata={
        "description": "公示截止期 CF_GSJZQ: publication stops after this day"})
    publicity_ended_at = ma.fields.DateTime(allow_none=True)


class PushResultOut(ma.Schema):
    outcome = ma.fields.String(metadata={"description": "created, updated or unchanged"})
    record = ma.fields.Nested(RecordDetailOut)


def _department(principal: Principal, raw: Any) -> str | None:
    """The source department a raw item names, if the principal may use it."""
    source = raw.get("source_department") if isinstance(raw, dict) else None
    if source and source != principal.department and not principal.city_wide:
        raise PermissionDenied("only the credit office may push records for another department",
                               errors={"source_department": ["must be your own department"]})
    return source if isinstance(source, str) and source else None


def _json_body() -> Any:
    body = request.get_json(silent=True)
    if body is None:
        raise RuleViolation("the body must be a JSON object",
                            errors={"_schema": ["type: a JSON object is required"]})
    return body


@blp.route("")
class RecordsView(MethodView):
    @login_required(*PUSHERS)
    @blp.doc(summary="推送一条信用记录 (push one credit record)", requestBody=RECORD_BODY,
             description="Generic form, or the national 双公示 form (XK_* licence or CF_* "
                         "penalty codes at the top level; subject, title and dates are derived "
                         "from them). Idempotent per source department and document number: "
                         "the same content again is `unchanged` (200), different content is a "
                         "correction, `updated` (200), with the previous revision kept. A new "
                         "record is `created` (201). Licences and penalties are published at "
                         "once unless `publish` is false; the publication deadline is the "
                         "decision date + 7 working days. A penalty needs `severity`. Every "
                         "invalid field is reported in `errors` as `rule: message` (422).")
    @blp.response(200, PushResultOut)
    @blp.alt_response(201, schema=PushResultOut, description="created", success=True)
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self) -> tuple[dict[str, Any], int]:
        principal = current_principal()
        raw = _json_body()
        source = _department(principal, raw)
        values = load_record(raw)
        [result] = store_batch(principal, [values], source_department=source,
                               lookup_first=True, keep_records=True)
        if result.outcome == "failed":
            raise RuleViolation("invalid record", errors=result.errors)
        return ({"outcome": result.outcome, "record": result.record},
                201 if result.outcome == "created" else 200)


@blp.route("/bulk")
class BulkView(MethodView):
    @login_required(*PUSHERS)
    @blp.doc(summary=f"批量推送信用记录，最多 {BULK_MAX} 条 (push up to {BULK_MAX} records)",
             requestBody={"required": True, "content": {"application/json": {"schema": {
                 "type": "object", "required": ["records"], "properties": {"records": {
                     "type": "array", "minItems": 1, "maxItems": BULK_MAX,
                     "items": RECORD_BODY["content"]["application/json"]["schema"]}}}}}},
             description="Each item is validated on its own: **valid items are stored even if "
                         "others fail** (all valid items in one transaction). The response lists "
                         "every item by `index` with its outcome (`created`, `updated`, "
                         "`unchanged`) or `failed` with `errors` mapping field paths to "
                         "`rule: message`. The request itself fails (422) only when `records` "
                         f"is missing, empty or longer than {BULK_MAX}.")
    @blp.response(200, BulkOut)
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self) -> dict[str, Any]:
        principal = current_principal()
        body = _json_body()
        items = body.get("records") if isinstance(body, dict) else None
        if not isinstance(items, list) or not 1 <= len(items) <= BULK_MAX:
            raise RuleViolation("records: a list of 1 to 1000 records",
                                errors={"records": [f"length: 1 to {BULK_MAX} records"]})
        results: dict[int, dict[str, Any]] = {}
        valid: list[dict[str, Any]] = []
        positions: list[int] = []
        for index, raw in enumerate(items):
            doc_no = raw.get("doc_no") or raw.get("CF_WSH") or raw.get("XK_WSH") \
                if isinstance(raw, dict) else None
            item: dict[str, Any] = {"index": index,
                                    "doc_no": doc_no if isinstance(doc_no, str) else None}
            try:
                source = _department(principal, raw)
                values = load_record(raw)
            except (RuleViolation, PermissionDenied) as exc:
                results[index] = {**item, "outcome": "failed", "errors": exc.errors}
                continue
            if source:
                values["source_department"] = source
            results[index] = item
            valid.append(values)
            positions.append(index)
        for outcome in store_batch(principal, valid, lookup_first=True) if valid else []:
            item = results[positions[outcome.index]]
            item["outcome"] = outcome.outcome
            item["doc_no"] = outcome.doc_no or item["doc_no"]
            if outcome.outcome == "failed":
                item["errors"] = outcome.errors
            else:
                item["id"] = outcome.id
        summary = {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}
        for item in results.values():
            summary[item["outcome"]] += 1
        return {"summary": summary, "items": [results[i] for i in sorted(results)]}


@blp.route("/<string:record_id>")
class RecordView(MethodView):
    @login_required()
    @blp.doc(summary="读取一条信用记录 (read a credit record)",
             description="Departments read the records they pushed; the credit office reads all. "
                         "ID numbers are masked.")
    @blp.response(200, RecordDetailOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, record_id: str) -> CreditRecord:
        return find_record(record_id, current_principal())


@blp.route("/<string:record_id>/publish")
class PublishView(MethodView):
    @login_required("data_provider", "dept_admin", "credit_office")
    @blp.doc(summary="公示一条待公示记录 (publish a record pushed with publish: false)",
             description="For a licence or penalty in publicity state `due` or `overdue`. "
                         "`published_late` is true when published after the deadline (decision "
                         "date + 7 working days). 409 when the record is already published, "
                         "its period has ended, or the rules do not publish it.")
    @blp.response(200, RecordDetailOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def post(self, record_id: str) -> CreditRecord:
        return publicity.publish(current_principal(), record_id)


__all__ = ["PUSHERS", "RecordDetailOut", "blp"]
