"""Consumers of creditcase messages: the shared consumer base, the CloudEvent
schemas bodies are validated against, the ledgers that make consuming
idempotent and bounded, and the stale marker.

Every consumer follows the same rules (design §6):

- ``accept=["json"]`` and an explicit ``prefetch_count``;
- acknowledge only after the work is stored;
- a body that cannot be decoded or fails its schema is a poison message: it is
  rejected without requeue so the broker dead-letters it to
  ``creditcase.dead-letter``, and the log names its event id;
- a message is handed to consumers at most
  :data:`~creditcase.queue.topology.MAX_DELIVERIES` times. A failure while
  working requeues it after a pause that doubles with each attempt; a consumer
  that dies (``kill -9``, a lost connection) leaves it unacknowledged and the
  broker hands it out again. Either way the next delivery counts: on quorum
  queues from the broker's ``x-delivery-count`` header, on classic queues and
  ``memory://`` from :class:`DeliveryCount`, a ledger row written when a
  *redelivered* message is started (first deliveries cost nothing). A message
  delivered more often than the limit is dead-lettered without being worked
  on again, so a message that crashes its consumer cannot crash them all in turn.
  A message replayed from the dead-letter queue starts a fresh count;
- the database being unreachable is not the message's fault: the work is
  retried in hand, with backoff, for up to ``transient_hold`` seconds before
  the failure counts;
- work is idempotent by event id: delivery is at least once.

``memory://`` has no dead-lettering, so there the consumer publishes a copy to the
dead-letter exchange itself (with the ``x-first-death-*`` headers RabbitMQ would
add) and acknowledges the original. Nor does it hand back what a closed channel
had not acknowledged: its broker lives and dies with the process, so a message
is redelivered there only when a consumer requeues it.

Stopping (``should_stop``) lets the message in hand finish; before its
acknowledgement the consumer cancels its subscription, so the broker pushes
nothing more to a consumer on its way out.

:class:`StaleMarker` turns record, list and report events into
:meth:`WorkflowService.subject_changed` calls, once per event id
(:class:`ProcessedEvent`). Consumers never publish events themselves: what they
change writes its own outbox entries.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import kombu
import kombu.exceptions
import marshmallow as ma
import mongoengine as me
import pymongo.errors
from kombu import Consumer, Producer
from kombu.mixins import ConsumerMixin
from pymongo import ReturnDocument

from creditcase.core.db import utcnow
from creditcase.queue import topology

if TYPE_CHECKING:
    from creditcase.core.runtime import Runtime

log = logging.getLogger(__name__)

EVENT_TYPE_PREFIX = "cn.creditcase."
#: seconds between checks of ``should_stop`` while no message arrives
STOP_CHECK_INTERVAL = 0.5
#: header the dead-letter replay sets: how many times the message was replayed
REPLAYS_HEADER = "x-creditcase-replays"
#: errors that say the database cannot be reached right now, not that the message is bad
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (pymongo.errors.ConnectionFailure,)


# -- schemas -------------------------------------------------------------------------------------

class CloudEventSchema(ma.Schema):
    """A structured CloudEvents 1.0 JSON body. Extension attributes are ignored."""

    class Meta:
        unknown = ma.EXCLUDE

    specversion = ma.fields.String(required=True, validate=ma.validate.Equal("1.0"))
    id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    source = ma.fields.String(required=True, validate=ma.validate.Length(min=1))
    type = ma.fields.String(required=True, validate=ma.validate.Length(min=1))
    time = ma.fields.AwareDateTime(load_default=None)
    subject = ma.fields.String(load_default=None)
    datacontenttype = ma.fields.String(load_default="application/json",
                                       validate=ma.validate.Equal("application/json"))
    data = ma.fields.Dict(required=True)


class CheckRequestData(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    case_id = ma.fields.String(required=True,
                               validate=ma.validate.Regexp(r"^[0-9a-f]{24}$",
                                                           error="not a case id"))
    request_id = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    requested_by = ma.fields.String(required=True, validate=ma.validate.Length(min=1))


class CheckRequestSchema(CloudEventSchema):
    """``cn.creditcase.check.requested``, written by ``outbox.request_check``."""

    type = ma.fields.String(required=True,
                            validate=ma.validate.Equal(f"{EVENT_TYPE_PREFIX}check.requested"))
    data = ma.fields.Nested(CheckRequestData, required=True)


class SubjectEventData(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE

    subject_code = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))


def _subject_event_type(value: str) -> None:
    family = value.removeprefix(EVENT_TYPE_PREFIX)
    if family == value or not family.startswith(("record.", "list.entry.", "report.")):
        raise ma.ValidationError("not a record, list entry or report event")


class SubjectEventSchema(CloudEventSchema):
    """A ``record.*``, ``list.entry.*`` or ``report.*`` event about one subject."""

    type = ma.fields.String(required=True, validate=_subject_event_type)
    data = ma.fields.Nested(SubjectEventData, required=True)


def event_id_of(body: Any, message: kombu.Message | None = None) -> str:
    """The event id for log lines, from the body if possible, else the message id."""
    if isinstance(body, Mapping) and body.get("id"):
        return str(body["id"])
    if message is not None:
        return str(message.properties.get("message_id") or "?")
    return "?"


# -- ledgers -------------------------------------------------------------------------------------

class ProcessedEvent(me.Document):
    """An event a consumer has applied; a second delivery of it is acknowledged
    without doing the work again."""

    consumer = me.StringField(required=True, help_text="the consumer's name")
    event_id = me.StringField(required=True)
    event_type = me.StringField(default="")
    processed_at = me.DateTimeField(required=True)

    meta = {"collection": "processed_events", "indexes": [
        {"fields": ["consumer", "event_id"], "unique": True, "name": "consumer_event"},
    ]}

    @classmethod
    def seen(cls, consumer: str, event_id: str) -> bool:
        return cls.objects(consumer=consumer, event_id=event_id).only("id").first() is not None

    @classmethod
    def remember(cls, consumer: str, event_id: str, event_type: str = "") -> bool:
        """Record the event; False when another delivery recorded it first."""
        try:
            cls(consumer=consumer, event_id=event_id, event_type=event_type,
                processed_at=utcnow()).save(force_insert=True)
        except me.NotUniqueError:
            return False
        return True


class DeliveryCount(me.Document):
    """How often a consumer started a *redelivered* message (classic queues and
    ``memory://``, which do not count deliveries themselves). The row is removed
    once the message is acknowledged or dead-lettered."""

    consumer = me.StringField(required=True)
    message_key = me.StringField(required=True, help_text="message id, or a hash of the body")
    generation = me.IntField(required=True, default=0, help_text="dead-letter replays so far")
    redeliveries = me.IntField(required=True, default=0)
    first_at = me.DateTimeField(required=True)
    last_at = me.DateTimeField(required=True)

    meta = {"collection": "delivery_counts", "indexes": [
        {"fields": ["consumer", "message_key", "generation"], "unique": True,
         "name": "consumer_message"},
    ]}

    @classmethod
    def bump(cls, consumer: str, message_key: str, generation: int) -> int:
        """Count one more redelivery; returns the count so far."""
        now = utcnow()
        for _ in range(2):  # two first redeliveries at once: the unique index picks one
            try:
                doc = cls._get_collection().find_one_and_update(
                    {"consumer": consumer, "message_key": message_key, "generation": generation},
                    {"$inc": {"redeliveries": 1}, "$set": {"last_at": now},
                     "$setOnInsert": {"first_at": now}},
                    upsert=True, return_document=ReturnDocument.AFTER)
            except pymongo.errors.DuplicateKeyError:
                continue
            return int(doc["redeliveries"])
        raise RuntimeError(f"cannot count deliveries of {message_key}")

    @classmethod
    def forget(cls, consumer: str, message_key: str, generation: int) -> None:
        cls._get_collection().delete_one({"consumer": consumer, "message_key": message_key,
                                          "generation": generation})


# -- the consumer base ---------------------------------------------------------------------------

def _redelivered(message: kombu.Message) -> bool:
    if message.delivery_info.get("redelivered"):
        return True
    # kombu's virtual transports (memory://) mark a requeued message on its payload
    raw = getattr(message, "_raw", None)
    return bool(isinstance(raw, Mapping) and raw.get("redelivered"))


def message_key(message: kombu.Message) -> str:
    """What identifies a message across deliveries: its ``message_id``, or (for a
    publisher that sets none) a hash of its body."""
    message_id = message.properties.get("message_id")
    if message_id:
        return str(message_id)
    body = message.body if isinstance(message.body, bytes) else str(message.body).encode()
    return "sha256:" + hashlib.sha256(body).hexdigest()


def replays(message: kombu.Message) -> int:
    """How many times the dead-letter replay has sent this message back."""
    try:
        return int((message.headers or {}).get(REPLAYS_HEADER) or 0)
    except (TypeError, ValueError):
        return 0


class BaseConsumer(ConsumerMixin):
    """Shared plumbing: stop handling, poison messages, counted retries.

    Subclasses set ``name``, ``prefetch_count`` and ``schema`` and implement
    :meth:`queues` and :meth:`work`."""

    #: name used in logs and in the ledgers
    name = "consumer"
    #: how many unacknowledged messages the broker may push to this consumer
    prefetch_count = 1
    #: the body's schema; a body failing it is dead-lettered at once
    schema: ClassVar[type[ma.Schema]] = CloudEventSchema
    #: deliveries of one message before it is dead-lettered
    max_deliveries = topology.MAX_DELIVERIES
    #: pause before requeueing a failed message: doubled per attempt, capped at 10 s
    retry_delay = 0.5
    #: how long to keep retrying in hand while the database is unreachable
    transient_hold = 20.0
    #: reconnect backoff after the broker could not be reached
    restart_backoff = topology.RECONNECT_BACKOFF_START
    max_restart_backoff = topology.RECONNECT_BACKOFF_MAX

    def __init__(self, runtime: Runtime, stop_event: threading.Event | None = None,
                 connection: kombu.Connection | None = None):
        self.runtime = runtime
        self.workflow = runtime.workflow
        self.stop_event = stop_event or threading.Event()
        self.connection = connection or topology.connection(runtime.settings,
                                                            name=f"creditcase-{self.name}")
        #: AMQP brokers dead-letter a rejected message themselves
        self.native_dead_letter = self.connection.transport.driver_type == "amqp"
        #: quorum queues count deliveries in ``x-delivery-count``
        self.broker_counts = self.native_dead_letter and runtime.settings.quorum_queues
        self._stop_requested = False
        self._consumers: list[Consumer] = []
        self._failures = 0

    @property
    def should_stop(self) -> bool:  # type: ignore[override]
        """True once a stop was requested; the message in hand is finished first."""
        return self._stop_requested or self.stop_event.is_set()

    @should_stop.setter
    def should_stop(self, value: bool) -> None:
        self._stop_requested = bool(value)

    def queues(self) -> list[kombu.Queue]:
        raise NotImplementedError

    def work(self, event: dict[str, Any], message: kombu.Message) -> None:
        """Do and store the work for one valid event; raise to have it retried."""
        raise NotImplementedError

    def get_consumers(self, consumer: Callable[..., Consumer], channel: Any) -> list[Consumer]:
        return [consumer(queues=self.queues(), accept=["json"], callbacks=[self.on_message],
                         prefetch_count=self.prefetch_count)]

    def on_consume_ready(self, connection: Any, channel: Any, consumers: Any, **kwargs: Any) -> None:
        self._consumers = list(consumers)
        self._failures = 0
        ProcessedEvent.ensure_indexes()
        DeliveryCount.ensure_indexes()

    # -- one message -----------------------------------------------------------------------
    def on_message(self, body: Any, message: kombu.Message) -> None:
        try:
            event = self.schema().load(body)
        except ma.ValidationError as exc:
            self.invalid(message, body, exc)
            return
        key, generation = message_key(message), replays(message)
        try:
            attempt = self.delivery_attempt(message, key, generation)
        except TRANSIENT_ERRORS as exc:
            # no database: no count, and no work either; hand it back untouched
            log.warning("%s: cannot count deliveries of event %s, requeued: %s", self.name,
                        event_id_of(body, message), exc)
            message.requeue()
            return
        if attempt > self.max_deliveries:
            log.error("%s: event %s delivered %d times (limit %d), dead-lettered", self.name,
                      event_id_of(body, message), attempt, self.max_deliveries)
            self.dead_letter(message, "delivery-limit")
            self._forget(key, generation, attempt)
            return
        try:
            self._work_in_hand(event, message)
        except Exception:
            self.failed(message, body, attempt)
            if attempt >= self.max_deliveries:
                self._forget(key, generation, attempt)
            return
        self.acknowledge(message)
        self._forget(key, generation, attempt)

    def delivery_attempt(self, message: kombu.Message, key: str, generation: int) -> int:
        """Which delivery of the message this is (1 for the first)."""
        if self.broker_counts:
            count = (message.headers or {}).get("x-delivery-count")
            if isinstance(count, int):
                return count + 1
        if not _redelivered(message):
            return 1
        started, failures = time.monotonic(), 0
        while True:
            try:
                return 1 + DeliveryCount.bump(self.name, key, generation)
            except TRANSIENT_ERRORS:
                failures += 1
                pause = topology.backoff(failures, self.retry_delay, 5.0)
                if self.should_stop or time.monotonic() - started + pause > self.transient_hold:
                    raise
                self.stop_event.wait(pause)

    def _forget(self, key: str, generation: int, attempt: int) -> None:
        if attempt > 1 and not self.broker_counts:
            try:
                DeliveryCount.forget(self.name, key, generation)
            except Exception:
                log.warning("%s: delivery count of %s not removed", self.name, key, exc_info=True)

    def _work_in_hand(self, event: dict[str, Any], message: kombu.Message) -> None:
        started = time.monotonic()
        failures = 0
        while True:
            try:
                self.work(event, message)
                return
            except TRANSIENT_ERRORS as exc:
                failures += 1
                pause = topology.backoff(failures, self.retry_delay, 5.0)
                if self.should_stop or time.monotonic() - started + pause > self.transient_hold:
                    raise
                log.warning("%s: database unreachable working on event %s, retrying in %.1fs: "
                            "%s", self.name, event.get("id"), pause, exc)
                self.stop_event.wait(pause)

    def acknowledge(self, message: kombu.Message) -> None:
        """Acknowledge; when stopping, first cancel the subscription so the broker
        sends nothing more to this consumer."""
        if self.should_stop:
            for consumer in self._consumers:
                with contextlib.suppress(Exception):
                    consumer.cancel()
            self._consumers = []
        message.ack()

    def on_connection_error(self, exc: Exception, interval: float) -> None:
        log.warning("%s: broker connection error, retrying in %ss: %s", self.name, interval, exc)

    def on_decode_error(self, message: kombu.Message, exc: Exception) -> None:
        log.error("%s: undecodable message %s (content type %r) dead-lettered: %s", self.name,
                  message.properties.get("message_id") or "?", message.content_type, exc)
        self.dead_letter(message, "undecodable")

    def invalid(self, message: kombu.Message, body: Any, exc: ma.ValidationError) -> None:
        log.error("%s: event %s fails its schema, dead-lettered: %s", self.name,
                  event_id_of(body, message), exc.normalized_messages())
        self.dead_letter(message, "invalid")

    def failed(self, message: kombu.Message, body: Any, attempt: int) -> None:
        """Called from an ``except`` block: requeue after a pause, or dead-letter on the
        last allowed delivery."""
        event_id = event_id_of(body, message)
        if attempt >= self.max_deliveries:
            log.exception("%s: event %s failed on delivery %d of %d, dead-lettered", self.name,
                          event_id, attempt, self.max_deliveries)
            self.dead_letter(message, "failed")
            return
        pause = topology.backoff(attempt, self.retry_delay, 10.0)
        log.exception("%s: event %s failed on delivery %d of %d, requeued in %.1fs", self.name,
                      event_id, attempt, self.max_deliveries, pause)
        self.stop_event.wait(pause)
        message.requeue()

    def dead_letter(self, message: kombu.Message, reason: str) -> None:
        if self.native_dead_letter:
            message.reject(requeue=False)
            return
        headers = dict(message.headers or {})
        routing_key = message.delivery_info.get("routing_key", "")
        headers.setdefault("x-first-death-reason", "rejected")
        headers.setdefault("x-first-death-exchange", message.delivery_info.get("exchange", ""))
        headers.setdefault("x-first-death-queue", ",".join(q.name for q in self.queues()))
        headers["x-creditcase-reason"] = reason
        Producer(message.channel).publish(
            message.body, exchange=topology.DEAD_LETTER_EXCHANGE, routing_key=routing_key,
            content_type=message.content_type or "application/octet-stream",
            content_encoding=message.content_encoding or "binary", headers=headers,
            message_id=message.properties.get("message_id"), delivery_mode=2)
        message.ack()

    # -- the loop --------------------------------------------------------------------------
    @contextlib.contextmanager
    def establish_connection(self) -> Iterator[kombu.Connection]:
        # bounded retries, so a consumer waiting for a broker still notices a stop
        with self.create_connection() as conn:
            conn.ensure_connection(self.on_connection_error, **topology.CONNECTION_RETRY)
            yield conn

    def run(self, _tokens: int = 1, **kwargs: Any) -> None:
        """Consume until stopped. Lost connections are re-established by kombu; when
        the broker stays unreachable, or anything else goes wrong, consuming starts
        again after a pause that doubles up to ``max_restart_backoff`` (reset once
        consuming works). On AMQP an unacknowledged message returns to the queue."""
        kwargs.setdefault("safety_interval", STOP_CHECK_INTERVAL)
        log.info("%s started", self.name)
        while not self.should_stop:
            try:
                super().run(_tokens, **kwargs)
            except kombu.exceptions.OperationalError as exc:
                self._failures += 1
                pause = topology.backoff(self._failures, self.restart_backoff,
                                         self.max_restart_backoff)
                log.warning("%s: broker unreachable, trying again in %.1fs: %s", self.name,
                            pause, exc)
                self.stop_event.wait(pause)
            except Exception:
                self._failures += 1
                pause = topology.backoff(self._failures, self.restart_backoff,
                                         self.max_restart_backoff)
                log.exception("%s: consuming failed; restarting in %.1fs", self.name, pause)
                self.stop_event.wait(pause)
        log.info("%s stopped", self.name)


# -- the stale marker ----------------------------------------------------------------------------

_REASONS = {
    "record.created": "新增信用记录",
    "record.updated": "信用记录更正",
    "record.revoked": "信用记录撤销",
    "list.entry.added": "列入名单",
    "list.entry.removed": "移出名单",
    "report.filed": "新的信用报告",
    "report.invalidated": "信用报告作废",
}


def stale_reason(event_type: str, event_id: str, data: Mapping[str, Any]) -> str:
    """A short, human reason shown on the case (Chinese, with the event for tracing)."""
    family = event_type.split(".", 1)[0]
    label = _REASONS.get(event_type) or {"record": "信用记录变更", "list": "名单变更",
                                         "report": "信用报告变更"}.get(family, "信用信息变更")
    ref = data.get("doc_no") or data.get("list_type") or data.get("number") or ""
    if event_type.startswith("list.entry."):
        ref = f"{'黑' if data.get('color') == 'black' else '红'}名单 {ref}".strip()
    text = f"{label} {ref}".strip()
    return f"{text} [{event_type} {event_id}]"


def is_serious(event_type: str, data: Mapping[str, Any]) -> bool:
    """Serious changes also flag decided cases for review: a major credit event,
    a black-list entry, or a voided credit report."""
    if event_type.startswith("record."):
        return bool(data.get("major"))
    if event_type == "list.entry.added":
        return data.get("color") == "black" and not data.get("removed")
    return event_type == "report.invalidated"


class StaleMarker(BaseConsumer):
    """Marks checks out of date when a subject's credit information changes.

    Idempotent by event id through :class:`ProcessedEvent`: a duplicate delivery
    (the relay sending again after a crash, the broker redelivering) is
    acknowledged without effect. Two deliveries of one event worked on at the
    same instant by two stale markers can both pass the ledger check; the
    second then marks the same cases stale once more, which queues one extra
    check and changes no outcome."""

    name = "stale-marker"
    # each event costs a few small writes; a small window hides the broker round
    # trip without holding back messages another stale marker could take
    prefetch_count = 10

    schema = SubjectEventSchema

    def queues(self) -> list[kombu.Queue]:
        return [topology.stale_marker_queue(self.runtime.settings)]

    def work(self, event: dict[str, Any], message: kombu.Message) -> None:
        self.apply(event)

    def apply(self, event: dict[str, Any]) -> bool:
        """Apply one event unless it was applied before (or is not a change a check
        reads); True when work was done."""
        event_id = event["id"]
        if event["type"].removeprefix(EVENT_TYPE_PREFIX) not in topology.STALE_MARKER_KEYS:
            # a queue declared by an older version may still be bound to ``record.*``
            log.debug("%s: %s changes nothing a check reads; ignored", self.name, event["type"])
            return False
        if ProcessedEvent.seen(self.name, event_id):
            log.info("%s: event %s already applied; duplicate acknowledged", self.name, event_id)
            return False
        event_type = event["type"].removeprefix(EVENT_TYPE_PREFIX)
        data = event["data"]
        result = self.workflow.subject_changed(
            data["subject_code"], stale_reason(event_type, event_id, data),
            serious=is_serious(event_type, data))
        ProcessedEvent.remember(self.name, event_id, event_type)
        if result["stale"] or result["flagged"]:
            log.info("%s: %s for %s: %d case(s) stale, %d flagged", self.name, event_type,
                     data["subject_code"], result["stale"], result["flagged"])
        return True
