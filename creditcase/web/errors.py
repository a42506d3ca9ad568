"""One error shape for the whole HTTP surface: RFC 9457 problem details.

Every error response, whatever raised it (routing, webargs validation,
malformed JSON, a core :class:`~creditcase.core.errors.DomainError`, a rate
limit, an unexpected exception), is ``application/problem+json`` with the
members ``type``, ``title``, ``status``, ``detail`` and ``instance``, plus
``title_zh`` (the title in Chinese) and, where fields are at fault,
``errors``: a flat mapping of field paths (``subject.code``,
``records.3.doc_no``) to messages.

Handlers are registered on the application, never on a blueprint, so that
404 and 405 from routing get the same shape. Internals (exception text,
tracebacks) never reach a 500 response; they are logged.
"""

from __future__ import annotations

import http
import logging
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
import mongoengine as me
from flask import Flask, Response, current_app, json, request
from werkzeug.exceptions import HTTPException

from creditcase.core.errors import (
    ConcurrentUpdate,
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    RuleViolation,
)

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
#: Prefix of the ``type`` URIs of the problems this API defines.
TYPE_PREFIX = "urn:creditcase:problem:"

#: Core error class -> (HTTP status, problem type slug, Chinese title).
DOMAIN_ERRORS: dict[type[DomainError], tuple[int, str, str]] = {
    NotFound: (404, "not-found", "未找到"),
    PermissionDenied: (403, "permission-denied", "无权操作"),
    ConcurrentUpdate: (409, "concurrent-update", "数据已被他人修改"),
    Conflict: (409, "conflict", "当前状态不允许此操作"),
    RuleViolation: (422, "rule-violation", "违反业务规则"),
}

#: Chinese titles of the HTTP statuses this API returns.
STATUS_TITLES_ZH: dict[int, str] = {
    400: "请求无效",
    401: "未登录或令牌无效",
    403: "无权操作",
    404: "未找到",
    405: "不支持该请求方法",
    406: "无法提供所需格式",
    409: "冲突",
    413: "请求内容过大",
    415: "不支持的内容类型",
    422: "数据校验未通过",
    429: "请求过于频繁",
    500: "服务器内部错误",
    503: "服务暂不可用",
}


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, as every error response of this API carries them."""

    type = ma.fields.String(metadata={
        "description": "URI naming the problem type; ``about:blank`` for plain HTTP errors"})
    title = ma.fields.String(metadata={"description": "short summary of the problem type (English)"})
    title_zh = ma.fields.String(metadata={"description": "the title in Chinese"})
    status = ma.fields.Integer(metadata={"description": "HTTP status code"})
    detail = ma.fields.String(metadata={"description": "what went wrong in this occurrence"})
    instance = ma.fields.String(metadata={"description": "the request path"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()),
        metadata={"description": "field path (e.g. ``subject.code``) -> messages"})


def problem(status: int, *, detail: str, type_: str = "about:blank", title: str | None = None,
            title_zh: str | None = None, errors: Mapping[str, list[str]] | None = None,
            headers: Mapping[str, str] | None = None) -> Response:
    """Build a ``application/problem+json`` response."""
    phrase = _phrase(status)
    body: dict[str, Any] = {
        "type": type_,
        "title": title or phrase,
        "title_zh": title_zh or STATUS_TITLES_ZH.get(status, phrase),
        "status": status,
        "detail": detail,
        "instance": request.path if request else "",
    }
    if errors:
        body["errors"] = {str(k): [str(m) for m in v] for k, v in errors.items()}
    response = current_app.response_class(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten marshmallow's nested messages into ``{"a.b.0.c": [...]}``."""
    out: dict[str, list[str]] = {}

    def walk(path: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, sub in value.items():
                walk(f"{path}.{key}" if path else str(key), sub)
        elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            out.setdefault(path or "_schema", []).extend(value)
        elif isinstance(value, list | tuple):
            for i, sub in enumerate(value):
                walk(f"{path}.{i}" if path else str(i), sub)
        else:
            out.setdefault(path or "_schema", []).append(str(value))

    walk(prefix, messages)
    return out


def _without_location(messages: Any) -> Any:
    """webargs keys messages by location (``{"json": {...}}``); drop that level."""
    if isinstance(messages, Mapping) and messages and all(
            k in ("json", "query", "querystring", "form", "json_or_form", "headers", "cookies",
                  "files", "view_args", "path") for k in messages):
        merged: dict[str, Any] = {}
        for location, sub in messages.items():
            if isinstance(sub, Mapping):
                merged.update(sub)
            else:
                merged[location] = sub
        return merged
    return messages


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    cause = getattr(error, "exc", None)
    if status == 400 and isinstance(cause, ValueError) and not isinstance(cause, ma.ValidationError):
        # webargs: the body claims to be JSON but does not parse
        return problem(400, type_=f"{TYPE_PREFIX}malformed-json", title="Malformed JSON",
                       title_zh="请求体不是有效的 JSON",
                       detail="The request body is not valid JSON.", headers=headers)
    if status == 422 and (data.get("messages") is not None or data.get("errors") is not None):
        messages = data.get("errors", data.get("messages"))
        return problem(422, type_=f"{TYPE_PREFIX}validation", title="Validation failed",
                       detail=data.get("message") or "The request has invalid or missing fields.",
                       errors=flatten_messages(_without_location(messages)), headers=headers)
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="creditcase"')
    detail = data.get("message") or error.description or _phrase(status)
    return problem(status, detail=str(detail), errors=data.get("errors"), headers=headers)


def handle_domain_error(error: DomainError) -> Response:
    for cls in type(error).__mro__:
        if cls in DOMAIN_ERRORS:
            status, slug, title_zh = DOMAIN_ERRORS[cls]
            break
    else:
        status, slug, title_zh = 422, "domain-error", "业务错误"
    return problem(status, type_=f"{TYPE_PREFIX}{slug}", title=error.title, title_zh=title_zh,
                   detail=error.detail, errors=error.errors or None)


def handle_document_validation(error: me.ValidationError) -> Response:
    """A stored document refused the values: report the fields, not the document."""
    messages = error.to_dict() if error.errors else {}
    return problem(422, type_=f"{TYPE_PREFIX}validation", title="Validation failed",
                   detail="The values are not valid for storage.",
                   errors=flatten_messages(messages) or None)


def handle_unexpected(error: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.path)
    return problem(500, type_=f"{TYPE_PREFIX}internal", title="Internal Server Error",
                   detail="An unexpected error occurred; it has been logged.")


def init_app(app: Flask) -> None:
    """Register the handlers on the application (not on a blueprint)."""
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(me.ValidationError, handle_document_validation)
    app.register_error_handler(Exception, handle_unexpected)


__all__ = ["PROBLEM_JSON", "ProblemSchema", "flatten_messages", "init_app", "problem"]
