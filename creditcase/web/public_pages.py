"""The public 双公示 search page (``/public/publicity``): server-rendered, in
Chinese, no sign-in, rate-limited per client address like the public API, usable
on a phone (results become cards on narrow screens).

It runs the same query as ``GET /api/v1/public/publicity``
(:func:`creditcase.web.api.public.search`: published records within their
publicity period only) and shows them through the same masked presentation
(:class:`creditcase.web.api.public.PublicityOut`), so an ID number is never shown
in full and a natural person's name is masked. The form posts its query, so an
ID number typed into it never lands in a URL (address bar, history, server
logs), and the page never echoes one back. ``GET`` with ``q`` works for names and
USCCs (links). The page only reads; the form changes nothing, so it needs no
CSRF token.
"""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, Flask, render_template, request, url_for
from werkzeug.exceptions import TooManyRequests

from creditcase.core import ids
from creditcase.web import limits
from creditcase.web.api import public

bp = Blueprint("public_pages", __name__, url_prefix="/public")

PAGE_SIZE = 20
#: Results shown for a search by ID number (all on one page).
PERSONAL_PAGE_SIZE = 200
MAX_QUERY = 100
KINDS = {"": "全部", "penalty": "行政处罚", "licence": "行政许可"}


def _is_id_number(text: str) -> bool:
    try:
        return ids.validate(text)[0] == "id_number"
    except ids.IdentityCodeError:
        return False


def _page(value: str | None) -> int:
    try:
        return max(1, min(int(value or "1"), 10_000))
    except ValueError:
        return 1


def _lang_url(code: str) -> str:
    # the language switch returns to the bare page: never carry the query in a URL
    return url_for("ui_lang.switch", code=code, next=url_for("public_pages.publicity_search"))


def _render(status: int = 200, **context: Any) -> tuple[str, int]:
    values: dict[str, Any] = {"q": "", "masked_query": None, "kind": "", "kinds": KINDS,
                              "problems": [], "results": [], "total": 0, "page": 1, "pages": 0,
                              "searched": False}
    values.update(context)
    if "ui_lang.switch" in _endpoints():
        values["lang_url"] = _lang_url
    return render_template("public/publicity.html", **values), status


def _endpoints() -> set[str]:
    from flask import current_app

    return set(current_app.view_functions)


@bp.route("/publicity", methods=["GET", "POST"])
def publicity_search() -> tuple[str, int]:
    """Search by name (any part) or by an exact USCC / ID number."""
    source = request.form if request.method == "POST" else request.args
    text = (source.get("q") or "").strip()
    kind = source.get("kind") or ""
    problems = []
    if len(text) > MAX_QUERY:
        problems.append(f"查询内容不超过 {MAX_QUERY} 个字。")
    if kind not in KINDS:
        problems.append("信息类别只能是行政处罚或行政许可。")
    personal = bool(text) and _is_id_number(text)
    context: dict[str, Any] = {
        "q": "" if personal else text[:MAX_QUERY], "kind": kind if kind in KINDS else "",
        "masked_query": ids.mask_id_number(text) if personal else None,
        "problems": problems, "searched": bool(text or kind)}
    if problems:
        return _render(400, **context)
    if personal and request.method == "GET":
        # the number is already in this URL; answer without repeating it anywhere
        context.update(searched=False, problems=[
            "按身份证号码查询请在查询框中输入（号码不会出现在网址中）。"])
        return _render(200, **{**context, "masked_query": None})
    if context["searched"]:
        # one person's records fit on one page: no page links that would carry the number
        size = PERSONAL_PAGE_SIZE if personal else PAGE_SIZE
        page = 1 if personal else _page(source.get("page"))
        try:
            total, items = public.search_page(text, kind or None, (page - 1) * size, size)
        except public.SearchTooSlow:
            context.update(searched=False, problems=[
                "按名称查询超时，请输入更完整的名称，或按统一社会信用代码查询。"])
            return _render(503, **context)
        pages = max(1, math.ceil(total / size))
        if page > pages:
            page = pages
            total, items = public.search_page(text, kind or None, (page - 1) * size, size)
        context.update(results=public.PublicityOut(many=True).dump(items), total=total,
                       page=page, pages=1 if personal else pages)
    return _render(200, **context)


@bp.errorhandler(TooManyRequests)
def too_many(error: TooManyRequests) -> tuple[str, int, dict[str, str]]:
    headers = {k: v for k, v in error.get_headers() if k.lower() == "retry-after"}
    html, status = _render(429, problems=["查询过于频繁，请稍后再试。"])
    return html, status, headers


def init_app(app: Flask) -> None:
    """Register the page, rate-limited like the public API."""
    app.register_blueprint(bp)
    limits.limit_blueprint(app, bp, public.rate_limit, key_func=public.client_address,
                           error_message="查询过于频繁，请稍后再试")


__all__ = ["bp", "init_app"]
