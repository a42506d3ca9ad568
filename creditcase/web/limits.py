"""Rate limits (flask-limiter), one limiter per application.

Each app built by ``create_app`` gets its own :class:`~flask_limiter.Limiter`
so that two apps in one process (tests, several workers in one interpreter)
never share counters. Storage defaults to ``memory://``; set
``RATELIMIT_STORAGE_URI`` (for example a Redis URL) when several web
processes must share the limits. Limits are attached to whole blueprints with
:func:`limit_blueprint`.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Flask, Response
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

EXTENSION_KEY = "creditcase.limiter"


def init_app(app: Flask) -> Limiter:
    limiter = Limiter(
        key_func=get_remote_address,
        storage_uri=app.config.get("RATELIMIT_STORAGE_URI") or "memory://",
        headers_enabled=True,
        key_prefix="creditcase",
    )
    limiter.init_app(app)
    app.extensions[EXTENSION_KEY] = limiter
    return limiter


def limiter_for(app: Flask) -> Limiter:
    return app.extensions[EXTENSION_KEY]


def limit_blueprint(app: Flask, blueprint: Blueprint, limit: str | Callable[[], str], *,
                    key_func: Callable[[], str] | None = None,
                    deduct_when: Callable[[Response], bool] | None = None,
                    exempt_when: Callable[[], bool] | None = None,
                    error_message: str | None = None) -> None:
    """Apply ``limit`` to every route of ``blueprint`` in ``app``.

    With ``deduct_when`` only the responses it accepts count against the limit
    (once reached, the limit refuses every request until the window passes).
    ``error_message`` becomes the ``detail`` of the 429 problem.
    """
    limiter_for(app).limit(limit, key_func=key_func, deduct_when=deduct_when,
                           exempt_when=exempt_when, error_message=error_message)(blueprint)
