"""The message layer (kombu): the topology, the outbox relay, the check worker
and the stale marker, the dead-letter tools, and the in-process background
service of embedded mode.

Depends on ``creditcase.core``; core never imports this package. What is
published and consumed is described in ``topology`` (names and arguments),
``relay`` (message properties) and ``consumers`` (body schemas, retries);
``docs/events.md`` is the contract for other systems.
"""

from creditcase.queue.consumers import DeliveryCount, ProcessedEvent, StaleMarker
from creditcase.queue.relay import Relay, RelayLease
from creditcase.queue.service import start_background
from creditcase.queue.topology import connection, declare_all
from creditcase.queue.worker import CheckWorker, run_worker

__all__ = ["CheckWorker", "DeliveryCount", "ProcessedEvent", "Relay", "RelayLease", "StaleMarker",
           "connection", "declare_all", "run_worker", "start_background"]
