"""The public 双公示 search: published administrative licences and penalties,
with no login, rate-limited per client address (``settings.public_rate_limit``).

Only records the public may see today are returned
(:func:`creditcase.core.publicity.public_filter`): published, within their
publicity period (so a record whose period is over is hidden even before the
daily sweep has run), and neither repaired nor revoked. The search takes a
subject name (any part of it; regular-expression characters are taken
literally) or an exact USCC / ID number.

Personal data is masked in every result: ID numbers (subject code, the national
ID fields, numbers inside free text) as ``1101**********002X``, and a natural
person's name as ``王**``. A full ID number never leaves this endpoint.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint, abort
from pymongo.errors import ExecutionTimeout

from creditcase.core import ids, publicity
from creditcase.core.records import (
    KINDS_OF_RECORD,
    PERSONAL_ID_FIELDS,
    SEVERITIES,
    CreditRecord,
)
from creditcase.core.subjects import NATURAL
from creditcase.web.context import current_runtime
from creditcase.web.schemas import PublicityQuery, mask_text

blp = Blueprint("public", __name__, url_prefix="/api/v1/public",
                description="信用公示（无需登录）(public credit publicity, no login)")

#: Record states still shown to the public (a disputed record is shown, marked as such).
SHOWN_STATES = publicity.SHOWN_STATES
#: National fields holding the subject's name or code.
_NAME_FIELDS = frozenset({"XK_XDR_MC", "CF_XDR_MC"})
_CODE_FIELDS = frozenset({"XK_XDR_SHXYM", "CF_XDR_SHXYM"})


def rate_limit() -> str:
    return current_runtime().settings.public_rate_limit


def client_address() -> str:
    return f"public@{get_remote_address()}"


def mask_name(name: str) -> str:
    """A natural person's name for public display: ``王某某`` → ``王**``."""
    name = (name or "").strip()
    return name[:1] + "*" * max(len(name) - 1, 1) if name else name


def public_name(record: CreditRecord) -> str:
    return mask_name(record.subject_name) if record.subject_kind == NATURAL else record.subject_name


def public_code(record: CreditRecord, code: str | None = None) -> str:
    """A subject code for the public: a natural person's number is always masked (even
    one that happens to pass the USCC checksum too); a USCC is public."""
    code = record.subject_code if code is None else code
    if record.subject_kind == NATURAL:
        return ids.mask_id_number(code)
    return ids.mask(code)


def public_text(record: CreditRecord, text: str | None) -> str | None:
    """Free text fit for the public: embedded ID numbers masked and, for a natural
    person, the person's name masked wherever it appears."""
    text = mask_text(text)
    if text and record.subject_kind == NATURAL and len(record.subject_name or "") > 1:
        text = text.replace(record.subject_name, mask_name(record.subject_name))
    return text


def public_fields(record: CreditRecord) -> dict[str, Any]:
    """The national fields fit for the public: ID numbers masked, a natural person's
    name masked (also inside free text), free text with embedded ID numbers masked."""
    out: dict[str, Any] = {}
    natural = record.subject_kind == NATURAL
    for key, value in (record.fields or {}).items():
        if isinstance(value, str) and value:
            if key in PERSONAL_ID_FIELDS:
                value = ids.mask_id_number(value)
            elif key in _CODE_FIELDS:
                value = public_code(record, value)
            elif key in _NAME_FIELDS and natural:
                value = mask_name(value)
            else:
                value = public_text(record, value)
        out[key] = value
    if record.kind == "penalty" and record.publicity_until:
        out["CF_GSJZQ"] = record.publicity_until.isoformat()
    return out


def _derived(function: Any, type_: str = "string", description: str | None = None
             ) -> ma.fields.Function:
    metadata: dict[str, Any] = {"type": type_}
    if description:
        metadata["description"] = description
    return ma.fields.Function(function, metadata=metadata)


class PublicityOut(ma.Schema):
    """One published record as the public sees it."""

    id = ma.fields.String(attribute="pk")
    kind = ma.fields.String()
    kind_zh = _derived(lambda r: KINDS_OF_RECORD.get(r.kind, r.kind))
    subject_name = _derived(public_name, description="a natural person's name is masked")
    subject_code = _derived(lambda r: public_code(r), description="ID numbers masked")
    subject_kind = ma.fields.String()
    title = _derived(lambda r: public_text(r, r.title))
    content = _derived(lambda r: public_text(r, r.content),
                       description="ID numbers (and a natural person's name) in the text masked")
    doc_no = ma.fields.String()
    decision_date = ma.fields.Date()
    effective_from = ma.fields.Date(allow_none=True)
    effective_until = ma.fields.Date(allow_none=True)
    authority = ma.fields.String()
    severity = ma.fields.String(allow_none=True)
    severity_zh = _derived(lambda r: SEVERITIES.get(r.severity or ""))
    disputed = _derived(lambda r: r.state == "disputed", "boolean",
                        description="异议处理中 (under objection)")
    published_at = ma.fields.DateTime(allow_none=True)
    publicity_until = ma.fields.Date(allow_none=True, metadata={
        "description": "公示截止期: shown until this day"})
    fields = _derived(public_fields, "object",
                      description="national fields; ID numbers and personal data masked")


