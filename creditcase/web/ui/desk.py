"""The case desk: the department's queue, the new-application form, the case
page with the check, the override and decision forms, archiving and the
evidence with its verification.

Every read and every transition goes through
:class:`creditcase.core.cases.WorkflowService`, which scopes cases to the
principal's department (the credit office reads all) and holds the guards;
the pages show its ``RuleViolation.errors`` next to the fields they name.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from creditcase.core import audit, ids
from creditcase.core.accounts import Department, Principal
from creditcase.core.calendar import CalendarDataMissing, WorkingCalendar, current_calendar
from creditcase.core.cases import OPEN_STATES, OUTCOMES, STATES, Case
from creditcase.core.db import as_utc, utcnow
from creditcase.core.errors import ConcurrentUpdate, Conflict, NotFound, RuleViolation
from creditcase.core.evidence import EvidenceBundle, verify_bundle, verify_chain
from creditcase.core.subjects import KINDS, NATURAL
from creditcase.web.context import plugin_host, workflow
from creditcase.web.presenters import bundle_view, case_detail, case_summary, owns
from creditcase.web.schemas import CaseOut, CaseSummaryOut
from creditcase.web.ui import schema_forms
from creditcase.web.ui.common import (
    as_datetime,
    deadline_info,
    error_page,
    login_required,
    page_blueprint,
    paginate,
    principal,
    today,
)
from creditcase.web.ui.views import AuditOut, BundleOut

bp = page_blueprint("ui_desk", __name__, url_prefix="/cases")

#: Who works with cases: the credit office reads every department's.
DESK_ROLES = ("handler", "reviewer", "dept_admin", "credit_office")
DECIDERS = ("handler", "reviewer")
CHECKABLE = ("applied", "checking", "checked", "stale")

SORTS = {
    "priority": ("-priority", "created_at"),
    "due": ("due_date", "created_at"),
    "newest": ("-created_at",),
    "updated": ("-updated_at",),
    "hits": ("-black_hits", "-red_hits", "created_at"),
}
DUE_FILTERS = ("overdue", "3", "5", "10")
HIT_FILTERS = ("black", "red", "any", "none")


# -- deadlines -------------------------------------------------------------------------------

def due_info(due: dt.date | None, state: str, calendar: WorkingCalendar | None,
             on: dt.date) -> dict[str, Any]:
    """How a case stands against its statutory time limit, in working days."""
    if state not in OPEN_STATES:
        return {"kind": "closed", "days": None}
    if calendar is None:
        return {"kind": "unknown", "days": None}
    return deadline_info(due, on, calendar)


def _calendar() -> WorkingCalendar | None:
    try:
        return current_calendar()
    except ValueError:  # a stored year fails validation: deadlines unknown, never guessed
        return None


def _display_code(code: str, kind: str, reveal: bool = False) -> str:
    """Natural persons' ID numbers masked unless the reader asked to see it."""
    if kind == NATURAL and not reveal:
        return ids.mask(code)
    return code


# -- the queue -------------------------------------------------------------------------------

def _queue_filters() -> dict[str, str]:
    args = request.args
    domains = plugin_host().domains
    return {
        "state": args.get("state", "") if args.get("state") in STATES else "",
        "domain": args.get("domain", "") if args.get("domain") in domains else "",
        "due": args.get("due", "") if args.get("due") in DUE_FILTERS else "",
        "hits": args.get("hits", "") if args.get("hits") in HIT_FILTERS else "",
        "sort": args.get("sort", "priority") if args.get("sort") in SORTS else "priority",
        "q": (args.get("q") or "").strip()[:100],
    }


