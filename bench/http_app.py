"""The WSGI application of the HTTP benchmark: the creditcase app exactly as
``create_app()`` builds it from the ``CREDITCASE_*`` environment, plus one
benchmark-only route, ``GET /bench/bare``, a JSON answer that touches neither
the database nor authentication. It goes through the same Flask app (error
handlers, rate limiter hooks, JSON provider), so the difference between it
and a real endpoint is the cost of that endpoint's own work.

    gunicorn --workers 2 bench.http_app:app
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from flask import Flask, jsonify

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from creditcase.web import create_app


def build() -> Flask:
    application = create_app()

    def bare():
        return jsonify({"status": "ok", "pid": os.getpid()})

    application.add_url_rule("/bench/bare", "bench_bare", bare)
    return application


app = build()
