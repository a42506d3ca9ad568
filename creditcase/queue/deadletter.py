"""Looking into and replaying the dead-letter queue (``creditcase dlq``).

A message lands in ``creditcase.dead-letter`` when a consumer rejects it: its
body failed the schema, it could not be decoded, its work failed on every
allowed delivery, or it was delivered more often than
:data:`~creditcase.queue.topology.MAX_DELIVERIES`. RabbitMQ records where and
why in the ``x-death`` header (queue, reason, exchange, routing keys, count,
time); on ``memory://`` the consumer sets ``x-first-death-*`` and
``x-creditcase-reason`` itself.

:func:`peek` reads up to ``limit`` messages without removing them (they are
fetched unacknowledged and handed back in order). :func:`replay` sends
messages back to the queue they died in, through the default exchange (so
other subscribers of ``creditcase.events`` do not receive them a second
time), with publisher confirms and ``mandatory``; only a confirmed copy lets
the dead-letter queue forget the original. Each replay adds one to
``x-creditcase-replays``, which gives the message a fresh delivery count. A
replay is bounded by the queue's length when it starts, so a message that
dies again at once is not replayed twice in one run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import kombu
from kombu import Producer

from creditcase.queue import topology
from creditcase.queue.consumers import REPLAYS_HEADER, replays

log = logging.getLogger(__name__)

#: seconds to wait for the broker's confirm of one replayed message
CONFIRM_TIMEOUT = 10


@dataclass
class DeadLetter:
    """One message of the dead-letter queue, as an operator sees it."""

    message_id: str | None
    event_type: str | None
    subject: str | None
    routing_key: str
    queue: str | None
    reason: str | None
    deaths: int
    died_at: dt.datetime | None
    replays: int
    body: Any
    content_type: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"message_id": self.message_id, "type": self.event_type, "subject": self.subject,
                "routing_key": self.routing_key, "queue": self.queue, "reason": self.reason,
                "deaths": self.deaths,
                "died_at": self.died_at.isoformat() if self.died_at else None,
                "replays": self.replays, "content_type": self.content_type, "body": self.body}


@dataclass
class ReplayReport:
    replayed: list[DeadLetter] = field(default_factory=list)
    #: messages left in the dead-letter queue, with the reason
    failed: list[tuple[DeadLetter, str]] = field(default_factory=list)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _latest_death(headers: Mapping[str, Any]) -> Mapping[str, Any]:
    deaths = headers.get("x-death")
    if isinstance(deaths, list | tuple) and deaths and isinstance(deaths[0], Mapping):
        return deaths[0]  # RabbitMQ keeps the most recent death first
    return {}


def _when(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    return None


def describe(message: kombu.Message) -> DeadLetter:
    """What a dead-lettered message is, where it died and why."""
    headers = dict(message.headers or {})
    death = _latest_death(headers)
    raw = message.body
    try:
        body: Any = json.loads(raw)
    except (TypeError, ValueError):
        body = _text(raw)
    event = body if isinstance(body, Mapping) else {}
    deaths = death.get("count") if death else None
    reason = headers.get("x-creditcase-reason") or death.get("reason") \
        or headers.get("x-first-death-reason")
    return DeadLetter(
        message_id=_text(message.properties.get("message_id")) or _text(event.get("id")),
        event_type=_text(event.get("type")),
        subject=_text(event.get("subject")),
        routing_key=_text(message.delivery_info.get("routing_key")) or "",
        queue=_text(death.get("queue")) or _text(headers.get("x-first-death-queue")),
        reason=_text(reason),
        deaths=int(deaths) if isinstance(deaths, int) else 1,
        died_at=_when(death.get("time")),
        replays=replays(message),
        body=body,
        content_type=message.content_type,
    )


def count(conn: kombu.Connection, settings: Any) -> int:
    """How many messages wait in the dead-letter queue."""
    with conn.channel() as channel:
        queue = topology.dead_letter_queue(settings)(channel)
        return queue.queue_declare(passive=True).message_count


def _hand_back(messages: list[kombu.Message]) -> None:
    """Return fetched, unacknowledged messages to the queue, in order. (RabbitMQ would
    also do it when the channel closes; ``memory://`` would drop them.)"""
    for message in messages:
        with contextlib.suppress(Exception):  # a closed channel hands them back itself
            message.requeue()


def peek(conn: kombu.Connection, settings: Any, limit: int = 50) -> list[DeadLetter]:
    """Up to ``limit`` dead letters, oldest first, left in the queue."""
    fetched: list[kombu.Message] = []
    with conn.channel() as channel:
        queue = topology.dead_letter_queue(settings)(channel)
        # memory:// requeues at the tail: fetch everything there, so the order survives
        wanted = max(limit, 0) if conn.transport.driver_type == "amqp" \
            else queue.queue_declare(passive=True).message_count
        try:
            for _ in range(wanted):
                message = queue.get(no_ack=False)
                if message is None:
                    break
                fetched.append(message)
            return [describe(message) for message in fetched[:max(limit, 0)]]
        finally:
            _hand_back(fetched)


def replay(conn: kombu.Connection, settings: Any, limit: int | None = None) -> ReplayReport:
    """Send up to ``limit`` dead letters (all of them when ``None``) back to the queue
    each died in; returns what was replayed and what stayed, with why."""
    amqp = conn.transport.driver_type == "amqp"
    report = ReplayReport()
    with conn.channel() as channel:
        queue = topology.dead_letter_queue(settings)(channel)
        waiting = queue.queue_declare(passive=True).message_count
        budget = waiting if limit is None else min(limit, waiting)
        returned: dict[str, str] = {}

        def on_return(exc: Exception, exchange: str, routing_key: str, message: Any) -> None:
            message_id = (getattr(message, "properties", None) or {}).get("message_id")
            returned[str(message_id)] = f"unroutable: {exc} (queue {routing_key})"

        producer = Producer(channel, on_return=on_return if amqp else None)
        kept: list[kombu.Message] = []
        for _ in range(budget):
            message = queue.get(no_ack=False)
            if message is None:
                break
            letter = describe(message)
            if not letter.queue or letter.queue == topology.DEAD_LETTER_QUEUE:
                report.failed.append((letter, "the queue it died in is not recorded"))
                kept.append(message)
                continue
            headers = {k: v for k, v in (message.headers or {}).items()
                       if k != "x-creditcase-reason"}
            headers[REPLAYS_HEADER] = letter.replays + 1
            options: dict[str, Any] = {"mandatory": True, "confirm_timeout": CONFIRM_TIMEOUT} \
                if amqp else {}
            key = str(message.properties.get("message_id"))
            try:
                producer.publish(message.body, exchange="", routing_key=letter.queue,
                                 content_type=message.content_type or "application/octet-stream",
                                 content_encoding=message.content_encoding or "binary",
                                 headers=headers, delivery_mode=2,
                                 message_id=message.properties.get("message_id"),
                                 type=message.properties.get("type"), **options)
            except Exception as exc:
                report.failed.append((letter, f"{type(exc).__name__}: {exc}"))
                kept.append(message)
                break  # the channel may be closed
            problem = returned.pop(key, None)
            if problem:
                report.failed.append((letter, problem))
                kept.append(message)
                continue
            message.ack()
            letter.replays += 1
            report.replayed.append(letter)
            log.info("dead letter %s (%s) replayed to %s", letter.message_id, letter.event_type,
                     letter.queue)
        _hand_back(kept)
    return report
