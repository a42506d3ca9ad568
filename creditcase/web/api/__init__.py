"""The ``/api/v1`` HTTP API: the flask-smorest ``Api`` and its blueprints.

One blueprint per area (auth, subjects, records, lists, reports, cases,
public, meta, departments). The OpenAPI document is served at ``/api/v1/openapi.json``;
every error response in it is documented as ``application/problem+json``
with :class:`~creditcase.web.errors.ProblemSchema`, which is what the
handlers of :mod:`creditcase.web.errors` send.
"""

from __future__ import annotations

import http

from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from creditcase import __version__
from creditcase.web import auth, limits
from creditcase.web.errors import PROBLEM_JSON, ProblemSchema

#: flask-smorest configuration; ``create_app`` puts it in ``app.config``.
CONFIG = {
    "API_TITLE": "creditcase",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
}

DESCRIPTION = """\
行政事项信用核查与联合奖惩办案系统，以及城市公共信用信息平台的接口。

Case handling with a mandatory credit check ("逢办必查"), joint reward and
punishment measures with feedback, and tamper-evident evidence, plus the city
credit information platform (records, red and black lists, credit reports,
public 双公示 search).

Authentication: `Authorization: Bearer cc_...` (POST /api/v1/auth/token).
Every error is `application/problem+json` (RFC 9457) with an `errors` member
mapping field paths to messages.
"""


class CreditcaseApi(Api):
    """flask-smorest's Api, with RFC 9457 problems as the documented error shape.

    The error handlers themselves are registered on the app by
    :func:`creditcase.web.errors.init_app`.
    """

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self) -> None:
        """Left to :mod:`creditcase.web.errors`, which registers them on the app."""

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def init_app(app: Flask) -> CreditcaseApi:
    """Configure flask-smorest, register every blueprint and limit the public one."""
    from creditcase.web.api import (
        cases,
        commitments,
        departments,
        grades,
        lists,
        meta,
        objections,
        public,
        publicity,
        records,
        repairs,
        reports,
        subjects,
    )

    for key, value in CONFIG.items():
        app.config.setdefault(key, value)
    app.config.setdefault("API_SPEC_OPTIONS", {
        "info": {"description": DESCRIPTION, "x-creditcase-version": __version__},
    })
    api = CreditcaseApi(app)
    api.spec.components.security_scheme(auth.SECURITY_SCHEME, {
        "type": "http", "scheme": "bearer", "bearerFormat": "cc_ token"})
    for blueprint in (auth.blp, subjects.blp, records.blp, lists.blp, reports.blp, cases.blp,
                      public.blp, meta.blp, departments.blp, objections.blp,
                      objections.public_blp, repairs.blp, commitments.blp, grades.blp, publicity.blp):
        api.register_blueprint(blueprint)
    limits.limit_blueprint(app, public.blp, public.rate_limit, key_func=public.client_address,
                           error_message="查询过于频繁，请稍后再试 (too many requests; try again later)")
    app.extensions["creditcase.api"] = api
    return api