def exact_code(text: str) -> str | None:
    """``text`` as a normalised USCC or ID number, or ``None``."""
    try:
        return ids.validate(text)[1]
    except ids.IdentityCodeError:
        return None


#: Time budget of a search by part of a name, which scans the published records
#: (app config ``PUBLIC_NAME_SEARCH_MS`` overrides it).
NAME_SEARCH_MS = 5000


class SearchTooSlow(Exception):
    """A search by part of a name ran out of its time budget."""


def _query(text: str, kind: str | None) -> tuple[dict[str, Any], bool]:
    code = exact_code(text) if text else None
    # the subject code goes first: the server serves the first indexed clause from its
    # index ((subject_code, state)), and the code selects a handful of records
    query: dict[str, Any] = {"subject_code": code} if code else {}
    query.update(publicity.public_filter())
    if kind:
        query["kind"] = kind
    if text and not code:
        query["subject_name"] = {"$regex": re.escape(text)}
    return query, bool(text) and not code


def search(text: str, kind: str | None = None) -> Any:
    """The query set of the public search (newest decisions first)."""
    query, _ = _query((text or "").strip(), kind)
    return CreditRecord.objects(__raw__=query).order_by("-decision_date", "-published_at")


def search_page(text: str, kind: str | None, first: int, size: int,
                budget_ms: int | None = None) -> tuple[int, list[CreditRecord]]:
    """``(total, records first..first+size)`` of the public search.

    By code the index answers. By part of a name the published records are scanned
    once (ids and sort keys only, within ``budget_ms``), then the page is fetched by id;
    raises :class:`SearchTooSlow` when the scan exceeds the budget.
    """
    query, scan = _query((text or "").strip(), kind)
    if not scan:
        found = CreditRecord.objects(__raw__=query)
        return found.count(), list(found.order_by("-decision_date", "-published_at")
                                   .skip(first).limit(size))
    budget = budget_ms or int(current_app.config.get("PUBLIC_NAME_SEARCH_MS", NAME_SEARCH_MS))
    try:
        keys = [(d.get("decision_date"), d.get("published_at"), d["_id"]) for d in
                CreditRecord._get_collection().find(
                    query, {"decision_date": 1, "published_at": 1}, max_time_ms=budget)]
    except ExecutionTimeout:
        raise SearchTooSlow() from None
    keys.sort(key=lambda k: (_instant(k[0]), _instant(k[1])), reverse=True)
    ids_ = [k[2] for k in keys[first:first + size]]
    by_id = {record.pk: record for record in CreditRecord.objects(pk__in=ids_)} if ids_ else {}
    return len(keys), [by_id[i] for i in ids_ if i in by_id]


def _instant(value: dt.datetime | None) -> float:
    if value is None:
        return float("-inf")
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).timestamp()


@blp.route("/publicity")
class PublicityView(MethodView):
    @blp.doc(summary="双公示查询 (search published licences and penalties)",
             description="No login. `q` is part of a subject name, or an exact USCC or ID number. "
                         "Only records within their publicity period are returned. ID numbers "
                         "are masked (e.g. 1101**********002X) and so are natural persons' names. "
                         "A search by part of a name scans the published records and answers 503 "
                         "when that takes too long; a search by code is always quick. "
                         "Rate-limited per client address (429 with Retry-After). Pagination "
                         "metadata is in `X-Pagination`.", security=[])
    @blp.arguments(PublicityQuery, location="query")
    @blp.response(200, PublicityOut(many=True))
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    @blp.paginate()
    def get(self, query: dict[str, Any], pagination_parameters: Any) -> list[CreditRecord]:
        try:
            total, records = search_page(query["q"], query.get("kind"),
                                         pagination_parameters.first_item,
                                         pagination_parameters.page_size)
        except SearchTooSlow:
            abort(503, message="按名称查询超时，请输入更完整的名称或统一社会信用代码 (the name "
                               "search took too long; give more of the name, or the code)")
        pagination_parameters.item_count = total
        return records


__all__ = ["NAME_SEARCH_MS", "SHOWN_STATES", "PublicityOut", "SearchTooSlow", "blp",
           "client_address", "exact_code", "mask_name", "public_code", "public_fields",
           "public_text", "rate_limit", "search", "search_page"]