@bp.get("")
@login_required(*DESK_ROLES)
def queue() -> str:
    who = principal()
    filters = _queue_filters()
    cases = workflow().queue(who, state=filters["state"] or None,
                             domain=filters["domain"] or None)
    on = today()
    calendar = _calendar()
    calendar_missing = False
    raw: list[dict[str, Any]] = []
    if filters["due"]:
        cases = cases.filter(state__in=OPEN_STATES)
        if filters["due"] == "overdue":
            cases = cases.filter(due_date__lt=on)
        else:
            try:
                if calendar is None:
                    raise CalendarDataMissing(on.year)
                cases = cases.filter(due_date__lte=calendar.add_working_days(on, int(filters["due"])))
            except CalendarDataMissing:
                calendar_missing = True  # said on the page; never counted from a guess
    if filters["hits"] == "black":
        cases = cases.filter(black_hits__gt=0)
    elif filters["hits"] == "red":
        cases = cases.filter(red_hits__gt=0)
    elif filters["hits"] == "any":
        raw.append({"$or": [{"black_hits": {"$gt": 0}}, {"red_hits": {"$gt": 0}}]})
    elif filters["hits"] == "none":
        cases = cases.filter(black_hits=0, red_hits=0)
    if filters["q"]:
        text = re.escape(filters["q"])
        raw.append({"$or": [{"subject_name": {"$regex": text}}, {"matter": {"$regex": text}}]})
    if raw:
        cases = cases.filter(__raw__={"$and": raw})
    cases = cases.order_by(*SORTS[filters["sort"]])

    def rows(found: Any) -> list[dict[str, Any]]:
        out = []
        for case in found:
            row = CaseSummaryOut().dump(case_summary(case, who))
            row["subject"]["code"] = _display_code(row["subject"]["code"], case.subject_kind)
            row["due"] = due_info(case.due_date, case.state, calendar, on)
            out.append(row)
        return out

    page = paginate(cases, rows)
    return render_template("desk/queue.html", page=page, filters=filters, states=STATES,
                           domains=_domain_choices(), due_filters=DUE_FILTERS,
                           hit_filters=HIT_FILTERS, sorts=tuple(SORTS),
                           show_department=who.city_wide, can_apply=who.has("handler"),
                           calendar_missing=calendar_missing)


def _domain_choices() -> list[dict[str, str]]:
    return [{"code": code, "name_zh": d.name_zh, "name_en": d.name_en}
            for code, d in sorted(plugin_host().domains.items())]


# -- applying --------------------------------------------------------------------------------

def _enabled_domains(who: Principal) -> list[Any]:
    department = Department.objects(code=who.department).only("enabled_domains").first()
    enabled = set(department.enabled_domains or []) if department else set()
    host = plugin_host()
    return [d for code, d in sorted(host.domains.items()) if code in enabled]


@bp.get("/new")
@login_required("handler")
def choose_domain() -> str:
    return render_template("desk/choose_domain.html", domains=_enabled_domains(principal()))


@bp.route("/new/<domain_code>", methods=["GET", "POST"])
@login_required("handler")
def new_application(domain_code: str) -> Response | str:
    who = principal()
    domain = next((d for d in _enabled_domains(who) if d.code == domain_code), None)
    if domain is None:
        return error_page(404, _("本部门未启用这个业务领域。"))
    specs = schema_forms.field_specs(domain.application_schema())
    values: dict[str, Any] = {}
    subject = {"code": "", "name": "", "kind": ""}
    matter = ""
    errors: dict[str, list[str]] = {}
    general: list[str] = []
    status = 200
    if request.method == "POST":
        form = request.form
        subject = {"code": (form.get("subject.code") or "").strip(),
                   "name": (form.get("subject.name") or "").strip(),
                   "kind": form.get("subject.kind") or ""}
        matter = (form.get("matter") or "").strip()
        data = schema_forms.read_form(specs, form)
        values = {spec.name: form.get(spec.form_name, "") for spec in specs}
        if not matter or len(matter) > 200:
            errors["matter"] = [_("请填写办理事项（200 字以内）。")]
        if not subject["code"]:
            errors["subject.code"] = [_("请填写统一社会信用代码或公民身份号码。")]
        if not errors:
            try:
                case = workflow().apply(
                    who, domain=domain.code, matter=matter,
                    subject={"code": subject["code"], "name": subject["name"],
                             "kind": subject["kind"] or None},
                    data=data)
            except RuleViolation as exc:
                raw = dict(exc.errors or {})
                if "kind" in raw:
                    raw.setdefault("subject.kind", []).extend(raw.pop("kind"))
                if not any(key.startswith("data.") for key in raw):
                    # the workflow stops at the first failing guard: show the form's
                    # other problems with it, so that one correction round is enough
                    raw.update(_schema_errors(domain, data))
                if not raw:
                    raw = {"_": [exc.detail]}
                names = ["matter", "subject.code", "subject.name", "subject.kind",
                         *[spec.form_name for spec in specs]]
                errors, general = schema_forms.split_errors(raw, names)
            else:
                flash(_("申请已受理，信用核查已自动开始（逢办必查）。"), "ok")
                return redirect(url_for("ui_desk.case_page", case_id=str(case.pk)))
        status = 422
    kinds = [k for k in KINDS if k in domain.subject_kinds]
    html = render_template("desk/new.html", domain=domain, specs=specs, values=values,
                           subject=subject, matter=matter, errors=errors, general=general,
                           subject_kinds=kinds)
    return html if status == 200 else (html, status)  # type: ignore[return-value]


