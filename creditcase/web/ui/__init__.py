"""The web pages: case desk, credit data, supervision dashboard and public site.

``init_app(app)`` sets up Flask-Babel (Chinese by default, English by the
switch), CSRF protection for the page blueprints (``flask_wtf.CSRFProtect``
with ``WTF_CSRF_CHECK_DEFAULT`` off, so the bearer-token API under ``/api/v1``
is never asked for a token: each page blueprint checks it itself), the
session sign-in, the blueprints and the template helpers. Pages call core
services and never write documents themselves.

Blueprints: ``ui_home`` (``/``), ``ui_auth`` (``/login``, ``/logout``),
``ui_lang`` (``/lang/<code>``), ``ui_desk`` (``/cases``), ``ui_data``
(``/data``), ``ui_supervision`` (``/supervision``), ``ui_public``
(``/public``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, g, has_request_context, request, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFProtect

from creditcase.web.ui import common, data, desk, i18n, procedures, public, session, supervision

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"


def _nav() -> list[dict[str, Any]]:
    """The main navigation for the signed-in user."""
    who = common.current_principal()
    if who is None:
        return []
    items = []
    if who.has(*desk.DESK_ROLES):
        items.append({"endpoint": "ui_desk.queue", "label": _("办件台"), "area": "ui_desk"})
    if who.has("handler"):
        items.append({"endpoint": "ui_desk.choose_domain", "label": _("受理申请"),
                      "area": "ui_desk.new"})
    items.append({"endpoint": "ui_data.records", "label": _("信用数据"), "area": "ui_data"})
    if who.has(*supervision.SUPERVISORS):
        items.append({"endpoint": "ui_supervision.dashboard", "label": _("监管看板"),
                      "area": "ui_supervision"})
    return items


def _active(area: str) -> bool:
    endpoint = request.endpoint or ""
    if area == "ui_desk.new":
        return endpoint in ("ui_desk.choose_domain", "ui_desk.new_application")
    if area == "ui_desk":
        return endpoint.startswith("ui_desk.") and endpoint not in (
            "ui_desk.choose_domain", "ui_desk.new_application")
    return endpoint.startswith(area + ".")


def _context() -> dict[str, Any]:
    if not has_request_context():
        return {}
    if "ui_user" not in g:
        # a page of another blueprint (the public search) uses this layout too
        session.load_user()
    locale = i18n.current_locale()
    return {
        "ui_user": g.get("ui_user"),
        "ui_principal": g.get("ui_principal"),
        "locale": locale,
        "html_lang": "zh-CN" if locale == "zh" else "en",
        "nav": _nav(),
        "nav_active": _active,
        "publicity_url": public.publicity_search_url(),
        "lang_url": lambda code: url_for("ui_lang.switch", code=code,
                                         next=request.full_path.rstrip("?")),
    }


def init_app(app: Flask) -> None:
    """Register the pages on ``app`` (after the API and the rate limiter)."""
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", int(session.SESSION_LIFETIME.total_seconds()))
    CSRFProtect(app)
    i18n.init_app(app, str(TRANSLATIONS))
    session.init_app(app)
    public.init_app(app)
    for blueprint in (desk.bp, data.bp, supervision.bp):
        app.register_blueprint(blueprint)
    app.context_processor(_context)
    app.jinja_env.globals.update(
        label=i18n.label, pick=i18n.pick, url_with=common.url_with, labels=i18n,
        procedures=procedures, dept=common.department_name)
    app.jinja_env.filters.update(fmt_date=common.fmt_date, fmt_datetime=common.fmt_datetime,
                                 zip_self=lambda values: [(v, v) for v in values],
                                 validity_reason=i18n.validity_reason,
                                 fmt_value=common.fmt_value)
    app.jinja_env.tests["contains"] = lambda sequence, item: item in (sequence or ())
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True



__all__ = ["init_app"]
