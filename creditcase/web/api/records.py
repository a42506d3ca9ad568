"""Credit records pushed by departments and courts: one at a time, in bulk, and
read back. Pushing goes through :func:`creditcase.core.records.push_record`,
which is idempotent per source department and document number and writes the
audit event and the outbox entry with the record."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import mongoengine as me
from flask.views import MethodView
from flask_smorest import Blueprint

from creditcase.core.accounts import Principal
from creditcase.core.errors import DomainError, NotFound, PermissionDenied
from creditcase.core.records import CreditRecord, push_record
from creditcase.web.auth import current_principal, login_required
from creditcase.web.errors import flatten_messages
from creditcase.web.schemas import BULK_MAX, BulkIn, BulkOut, PushOut, RecordIn, RecordOut

blp = Blueprint("records", __name__, url_prefix="/api/v1/records",
                description="信用记录 (credit records: licences, penalties, judgments, ...)")

PUSHERS = ("data_provider", "credit_office")


def push(principal: Principal, values: dict[str, Any]) -> tuple[CreditRecord, str]:
    """Push one validated record as ``principal``; only city-wide users may name
    another source department."""
    values = dict(values)
    source = values.pop("source_department", None)
    if source and source != principal.department and not principal.city_wide:
        raise PermissionDenied("only the credit office may push records for another department",
                               errors={"source_department": ["must be your own department"]})
    return push_record(principal, values, source_department=source or None)


@blp.route("")
class RecordsView(MethodView):
    @login_required(*PUSHERS)
    @blp.doc(summary="推送一条信用记录 (push one credit record)",
             description="Idempotent per source department and `doc_no`: the same content again "
                         "is `unchanged` (200), different content is a correction, `updated` "
                         "(200), with the previous revision kept. A new record is `created` "
                         "(201). Licences and penalties are published (双公示) with their "
                         "7-working-day deadline.")
    @blp.arguments(RecordIn)
    @blp.response(200, PushOut)
    @blp.alt_response(201, schema=PushOut, description="created", success=True)
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, values: dict[str, Any]) -> tuple[dict[str, Any], int]:
        record, outcome = push(current_principal(), values)
        return {"outcome": outcome, "record": record}, 201 if outcome == "created" else 200


@blp.route("/bulk")
class BulkView(MethodView):
    @login_required(*PUSHERS)
    @blp.doc(summary=f"批量推送信用记录，最多 {BULK_MAX} 条 (push up to {BULK_MAX} records)",
             description="Each item is validated and stored on its own: **valid items are stored "
                         "even if others fail**. The response lists every item by `index` with its "
                         "outcome (`created`, `updated`, `unchanged`) or `failed` with `errors` "
                         "mapping field paths to messages. The request itself fails (422) only "
                         f"when `records` is missing, empty or longer than {BULK_MAX}.")
    @blp.arguments(BulkIn)
    @blp.response(200, BulkOut)
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        principal = current_principal()
        schema = RecordIn()
        summary = {"created": 0, "updated": 0, "unchanged": 0, "failed": 0}
        items: list[dict[str, Any]] = []
        for index, raw in enumerate(body["records"]):
            doc_no = raw.get("doc_no") if isinstance(raw, dict) else None
            item: dict[str, Any] = {"index": index,
                                    "doc_no": doc_no if isinstance(doc_no, str) else None}
            try:
                record, outcome = push(principal, schema.load(raw))
            except ma.ValidationError as exc:
                item.update(outcome="failed", errors=flatten_messages(exc.messages))
            except DomainError as exc:
                item.update(outcome="failed", errors=exc.errors or {"_schema": [exc.detail]})
            else:
                item.update(outcome=outcome, id=str(record.pk))
            summary[item["outcome"]] += 1
            items.append(item)
        return {"summary": summary, "items": items}


@blp.route("/<string:record_id>")
class RecordView(MethodView):
    @login_required()
    @blp.doc(summary="读取一条信用记录 (read a credit record)",
             description="Departments read the records they pushed; the credit office reads all.")
    @blp.response(200, RecordOut)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, record_id: str) -> CreditRecord:
        scope = current_principal().department_filter()
        query = {"source_department": scope["department"]} if scope else {}
        try:
            record = CreditRecord.objects(pk=record_id, **query).first()
        except me.ValidationError:
            record = None
        if record is None:
            raise NotFound(f"no record {record_id}")
        return record