def _schema_errors(domain: Any, data: dict[str, Any]) -> dict[str, list[str]]:
    import marshmallow as ma

    from creditcase.web.errors import flatten_messages

    try:
        domain.application_schema().load(data)
    except ma.ValidationError as exc:
        return flatten_messages(exc.normalized_messages(), "data")
    return {}


# -- the case page ---------------------------------------------------------------------------

def _current_check(view: dict[str, Any], case: Case) -> dict[str, Any] | None:
    checks = view.get("checks") or []
    for check in checks:
        if check["id"] == case.latest_check_id:
            return check
    return checks[-1] if checks else None


def _case_context(case: Case, who: Principal) -> dict[str, Any]:
    checks = workflow().checks(case)
    view = CaseOut().dump(case_detail(case, who, checks))
    reveal = request.args.get("reveal") == "id" and owns(who, case)
    view["subject"]["display_code"] = _display_code(view["subject"]["code"], case.subject_kind,
                                                    reveal)
    view["subject"]["can_reveal"] = (case.subject_kind == NATURAL and owns(who, case)
                                     and not reveal)
    check = _current_check(view, case)
    domain = plugin_host().domain(case.domain)
    warnings: list[str] = []
    if case.state == "stale":
        warnings.append(_("信用信息在核查后发生变化：%(reason)s。原核查结果已失效，正在重新核查，"
                          "新结果出来之前不能作出决定。", reason=case.stale_reason or ""))
    too_old = False
    if check and domain and case.state == "checked":
        checked_at = as_datetime(check["checked_at"])
        if checked_at and utcnow() - as_utc(checked_at) > domain.max_check_age:
            too_old = True
            warnings.append(_("核查结果已超过 %(days)s 天的有效期，请重新核查后再作决定。",
                              days=domain.max_check_age.days))
    if check and not check.get("complete", True):
        warnings.append(_("有核查渠道未响应，本次核查不完整，请重新核查。"))
    if view.get("review_flagged"):
        warnings.append(_("决定作出后该主体出现严重失信信息，已标记待复核。"))
    measures = (check or {}).get("measures") or []
    mandatory = [m for m in measures if m["binding"] == "MANDATORY" and m["kind"] == "PUNISH"]
    current_overrides = [o for o in view.get("overrides") or []
                         if check and o["check_id"] == check["id"]]
    approved_by_me = any(o["reviewer"] == who.username for o in current_overrides)
    trail = AuditOut(many=True).dump(audit.trail("Case", str(case.pk)))
    on = today()
    labels = ({spec.name: spec.label for spec in
               schema_forms.field_specs(domain.application_schema())} if domain else {})
    return {
        "hits_by_ref": {h["ref"]: h for h in (check or {}).get("hits") or []},
        "channels_by_name": {c["name"]: c for c in (check or {}).get("channels") or []},
        "data_labels": labels, "older_checks": [c for c in view.get("checks") or []
                                                if check and c["id"] != check["id"]],
        "case": view, "check": check, "domain": domain, "warnings": warnings,
        "too_old": too_old, "measures": measures, "mandatory": mandatory,
        "overrides": current_overrides, "approved_by_me": approved_by_me, "trail": trail,
        "due": due_info(case.due_date, case.state, _calendar(), on),
        "can_check": who.has(*DECIDERS) and case.state in CHECKABLE,
        "can_decide": who.has(*DECIDERS) and case.state == "checked" and not too_old,
        "can_override": who.has("reviewer") and case.state == "checked" and bool(mandatory),
        "can_archive": who.has(*DECIDERS) and case.state == "decided",
        "can_withdraw": who.has(*DECIDERS) and case.state in OPEN_STATES,
        "outcomes": OUTCOMES, "owner": owns(who, case),
        "refresh": case.state in ("applied", "checking", "stale"),
    }


def _render_case(case: Case, *, status: int = 200, **extra: Any) -> Any:
    context = _case_context(case, principal())
    context.update({"decision_errors": {}, "decision_general": [], "override_errors": {},
                    "withdraw_errors": {}, "form": {}})
    context.update(extra)
    html = render_template("desk/case.html", **context)
    return html if status == 200 else (html, status)


