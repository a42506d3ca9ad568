"""Every exchange and queue of creditcase, and the broker connection factory.

All topology lives in this one module so that the relay, the consumers, the
CLI and the tests declare exactly the same entities, and so that nothing else
in ``creditcase.queue`` has to import a sibling to learn a name.

- ``creditcase.events`` (topic, durable): every domain event, routing key =
  event type (``record.created``, ``case.checked``, ...). Anyone may bind a
  queue to it; declare it as ``topic``, durable, with no arguments.
- ``creditcase.checks`` (direct, durable) -> ``creditcase.check-requests``
  (durable, key ``check.request``): the work queue check workers share.
- ``creditcase.stale-marker`` (durable): the record, list entry and report
  events that change what a credit check reads (:data:`STALE_MARKER_KEYS`),
  consumed by :class:`creditcase.queue.consumers.StaleMarker`.
- ``creditcase.event-log`` (AMQP only): a RabbitMQ *stream* bound to
  ``creditcase.events`` with ``#``. Every event therefore has at least one
  queue, so the relay's ``mandatory`` publish of an event nobody else has
  subscribed to yet (``case.*``, ``objection.*``) is routable and confirmed
  instead of being returned forever. A stream is read without being consumed
  away: an auditor or a late subscriber attaches with ``x-stream-offset``
  (``first``, a timestamp, an offset) and reads the tail, as many readers as
  like, each at its own position. Retention is bounded by size and age
  (:data:`EVENT_LOG_ARGUMENTS`); the oldest segments are dropped first.
  ``memory://`` has no streams and no ``mandatory``, so the log is not
  declared there.
- ``creditcase.dead-letter`` (fanout exchange and durable queue): where both
  work queues send rejected (poison) messages, with their original routing key.

With ``Settings.quorum_queues`` the work queues and the dead-letter queue are
declared as quorum queues (``x-queue-type: quorum``) for RabbitMQ clusters, and
the work queues carry ``x-delivery-limit`` as the broker's own backstop for
:data:`MAX_DELIVERIES`. A queue cannot change type or arguments in place:
switching an existing deployment means deleting the queues first (drain them,
stop the workers, delete, restart).

This module declares and connects; it never publishes or consumes.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import kombu
from kombu import Exchange, Queue, binding

from creditcase.config import Settings
from creditcase.core.outbox import CHECK_REQUEST_KEY, CHECKS_EXCHANGE, EVENTS_EXCHANGE

CHECK_REQUESTS_QUEUE = "creditcase.check-requests"
STALE_MARKER_QUEUE = "creditcase.stale-marker"
EVENT_LOG_QUEUE = "creditcase.event-log"
DEAD_LETTER_EXCHANGE = "creditcase.dead-letter"
DEAD_LETTER_QUEUE = "creditcase.dead-letter"
#: events that change what a credit check reads, so make its result out of date
#: (``record.published`` and ``record.publicity_ended`` change only the publicity site)
STALE_MARKER_KEYS = ("record.created", "record.updated", "record.revoked", "list.entry.added",
                     "list.entry.removed", "report.filed", "report.invalidated")
#: bindings of the stale marker queue in earlier versions, removed by :func:`declare_all`
OBSOLETE_STALE_MARKER_KEYS = ("record.*", "list.entry.*", "report.*")

#: How many times a consumer may be handed one message before it is
#: dead-lettered: a failure or a consumer crash each use one delivery.
MAX_DELIVERIES = 5
#: Retention of the event log stream: whichever limit is reached first drops the
#: oldest segment (a segment is the unit of retention, hence its modest size).
EVENT_LOG_ARGUMENTS: dict[str, Any] = {
    "x-queue-type": "stream",
    "x-max-length-bytes": 2 * 1024 ** 3,
    "x-stream-max-segment-size-bytes": 64 * 1024 ** 2,
    "x-max-age": "90D",
}

#: AMQP URL schemes served by py-amqp (publisher confirms and ``mandatory`` work there).
AMQP_SCHEMES = frozenset({"amqp", "amqps", "pyamqp"})
#: Seconds between AMQP heartbeats; a dead peer is noticed after about twice this.
#: py-amqp sends heartbeats from the consuming loop, so one message must not keep a
#: consumer busy for longer than that (checks take seconds, not minutes).
HEARTBEAT_SECONDS = 30
CONNECT_TIMEOUT_SECONDS = 5
#: Connection retry limits, set on the connection itself: ``ensure_connection``
#: (used by ``default_channel`` and consumers) reads them from ``transport_options``
#: and ignores a per-publish retry policy (kombu #1024). Bounded, so a process
#: waiting for a broker still notices a stop; the consumers and the relay then back
#: off (:data:`RECONNECT_BACKOFF_START` doubling up to :data:`RECONNECT_BACKOFF_MAX`)
#: and try again, for as long as they run.
CONNECTION_RETRY = {"max_retries": 3, "interval_start": 0, "interval_step": 1, "interval_max": 3}
RECONNECT_BACKOFF_START = 0.5
RECONNECT_BACKOFF_MAX = 30.0
#: Retry policy for one publish (a reconnect in between counts against it).
PUBLISH_RETRY_POLICY = {"max_retries": 3, "interval_start": 0, "interval_step": 0.5,
                        "interval_max": 2}
#: How often a memory:// consumer polls its queues when idle.
MEMORY_POLLING_INTERVAL = 0.05

EVENTS = Exchange(EVENTS_EXCHANGE, type="topic", durable=True)
CHECKS = Exchange(CHECKS_EXCHANGE, type="direct", durable=True)
DEAD_LETTER = Exchange(DEAD_LETTER_EXCHANGE, type="fanout", durable=True)


def normalized_url(url: str) -> str:
    """``memory://`` with an explicit host, so kombu does not warn about a missing one."""
    parts = urlsplit(url)
    if parts.scheme == "memory" and not parts.netloc:
        return "memory://localhost/"
    return url


