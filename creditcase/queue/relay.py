"""The outbox relay: publishes :class:`~creditcase.core.outbox.OutboxEntry`
documents to the broker and marks them sent.

Core writes an outbox entry in the same transaction as the state change; this
relay is the only code that turns entries into messages. Delivery is at least
once:

1. *Lead*: one relay at a time publishes. It holds the outbox lease, a single
   :class:`RelayLease` document (``owner``, ``until``, ``inflight``) renewed
   with every batch; other relays are standbys that take the lease over once
   it has run out (``lease_seconds``, 15 s by default, so a dead relay's events
   wait at most that long). A relay that stops cleanly gives the lease back at
   once. A write or two on the lease per batch, rather than a claim written on
   every entry, keeps the database work per message to one read and one write,
   which is what bounds the relay's throughput.
2. *Publish* a batch of unsent entries, oldest first (entries backing off after
   a failure are skipped until their time), each CloudEvent body as JSON,
   ``content_type="application/json"`` (a structured CloudEvent that every AMQP
   client can decode as plain JSON; ``specversion`` in the body marks it as a
   CloudEvent), ``message_id`` = the event id, ``delivery_mode=2``
   (persistent). On AMQP the channel uses publisher confirms and
   ``mandatory=True``: a message the broker returns as unroutable
   (``basic.return``, which RabbitMQ sends before the ``basic.ack``) or nacks is
   a failure. Every event is routable while the topology stands, because the
   event log stream binds ``#`` (see ``topology``); unroutable therefore means
   something is wrong (a deleted queue or binding, a missing exchange).
   Before publishing, the batch's ids are written to the lease as ``inflight``.
3. *Mark sent* (``sent_at``, ``attempts`` + 1), with one ``update_many`` for the
   batch, only after each message's confirm.

A relay that dies between publish and mark leaves its batch in ``inflight``;
the relay that takes the lease over counts one attempt on each of those
entries still unsent and sends them again, so consumers must be idempotent by
event id (they are).

Failures are of two kinds. The broker being unreachable is nobody's fault:
nothing is counted, the lease is given back (a standby that can reach the
broker may take over), and the loop reconnects with a backoff that doubles up
to ``max_backoff``; a message whose confirm was lost with the connection is
sent again, so the wire may carry duplicates. A message the broker refuses
(returned as unroutable, nacked, its exchange missing) is that entry's
failure: ``attempts`` + 1, ``last_error``, and the entry waits (``lease_until``)
``retry_base`` seconds, doubling per attempt up to ten minutes, while the rest
of the outbox goes on.

On ``memory://`` there are no confirms and no returns: publishing is an
in-process hand-off.
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
import mongoengine as me
import pymongo.errors
from bson import ObjectId
from kombu import Producer
from pymongo import ReturnDocument

from creditcase.config import Settings
from creditcase.core.db import as_utc, utcnow
from creditcase.core.outbox import OutboxEntry
from creditcase.queue import faults, topology

log = logging.getLogger(__name__)

#: what kombu's json serializer sets; the body is a structured CloudEvent
CONTENT_TYPE = "application/json"
PERSISTENT = 2
#: seconds to wait for the broker's confirm of one message
CONFIRM_TIMEOUT = 10
#: longest wait before a failed entry is tried again
MAX_RETRY_DELAY = dt.timedelta(minutes=10)
#: the one lease of the outbox
LEASE_ID = "outbox"
#: pages of entries backing off after a failure that one pass looks past
MAX_PAGES = 10


class PublishFailed(Exception):
    """The broker did not take responsibility for a message."""


class BrokerUnavailable(Exception):
    """The connection to the broker failed; nothing is wrong with the messages."""


class RelayLease(me.Document):
    """Which relay publishes the outbox, until when, and what it has in flight."""

    id = me.StringField(primary_key=True)
    owner = me.StringField()
    until = me.DateTimeField()
    inflight = me.ListField(me.ObjectIdField(),
                            help_text="entries handed to the broker, not yet marked sent")

    meta = {"collection": "relay_leases"}


class Relay:
    """Publishes pending outbox entries. One instance per thread or process."""

    def __init__(self, settings: Settings, owner: str | None = None, lease_seconds: float = 15,
                 batch: int = 100, retry_base: float = 5.0,
                 max_backoff: float = topology.RECONNECT_BACKOFF_MAX):
        self.settings = settings
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease = dt.timedelta(seconds=lease_seconds)
        self.batch = batch
        self.retry_base = dt.timedelta(seconds=retry_base)
        self.max_backoff = max_backoff
        self.amqp = topology.is_amqp(settings.broker_url)
        self.leading = False
        self._lease_until: dt.datetime | None = None
        self._conn: kombu.Connection | None = None
        self._producer: Producer | None = None
        self._returned: dict[str, str] = {}

    # -- the lease -------------------------------------------------------------------------
    def lead(self, inflight: list[ObjectId] | None = None) -> bool:
        """Take or renew the outbox lease, recording ``inflight``; False while another
        relay holds it."""
        now = utcnow()
        if inflight is None and self.leading and self._lease_until is not None \
                and self._lease_until - now > self.lease / 2:
            return True  # renewed recently: no write needed while idle
        collection = RelayLease._get_collection()
        if not self.leading:
            current = collection.find_one({"_id": LEASE_ID}, {"owner": 1, "until": 1})
            if current is not None and current.get("owner") not in (None, self.owner) \
                    and (as_utc(current.get("until")) or now) > now:
                return False  # a live leader: stay a standby without writing
        until = now + self.lease
        try:
            before = collection.find_one_and_update(
                {"_id": LEASE_ID, "$or": [{"owner": self.owner}, {"owner": None},
                                          {"until": {"$lte": now}}]},
                {"$set": {"owner": self.owner, "until": until, "inflight": inflight or []}},
                upsert=True, return_document=ReturnDocument.BEFORE)
        except pymongo.errors.DuplicateKeyError:  # taken by another relay meanwhile
            self.leading = False
            return False
        if not self.leading:
            log.info("outbox relay %s leads", self.owner)
            if before is not None and before.get("owner") not in (None, self.owner):
                self._take_over(before)
        self.leading, self._lease_until = True, until
        return True

    def _take_over(self, before: dict[str, Any]) -> None:
        """The previous holder's batch may have reached the broker: count that attempt."""
        inflight = before.get("inflight") or []
        if not inflight:
            return
        result = OutboxEntry._get_collection().update_many(
            {"_id": {"$in": inflight}, "sent_at": None}, {"$inc": {"attempts": 1}})
        if result.modified_count:
            log.warning("outbox relay %s took over from %s, whose lease ran out with %d "
                        "entries possibly published and not marked; sending them again",
                        self.owner, before.get("owner"), result.modified_count)

    def release(self) -> None:
        """Give the lease back, so a standby takes over at once."""
        if not self.leading:
            return
        self.leading = False
        try:
            RelayLease._get_collection().update_one(
                {"_id": LEASE_ID, "owner": self.owner},
                {"$set": {"owner": None, "until": utcnow(), "inflight": []}})
        except Exception:  # the database is away: the lease simply runs out
            log.warning("outbox relay %s could not give its lease back", self.owner,
                        exc_info=True)

    # -- the outbox ------------------------------------------------------------------------
    def _pending(self) -> list[dict[str, Any]]:
        """Up to ``batch`` unsent entries, oldest first, skipping those backing off."""
        collection = OutboxEntry._get_collection()
        now = utcnow()
        found: list[dict[str, Any]] = []
        for page in range(MAX_PAGES):
            # only ``sent_at`` in the filter, so the partial "unsent" index serves it
            docs = list(collection.find({"sent_at": None}).sort("created_at", 1)
                        .skip(page * self.batch).limit(self.batch))
            found.extend(d for d in docs if (as_utc(d.get("lease_until")) or now) <= now)
            if len(found) >= self.batch or len(docs) < self.batch:
                break
        else:
            log.warning("outbox relay: more than %d entries are backing off after failures",
                        MAX_PAGES * self.batch - len(found))
        return found[:self.batch]

    def _mark_sent(self, docs: list[dict[str, Any]]) -> int:
        if not docs:
            return 0
        result = OutboxEntry._get_collection().update_many(
            {"_id": {"$in": [d["_id"] for d in docs]}, "sent_at": None},
            {"$set": {"sent_at": utcnow()}, "$inc": {"attempts": 1},
             "$unset": {"lease_until": "", "lease_owner": "", "last_error": ""}})
        return result.modified_count

    def _mark_failed(self, doc: dict[str, Any], error: str) -> None:
        attempts = int(doc.get("attempts") or 0) + 1
        delay = min(self.retry_base * 2 ** (attempts - 1), MAX_RETRY_DELAY)
        log.warning("outbox entry %s (%s %s) not sent, attempt %d, retry in %ds: %s",
                    doc["event_id"], doc["exchange"], doc["routing_key"], attempts,
                    delay.total_seconds(), error)
        OutboxEntry._get_collection().update_one(
            {"_id": doc["_id"], "sent_at": None},
            {"$set": {"last_error": error[:1000], "lease_until": utcnow() + delay,
                      "lease_owner": None}, "$inc": {"attempts": 1}})

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

    def _connection_errors(self) -> tuple[type[BaseException], ...]:
        errors: tuple[type[BaseException], ...] = (kombu.exceptions.OperationalError,)
        if self._conn is not None:
            errors += tuple(self._conn.connection_errors)
        return errors

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
        """Publish one batch if this relay leads; returns how many entries were marked
        sent (0 for a standby).

        Raises :class:`BrokerUnavailable` when the broker cannot be reached (what was
        confirmed is marked sent and the lease given back first)."""
        if not self.lead():
            return 0
        pending = self._pending()
        if not pending:
            return 0
        if not self.lead([d["_id"] for d in pending]):
            return 0
        try:
            producer = self._connect()
        except Exception as exc:
            self._disconnect()
            self.release()
            raise BrokerUnavailable(f"{type(exc).__name__}: {exc}") from exc
        connection_errors = self._connection_errors()
        published: list[dict[str, Any]] = []
        broker_error: Exception | None = None
        for doc in pending:
            try:
                self._publish(producer, doc)
            except PublishFailed as exc:
                self._mark_failed(doc, str(exc))
                continue
            except connection_errors as exc:
                # the confirm may have been lost with the connection: send it again later
                broker_error = exc
                self._disconnect()
                break
            except Exception as exc:
                # nacked, missing exchange: blame this entry; the channel may be closed
                self._mark_failed(doc, f"{type(exc).__name__}: {exc}")
                self._disconnect()
                break
            published.append(doc)
        if published:
            faults.pause(faults.RELAY_MARK, f"{len(published)} entries confirmed")
        sent = self._mark_sent(published)
        if broker_error is not None:
            self.release()
            raise BrokerUnavailable(f"{type(broker_error).__name__}: {broker_error}") \
                from broker_error
        return sent

    def run(self, stop: threading.Event, idle_sleep: float = 0.05) -> None:
        """Publish until ``stop`` is set (the batch in hand is finished first); sleeps
        ``idle_sleep`` when there is nothing to do (a standby checks the lease once a
        second) and backs off (doubling up to ``max_backoff`` seconds) while the broker
        or the database is unreachable."""
        failures = 0
        log.info("outbox relay %s started on %s", self.owner,
                 topology.safe_url(self.settings.broker_url))
        try:
            while not stop.is_set():
                try:
                    sent = self.publish_pending()
                except Exception as exc:
                    failures += 1
                    pause = topology.backoff(failures, cap=self.max_backoff)
                    if isinstance(exc, BrokerUnavailable):
                        log.warning("outbox relay %s: broker unreachable (failure %d), retrying "
                                    "in %.1fs: %s", self.owner, failures, pause, exc)
                    else:
                        log.exception("outbox relay %s cannot publish (failure %d), retrying "
                                      "in %.1fs", self.owner, failures, pause)
                    self._disconnect()
                    stop.wait(pause)
                    continue
                failures = 0
                if not self.leading:
                    stop.wait(max(idle_sleep, 1.0))
                elif sent < self.batch:
                    self.heartbeat()
                    stop.wait(idle_sleep)
        finally:
            self.close()
            log.info("outbox relay %s stopped", self.owner)

    def close(self) -> None:
        """Give the lease back and close the broker connection (a later publish
        reconnects and leads again)."""
        self.release()
        self._disconnect()

    def __enter__(self) -> Relay:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