@bp.get("/<case_id>")
@login_required(*DESK_ROLES)
def case_page(case_id: str) -> Any:
    return _render_case(workflow().get(principal(), case_id))


@bp.post("/<case_id>/check")
@login_required(*DECIDERS)
def recheck(case_id: str) -> Any:
    who = principal()
    try:
        workflow().request_check(who, case_id)
    except Conflict as exc:
        flash(_("不能重新核查：%(detail)s", detail=exc.detail), "error")
    else:
        flash(_("已重新发起信用核查。"), "ok")
    return redirect(url_for("ui_desk.case_page", case_id=case_id))


@bp.post("/<case_id>/override")
@login_required("reviewer")
def override(case_id: str) -> Any:
    who = principal()
    measures = request.form.getlist("measures")
    reason = (request.form.get("reason") or "").strip()
    try:
        workflow().approve_override(who, case_id, measures=measures, reason=reason)
    except RuleViolation as exc:
        errors = {}
        for key, messages in (exc.errors or {}).items():
            if key == "reason":
                errors["reason"] = [_("批准不执行须说明理由。")]
            elif key == "measures" and not measures:
                errors["measures"] = [_("请至少选择一项强制措施。")]
            else:
                errors[key] = list(messages)
        case = workflow().get(who, case_id)
        return _render_case(case, status=422, override_errors=errors,
                            form={"override_reason": reason, "override_measures": measures})
    except Conflict as exc:
        flash(_("不能批准：%(detail)s", detail=exc.detail), "error")
    else:
        flash(_("已批准不执行所选强制措施。经办人现在可以作出决定。"), "ok")
    return redirect(url_for("ui_desk.case_page", case_id=case_id) + "#override")


