"""One POST endpoint per state-machine step (objections, repairs): each step
takes a body, calls a core service with the principal and the object id, and
returns the object. :func:`step_registrar` builds the registering function for
one blueprint so that every step is documented alike."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from creditcase.core.accounts import Principal
from creditcase.web.auth import current_principal, login_required

StepCall = Callable[[Principal, str, dict[str, Any]], Any]


def step_registrar(blp: Blueprint, *, view_prefix: str, id_param: str,
                   response: type[ma.Schema]) -> Callable[..., None]:
    """Return ``step(path, summary, description, schema, call)`` registering
    ``POST <blueprint>/<id>/<path>``."""

    def step(path: str, summary: str, description: str, schema: type[ma.Schema],
             call: StepCall) -> None:
        class StepView(MethodView):
            @login_required()
            @blp.doc(summary=summary, description=description)
            @blp.arguments(schema)
            @blp.response(200, response)
            @blp.alt_response(403, response="FORBIDDEN")
            @blp.alt_response(404, response="NOT_FOUND")
            @blp.alt_response(409, response="CONFLICT")
            @blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
            def post(self, body: dict[str, Any], **kwargs: str) -> Any:
                return call(current_principal(), kwargs[id_param], body)

        name = "".join(part.title() for part in path.split("-"))
        StepView.__name__ = StepView.__qualname__ = f"{view_prefix}{name}View"
        blp.route(f"/<string:{id_param}>/{path}", endpoint=StepView.__name__)(StepView)

    return step
