"""What every page blueprint shares: the signed-in user, CSRF, HTML errors,
display filters and small helpers.

Pages authenticate with the session cookie (see :mod:`creditcase.web.ui.session`);
the bearer-token API under ``/api/v1`` never reads it, and so stays free of
CSRF. Every blueprint made by :func:`page_blueprint` checks the CSRF token of
every unsafe request and renders errors as HTML pages instead of problem JSON.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

import mongoengine as me
from flask import Blueprint, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from creditcase.core.accounts import Principal, User
from creditcase.core.errors import DomainError
from creditcase.web.errors import DOMAIN_ERRORS

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

#: Beijing time: China has no daylight saving time.
BEIJING = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
PAGE_SIZE = 20


def today() -> dt.date:
    """Today in Beijing, the day deadlines are counted from."""
    return dt.datetime.now(BEIJING).date()


# -- the signed-in user ----------------------------------------------------------------------

def current_user() -> User | None:
    return g.get("ui_user")


def current_principal() -> Principal | None:
    return g.get("ui_principal")


def principal() -> Principal:
    """The principal of a page behind :func:`login_required`."""
    found = current_principal()
    if found is None:  # pragma: no cover - login_required runs first
        raise RuntimeError("no signed-in user")
    return found


def login_required(*roles: str) -> Callable[[F], F]:
    """Send anonymous visitors to the sign-in page; 403 without one of ``roles``
    (``admin`` always passes)."""

    def decorator(func: F) -> F:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            who = current_principal()
            if who is None:
                return redirect(url_for("ui_auth.login", next=request.full_path.rstrip("?")))
            if roles and not who.has(*roles):
                return error_page(403, _("您的角色无权使用此页面。"))
            return func(*args, **kwargs)

        wrapper.required_roles = roles  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


# -- errors ----------------------------------------------------------------------------------

def _status_title(status: int) -> str:
    titles = {
        400: _("请求无效"), 403: _("无权访问"), 404: _("未找到"), 405: _("不支持该操作"),
        409: _("当前状态不允许此操作"), 413: _("上传内容过大"), 422: _("数据校验未通过"),
        429: _("操作过于频繁"), 500: _("系统出错"),
    }
    return titles.get(status, _("出错了"))


def error_page(status: int, detail: str, *, title: str | None = None) -> Response:
    html = render_template("errors/error.html", status=status, title=title or _status_title(status),
                           detail=detail)
    return current_app.response_class(html, status=status, mimetype="text/html")


def handle_http_error(error: HTTPException) -> Response:
    status = error.code or 500
    if status == 400 and error.__class__.__name__ == "CSRFError":
        return error_page(400, _("表单已过期或来源不明（CSRF 校验失败）。请返回上一页，刷新后重新提交。"),
                          title=_("表单校验失败"))
    if status == 429:
        return error_page(429, _("操作过于频繁，请稍后再试。"))
    if status == 404:
        return error_page(404, _("没有找到这个页面，或者您无权查看它。"))
    if status == 405:
        return error_page(405, _("此页面不支持这样提交。"))
    return error_page(status, error.description or _status_title(status))


def handle_domain_error(error: DomainError) -> Response:
    status = 422
    for cls in type(error).__mro__:
        if cls in DOMAIN_ERRORS:
            status = DOMAIN_ERRORS[cls][0]
            break
    if status == 404:
        return error_page(404, _("没有找到这个页面，或者您无权查看它。"))
    if status == 403:
        return error_page(403, _("您的角色无权执行此操作。"))
    return error_page(status, error.detail)


def handle_unexpected(error: Exception) -> Response:
    log.exception("unhandled error on page %s %s", request.method, request.path)
    return error_page(500, _("发生了意外错误，已记录。请稍后再试。"))


# -- blueprints ------------------------------------------------------------------------------

def page_blueprint(name: str, import_name: str, url_prefix: str | None = None) -> Blueprint:
    """A blueprint of pages: session user loaded, CSRF checked on unsafe methods,
    errors rendered as HTML."""
    bp = Blueprint(name, import_name, url_prefix=url_prefix)
    bp.before_request(_before_page)
    bp.register_error_handler(HTTPException, handle_http_error)
    bp.register_error_handler(DomainError, handle_domain_error)
    bp.register_error_handler(Exception, handle_unexpected)
    return bp


def _before_page() -> None:
    from creditcase.web.ui import session

    if request.method in UNSAFE_METHODS:
        current_app.extensions["csrf"].protect()
    session.load_user()


# -- display helpers -------------------------------------------------------------------------

def as_datetime(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return None


def as_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(BEIJING).date() if value.tzinfo else value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def fmt_datetime(value: Any) -> str:
    """A timestamp in Beijing time, ``2026-11-26 18:02``."""
    moment = as_datetime(value)
    if moment is None:
        return "—" if not value else str(value)
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def fmt_date(value: Any) -> str:
    day = as_date(value)
    if day is None:
        return "—" if not value else str(value)
    return day.isoformat()


def deadline_info(due: dt.date | None, on: dt.date, calendar: Any = None) -> dict[str, Any]:
    """How far ``due`` is from ``on`` in working days: ``kind`` is ``left``, ``today``,
    ``overdue`` or ``unknown`` (no date, or no official calendar for it)."""
    from creditcase.core.calendar import CalendarDataMissing, current_calendar

    if due is None:
        return {"kind": "unknown", "days": None}
    try:
        calendar = calendar or current_calendar()
        days = calendar.working_days_between(on, due)
    except (CalendarDataMissing, me.ValidationError, ValueError):
        return {"kind": "unknown", "days": None}
    if due < on:
        return {"kind": "overdue", "days": max(-days, 1) if days <= 0 else days}
    if due == on:
        return {"kind": "today", "days": 0}
    return {"kind": "left", "days": days}


def department_name(code: str | None) -> str:
    """A department's name in the page's language (its code when unknown); the names
    are read once per request."""
    from creditcase.core.accounts import Department
    from creditcase.web.ui.i18n import pick

    if not code:
        return ""
    names = g.get("ui_department_names")
    if names is None:
        names = {d.code: (d.name_zh, d.name_en) for d in
                 Department.objects.only("code", "name_zh", "name_en")}
        g.ui_department_names = names
    found = names.get(code)
    return pick(*found) if found else code


def fmt_value(value: Any) -> str:
    """A stored application value for display: ISO timestamps in Beijing time, booleans
    as yes or no, lists joined."""
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, list):
        return "、".join(fmt_value(v) for v in value)
    if isinstance(value, str) and len(value) > 10 and value[4:5] == "-" and value[10:11] == "T":
        moment = as_datetime(value)
        if moment is not None:
            return fmt_datetime(moment)
    return "" if value is None else str(value)


@dataclass
class Page:
    """One page of a query's results."""

    items: list[Any]
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def page_number() -> int:
    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


def paginate(queryset: me.QuerySet, convert: Callable[[Iterable[Any]], list[Any]],
             size: int = PAGE_SIZE) -> Page:
    number = page_number()
    total = queryset.count()
    number = min(number, max(1, math.ceil(total / size)))
    rows = queryset.skip((number - 1) * size).limit(size)
    return Page(convert(rows), number, size, total)


def url_with(**changes: Any) -> str:
    """The current page's URL with some query arguments changed (``None`` removes one)."""
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = str(value)
    return url_for(request.endpoint or "ui_home.home", **(request.view_args or {}), **args)


__all__ = ["BEIJING", "Page", "as_date", "as_datetime", "current_principal", "current_user",
           "deadline_info",
           "error_page", "fmt_date", "fmt_datetime", "login_required", "page_blueprint",
           "paginate", "principal", "today", "url_with"]
