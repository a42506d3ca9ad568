"""Credit data pages: credit records (search, detail with revision history and
the 双公示 deadline), red and black list entries, the measure catalogue,
credit service agencies and their reports.

Records are scoped to the reader's department (the department that pushed
them); the credit office reads every department's. Lists, measures, agencies
and reports are the city's reference data, readable by every signed-in user.
Subject codes of natural persons are masked everywhere (the API schemas
decide what is shown).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from bson import ObjectId
from flask import render_template, request

from creditcase.core import audit, ids
from creditcase.core.errors import NotFound
from creditcase.core.lists import ListEntry, ListType, Measure
from creditcase.core.records import (
    KINDS_OF_RECORD,
    PUBLICITY_KINDS,
    PUBLICITY_STATES,
    STATES,
    CreditRecord,
)
from creditcase.core.reports import VALIDITY_YEARS, Agency, CreditReport, add_years, report_validity
from creditcase.web.schemas import (
    AgencyOut,
    ListEntryOut,
    ListTypeOut,
    MeasureOut,
    RecordOut,
    ReportOut,
)
from creditcase.web.ui.common import (
    BEIJING,
    as_date,
    as_datetime,
    login_required,
    page_blueprint,
    paginate,
    principal,
    today,
)
from creditcase.web.ui.views import AuditOut, RecordPageOut, RevisionOut

bp = page_blueprint("ui_data", __name__, url_prefix="/data")


def _code_or_none(text: str) -> str | None:
    try:
        return ids.validate(text)[1]
    except ids.IdentityCodeError:
        return None


def _record_scope() -> dict[str, Any]:
    scope = principal().department_filter()
    return {"source_department": scope["department"]} if scope else {}


def publicity_timeliness(record: dict[str, Any]) -> str:
    """``on_time``, ``late`` (published after the deadline), ``overdue`` (not published,
    deadline passed), ``pending`` or ``n/a``."""
    if record.get("kind") not in PUBLICITY_KINDS or record.get("publicity_state") == "not_applicable":
        return "n/a"
    due = as_date(record.get("publication_due"))
    published = as_datetime(record.get("published_at"))
    if published is not None:
        if due is None:
            return "on_time"
        return "on_time" if published.astimezone(BEIJING).date() <= due else "late"
    if due is not None and due < today():
        return "overdue"
    return "pending"


# -- records ---------------------------------------------------------------------------------

@bp.get("/records")
@login_required()
def records() -> str:
    args = request.args
    filters = {
        "q": (args.get("q") or "").strip()[:100],
        "kind": args.get("kind", "") if args.get("kind") in KINDS_OF_RECORD else "",
        "state": args.get("state", "") if args.get("state") in STATES else "",
        "publicity": args.get("publicity", "") if args.get("publicity") in PUBLICITY_STATES else "",
    }
    query: dict[str, Any] = _record_scope()
    for key, field in (("kind", "kind"), ("state", "state"), ("publicity", "publicity_state")):
        if filters[key]:
            query[field] = filters[key]
    found = CreditRecord.objects(**query)
    if filters["q"]:
        code = _code_or_none(filters["q"])
        if code:
            found = found.filter(subject_code=code)
        else:
            text = re.escape(filters["q"])
            found = found.filter(__raw__={"$or": [{"subject_name": {"$regex": text}},
                                                  {"doc_no": {"$regex": text}},
                                                  {"title": {"$regex": text}}]})
    found = found.order_by("-decision_date", "-created_at")

    def rows(items: Any) -> list[dict[str, Any]]:
        out = RecordOut(many=True).dump(items)
        for row in out:
            row["timeliness"] = publicity_timeliness(row)
        return out

    page = paginate(found, rows)
    return render_template("data/records.html", page=page, filters=filters,
                           kinds=tuple(KINDS_OF_RECORD), states=STATES,
                           publicity_states=PUBLICITY_STATES,
                           show_department=principal().city_wide)


@bp.get("/records/<record_id>")
@login_required()
def record(record_id: str) -> str:
    found = None
    if ObjectId.is_valid(record_id):
        found = CreditRecord.objects(pk=record_id, **_record_scope()).first()
    if found is None:
        raise NotFound(f"no record {record_id}")
    view = RecordPageOut().dump(found)
    view["timeliness"] = publicity_timeliness(view)
    history = RevisionOut(many=True).dump(sorted(found.history, key=lambda r: -r.revision))
    trail = AuditOut(many=True).dump(audit.trail("CreditRecord", str(found.pk)))
    return render_template("data/record.html", record=view, history=history, trail=trail)


# -- lists and measures ----------------------------------------------------------------------

@bp.get("/lists")
@login_required()
def lists() -> str:
    args = request.args
    types = ListTypeOut(many=True).dump(ListType.objects.order_by("color", "code"))
    codes = {t["code"] for t in types}
    filters = {
        "q": (args.get("q") or "").strip()[:100],
        "list_type": args.get("list_type", "") if args.get("list_type") in codes else "",
        "color": args.get("color", "") if args.get("color") in ("red", "black") else "",
        "status": args.get("status", "in_force") if args.get("status") in
        ("in_force", "removed", "expired", "all") else "in_force",
    }
    query: dict[str, Any] = {}
    if filters["list_type"]:
        query["list_type"] = filters["list_type"]
    if filters["color"]:
        query["color"] = filters["color"]
    on = today()
    if filters["status"] == "in_force":
        query.update(removed_at=None, valid_until__gte=on, listed_on__lte=on)
    elif filters["status"] == "removed":
        query["removed_at__ne"] = None
    elif filters["status"] == "expired":
        query.update(removed_at=None, valid_until__lt=on)
    found = ListEntry.objects(**query)
    if filters["q"]:
        code = _code_or_none(filters["q"])
        if code:
            found = found.filter(subject_code=code)
        else:
            text = re.escape(filters["q"])
            found = found.filter(__raw__={"$or": [{"subject_name": {"$regex": text}},
                                                  {"basis_doc_no": {"$regex": text}}]})
    found = found.order_by("-listed_on")
    page = paginate(found, lambda items: ListEntryOut(many=True).dump(items))
    names = {t["code"]: t for t in types}
    return render_template("data/lists.html", page=page, filters=filters, types=types,
                           names=names)


@bp.get("/measures")
@login_required()
def measures() -> str:
    items = MeasureOut(many=True).dump(Measure.objects.order_by("kind", "code"))
    return render_template("data/measures.html", measures=items)


# -- agencies and reports --------------------------------------------------------------------

def _validity_query(valid: bool, on: dt.date, agencies: Any) -> dict[str, Any]:
    """The rule of :func:`creditcase.core.reports.report_validity` as a query: filed
    agency in good standing, issued within the last year and not in the future, not
    void. (A report issued on 29 February counts one day longer here than there; the
    page shows each row's own validity.)"""
    good = [a.filing_no for a in agencies
            if a.status == "filed" and a.filing_valid_until >= on]
    oldest = datetime_of(add_years(on, -VALIDITY_YEARS))
    valid_query = {"void": False, "agency_filing_no": {"$in": good},
                   "issue_date": {"$gt": oldest, "$lte": datetime_of(on)}}
    if valid:
        return valid_query
    return {"$or": [{"void": True}, {"agency_filing_no": {"$nin": good}},
                    {"issue_date": {"$lte": oldest}}, {"issue_date": {"$gt": datetime_of(on)}}]}


def datetime_of(day: dt.date) -> dt.datetime:
    """A date as stored by mongoengine's DateField (midnight UTC)."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


@bp.get("/agencies")
@login_required()
def agencies() -> str:
    on = today()
    items = AgencyOut(many=True).dump(Agency.objects.order_by("name"))
    for item in items:
        until = as_date(item.get("filing_valid_until"))
        item["filing_current"] = item["status"] == "filed" and until is not None and until >= on
        item["reports"] = CreditReport.objects(agency_filing_no=item["filing_no"]).count()
    return render_template("data/agencies.html", agencies=items)


@bp.get("/reports")
@login_required()
def reports() -> str:
    args = request.args
    filters = {
        "q": (args.get("q") or "").strip()[:100],
        "agency": (args.get("agency") or "").strip()[:64],
        "validity": args.get("validity", "") if args.get("validity") in ("valid", "invalid") else "",
    }
    query: dict[str, Any] = {}
    if filters["agency"]:
        query["agency_filing_no"] = filters["agency"]
    found = CreditReport.objects(**query)
    if filters["q"]:
        code = _code_or_none(filters["q"])
        if code:
            found = found.filter(subject_code=code)
        else:
            text = re.escape(filters["q"])
            found = found.filter(__raw__={"$or": [{"subject_name": {"$regex": text}},
                                                  {"number": {"$regex": text}}]})
    on = today()
    agencies_by_no = {a.filing_no: a for a in Agency.objects}
    if filters["validity"]:
        found = found.filter(__raw__=_validity_query(filters["validity"] == "valid", on,
                                                     agencies_by_no.values()))
    found = found.order_by("-issue_date")

    def rows(items: Any) -> list[dict[str, Any]]:
        out = []
        for report in items:
            agency = agencies_by_no.get(report.agency_filing_no)
            validity = report_validity(report, on, agency)
            view = ReportOut().dump({
                "id": str(report.pk), "number": report.number,
                "subject_code": ids.mask(report.subject_code),
                "subject_name": report.subject_name,
                "agency_filing_no": report.agency_filing_no, "issue_date": report.issue_date,
                "valid_until": report.valid_until, "rating": report.rating,
                "sections": {}, "risk_warnings": list(report.risk_warnings or []),
                "void": report.void, "void_reason": report.void_reason,
                "validity": {"valid": validity.valid, "reasons": validity.reasons, "on": on},
                "created_at": report.created_at})
            view["agency_name"] = agency.name if agency else ""
            out.append(view)
        return out

    page = paginate(found, rows)
    agencies_list = AgencyOut(many=True).dump(sorted(agencies_by_no.values(), key=lambda a: a.name))
    return render_template("data/reports.html", page=page, filters=filters,
                           agencies=agencies_list)


__all__ = ["bp", "publicity_timeliness"]