def _read_decision(check: dict[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
    """The decision as the workflow takes it, and the measures that got no choice."""
    form = request.form
    feedback, unanswered = [], []
    for measure in (check or {}).get("measures") or []:
        code = measure["code"]
        choice = form.get(f"fb.{code}.applied")
        if choice not in ("applied", "not_applied"):
            unanswered.append(code)
            continue
        feedback.append({"measure": code, "applied": choice == "applied",
                         "reason": (form.get(f"fb.{code}.reason") or "").strip(),
                         "outcome_text": (form.get(f"fb.{code}.outcome_text") or "").strip()})
    try:
        version = int(form.get("expected_version", ""))
    except ValueError:
        version = None
    conditions = [line.strip() for line in (form.get("conditions") or "").splitlines()
                  if line.strip()]
    return {"outcome": form.get("outcome") or "", "feedback": feedback,
            "conditions": conditions, "reasons": (form.get("reasons") or "").strip(),
            "expected_version": version}, unanswered


def _decision_errors(errors: dict[str, list[str]], decision: dict[str, Any],
                     unanswered: list[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Core's field errors of a decision, keyed by the form's fields and in the
    page's language where the rule is known."""
    by_field: dict[str, list[str]] = {}
    general: list[str] = []
    sent = [item["measure"] for item in decision["feedback"]]

    def add(key: str, message: str) -> None:
        by_field.setdefault(key, []).append(message)

    for key, messages in errors.items():
        parts = key.split(".")
        if parts[0] == "feedback" and len(parts) == 3 and parts[1].isdigit() \
                and int(parts[1]) < len(sent):
            code = sent[int(parts[1])]
            for message in messages:
                add(f"fb.{code}", _("不执行须说明理由。") if parts[2] == "reason" else message)
        elif key == "feedback":
            for message in messages:
                if message.startswith("feedback required for every measure"):
                    for code in unanswered:
                        add(f"fb.{code}", _("请选择“已执行”或“不执行”。"))
                    continue
                code = next((c for c in sent if message.startswith(c)), None)
                if code and "approved override" in message:
                    add(f"fb.{code}", _("这是强制惩戒措施：不执行须先经审核人批准。"))
                elif code and "cannot also decide" in message:
                    add(f"fb.{code}", _("批准不执行的审核人不能同时作出决定，请由经办人决定。"))
                elif code:
                    add(f"fb.{code}", message)
                else:
                    general.append(message)
        elif key == "outcome":
            for message in messages:
                if "so the outcome must be rejected" in message:
                    add("outcome", _("已执行的措施要求不予准予：%(detail)s", detail=message))
                elif message.startswith("must be one of"):
                    add("outcome", _("请选择决定结果。"))
                else:
                    add("outcome", message)
        elif key == "conditions":
            add("conditions", _("附条件准予须至少填写一项条件。"))
        elif key == "reasons":
            add("reasons", _("不予准予须说明理由。"))
        else:
            general.extend(messages)
    return by_field, general


@bp.post("/<case_id>/decision")
@login_required(*DECIDERS)
def decide(case_id: str) -> Any:
    who = principal()
    case = workflow().get(who, case_id)
    context = _case_context(case, who)
    decision, unanswered = _read_decision(context["check"])
    try:
        workflow().decide(who, case_id, **decision)
    except RuleViolation as exc:
        errors, general = _decision_errors(dict(exc.errors or {}), decision, unanswered)
        if not errors and not general:
            general = [exc.detail]
        return _render_case(case, status=422, decision_errors=errors, decision_general=general,
                            form=request.form)
    except ConcurrentUpdate:
        flash(_("案件已被他人更新，请核对最新情况后重新提交。"), "error")
        return _render_case(workflow().get(who, case_id), status=409, form=request.form)
    except Conflict as exc:
        return _render_case(case, status=409, decision_general=[exc.detail], form=request.form)
    flash(_("决定已作出，措施执行情况已反馈。下一步：归档。"), "ok")
    return redirect(url_for("ui_desk.case_page", case_id=case_id) + "#decision")


@bp.post("/<case_id>/withdraw")
@login_required(*DECIDERS)
def withdraw(case_id: str) -> Any:
    who = principal()
    reason = (request.form.get("withdraw_reason") or "").strip()
    try:
        workflow().withdraw(who, case_id, reason)
    except RuleViolation:
        return _render_case(workflow().get(who, case_id), status=422,
                            withdraw_errors={"withdraw_reason": [_("撤回须说明理由。")]})
    except Conflict as exc:
        flash(exc.detail, "error")
    else:
        flash(_("申请已撤回。"), "ok")
    return redirect(url_for("ui_desk.case_page", case_id=case_id))


@bp.post("/<case_id>/archive")
@login_required(*DECIDERS)
def archive(case_id: str) -> Any:
    who = principal()
    try:
        bundle = workflow().archive(who, case_id)
    except Conflict as exc:
        flash(_("不能归档：%(detail)s", detail=exc.detail), "error")
        return redirect(url_for("ui_desk.case_page", case_id=case_id))
    flash(_("已归档：证据包第 %(seq)s 号已封存。", seq=bundle.seq), "ok")
    return redirect(url_for("ui_desk.evidence", case_id=case_id))


# -- evidence --------------------------------------------------------------------------------

#: core's wording of chain problems, shown in the page's language
def _chain_problem(text: str) -> str:
    if text.startswith("sequence gap"):
        return _("序号不连续（%(detail)s）", detail=text)
    if text.startswith("previous hash"):
        return _("前一证据包哈希不一致")
    if text.startswith("content does not match"):
        return _("内容与哈希不一致（已被篡改）")
    if text.startswith("content is not valid JSON"):
        return _("内容不是有效的 JSON")
    return text


def _evidence(case_id: str, verification: dict[str, Any] | None = None) -> Any:
    who = principal()
    case = workflow().get(who, case_id)
    bundle = EvidenceBundle.objects(case_id=str(case.pk)).first()
    if bundle is None:
        raise NotFound("the case is not archived yet")
    view = BundleOut().dump(bundle_view(bundle, case, who))
    content = json.dumps(view["content"], ensure_ascii=False, indent=2, sort_keys=True)
    summary = CaseSummaryOut().dump(case_summary(case, who))
    return render_template("desk/evidence.html", bundle=view, content=content, case=summary,
                           verification=verification)


@bp.get("/<case_id>/evidence")
@login_required(*DESK_ROLES)
def evidence(case_id: str) -> Any:
    return _evidence(case_id)


@bp.post("/<case_id>/evidence/verify")
@login_required(*DESK_ROLES)
def verify(case_id: str) -> Any:
    who = principal()
    case = workflow().get(who, case_id)
    bundle = EvidenceBundle.objects(case_id=str(case.pk)).first()
    if bundle is None:
        raise NotFound("the case is not archived yet")
    count, problems = verify_chain()
    verification = {
        "bundle": verify_bundle(bundle),
        "chain_count": count,
        "chain_ok": not problems,
        "problems": [{"seq": p.seq, "problem": _chain_problem(p.problem),
                      "this_case": p.case_id == str(case.pk)} for p in problems],
        "at": utcnow(),
    }
    return _evidence(case_id, verification)


__all__ = ["DESK_ROLES", "bp", "due_info"]
