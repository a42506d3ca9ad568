"""Bearer-token authentication and role checks for the API.

Machines send ``Authorization: Bearer cc_...``; the token is resolved with
:func:`creditcase.core.accounts.user_for_token` into a
:class:`~creditcase.core.accounts.Principal` kept on ``flask.g`` for the
request. :func:`login_required` guards a view (401 without a valid token,
403 without one of the roles) and documents that in OpenAPI.
``POST /api/v1/auth/token`` exchanges a username and password (argon2) for a
new token; failed attempts are rate-limited per username and client address.

Roles only open the door: department scope is enforced on every query by
core (:meth:`Principal.department_filter`, ``WorkflowService.get``).
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from functools import cache, wraps
from typing import Any, TypeVar

import marshmallow as ma
from flask import Flask, Response, current_app, g, request
from flask.views import MethodView
from flask_limiter.util import get_remote_address
from flask_smorest import Blueprint, abort

from creditcase.core.accounts import ROLES, Principal, User, issue_token, user_for_token
from creditcase.web import limits

#: Failed sign-ins allowed per username and client address.
FAILED_LOGIN_LIMIT = "5 per minute"
SECURITY_SCHEME = "bearerAuth"
_CHALLENGE = 'Bearer realm="creditcase"'

F = TypeVar("F", bound=Callable[..., Any])

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth",
                description="登录与 API 令牌 (sign-in and API tokens)")


# -- resolving the principal ---------------------------------------------------------------------

def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate() -> Principal:
    """The principal of this request; aborts with 401 when there is none."""
    principal = g.get("principal")
    if principal is not None:
        return principal
    token = _bearer_token()
    if token is None:
        abort(401, message="需要登录：请提供 Authorization: Bearer 令牌 (a bearer token is required)",
              headers={"WWW-Authenticate": _CHALLENGE})
    user = user_for_token(token) if token.startswith("cc_") else None
    if user is None:
        abort(401, message="令牌无效或已停用 (the token is invalid or revoked)",
              headers={"WWW-Authenticate": f'{_CHALLENGE}, error="invalid_token"'})
    g.principal = Principal.of(user)
    return g.principal


def current_principal() -> Principal:
    """The authenticated principal (call inside a :func:`login_required` view)."""
    return authenticate()


def require_roles(principal: Principal, *roles: str) -> None:
    """Abort with 403 unless the principal has one of ``roles`` (admin always passes)."""
    if roles and not principal.has(*roles):
        names = "、".join(roles)
        abort(403, message=f"需要以下角色之一：{names} (requires one of the roles: {', '.join(roles)})")


def login_required(*roles: str) -> Callable[[F], F]:
    """Decorate a view (or a MethodView method): authenticate, then require ``roles``.

    Put it above ``@blp.arguments`` so that a missing token gives 401 before the
    body is validated. The OpenAPI operation gets the bearer security requirement
    and its 401/403 responses.
    """
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise ValueError(f"unknown roles {unknown}")

    def decorator(func: F) -> F:
        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            require_roles(authenticate(), *roles)
            return current_app.ensure_sync(func)(*args, **kwargs)

        doc = deepcopy(getattr(wrapper, "_apidoc", {}))
        responses = doc.setdefault("response", {}).setdefault("responses", {})
        responses.setdefault(401, []).append("UNAUTHORIZED")
        if roles:
            responses.setdefault(403, []).append("FORBIDDEN")
        manual = doc.setdefault("manual_doc", {})
        manual["security"] = [{SECURITY_SCHEME: []}]
        if roles:
            note = f"需要角色 (roles): {', '.join(roles)}"
            manual["description"] = (manual.get("description", "") + "\n\n" + note).strip() \
                if "description" in manual else note
        wrapper._apidoc = doc  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


# -- schemas ---------------------------------------------------------------------------------

class LoginSchema(ma.Schema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    password = ma.fields.String(required=True, load_only=True,
                                validate=ma.validate.Length(min=1, max=1024))
    label = ma.fields.String(load_default="api", validate=ma.validate.Length(max=100),
                             metadata={"description": "what the token is for (shown in the user's list)"})


class PrincipalSchema(ma.Schema):
    username = ma.fields.String()
    department = ma.fields.String()
    roles = ma.fields.List(ma.fields.String())


class TokenSchema(PrincipalSchema):
    token = ma.fields.String(metadata={"description": "shown once: store it now"})
    token_type = ma.fields.String(metadata={"description": "always Bearer"})
    display_name = ma.fields.String()


# -- endpoints -------------------------------------------------------------------------------

@cache
def _decoy() -> User:
    """A user that is never stored, so that an unknown username costs one argon2 verify too."""
    user = User(username="-", roles=["handler"], department="-")
    user.set_password("creditcase-decoy-password")
    return user


@blp.route("/token")
class TokenView(MethodView):
    @blp.doc(summary="用户名和密码换取 API 令牌 (exchange a username and password for a token)",
             description="失败的登录按用户名和客户端地址限流：每分钟 5 次 "
                         "(failed sign-ins are limited to 5 per minute per username and address).")
    @blp.arguments(LoginSchema)
    @blp.response(201, TokenSchema)
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    def post(self, credentials: dict[str, Any]) -> dict[str, Any]:
        user = User.objects(username=credentials["username"]).first()
        if user is None or not user.active:
            _decoy().check_password(credentials["password"])
            user = None
        elif not user.check_password(credentials["password"]):
            user = None
        if user is None:
            abort(401, message="用户名或密码错误 (wrong username or password)")
        token = issue_token(user, label=credentials["label"])
        return {"token": token, "token_type": "Bearer", "username": user.username,
                "display_name": user.display_name, "department": user.department,
                "roles": list(user.roles)}


@blp.route("/me")
class MeView(MethodView):
    @login_required()
    @blp.doc(summary="当前令牌的身份 (who this token is)")
    @blp.response(200, PrincipalSchema)
    def get(self) -> dict[str, Any]:
        principal = current_principal()
        return {"username": principal.username, "department": principal.department,
                "roles": sorted(principal.roles)}


def _login_key() -> str:
    body = request.get_json(silent=True)
    username = body.get("username") if isinstance(body, dict) else None
    name = username.strip().lower() if isinstance(username, str) else ""
    return f"login:{name}@{get_remote_address()}"


def _failed(response: Response) -> bool:
    return response.status_code == 401


def init_app(app: Flask) -> None:
    """Limit failed sign-ins (needs :func:`creditcase.web.limits.init_app` first); the
    blueprint itself is registered with the API by :mod:`creditcase.web.api`."""
    limits.limit_blueprint(app, blp, app.config.get("CREDITCASE_FAILED_LOGIN_LIMIT",
                                                    FAILED_LOGIN_LIMIT),
                           key_func=_login_key, deduct_when=_failed,
                           exempt_when=lambda: request.endpoint != "auth.TokenView",
                           error_message="登录失败次数过多，请一分钟后再试 "
                                         "(too many failed sign-ins; try again in a minute)")


__all__ = ["authenticate", "blp", "current_principal", "init_app", "login_required",
           "require_roles"]
