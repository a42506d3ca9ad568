"""The transactional outbox: events and check requests written with the state
change that causes them. Core only writes entries; ``creditcase.queue.relay``
publishes them. Bodies are CloudEvents 1.0 (structured JSON)."""

from __future__ import annotations

import uuid
from typing import Any

import mongoengine as me

from creditcase.core.db import UnitOfWork, utcnow

EVENTS_EXCHANGE = "creditcase.events"
CHECKS_EXCHANGE = "creditcase.checks"
CHECK_REQUEST_KEY = "check.request"
SOURCE = "urn:creditcase"
SENT_RETENTION_SECONDS = 7 * 24 * 3600


class OutboxEntry(me.Document):
    event_id = me.StringField(required=True, unique=True)
    exchange = me.StringField(required=True)
    routing_key = me.StringField(required=True)
    body = me.DictField(required=True)
    created_at = me.DateTimeField(required=True)
    sent_at = me.DateTimeField()
    #: a relay holding the entry until this time; others leave it alone
    lease_until = me.DateTimeField()
    lease_owner = me.StringField()
    attempts = me.IntField(default=0)
    last_error = me.StringField()

    meta = {"collection": "outbox", "indexes": [
        {"fields": ["created_at"], "partialFilterExpression": {"sent_at": None}, "name": "unsent"},
        # sent entries are kept a week (the event-log stream keeps the events longer)
        {"fields": ["sent_at"], "expireAfterSeconds": SENT_RETENTION_SECONDS, "name": "sent_ttl"},
    ]}


def cloud_event(event_type: str, subject: str, data: dict[str, Any], *,
                event_id: str | None = None) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": SOURCE,
        "type": f"cn.creditcase.{event_type}",
        "time": utcnow().isoformat().replace("+00:00", "Z"),
        "subject": subject,
        "datacontenttype": "application/json",
        "data": data,
    }


def emit(uow: UnitOfWork, event_type: str, subject: str, data: dict[str, Any]) -> OutboxEntry:
    """Queue an event on ``creditcase.events`` with routing key ``event_type``."""
    body = cloud_event(event_type, subject, data)
    return uow.add(OutboxEntry(event_id=body["id"], exchange=EVENTS_EXCHANGE,
                               routing_key=event_type, body=body, created_at=utcnow()))


def request_check(uow: UnitOfWork, case_id: str, request_id: str, requested_by: str) -> OutboxEntry:
    """Queue a check request for the workers."""
    body = cloud_event("check.requested", f"case/{case_id}",
                       {"case_id": case_id, "request_id": request_id,
                        "requested_by": requested_by}, event_id=request_id)
    return uow.add(OutboxEntry(event_id=request_id, exchange=CHECKS_EXCHANGE,
                               routing_key=CHECK_REQUEST_KEY, body=body, created_at=utcnow()))
