"""Objection (异议) and credit repair (信用修复) queues, in the credit data area.

Each queue lists what the reader may see (the credit office sees all; a
department the objections about its records and the repairs it decides or
drafted), with the due date of the pending step in working days. The detail
page shows every step and offers the next steps the reader may take; the core
services (:mod:`creditcase.core.objections`, :mod:`creditcase.core.repairs`)
hold the rules and check the roles again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from creditcase.core import ids, objections, repairs
from creditcase.core.accounts import Principal
from creditcase.core.errors import Conflict, PermissionDenied, RuleViolation
from creditcase.core.records import SEVERITIES
from creditcase.web.ui.common import as_date, deadline_info, login_required, paginate, principal, today
from creditcase.web.ui.data import bp

# -- what leaves the documents -----------------------------------------------------------------


class StepOut(ma.Schema):
    state = ma.fields.String()
    at = ma.fields.DateTime()
    by = ma.fields.String()
    department = ma.fields.String()
    note = ma.fields.String()
    due = ma.fields.Date(allow_none=True)


class ObjectionOut(ma.Schema):
    id = ma.fields.String(attribute="pk")
    number = ma.fields.String()
    record_id = ma.fields.String()
    record_doc_no = ma.fields.String()
    record_kind = ma.fields.String()
    record_source_department = ma.fields.String()
    subject_code = ma.fields.Function(lambda o: ids.mask(o.subject_code))
    subject_name = ma.fields.String()
    applicant_name = ma.fields.String()
    applicant_contact = ma.fields.String()
    channel = ma.fields.String()
    grounds = ma.fields.String()
    requested = ma.fields.String()
    state = ma.fields.String()
    due_date = ma.fields.Date(allow_none=True)
    due_unknown = ma.fields.Boolean()
    outcome = ma.fields.String(allow_none=True)
    decision_reason = ma.fields.String()
    steps = ma.fields.List(ma.fields.Nested(StepOut))
    created_at = ma.fields.DateTime()
    version = ma.fields.Integer()


class RepairOut(ma.Schema):
    id = ma.fields.String(attribute="pk")
    number = ma.fields.String()
    record_id = ma.fields.String()
    record_doc_no = ma.fields.String()
    record_kind = ma.fields.String()
    deciding_department = ma.fields.String()
    window_department = ma.fields.String()
    subject_code = ma.fields.Function(lambda r: ids.mask(r.subject_code))
    subject_name = ma.fields.String()
    applicant_name = ma.fields.String()
    applicant_contact = ma.fields.String()
    obligations_evidence = ma.fields.String()
    commitment_id = ma.fields.String(allow_none=True)
    state = ma.fields.String()
    due_date = ma.fields.Date(allow_none=True)
    due_unknown = ma.fields.Boolean()
    min_period_end = ma.fields.Date(allow_none=True)
    decision_reason = ma.fields.String()
    lifted_entries = ma.fields.List(ma.fields.String())
    steps = ma.fields.List(ma.fields.Nested(StepOut))
    created_at = ma.fields.DateTime()
    version = ma.fields.Integer()


# -- labels ------------------------------------------------------------------------------------

OBJECTION_STATES: dict[str, Any] = {
    "SUBMITTED": _l("已提交"), "ACCEPTED": _l("已受理"), "REJECTED": _l("不予受理"),
    "PLATFORM_CHECK": _l("平台核查中"), "PROVIDER_CHECK": _l("信息提供单位核查中"),
    "UPHELD": _l("异议成立"), "DISMISSED": _l("异议不成立"), "CLOSED": _l("已办结"),
}
REPAIR_STATES: dict[str, Any] = {
    "DRAFT": _l("草稿"), "SUBMITTED": _l("已提交"), "FORWARDED": _l("已转认定单位"),
    "ACCEPTED": _l("已受理"), "NOT_ACCEPTED": _l("不予受理"), "UNDER_REVIEW": _l("审核中"),
    "APPROVED": _l("准予修复"), "REJECTED": _l("不予修复"), "CLOSED": _l("已办结"),
}


# -- actions -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Action:
    """A next step: the states it starts from, who may take it, and the text it needs
    (``reason`` required, ``note`` optional, or none)."""

    name: str
    label: Any
    states: tuple[str, ...]
    may: Callable[[Principal, Any], bool]
    text: str | None
    run: Callable[..., Any]
    danger: bool = False


def _office(who: Principal, _item: Any) -> bool:
    return who.has("credit_office")


def _objection_provider(who: Principal, item: Any) -> bool:
    return "admin" in who.roles or (who.department == item.record_source_department
                                    and who.has("data_provider", "reviewer", "dept_admin"))


def _uphold_allowed(who: Principal, item: Any) -> bool:
    return _office(who, item) if item.state == "PLATFORM_CHECK" else _objection_provider(who, item)


def _repair_window(who: Principal, item: Any) -> bool:
    return who.has("credit_office") or (who.has("handler", "data_provider")
                                        and who.department == item.window_department)


def _repair_decider(who: Principal, item: Any) -> bool:
    return "admin" in who.roles or (who.department == item.deciding_department
                                    and who.has("reviewer", "data_provider", "dept_admin"))


def _uphold(who: Principal, item_id: str, form: Any, version: int | None) -> Any:
    outcome = form.get("outcome") or ""
    corrections: dict[str, Any] = {}
    if outcome == "corrected":
        for key in ("title", "content", "severity"):
            value = (form.get(f"correct_{key}") or "").strip()
            if value:
                corrections[key] = value
    return objections.uphold(who, item_id, outcome, form.get("reason") or "",
                             corrections=corrections, expected_version=version)


OBJECTION_ACTIONS = (
    Action("accept", _l("受理"), ("SUBMITTED",), _office, None,
           lambda who, i, f, v: objections.accept(who, i, expected_version=v)),
    Action("reject", _l("不予受理"), ("SUBMITTED",), _office, "reason",
           lambda who, i, f, v: objections.reject(who, i, f.get("reason") or "",
                                                  expected_version=v), danger=True),
    Action("platform_check", _l("开始平台核查"), ("ACCEPTED",), _office, None,
           lambda who, i, f, v: objections.start_platform_check(who, i, expected_version=v)),
    Action("refer", _l("发协查函给信息提供单位"), ("PLATFORM_CHECK",), _office, "note",
           lambda who, i, f, v: objections.refer_to_provider(who, i, f.get("note") or "",
                                                             expected_version=v)),
    Action("uphold", _l("异议成立"), ("PLATFORM_CHECK", "PROVIDER_CHECK"), _uphold_allowed,
           "reason", lambda who, i, f, v: _uphold(who, i, f, v)),
    Action("dismiss", _l("异议不成立"), ("PROVIDER_CHECK",), _objection_provider, "reason",
           lambda who, i, f, v: objections.dismiss(who, i, f.get("reason") or "",
                                                   expected_version=v), danger=True),
    Action("close", _l("已反馈申请人，办结"), ("REJECTED", "UPHELD", "DISMISSED"), _office,
           "note", lambda who, i, f, v: objections.close(who, i, f.get("note") or "",
                                                         expected_version=v)),
)

REPAIR_ACTIONS = (
    Action("submit", _l("提交申请"), ("DRAFT",), _repair_window, None,
           lambda who, i, f, v: repairs.submit(who, i, expected_version=v)),
    Action("forward", _l("转认定单位"), ("SUBMITTED",), _office, None,
           lambda who, i, f, v: repairs.forward(who, i, expected_version=v)),
    Action("accept", _l("受理"), ("FORWARDED",), _repair_decider, None,
           lambda who, i, f, v: repairs.accept(who, i, expected_version=v)),
    Action("not_accept", _l("不予受理"), ("FORWARDED",), _repair_decider, "reason",
           lambda who, i, f, v: repairs.not_accept(who, i, f.get("reason") or "",
                                                   expected_version=v), danger=True),
    Action("start_review", _l("开始审核"), ("ACCEPTED",), _repair_decider, None,
           lambda who, i, f, v: repairs.start_review(who, i, expected_version=v)),
    Action("approve", _l("准予修复"), ("UNDER_REVIEW",), _repair_decider, "note",
           lambda who, i, f, v: repairs.approve(who, i, f.get("note") or "",
                                                expected_version=v)),
    Action("reject", _l("不予修复"), ("UNDER_REVIEW",), _repair_decider, "reason",
           lambda who, i, f, v: repairs.reject(who, i, f.get("reason") or "",
                                               expected_version=v), danger=True),
    Action("close", _l("已送达申请人，办结"), ("NOT_ACCEPTED", "APPROVED", "REJECTED"), _office,
           "note", lambda who, i, f, v: repairs.close(who, i, f.get("note") or "",
                                                      expected_version=v)),
)


def _available(actions: tuple[Action, ...], who: Principal, item: Any) -> list[Action]:
    return [a for a in actions if item.state in a.states and a.may(who, item)]


def _run(actions: tuple[Action, ...], name: str, who: Principal, item_id: str) -> bool:
    action = next((a for a in actions if a.name == name), None)
    if action is None:
        flash(_("没有这个操作。"), "error")
        return False
    try:
        version = int(request.form.get("expected_version", ""))
    except ValueError:
        version = None
    try:
        action.run(who, item_id, request.form, version)
    except RuleViolation as exc:
        messages = []
        for key, texts in (exc.errors or {}).items():
            if key in ("reason", "note") and texts == ["required"]:
                messages.append(_("请填写理由。"))
            else:
                messages.extend(f"{key}: {t}" for t in texts)
        flash(_("操作未完成：%(detail)s", detail="；".join(messages) or exc.detail), "error")
        return False
    except (Conflict, PermissionDenied) as exc:
        flash(_("操作未完成：%(detail)s", detail=exc.detail), "error")
        return False
    flash(_("已完成：%(action)s。", action=action.label), "ok")
    return True


def _with_deadline(rows: list[dict[str, Any]], open_states: tuple[str, ...]) -> list[dict[str, Any]]:
    on = today()
    for row in rows:
        row["deadline"] = (deadline_info(as_date(row.get("due_date")), on)
                           if row["state"] in open_states and row.get("due_date")
                           else {"kind": "unknown" if row.get("due_unknown") else "none",
                                 "days": None})
    return rows


# -- objections --------------------------------------------------------------------------------

#: states whose pending step has a deadline (the feedback to the applicant included)
_OBJECTION_PENDING = (*objections.OPEN_STATES, "REJECTED", "UPHELD", "DISMISSED")
_REPAIR_PENDING = tuple(s for s in repairs.STATES if s not in ("DRAFT", "CLOSED"))


@bp.get("/objections")
@login_required()
def objections_queue() -> str:
    who = principal()
    state = request.args.get("state") if request.args.get("state") in objections.STATES else None
    found = objections.visible(who, state=state)
    if request.args.get("overdue") == "1":
        found = found.filter(state__in=_OBJECTION_PENDING, due_date__lt=today())
    found = found.order_by("due_date", "-created_at") if request.args.get("sort") == "due" else found
    page = paginate(found, lambda items: _with_deadline(ObjectionOut(many=True).dump(items),
                                                        _OBJECTION_PENDING))
    return render_template("data/objections.html", page=page, states=OBJECTION_STATES,
                           state=state or "", overdue=request.args.get("overdue") == "1",
                           sort=request.args.get("sort", ""))


@bp.get("/objections/<item_id>")
@login_required()
def objection(item_id: str) -> str:
    who = principal()
    item = objections.get_for(who, item_id)
    view = _with_deadline([ObjectionOut().dump(item)], _OBJECTION_PENDING)[0]
    return render_template("data/objection.html", item=view, states=OBJECTION_STATES,
                           actions=_available(OBJECTION_ACTIONS, who, item),
                           severities=tuple(SEVERITIES))


@bp.post("/objections/<item_id>/<action>")
@login_required()
def objection_action(item_id: str, action: str) -> Any:
    who = principal()
    item = objections.get_for(who, item_id)
    _run(OBJECTION_ACTIONS, action, who, str(item.pk))
    return redirect(url_for("ui_data.objection", item_id=str(item.pk)))


# -- repairs -----------------------------------------------------------------------------------

@bp.get("/repairs")
@login_required()
def repairs_queue() -> str:
    who = principal()
    state = request.args.get("state") if request.args.get("state") in repairs.STATES else None
    found = repairs.visible(who, state=state)
    if request.args.get("overdue") == "1":
        found = found.filter(state__in=_REPAIR_PENDING, due_date__lt=today())
    found = found.order_by("due_date", "-created_at") if request.args.get("sort") == "due" else found
    page = paginate(found, lambda items: _with_deadline(RepairOut(many=True).dump(items),
                                                        _REPAIR_PENDING))
    return render_template("data/repairs.html", page=page, states=REPAIR_STATES,
                           state=state or "", overdue=request.args.get("overdue") == "1",
                           sort=request.args.get("sort", ""))


@bp.get("/repairs/<item_id>")
@login_required()
def repair(item_id: str) -> str:
    who = principal()
    item = repairs.get_for(who, item_id)
    view = _with_deadline([RepairOut().dump(item)], _REPAIR_PENDING)[0]
    return render_template("data/repair.html", item=view, states=REPAIR_STATES,
                           actions=_available(REPAIR_ACTIONS, who, item))


@bp.post("/repairs/<item_id>/<action>")
@login_required()
def repair_action(item_id: str, action: str) -> Any:
    who = principal()
    item = repairs.get_for(who, item_id)
    _run(REPAIR_ACTIONS, action, who, str(item.pk))
    return redirect(url_for("ui_data.repair", item_id=str(item.pk)))


__all__ = ["OBJECTION_ACTIONS", "OBJECTION_STATES", "REPAIR_ACTIONS", "REPAIR_STATES"]
