"""The outbox relay: publishes :class:`~creditcase.core.outbox.OutboxEntry`
documents to the broker and marks them sent.

Core writes an outbox entry in the same transaction as the state change; this
relay is the only code that turns entries into messages. Delivery is at least
once:

1. *Claim*: an unsent entry whose lease is absent or expired is claimed with a
   single ``find_one_and_update`` that sets ``lease_owner`` and ``lease_until``,
   so several relays never pick the same entry while its lease runs.
2. *Publish* the CloudEvent body as JSON, ``content_type="application/json"``
   (a structured CloudEvent that every AMQP client can decode as plain JSON;
   ``specversion`` in the body marks it as a CloudEvent), ``message_id`` = the
   event id, ``delivery_mode=2`` (persistent). On AMQP the channel uses publisher
   confirms and ``mandatory=True``: a message the broker returns as unroutable
   (``basic.return``, which RabbitMQ sends before the ``basic.ack``) or nacks is
   a failure.
3. *Mark sent* (``sent_at``) only after the confirm. A failure records
   ``last_error`` and leaves the entry unsent with a back-off lease, so it is
   retried later; an event of a family nobody has bound a queue for yet waits in
   the outbox until someone does.

A relay that dies between publish and mark leaves the entry leased; when the
lease expires another relay sends it again, so consumers must be idempotent by
event id (they are). On ``memory://`` there are no confirms and no returns:
publishing is an in-process hand-off.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import uuid
from typing import Any

import kombu
import kombu.exceptions
from kombu import Producer
from pymongo import ReturnDocument

from creditcase.config import Settings
from creditcase.core.db import as_utc, utcnow
from creditcase.core.outbox import OutboxEntry
from creditcase.queue import topology

log = logging.getLogger(__name__)

#: what kombu's json serializer sets; the body is a structured CloudEvent
CONTENT_TYPE = "application/json"
PERSISTENT = 2
#: seconds to wait for the broker's confirm of one message
CONFIRM_TIMEOUT = 10
#: longest wait before a failed entry is tried again
MAX_RETRY_DELAY = dt.timedelta(minutes=10)


class PublishFailed(Exception):
    """The broker did not take responsibility for a message."""


class Relay:
    """Publishes pending outbox entries. One instance per thread or process."""

    def __init__(self, settings: Settings, owner: str | None = None, lease_seconds: float = 30,
                 batch: int = 100):
        self.settings = settings
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease = dt.timedelta(seconds=lease_seconds)
        self.batch = batch
        self.amqp = topology.is_amqp(settings.broker_url)
        self._conn: kombu.Connection | None = None
        self._producer: Producer | None = None
        self._returned: dict[str, str] = {}

    # -- the outbox ------------------------------------------------------------------------
    def _claim(self) -> list[dict[str, Any]]:
        collection = OutboxEntry._get_collection()
        claimed = []
        for _ in range(self.batch):
            now = utcnow()
            doc = collection.find_one_and_update(
                {"sent_at": None,
                 "$or": [{"lease_until": None}, {"lease_until": {"$lte": now}}]},
                {"$set": {"lease_owner": self.owner, "lease_until": now + self.lease},
                 "$inc": {"attempts": 1}},
                sort=[("created_at", 1)], return_document=ReturnDocument.AFTER)
            if doc is None:
                break
            claimed.append(doc)
        return claimed

    def _mark_sent(self, doc: dict[str, Any]) -> None:
        OutboxEntry._get_collection().update_one(
            {"_id": doc["_id"], "lease_owner": self.owner},
            {"$set": {"sent_at": utcnow()}, "$unset": {"lease_until": "", "last_error": ""}})

    def _mark_failed(self, doc: dict[str, Any], error: str) -> None:
        attempts = max(int(doc.get("attempts") or 1), 1)
        delay = min(self.lease * 2 ** (attempts - 1), MAX_RETRY_DELAY)
        log.warning("outbox entry %s (%s %s) not sent, attempt %d, retry in %ds: %s",
                    doc["event_id"], doc["exchange"], doc["routing_key"], attempts,
                    delay.total_seconds(), error)
        OutboxEntry._get_collection().update_one(
            {"_id": doc["_id"], "lease_owner": self.owner},
            {"$set": {"last_error": error[:1000], "lease_until": utcnow() + delay,
                      "lease_owner": None}})

    def _release(self, docs: list[dict[str, Any]]) -> None:
        """Give back claims this relay did not try, so another pass takes them at once."""
        if docs:
            OutboxEntry._get_collection().update_many(
                {"_id": {"$in": [d["_id"] for d in docs]}, "lease_owner": self.owner},
                {"$set": {"lease_until": None, "lease_owner": None}, "$inc": {"attempts": -1}})

    # -- the broker ------------------------------------------------------------------------
    def _on_return(self, exc: Exception, exchange: str, routing_key: str, message: Any) -> None:
        message_id = (getattr(message, "properties", None) or {}).get("message_id")
        if message_id:
            self._returned[message_id] = f"unroutable: {exc} ({exchange} {routing_key})"

    def _connect(self) -> Producer:
        if self._producer is None:
            conn = topology.connection(self.settings, name="creditcase-relay")
            try:
                topology.declare_all(conn, self.settings)
                # only AMQP returns messages; memory:// keeps its events process-global
                producer = Producer(conn.default_channel,
                                    on_return=self._on_return if self.amqp else None)
            except Exception:
                conn.release()
                raise
            self._conn, self._producer = conn, producer
        return self._producer

    def _disconnect(self) -> None:
        if self._conn is not None:
            try:
                self._conn.release()
            except Exception:  # the connection is already broken; nothing to give back
                log.debug("closing a broken relay connection failed", exc_info=True)
        self._conn = self._producer = None

    def _publish(self, producer: Producer, doc: dict[str, Any]) -> None:
        body = doc["body"]
        message_id = str(body.get("id") or doc["event_id"])
        options: dict[str, Any] = {}
        if self.amqp:
            options = {"mandatory": True, "confirm_timeout": CONFIRM_TIMEOUT}
        self._returned.pop(message_id, None)
        producer.publish(body, exchange=doc["exchange"], routing_key=doc["routing_key"],
                         serializer="json",  # kombu's json: content_type application/json
                         delivery_mode=PERSISTENT, message_id=message_id,
                         timestamp=int(as_utc(doc["created_at"]).timestamp()),
                         type=body.get("type"), retry=True,
                         retry_policy=topology.PUBLISH_RETRY_POLICY, **options)
        returned = self._returned.pop(message_id, None)
        if returned:
            raise PublishFailed(returned)

    def heartbeat(self) -> None:
        """Keep an idle AMQP connection alive (the relay does not drain events)."""
        if self._conn is not None and self.amqp:
            try:
                self._conn.heartbeat_check()
            except Exception:
                log.info("relay connection lost; reconnecting on the next publish", exc_info=True)
                self._disconnect()

    # -- the loop --------------------------------------------------------------------------
    def publish_pending(self) -> int:
        """Claim and publish one batch; returns how many entries were marked sent.

        Raises the broker's error when it cannot be reached (the claimed entries are
        released first)."""
        claimed = self._claim()
        if not claimed:
            return 0
        try:
            producer = self._connect()
        except Exception:
            self._release(claimed)
            raise
        sent = 0
        for index, doc in enumerate(claimed):
            try:
                self._publish(producer, doc)
            except PublishFailed as exc:
                self._mark_failed(doc, str(exc))
                continue
            except Exception as exc:
                # nack, missing exchange, lost connection: blame this entry, start over
                self._mark_failed(doc, f"{type(exc).__name__}: {exc}")
                self._release(claimed[index + 1:])
                self._disconnect()
                break
            self._mark_sent(doc)
            sent += 1
        return sent

    def run(self, stop: threading.Event, idle_sleep: float = 0.2) -> None:
        """Publish until ``stop`` is set; sleeps ``idle_sleep`` when there is nothing to do
        and backs off (up to 30 s) while the broker is unreachable."""
        failures = 0
        log.info("outbox relay %s started on %s", self.owner,
                 topology.safe_url(self.settings.broker_url))
        try:
            while not stop.is_set():
                try:
                    sent = self.publish_pending()
                except Exception as exc:
                    failures += 1
                    if isinstance(exc, kombu.exceptions.OperationalError):
                        log.warning("outbox relay %s: broker unreachable (failure %d): %s",
                                    self.owner, failures, exc)
                    else:
                        log.exception("outbox relay %s cannot publish (failure %d)", self.owner,
                                      failures)
                    self._disconnect()
                    stop.wait(min(idle_sleep * 2 ** failures, 30))
                    continue
                failures = 0
                if sent < self.batch:
                    self.heartbeat()
                    stop.wait(idle_sleep)
        finally:
            self._disconnect()
            log.info("outbox relay %s stopped", self.owner)

    def close(self) -> None:
        """Close the broker connection (a later publish reconnects)."""
        self._disconnect()

    def __enter__(self) -> Relay:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
