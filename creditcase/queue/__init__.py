"""The message layer (kombu): the topology, the outbox relay, the check worker
and the stale marker, and the in-process background service of embedded mode.

Depends on ``creditcase.core``; core never imports this package. What is
published and consumed is described in ``topology`` (names), ``relay``
(message properties) and ``consumers`` (body schemas).
"""

from creditcase.queue.consumers import ProcessedEvent, StaleMarker
from creditcase.queue.relay import Relay
from creditcase.queue.service import start_background
from creditcase.queue.topology import connection, declare_all
from creditcase.queue.worker import CheckWorker, run_worker

__all__ = ["CheckWorker", "ProcessedEvent", "Relay", "StaleMarker", "connection", "declare_all",
           "run_worker", "start_background"]
