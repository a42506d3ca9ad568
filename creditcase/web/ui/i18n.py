"""Languages of the pages: Simplified Chinese by default, English by a switch.

Message ids are the Chinese text itself; the English catalogue lives in
``creditcase/web/translations/en``. The locale of a request is, in order: the
``lang`` cookie set by the language switch, then the browser's
``Accept-Language``, then Chinese. This module also holds the display labels of
the core's codes (case states, outcomes, bindings, record kinds...), written as
``lazy_gettext`` calls so that the extractor finds them; a unit test checks
that every code the core defines has a label here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, redirect, request
from flask_babel import Babel, get_locale
from flask_babel import lazy_gettext as _l

#: Supported locales, the first is the default.
LOCALES = ("zh", "en")
#: Cookie that remembers the language chosen with the switch.
COOKIE = "lang"
#: One year, in seconds.
COOKIE_MAX_AGE = 365 * 24 * 3600

bp = Blueprint("ui_lang", __name__)


def select_locale() -> str:
    chosen = request.cookies.get(COOKIE)
    if chosen in LOCALES:
        return chosen
    best = request.accept_languages.best_match(LOCALES)
    return best or LOCALES[0]


def current_locale() -> str:
    locale = get_locale()
    return locale.language if locale is not None else LOCALES[0]


def is_english() -> bool:
    return current_locale() == "en"


def pick(zh: str | None, en: str | None) -> str:
    """The English text of a bilingual value in English pages when there is one."""
    if is_english() and en:
        return en
    return zh or en or ""


def safe_next(target: str | None, default: str) -> str:
    """A local path to go back to; anything with a scheme or host is refused."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


@bp.get("/lang/<code>")
def switch(code: str) -> Response:
    """Set the language cookie and go back to the page the switch was on."""
    response = redirect(safe_next(request.args.get("next"), "/"))
    if code in LOCALES:
        response.set_cookie(COOKIE, code, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True)
    return response


def init_app(app: Flask, translations: str) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", LOCALES[0])
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", translations)
    Babel(app, locale_selector=select_locale)
    app.register_blueprint(bp)


# -- labels of the core's codes -------------------------------------------------------------

CASE_STATES: dict[str, Any] = {
    "applied": _l("已受理"),
    "checking": _l("核查中"),
    "checked": _l("已核查"),
    "stale": _l("待重新核查"),
    "decided": _l("已决定"),
    "archived": _l("已归档"),
    "withdrawn": _l("已撤回"),
}

OUTCOMES: dict[str, Any] = {
    "approved": _l("准予"),
    "approved_with_conditions": _l("附条件准予"),
    "rejected": _l("不予准予"),
}

RECOMMENDATIONS: dict[str, Any] = {
    "approve": _l("建议准予"),
    "approve_with_conditions": _l("建议附条件准予"),
    "review": _l("建议重点审查"),
    "reject": _l("建议不予准予"),
}

BINDINGS: dict[str, Any] = {"MANDATORY": _l("强制"), "DISCRETIONARY": _l("酌情")}

MEASURE_KINDS: dict[str, Any] = {"REWARD": _l("激励"), "PUNISH": _l("惩戒")}

EFFECTS: dict[str, Any] = {
    "reject": _l("不予准予"),
    "restrict": _l("限制"),
    "review": _l("重点审查"),
    "incentive": _l("激励"),
}

SUBJECT_KINDS: dict[str, Any] = {
    "LEGAL": _l("法人及非法人组织"),
    "NATURAL": _l("自然人"),
    "INDIVIDUAL_BUSINESS": _l("个体工商户"),
}

RECORD_KINDS: dict[str, Any] = {
    "licence": _l("行政许可"),
    "penalty": _l("行政处罚"),
    "levy": _l("行政征收"),
    "enforcement": _l("行政强制"),
    "confirmation": _l("行政确认"),
    "award": _l("行政奖励"),
    "judgment": _l("司法判决"),
    "dishonest_debtor": _l("失信被执行人"),
    "major_tax_violation": _l("重大税收违法失信"),
    "contract_performance": _l("合同履约"),
    "commitment_breach": _l("信用承诺违约"),
    "self_declared": _l("自主申报"),
}

SEVERITIES: dict[str, Any] = {"minor": _l("轻微"), "general": _l("一般"), "serious": _l("严重")}

RECORD_STATES: dict[str, Any] = {
    "active": _l("有效"),
    "disputed": _l("异议处理中"),
    "repaired": _l("已修复"),
    "expired": _l("已过期"),
    "revoked": _l("已撤销"),
}

PUBLICITY_STATES: dict[str, Any] = {
    "not_applicable": _l("不适用"),
    "due": _l("待公示"),
    "published": _l("已公示"),
    "overdue": _l("逾期未公示"),
    "ended": _l("公示期满"),
}

AGENCY_STATUSES: dict[str, Any] = {"filed": _l("已备案"), "suspended": _l("暂停"),
                                   "revoked": _l("撤销备案")}

ROLES: dict[str, Any] = {
    "handler": _l("经办人"),
    "reviewer": _l("审核人（部门负责人）"),
    "dept_admin": _l("部门管理员"),
    "data_provider": _l("数据报送"),
    "credit_office": _l("信用办"),
    "admin": _l("系统管理员"),
}

COLORS: dict[str, Any] = {"red": _l("红名单"), "black": _l("黑名单")}

CHANNELS: dict[str, Any] = {
    "records": _l("本地公共信用记录"),
    "lists": _l("红黑名单"),
    "reports": _l("第三方信用报告"),
}

AUDIT_ACTIONS: dict[str, Any] = {
    "case.applied": _l("受理申请"),
    "case.checked": _l("完成信用核查"),
    "case.check_requested": _l("发起重新核查"),
    "case.stale": _l("信用信息变化，核查失效"),
    "case.override_approved": _l("批准不执行强制措施"),
    "case.decided": _l("作出决定"),
    "case.archived": _l("归档"),
    "case.withdrawn": _l("撤回申请"),
    "case.review_flagged": _l("标记待复核"),
    "record.created": _l("记录入库"),
    "record.updated": _l("记录更正"),
    "record.unchanged": _l("重复推送"),
}


def validity_reason(reason: str) -> str:
    """A credit report's invalidity reason (core's wording) in the page's language."""
    from flask_babel import gettext as _

    if reason.startswith("older than"):
        return _("超过一年有效期")
    if reason.startswith("void:"):
        return _("已作废：%(why)s", why=reason[5:].strip())
    if reason.endswith("is not filed"):
        return _("出具机构未备案")
    if reason.startswith("agency filing expired"):
        return _("出具机构备案已过期")
    if reason.startswith("agency "):
        return _("出具机构备案状态异常")
    if reason.startswith("issued in the future"):
        return _("出具日期晚于今天")
    return reason


def label(table: dict[str, Any], code: str | None) -> str:
    """The label of ``code`` in ``table``, or the code itself when there is none."""
    if code is None:
        return ""
    value = table.get(code)
    return str(value) if value is not None else code


__all__ = ["LOCALES", "current_locale", "init_app", "is_english", "label", "pick", "safe_next",
           "select_locale"]
