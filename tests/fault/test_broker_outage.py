"""RabbitMQ stops while 200 cases are in flight, then starts again.

The relay, two check workers and an idempotent event store (a consumer of
``case.*`` with a durable queue of its own) run as threads of this process;
cases keep being applied while the broker is down. Nothing may be lost: every
case ends ``checked`` exactly once, and the store holds each case event exactly
once, however many copies the wire carried.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import kombu
import pymongo.errors
import pytest

from creditcase.core import db as core_db
from creditcase.core.cases import Case
from creditcase.core.checks import CreditCheck
from creditcase.core.outbox import OutboxEntry
from creditcase.core.runtime import Runtime
from creditcase.queue import topology
from creditcase.queue.consumers import BaseConsumer, CloudEventSchema
from creditcase.queue.relay import Relay
from creditcase.queue.worker import CheckWorker

pytestmark = [pytest.mark.rabbitmq, pytest.mark.fault, pytest.mark.timeout(240)]

CASES = 200
STORE = "fault_event_store"


class EventStore(BaseConsumer):
    """Keeps each event once under its id; counts every delivery."""

    name = "fault-event-store"
    prefetch_count = 50
    schema = CloudEventSchema

    def __init__(self, runtime: Runtime, queue: kombu.Queue, stop: threading.Event):
        super().__init__(runtime, stop)
        self.queue = queue
        self.deliveries = 0
        self.duplicates = 0

    def queues(self) -> list[kombu.Queue]:
        return [self.queue]

    def work(self, event: dict[str, Any], message: kombu.Message) -> None:
        self.deliveries += 1
        try:
            core_db.database()[STORE].insert_one(
                {"_id": event["id"], "type": event["type"], "subject": event["subject"]})
        except pymongo.errors.DuplicateKeyError:
            self.duplicates += 1


def quick(consumer: BaseConsumer) -> BaseConsumer:
    consumer.retry_delay = 0.05
    consumer.restart_backoff = 0.2
    consumer.max_restart_backoff = 1.0
    return consumer


def test_nothing_is_lost_when_the_broker_stops_with_200_cases_in_flight(
        fault_settings, broker, broker_control, apply_case, host, workflow, helpers, caplog):
    runtime = Runtime(fault_settings, host, workflow, fault_settings.mongodb_uri)
    store_queue = kombu.Queue(f"fault.store.{uuid.uuid4().hex[:8]}", exchange=topology.EVENTS,
                              routing_key="case.*", durable=True)
    with broker.channel() as channel:
        store_queue(channel).declare()
    stop = threading.Event()
    relay = Relay(fault_settings, max_backoff=1.0)
    store = quick(EventStore(runtime, store_queue, stop))
    workers = [quick(CheckWorker(runtime, stop)) for _ in range(2)]
    threads = [threading.Thread(target=relay.run, args=(stop, 0.05), daemon=True)]
    threads += [threading.Thread(target=consumer.run, daemon=True)
                for consumer in (store, *workers)]
    made: list[Case] = []
    applying = threading.Thread(target=lambda: made.extend(apply_case() for _ in range(CASES)),
                                daemon=True)

    def checked() -> int:
        return Case.objects(state="checked").count()

    for thread in [*threads, applying]:
        thread.start()
    try:
        helpers.wait_for(lambda: checked() >= 20, "the first cases to be checked", timeout=60)
        broker_control.stop()
        in_flight = CASES - checked()
        time.sleep(1.0)  # applications go on while the broker is away
        broker_control.start()
        assert in_flight > 0, "the outage should hit cases still waiting for their check"
        applying.join(timeout=60)
        assert len(made) == CASES
        helpers.wait_for(lambda: checked() == CASES, f"all {CASES} cases to be checked",
                         timeout=120, interval=0.2)
        case_events = {e.event_id for e in OutboxEntry.objects(routing_key__in=["case.applied",
                                                                                 "case.checked"])}
        assert len(case_events) == 2 * CASES
        helpers.wait_for(lambda: core_db.database()[STORE].count_documents({}) == 2 * CASES,
                         "the event store to hold every case event", timeout=60, interval=0.2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)
        for consumer in (store, *workers):
            consumer.connection.release()
        with broker.clone() as conn, conn.channel() as channel:  # the old one died with the broker
            store_queue(channel).delete()
    assert not any(thread.is_alive() for thread in threads)
    stored = {doc["_id"] for doc in core_db.database()[STORE].find({}, {"_id": 1})}
    assert stored == case_events  # each exactly once (the id is the key)
    assert store.deliveries == 2 * CASES + store.duplicates
    for case in made:
        assert CreditCheck.objects(case_id=str(case.pk)).count() == 1
    assert OutboxEntry.objects(routing_key="case.checked").count() == CASES
    assert OutboxEntry.objects(sent_at=None).count() == 0
    assert "broker unreachable" in caplog.text  # the outage was noticed, not slept through
