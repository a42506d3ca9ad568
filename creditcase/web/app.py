"""The Flask application factory.

``create_app(config, runtime)`` builds one app: configuration defaults, the
core runtime (built from ``CREDITCASE_*`` settings when none is given), the
error handlers, rate limits, the ``/api/v1`` API and the pages (``creditcase.web.ui``). Each
subsystem has its own ``init_app(app)``. Nothing is read at import time.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from creditcase.config import Settings
from creditcase.core import runtime as core_runtime
from creditcase.core.runtime import Runtime
from creditcase.web import api, auth, errors, limits, public_pages, ui
from creditcase.web.context import EXTENSION_KEY


def create_app(config: dict[str, Any] | None = None, runtime: Runtime | None = None) -> Flask:
    """Build the web application.

    :param config: Flask configuration overriding the defaults (e.g. ``{"TESTING": True}``).
        Besides Flask's own keys: ``RATELIMIT_STORAGE_URI`` (default ``memory://``) and
        ``PROXY_FIX_X_FOR`` (the number of reverse proxies in front of the app, so that
        rate limits see the client's address).
    :param runtime: the core runtime to serve; ``None`` builds one from the environment
        (connects the database, loads the plugins).
    """
    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=32 * 1024 * 1024,
        RATELIMIT_STORAGE_URI="memory://",
    )
    app.config.update(config or {})
    if runtime is None:
        runtime = core_runtime.build(Settings.from_env())
    app.extensions[EXTENSION_KEY] = runtime
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = runtime.settings.resolved_secret_key()
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]

    proxies = int(app.config.get("PROXY_FIX_X_FOR", 0))
    if proxies:
        # behind a reverse proxy: rate limits must key on the client, not the proxy
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]

    errors.init_app(app)
    limits.init_app(app)
    auth.init_app(app)
    api.init_app(app)
    ui.init_app(app)
    public_pages.init_app(app)
    return app

