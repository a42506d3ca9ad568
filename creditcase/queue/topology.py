"""Every exchange and queue of creditcase, and the broker connection factory.

All topology lives in this one module so that the relay, the consumers, the
CLI and the tests declare exactly the same entities, and so that nothing else
in ``creditcase.queue`` has to import a sibling to learn a name.

- ``creditcase.events`` (topic, durable): every domain event, routing key =
  event type (``record.created``, ``case.checked``, ...). Anyone may bind a
  queue to it; declare it as ``topic``, durable, with no arguments.
- ``creditcase.checks`` (direct, durable) -> ``creditcase.check-requests``
  (durable, key ``check.request``): the work queue check workers share.
- ``creditcase.stale-marker`` (durable): ``record.*``, ``list.entry.*`` and
  ``report.*`` events, consumed by :class:`creditcase.queue.consumers.StaleMarker`.
- ``creditcase.dead-letter`` (fanout exchange and durable queue): where both
  work queues send rejected (poison) messages, with their original routing key.

With ``Settings.quorum_queues`` the queues are declared as quorum queues
(``x-queue-type: quorum``) for RabbitMQ clusters. A queue cannot change type
in place: switching an existing deployment means deleting the queues first.

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
DEAD_LETTER_EXCHANGE = "creditcase.dead-letter"
DEAD_LETTER_QUEUE = "creditcase.dead-letter"
#: event families that can make a credit check out of date
STALE_MARKER_KEYS = ("record.*", "list.entry.*", "report.*")

#: AMQP URL schemes served by py-amqp (publisher confirms and ``mandatory`` work there).
AMQP_SCHEMES = frozenset({"amqp", "amqps", "pyamqp"})
#: Seconds between AMQP heartbeats; a dead peer is noticed after about twice this.
HEARTBEAT_SECONDS = 30
CONNECT_TIMEOUT_SECONDS = 5
#: Connection retry limits, set on the connection itself: ``ensure_connection``
#: (used by ``default_channel`` and consumers) reads them from ``transport_options``
#: and ignores a per-publish retry policy (kombu #1024).
CONNECTION_RETRY = {"max_retries": 3, "interval_start": 0, "interval_step": 1, "interval_max": 3}
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


def _queue_arguments(settings: Settings, *, dead_letter: bool) -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    if settings.quorum_queues:
        arguments["x-queue-type"] = "quorum"
    if dead_letter:
        # keep the original routing key so an operator can see what the message was
        arguments["x-dead-letter-exchange"] = DEAD_LETTER_EXCHANGE
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


@dataclass(frozen=True)
class Topology:
    exchanges: tuple[Exchange, ...]
    queues: tuple[Queue, ...]


def topology(settings: Settings) -> Topology:
    """Every entity creditcase declares, for these settings."""
    return Topology(exchanges=(EVENTS, CHECKS, DEAD_LETTER),
                    queues=(dead_letter_queue(settings), check_requests_queue(settings),
                            stale_marker_queue(settings)))


def declare_all(conn: kombu.Connection, settings: Settings) -> None:
    """Declare every exchange, queue and binding. Safe to call again: declaring an
    existing entity with the same properties changes nothing."""
    conn.ensure_connection(**CONNECTION_RETRY)
    channel = conn.channel()
    try:
        entities = topology(settings)
        for exchange in entities.exchanges:
            exchange(channel).declare()
        for queue in entities.queues:
            queue(channel).declare()
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
