"""Consumers of creditcase messages: the shared consumer base, the CloudEvent
schemas bodies are validated against, and the stale marker.

Every consumer follows the same rules (design §6):

- ``accept=["json"]`` and an explicit ``prefetch_count``;
- acknowledge only after the work is stored;
- a body that cannot be decoded or fails its schema is a poison message: it is
  rejected without requeue so the broker dead-letters it to
  ``creditcase.dead-letter``, and the log names its event id;
- an exception while working is retried once: the message is requeued, and if it
  fails again (``redelivered`` is set) it is dead-lettered instead of looping.
  A message redelivered because a consumer died also has ``redelivered`` set, so
  after a crash it gets one attempt, not two;
- work is idempotent by event id: delivery is at least once.

``memory://`` has no dead-lettering, so there the consumer publishes a copy to the
dead-letter exchange itself (with the ``x-first-death-*`` headers RabbitMQ would
add) and acknowledges the original.

:class:`StaleMarker` turns record, list and report events into
:meth:`WorkflowService.subject_changed` calls, once per event id
(:class:`ProcessedEvent`). Consumers never publish events themselves: what they
change writes its own outbox entries.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import kombu
import kombu.exceptions
import marshmallow as ma
import mongoengine as me
from kombu import Consumer, Producer
from kombu.mixins import ConsumerMixin

from creditcase.core.db import utcnow
from creditcase.queue import topology

if TYPE_CHECKING:
    from creditcase.core.runtime import Runtime

log = logging.getLogger(__name__)

EVENT_TYPE_PREFIX = "cn.creditcase."
#: seconds between checks of ``should_stop`` while no message arrives
STOP_CHECK_INTERVAL = 0.5
#: seconds to wait before consuming again after an unexpected error
RESTART_PAUSE = 1.0


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


# -- idempotency ---------------------------------------------------------------------------------

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


# -- the consumer base ---------------------------------------------------------------------------

def _redelivered(message: kombu.Message) -> bool:
    if message.delivery_info.get("redelivered"):
        return True
    # kombu's virtual transports (memory://) mark a requeued message on its payload
    raw = getattr(message, "_raw", None)
    return bool(isinstance(raw, Mapping) and raw.get("redelivered"))


class BaseConsumer(ConsumerMixin):
    """Shared plumbing: stop handling, poison messages, retry-once."""

    #: name used in logs and in :class:`ProcessedEvent`
    name = "consumer"
    #: how many unacknowledged messages the broker may push to this consumer
    prefetch_count = 1

    def __init__(self, runtime: Runtime, stop_event: threading.Event | None = None,
                 connection: kombu.Connection | None = None):
        self.runtime = runtime
        self.workflow = runtime.workflow
        self.stop_event = stop_event or threading.Event()
        self.connection = connection or topology.connection(runtime.settings,
                                                            name=f"creditcase-{self.name}")
        #: AMQP brokers dead-letter a rejected message themselves
        self.native_dead_letter = self.connection.transport.driver_type == "amqp"
        self._stop_requested = False

    @property
    def should_stop(self) -> bool:  # type: ignore[override]
        """True once a stop was requested; the message in hand is finished first."""
        return self._stop_requested or self.stop_event.is_set()

    @should_stop.setter
    def should_stop(self, value: bool) -> None:
        self._stop_requested = bool(value)

    def queues(self) -> list[kombu.Queue]:
        raise NotImplementedError

    def get_consumers(self, consumer: Callable[..., Consumer], channel: Any) -> list[Consumer]:
        return [consumer(queues=self.queues(), accept=["json"], callbacks=[self.on_message],
                         prefetch_count=self.prefetch_count)]

    def on_message(self, body: Any, message: kombu.Message) -> None:
        raise NotImplementedError

    @contextlib.contextmanager
    def establish_connection(self) -> Iterator[kombu.Connection]:
        # bounded retries, so a consumer waiting for a broker still notices a stop
        with self.create_connection() as conn:
            conn.ensure_connection(self.on_connection_error, **topology.CONNECTION_RETRY)
            yield conn

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

    def failed(self, message: kombu.Message, body: Any) -> None:
        """Called from an ``except`` block: requeue once, then dead-letter."""
        event_id = event_id_of(body, message)
        if _redelivered(message):
            log.exception("%s: event %s failed again, dead-lettered", self.name, event_id)
            self.dead_letter(message, "failed")
        else:
            log.exception("%s: event %s failed, requeued once", self.name, event_id)
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

    def run(self, _tokens: int = 1, **kwargs: Any) -> None:
        """Consume until stopped. Connection errors are retried by kombu; any other
        error restarts consuming after a pause (on AMQP an unacknowledged message
        returns to the queue), so one bad moment does not end the consumer."""
        kwargs.setdefault("safety_interval", STOP_CHECK_INTERVAL)
        log.info("%s started", self.name)
        while not self.should_stop:
            try:
                super().run(_tokens, **kwargs)
            except kombu.exceptions.OperationalError as exc:
                log.warning("%s: broker unreachable, trying again: %s", self.name, exc)
                self.stop_event.wait(RESTART_PAUSE)
            except Exception:
                log.exception("%s: consuming failed; restarting", self.name)
                self.stop_event.wait(RESTART_PAUSE)
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
    """Marks checks out of date when a subject's credit information changes."""

    name = "stale-marker"
    # each event costs a few small writes; a small window hides the broker round
    # trip without holding back messages another stale marker could take
    prefetch_count = 10

    def queues(self) -> list[kombu.Queue]:
        return [topology.stale_marker_queue(self.runtime.settings)]

    def on_consume_ready(self, connection: Any, channel: Any, consumers: Any, **kwargs: Any) -> None:
        ProcessedEvent.ensure_indexes()

    def on_message(self, body: Any, message: kombu.Message) -> None:
        try:
            event = SubjectEventSchema().load(body)
        except ma.ValidationError as exc:
            self.invalid(message, body, exc)
            return
        try:
            self.apply(event)
        except Exception:
            self.failed(message, body)
            return
        message.ack()

    def apply(self, event: dict[str, Any]) -> bool:
        """Apply one event unless it was applied before; True when work was done."""
        event_id = event["id"]
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
