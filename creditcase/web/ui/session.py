"""Signing in to the pages with a session cookie, and signing out.

The password is checked with argon2 (:meth:`creditcase.core.accounts.User.check_password`);
an unknown username costs one argon2 verify as well, so response times do not
tell which usernames exist. The session keeps the user's id and a fingerprint
of the stored password hash: changing the password or deactivating the user
ends every session at its next request. Failed sign-ins are rate-limited per
username and client address (``CREDITCASE_FAILED_LOGIN_LIMIT``, default 5 per
minute). Sign-out is a POST with the CSRF token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from functools import cache

from bson import ObjectId
from flask import Flask, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from werkzeug.wrappers import Response

from creditcase.core.accounts import Principal, User
from creditcase.web import limits
from creditcase.web.auth import FAILED_LOGIN_LIMIT
from creditcase.web.ui.common import current_principal, page_blueprint
from creditcase.web.ui.i18n import safe_next

bp = page_blueprint("ui_auth", __name__)

SESSION_USER = "uid"
SESSION_FINGERPRINT = "pwfp"
#: How long a page session lasts without signing in again.
SESSION_LIFETIME = dt.timedelta(hours=8)


def _fingerprint(user: User) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, (user.password_hash or "").encode(), hashlib.sha256).hexdigest()[:32]


def load_user() -> None:
    """Put the session's user on ``g`` (``ui_user``, ``ui_principal``), or nobody."""
    g.ui_user = g.ui_principal = None
    user_id = session.get(SESSION_USER)
    if not user_id or not ObjectId.is_valid(user_id):
        return
    user = User.objects(pk=user_id).first()
    if user is None or not user.active or not hmac.compare_digest(
            session.get(SESSION_FINGERPRINT, ""), _fingerprint(user)):
        session.clear()
        return
    g.ui_user = user
    g.ui_principal = Principal.of(user)


@cache
def _decoy() -> User:
    """A user never stored, so that an unknown username costs one argon2 verify too."""
    user = User(username="-", roles=["handler"], department="-")
    user.set_password("creditcase-page-decoy")
    return user


def authenticate(username: str, password: str) -> User | None:
    user = User.objects(username=username).first() if username else None
    if user is None or not user.active:
        _decoy().check_password(password)
        return None
    return user if user.check_password(password) else None


def landing_for(who: Principal) -> str:
    """Where a user starts: the dashboard for the credit office, the case desk for
    case handlers and reviewers, the credit data for everyone else."""
    if who.has("credit_office"):
        return url_for("ui_supervision.dashboard")
    if who.has("handler", "reviewer", "dept_admin"):
        return url_for("ui_desk.queue")
    return url_for("ui_data.records")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    target = request.values.get("next")
    who = current_principal()
    if request.method == "GET" and who is not None:
        return redirect(safe_next(target, landing_for(who)))
    error = None
    username = ""
    if request.method == "POST":
        username = (request.form.get("username") or "").strip()
        password = request.form.get("password") or ""
        user = authenticate(username, password) if username and password else None
        if user is None:
            g.login_failed = True
            error = _("用户名或密码错误。") if username and password else _("请输入用户名和密码。")
        else:
            session.clear()
            session.permanent = True
            session[SESSION_USER] = str(user.pk)
            session[SESSION_FINGERPRINT] = _fingerprint(user)
            flash(_("欢迎，%(name)s。", name=user.display_name or user.username), "ok")
            return redirect(safe_next(target, landing_for(Principal.of(user))))
    return render_template("auth/login.html", error=error, username=username, next=target or "")


@bp.post("/logout")
def logout() -> Response:
    session.clear()
    flash(_("您已安全退出。"), "ok")
    return redirect(url_for("ui_auth.login"))


def _login_key() -> str:
    name = (request.form.get("username") or "").strip().lower()
    return f"page-login:{name}@{get_remote_address()}"


def init_app(app: Flask) -> None:
    # Flask's own defaults (31 days, no SameSite) give way to the page session's;
    # values the caller configured are kept
    for key, value in (("PERMANENT_SESSION_LIFETIME", SESSION_LIFETIME),
                       ("SESSION_COOKIE_SAMESITE", "Lax"), ("SESSION_COOKIE_HTTPONLY", True)):
        if app.config.get(key) == Flask.default_config.get(key):
            app.config[key] = value
    app.register_blueprint(bp)
    limits.limit_blueprint(
        app, bp, app.config.get("CREDITCASE_FAILED_LOGIN_LIMIT", FAILED_LOGIN_LIMIT),
        key_func=_login_key, deduct_when=lambda response: bool(g.get("login_failed")),
        exempt_when=lambda: not (request.endpoint == "ui_auth.login" and request.method == "POST"),
        error_message="登录失败次数过多，请一分钟后再试 (too many failed sign-ins; try again in a minute)")


__all__ = ["authenticate", "bp", "init_app", "landing_for", "load_user"]
