"""Red and black lists and the measure catalogue: add and remove list entries
(through :mod:`creditcase.core.lists`, which audits them and voids credit
reports on a black-list entry), read the list types and the joint
reward/punishment measures."""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from flask.views import MethodView
from flask_smorest import Blueprint

from creditcase.core.errors import NotFound
from creditcase.core.lists import ListEntry, ListType, Measure, add_entry, remove_entry
from creditcase.web.auth import current_principal, login_required
from creditcase.web.schemas import (
    ListEntryIn,
    ListEntryOut,
    ListTypeOut,
    MeasureOut,
    MeasureQuery,
    ReasonIn,
)

blp = Blueprint("lists", __name__, url_prefix="/api/v1",
                description="红黑名单与联合奖惩措施 (red and black lists, measures)")


@blp.route("/lists/entries")
class EntriesView(MethodView):
    @login_required("credit_office", "data_provider")
    @blp.doc(summary="添加名单条目 (add a list entry)",
             description="A black-list entry voids the subject's credit reports issued before "
                         "`listed_on`. `valid_until` defaults to the list type's period.")
    @blp.arguments(ListEntryIn)
    @blp.response(201, ListEntryOut)
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    def post(self, values: dict[str, Any]) -> ListEntry:
        return add_entry(current_principal(), **values)


@blp.route("/lists/entries/<string:entry_id>")
class EntryView(MethodView):
    @login_required("credit_office")
    @blp.doc(summary="移出名单 (remove a list entry, with a reason)",
             description="The entry is kept with its removal time and reason; it no longer "
                         "produces hits. 409 when it was already removed.")
    @blp.arguments(ReasonIn)
    @blp.response(200, ListEntryOut)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def delete(self, body: dict[str, Any], entry_id: str) -> ListEntry:
        return remove_entry(current_principal(), _valid_id(entry_id), body["reason"].strip())


def _valid_id(entry_id: str) -> str:
    if not ObjectId.is_valid(entry_id):
        raise NotFound(f"no list entry {entry_id}")
    return entry_id


@blp.route("/lists/types")
class TypesView(MethodView):
    @login_required()
    @blp.doc(summary="名单类型 (list types)")
    @blp.response(200, ListTypeOut(many=True))
    def get(self) -> list[ListType]:
        return list(ListType.objects.order_by("color", "code"))


@blp.route("/measures")
class MeasuresView(MethodView):
    @login_required()
    @blp.doc(summary="联合奖惩措施清单 (joint reward/punishment measures)")
    @blp.arguments(MeasureQuery, location="query")
    @blp.response(200, MeasureOut(many=True))
    def get(self, query: dict[str, Any]) -> list[Measure]:
        filters = {k: query[k] for k in ("kind", "binding") if k in query}
        measures = Measure.objects(**filters).order_by("code")
        if "domain" in query:
            return [m for m in measures if m.applies_to(query["domain"])]
        return list(measures)
