"""The public site: the landing page, a subject's public credit record page, the
objection form (异议申请) with its progress lookup, and the link to the 双公示
publicity search. No sign-in; rate-limited per client address like the public
API. Objections are filed through :func:`creditcase.core.objections.file_objection`,
which checks that the code given is the subject's (so only someone who knows it
can object) and that no other objection to the record is open.

A subject page lists exactly what the public search shows (published
licences and penalties within their publicity period:
:func:`creditcase.core.publicity.public_filter`), dumped through the public
API schema (:class:`creditcase.web.api.public.PublicityOut`), so ID numbers
and natural persons' names are masked in the subject, the free text and the
national fields alike. It is addressed by a USCC (a public identifier) or by the id of
one of the subject's published records, never by a citizen's ID number.
"""

from __future__ import annotations

from typing import Any

from bson import ObjectId
from flask import Flask, current_app, render_template, request
from flask_babel import gettext as _
from werkzeug.routing import BuildError

from creditcase import __version__
from creditcase.core import ids, publicity
from creditcase.core.errors import DomainError, NotFound
from creditcase.core.records import CreditRecord
from creditcase.web import limits
from creditcase.web.api.public import PublicityOut, client_address, rate_limit
from creditcase.web.context import plugin_host
from creditcase.web.ui.common import page_blueprint
from creditcase.web.ui.schema_forms import localise

home_bp = page_blueprint("ui_home", __name__)
bp = page_blueprint("ui_public", __name__, url_prefix="/public")

#: The module of the public 双公示 search pages.
PUBLICITY_MODULE = "creditcase.web.public_pages"


@home_bp.get("/")
def home() -> str:
    domains = [domain for _, domain in sorted(plugin_host().domains.items())]
    return render_template("index.html", domains=domains, version=__version__)


def publicity_search_url() -> str | None:
    """The URL of the public 双公示 search page, when that module is installed: the
    first GET route without arguments whose view lives in :data:`PUBLICITY_MODULE`."""
    app = current_app
    for rule in app.url_map.iter_rules():
        view = app.view_functions.get(rule.endpoint)
        if view is None or getattr(view, "__module__", "") != PUBLICITY_MODULE:
            continue
        if "GET" in (rule.methods or ()) and not rule.arguments:
            try:
                from flask import url_for

                return url_for(rule.endpoint)
            except BuildError:
                continue
    return None


def _shown(**filters: Any) -> Any:
    """Records the public may see now (as the public search shows them)."""
    return CreditRecord.objects(__raw__=publicity.public_filter()).filter(**filters)


def _subject_code(key: str) -> str | None:
    if ObjectId.is_valid(key):
        record = _shown(pk=key).only("subject_code").first()
        return record.subject_code if record else None
    try:
        kind, code = ids.validate(key)
    except ids.IdentityCodeError:
        return None
    return code if kind == "uscc" else None


@bp.get("/subjects/<key>")
def subject(key: str) -> str:
    code = _subject_code(key)
    records = []
    if code:
        records = list(_shown(subject_code=code).order_by("-decision_date"))
    if not records:
        raise NotFound("no published records for this subject")
    items: list[dict[str, Any]] = PublicityOut(many=True).dump(records)
    first = items[0]
    licences = [r for r in items if r["kind"] == "licence"]
    penalties = [r for r in items if r["kind"] == "penalty"]
    return render_template("public/subject.html", subject={
        "name": first["subject_name"], "code": first["subject_code"],
        "kind": first["subject_kind"]}, licences=licences, penalties=penalties,
        search_url=publicity_search_url())


# -- objections ---------------------------------------------------------------------------------

def _published_record(record_id: str | None) -> CreditRecord | None:
    if not record_id or not ObjectId.is_valid(record_id):
        return None
    return _shown(pk=record_id).first()


def _objection_errors(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """The objection service's field errors in the page's language."""
    out: dict[str, list[str]] = {}
    for key, messages in errors.items():
        if key == "name":
            out["name"] = [_("请填写申请人姓名或单位名称（200 字以内）。")]
        elif key in ("code", "kind"):
            out["code"] = [localise(m) for m in messages]
        elif key == "contact":
            out["contact"] = [_("请填写手机号码、固定电话（如 0375-1234567）或电子邮箱。")]
        elif key == "grounds":
            out["grounds"] = [_("请写明异议理由（5 至 5000 字）。")]
        elif key == "requested":
            out["requested"] = [_("请选择请求更正或撤销。")]
        elif key == "record_id":
            joined = " ".join(messages)
            if "open" in joined:
                out["_"] = [_("这条记录已有异议正在处理，请用受理编号查询进度。")]
            elif "the record is" in joined:
                out["_"] = [_("这条记录当前不能提出异议。")]
            else:
                out["code"] = [_("该主体没有这条记录，请核对代码。")]
        else:
            out.setdefault("_", []).extend(messages)
    return out


@bp.route("/objection", methods=["GET", "POST"])
def objection_form() -> Any:
    from creditcase.core import objections

    record = _published_record(request.values.get("record"))
    if record is None:
        raise NotFound("no published record to object to")
    shown = PublicityOut().dump(record)
    values = {"name": "", "code": "", "contact": "", "grounds": "", "requested": ""}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = {key: (request.form.get(key) or "").strip() for key in values}
        try:
            filed = objections.file_objection(None, {**values, "record_id": str(record.pk)})
        except DomainError as exc:
            errors = _objection_errors(dict(exc.errors or {})) or {"_": [exc.detail]}
        else:
            return render_template("public/objection_filed.html", number=filed.number,
                                   due=filed.due_date, record=shown)
    html = render_template("public/objection.html", record=shown, values=values, errors=errors)
    return (html, 422) if errors else html


@bp.route("/objection/track", methods=["GET", "POST"])
def objection_track() -> Any:
    from creditcase.core import objections
    from creditcase.web.ui.procedures import OBJECTION_STATES

    number = (request.values.get("number") or "").strip()
    code = (request.values.get("code") or "").strip()
    found = None
    error = None
    if request.method == "POST":
        try:
            item = objections.track(number, code)
        except DomainError:
            error = _("没有找到：请核对受理编号和主体代码。")
        else:
            found = {"number": item.number, "state": item.state,
                     "due_date": item.due_date, "outcome": item.outcome,
                     "decision_reason": item.decision_reason if item.state in
                     ("REJECTED", "UPHELD", "DISMISSED", "CLOSED") else "",
                     "steps": [{"state": s.state, "on": s.on} for s in item.steps]}
    html = render_template("public/objection_track.html", number=number, code=code,
                           found=found, error=error, states=OBJECTION_STATES)
    return (html, 404) if error else html


def init_app(app: Flask) -> None:
    app.register_blueprint(home_bp)
    app.register_blueprint(bp)
    limits.limit_blueprint(app, bp, rate_limit, key_func=client_address,
                           error_message="查询过于频繁，请稍后再试 (too many requests; try again later)")


__all__ = ["bp", "home_bp", "init_app", "publicity_search_url"]
