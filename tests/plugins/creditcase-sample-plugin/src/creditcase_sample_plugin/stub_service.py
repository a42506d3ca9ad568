"""A stand-in for the provincial credit platform, for tests.

``ProvincialServiceStub`` is a real HTTP server (``http.server`` in a thread on
127.0.0.1, a free port) speaking the exchange :mod:`.channel` expects. Tests
put hits for a subject code in ``hits``, switch ``mode`` to make it fail in the
ways a real service fails, and read the requests it received::

    with ProvincialServiceStub() as service:
        service.hits[code] = [service.black_list_hit("SXBZXR")]
        monkeypatch.setenv(URL_ENV, service.url)
        ...

Modes: ``ok``; ``error`` (HTTP 503); ``garbage`` (200 with a body that is not
JSON); ``malformed`` (JSON without the agreed fields); ``slow`` (answers after
``delay`` seconds).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODES = ("ok", "error", "garbage", "malformed", "slow")


class ProvincialServiceStub:
    def __init__(self, *, mode: str = "ok", delay: float = 2.0, token: str | None = None):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}")
        self.mode = mode
        self.delay = delay
        self.token = token
        self.hits: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[dict[str, Any]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._release = threading.Event()

    # lifecycle -----------------------------------------------------------------------------
    def start(self) -> ProvincialServiceStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                stub._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: tests read ``stub.requests`` instead."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        name="provincial-service-stub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ProvincialServiceStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the stub is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # content -------------------------------------------------------------------------------
    @staticmethod
    def black_list_hit(list_type: str = "SXBZXR", *, ref: str = "HN-2026-000117",
                       title: str = "失信被执行人（河南省高级人民法院）") -> dict[str, Any]:
        today = dt.date.today()
        return {"code": list_type, "title": title, "source": "信用河南", "ref": ref,
                "adverse": True, "color": "black",
                "date": (today - dt.timedelta(days=40)).isoformat(),
                "valid_until": (today + dt.timedelta(days=690)).isoformat()}

    # serving -------------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        try:
            body = json.loads(handler.rfile.read(length) or b"{}")
        except ValueError:
            body = None
        self.requests.append({"path": handler.path, "body": body,
                              "authorization": handler.headers.get("Authorization")})
        if handler.path != "/v1/credit-query" or not isinstance(body, dict):
            self._send(handler, 404, {"error": "not found"})
        elif self.token and handler.headers.get("Authorization") != f"Bearer {self.token}":
            self._send(handler, 401, {"error": "unauthorised"})
        elif self.mode == "error":
            self._send(handler, 503, {"error": "maintenance"})
        elif self.mode == "garbage":
            self._send_raw(handler, 200, b"<html>gateway</html>", "text/html")
        elif self.mode == "malformed":
            self._send(handler, 200, {"result": "ok"})
        else:
            if self.mode == "slow":
                self._release.wait(self.delay)
            self._send(handler, 200, {
                "data_as_of": dt.datetime.now(dt.UTC).isoformat(),
                "hits": self.hits.get(str(body.get("subject_code")), [])})

    def _send(self, handler: BaseHTTPRequestHandler, status: int, payload: Any) -> None:
        self._send_raw(handler, status, json.dumps(payload, ensure_ascii=False).encode(),
                       "application/json")

    @staticmethod
    def _send_raw(handler: BaseHTTPRequestHandler, status: int, data: bytes,
                  content_type: str) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test): nothing to answer


__all__ = ["MODES", "ProvincialServiceStub"]
