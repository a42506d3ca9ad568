"""Background messaging for one process: the relay, a check worker and the
stale marker as daemon threads.

``creditcase serve`` calls :func:`start_background` in embedded mode
(``memory://``), where the broker lives in the process and nothing else could
consume it. With RabbitMQ the same parts run as their own processes
(``creditcase relay``, ``creditcase worker``) and this function starts nothing
unless asked to (``force=True``, for a single-machine deployment or tests).
Each thread has its own broker connection; they stop when ``stop`` is set.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from creditcase.queue import topology
from creditcase.queue.consumers import StaleMarker
from creditcase.queue.relay import Relay
from creditcase.queue.worker import CheckWorker

if TYPE_CHECKING:
    from creditcase.core.runtime import Runtime

log = logging.getLogger(__name__)


def _guarded(name: str, target: Callable[[], None], stop: threading.Event) -> Callable[[], None]:
    def run() -> None:
        try:
            target()
        except Exception:
            log.exception("background %s stopped by an error", name)

    return run


def start_background(runtime: Runtime, stop: threading.Event, *,
                     force: bool = False) -> list[threading.Thread]:
    """Declare the topology and start the relay, one check worker and the stale
    marker as daemon threads; returns them (join them after setting ``stop``).

    Starts nothing and returns ``[]`` on a real broker unless ``force`` is true."""
    settings = runtime.settings
    if not settings.embedded_broker and not force:
        log.info("broker %s: run `creditcase relay` and `creditcase worker` separately",
                 topology.safe_url(settings.broker_url))
        return []
    conn = topology.connection(settings, name="creditcase-setup")
    try:
        topology.declare_all(conn, settings)
    finally:
        conn.release()
    relay = Relay(settings)
    worker = CheckWorker(runtime, stop)
    marker = StaleMarker(runtime, stop)

    def consume(consumer: CheckWorker | StaleMarker) -> Callable[[], None]:
        def run() -> None:
            try:
                consumer.run()
            finally:
                consumer.connection.release()

        return run

    threads = [
        threading.Thread(target=_guarded("relay", lambda: relay.run(stop), stop),
                         name="creditcase-relay", daemon=True),
        threading.Thread(target=_guarded("check worker", consume(worker), stop),
                         name="creditcase-check-worker", daemon=True),
        threading.Thread(target=_guarded("stale marker", consume(marker), stop),
                         name="creditcase-stale-marker", daemon=True),
    ]
    for thread in threads:
        thread.start()
    return threads
