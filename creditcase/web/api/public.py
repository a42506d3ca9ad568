"""The public 双公示 search: published administrative licences and penalties,
with no login, rate-limited per client address (``settings.public_rate_limit``).

ID numbers and other personal codes are masked in every result; the search
takes a subject name (any part of it; regular-expression characters are taken
literally) or an exact USCC / ID number.
"""

from __future__ import annotations

import re
from typing import Any

from flask.views import MethodView
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint

from creditcase.core import ids
from creditcase.core.records import PUBLICITY_KINDS, CreditRecord
from creditcase.web.context import current_runtime
from creditcase.web.schemas import PublicityQuery, PublicRecordOut

blp = Blueprint("public", __name__, url_prefix="/api/v1/public",
                description="信用公示（无需登录）(public credit publicity, no login)")

#: Record states still shown to the public (a disputed record is shown, marked as such).
SHOWN_STATES = ("active", "disputed")


def rate_limit() -> str:
    return current_runtime().settings.public_rate_limit


def client_address() -> str:
    return f"public@{get_remote_address()}"


def _exact_code(text: str) -> str | None:
    try:
        return ids.validate(text)[1]
    except ids.IdentityCodeError:
        return None


@blp.route("/publicity")
class PublicityView(MethodView):
    @blp.doc(summary="双公示查询 (search published licences and penalties)",
             description="No login. `q` is part of a subject name, or an exact USCC or ID number. "
                         "ID numbers are masked (e.g. 1101**********002X). Rate-limited per "
                         "client address (429 with Retry-After). Pagination metadata is in "
                         "`X-Pagination`.", security=[])
    @blp.arguments(PublicityQuery, location="query")
    @blp.response(200, PublicRecordOut(many=True))
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.paginate()
    def get(self, query: dict[str, Any], pagination_parameters: Any) -> list[CreditRecord]:
        filters: dict[str, Any] = {"publicity_state": "published", "state__in": SHOWN_STATES,
                                   "kind__in": sorted(PUBLICITY_KINDS)}
        if query.get("kind"):
            filters["kind__in"] = [query["kind"]]
        text = query["q"].strip()
        if text:
            code = _exact_code(text)
            if code:
                filters["subject_code"] = code
            else:
                filters["__raw__"] = {"subject_name": {"$regex": re.escape(text)}}
        records = CreditRecord.objects(**filters).order_by("-decision_date", "-published_at")
        pagination_parameters.item_count = records.count()
        return list(records.skip(pagination_parameters.first_item)
                    .limit(pagination_parameters.page_size))