def safe_url(url: str) -> str:
    """The broker URL with the password masked, for logs."""
    return kombu.Connection(normalized_url(url)).as_uri()


def is_amqp(url: str) -> bool:
    """True when ``url`` is served by an AMQP 0-9-1 broker (not ``memory://``)."""
    return urlsplit(url).scheme.lower() in AMQP_SCHEMES


def backoff(failures: int, start: float = RECONNECT_BACKOFF_START,
            cap: float = RECONNECT_BACKOFF_MAX) -> float:
    """Seconds to wait after ``failures`` consecutive failures (1, 2, ...): doubling, capped."""
    return min(start * 2 ** max(failures - 1, 0), cap)


def _queue_arguments(settings: Settings, *, dead_letter: bool) -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    if settings.quorum_queues:
        arguments["x-queue-type"] = "quorum"
    if dead_letter:
        # keep the original routing key so an operator can see what the message was
        arguments["x-dead-letter-exchange"] = DEAD_LETTER_EXCHANGE
        if settings.quorum_queues:
            arguments["x-delivery-limit"] = MAX_DELIVERIES
    return arguments


def check_requests_queue(settings: Settings) -> Queue:
    return Queue(CHECK_REQUESTS_QUEUE, exchange=CHECKS, routing_key=CHECK_REQUEST_KEY,
                 durable=True, queue_arguments=_queue_arguments(settings, dead_letter=True))


def stale_marker_queue(settings: Settings) -> Queue:
    return Queue(STALE_MARKER_QUEUE, bindings=[binding(EVENTS, routing_key=key)
                                               for key in STALE_MARKER_KEYS],
                 durable=True, queue_arguments=_queue_arguments(settings, dead_letter=True))


def dead_letter_queue(settings: Settings) -> Queue:
    return Queue(DEAD_LETTER_QUEUE, exchange=DEAD_LETTER, routing_key="", durable=True,
                 queue_arguments=_queue_arguments(settings, dead_letter=False))


def event_log_queue(offset: str | int | None = None) -> Queue:
    """The event log stream; ``offset`` (``"first"``, ``"last"``, ``"next"``, a number
    or a timestamp) is where a reader starts."""
    consumer_arguments = {"x-stream-offset": offset} if offset is not None else None
    return Queue(EVENT_LOG_QUEUE, exchange=EVENTS, routing_key="#", durable=True,
                 queue_arguments=dict(EVENT_LOG_ARGUMENTS),
                 consumer_arguments=consumer_arguments)


@dataclass(frozen=True)
class Topology:
    exchanges: tuple[Exchange, ...]
    queues: tuple[Queue, ...]


def topology(settings: Settings) -> Topology:
    """Every entity creditcase declares, for these settings."""
    queues = [dead_letter_queue(settings), check_requests_queue(settings),
              stale_marker_queue(settings)]
    if is_amqp(settings.broker_url):
        queues.append(event_log_queue())
    return Topology(exchanges=(EVENTS, CHECKS, DEAD_LETTER), queues=tuple(queues))


def declare_all(conn: kombu.Connection, settings: Settings) -> None:
    """Declare every exchange, queue and binding, and remove bindings earlier
    versions made. Safe to call again: declaring an existing entity with the same
    properties changes nothing."""
    conn.ensure_connection(**CONNECTION_RETRY)
    channel = conn.channel()
    try:
        entities = topology(settings)
        for exchange in entities.exchanges:
            exchange(channel).declare()
        for queue in entities.queues:
            queue(channel).declare()
        stale_marker = stale_marker_queue(settings)(channel)
        for key in OBSOLETE_STALE_MARKER_KEYS:
            stale_marker.unbind_from(EVENTS, routing_key=key)
    finally:
        channel.close()


def connection(settings: Settings, name: str = "creditcase") -> kombu.Connection:
    """A new (lazy) broker connection; one per thread, kombu connections are not
    thread-safe. On AMQP every channel uses publisher confirms; ``name`` shows up as
    the connection name in the RabbitMQ management UI."""
    url = settings.broker_url
    if is_amqp(url):
        options: dict[str, Any] = {
            "confirm_publish": True,
            "client_properties": {"connection_name": f"{name}@{socket.gethostname()}:{os.getpid()}"},
            **CONNECTION_RETRY,
        }
        return kombu.Connection(url, heartbeat=HEARTBEAT_SECONDS,
                                connect_timeout=CONNECT_TIMEOUT_SECONDS,
                                transport_options=options)
    return kombu.Connection(normalized_url(url),
                            transport_options={"polling_interval": MEMORY_POLLING_INTERVAL,
                                               **CONNECTION_RETRY})
