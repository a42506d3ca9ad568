"""The message contract, written once and run on both transports.

:class:`QueueContract` holds the behaviour; :class:`TestMemory` runs it on
kombu's ``memory://`` (embedded mode) and :class:`TestRabbitMQ` on a real
broker, adding what only AMQP has (returns, a plain pika consumer). The memory
transport keeps its state per process, and the RabbitMQ work queues are shared
with anything else using the broker, so every test purges the shared queues
first and taps the events exchange with its own uniquely named queue.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import logging
import re
import shutil
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import kombu
import marshmallow as ma
import pymongo.errors
import pytest
from kombu import Exchange, Queue, binding

from creditcase import hookimpl
from creditcase.config import Settings
from creditcase.core import outbox, records
from creditcase.core.cases import Case
from creditcase.core.db import UnitOfWork, utcnow
from creditcase.core.domains import Domain
from creditcase.core.outbox import CHECK_REQUEST_KEY, CHECKS_EXCHANGE, EVENTS_EXCHANGE, OutboxEntry
from creditcase.core.plugins import PluginHost
from creditcase.core.runtime import Runtime
from creditcase.queue import deadletter, topology
from creditcase.queue import relay as relay_module
from creditcase.queue.consumers import BaseConsumer, DeliveryCount, ProcessedEvent, StaleMarker
from creditcase.queue.relay import Relay, RelayLease
from creditcase.queue.service import start_background
from creditcase.queue.worker import CheckWorker
from creditcase.testing import run_pending_checks

USCC = "91350100M000100Y43"
OTHER_USCC = "91110000600037341L"
WAIT = 10.0


# -- a minimal domain, so these tests depend on no shipped plugin ---------------------------------

class _Application(ma.Schema):
    project = ma.fields.String(required=True)


class MessageTestDomain(Domain):
    code = "msgtest"
    name_zh = "消息测试事项"
    name_en = "Message test matter"
    application_schema = _Application


class _MessageTestPlugin:
    @hookimpl
    def creditcase_register_domains(self):
        return [MessageTestDomain()]


@pytest.fixture(scope="module")
def host() -> PluginHost:
    return PluginHost.create(load_entrypoints=False, extra=[_MessageTestPlugin()])


# -- helpers --------------------------------------------------------------------------------------

def wait_for(predicate: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def unique(prefix: str) -> str:
    return f"test.{prefix}.{uuid.uuid4().hex[:10]}"


def emit(event_type: str, subject: str, data: dict[str, Any]) -> OutboxEntry:
    uow = UnitOfWork()
    entry = outbox.emit(uow, event_type, subject, data)
    uow.commit()
    return entry


def record_values(doc_no: str, *, kind: str = "penalty", severity: str = "general") -> dict:
    return {"subject_code": USCC, "subject_name": "舞钢测试建设有限公司", "kind": kind,
            "severity": severity, "title": "未按规定履行安全生产职责", "doc_no": doc_no,
            "decision_date": dt.date(2026, 3, 2), "authority": "舞钢市应急管理局"}


@dataclasses.dataclass
class Broker:
    """One transport under test, with a connection for looking at it."""

    settings: Settings
    runtime: Runtime
    conn: kombu.Connection
    amqp: bool
    _cleanup: list[Callable[[], None]] = dataclasses.field(default_factory=list)

    @property
    def channel(self):
        return self.conn.default_channel

    def tap(self, *keys: str, exchange: Exchange = topology.EVENTS) -> Queue:
        """A queue of this test only, bound to ``exchange`` with ``keys``."""
        queue = Queue(unique("tap"), bindings=[binding(exchange, routing_key=k) for k in keys],
                      durable=False, auto_delete=False)(self.channel)
        queue.declare()
        self._cleanup.append(lambda: queue.delete())
        return queue

    def take(self, queue: Queue | str, count: int, timeout: float = WAIT,
             settle: float = 0.0) -> list[kombu.Message]:
        """Get ``count`` messages (waiting at most ``timeout``), then keep listening
        ``settle`` seconds for any extra one."""
        if isinstance(queue, str):
            queue = Queue(queue)(self.channel)
        got: list[kombu.Message] = []
        deadline = time.monotonic() + timeout
        quiet_until = None
        while True:
            message = queue.get(no_ack=True, accept=["json", "text/plain"])
            if message is not None:
                got.append(message)
                continue
            now = time.monotonic()
            if len(got) >= count:
                quiet_until = quiet_until or now + settle
                if now >= quiet_until:
                    return got
            elif now > deadline:
                raise AssertionError(f"{len(got)} of {count} messages on {queue.name} "
                                     f"after {timeout}s")
            time.sleep(0.02)

    def relay(self, **options: Any) -> Relay:
        """A relay closed when the test ends."""
        relay = Relay(self.settings, **options)
        self._cleanup.append(relay.close)
        return relay

    def publish_raw(self, body: Any, *, exchange: str, routing_key: str, **properties: Any) -> None:
        kombu.Producer(self.channel).publish(body, exchange=exchange, routing_key=routing_key,
                                             **properties)

    @contextlib.contextmanager
    def running(self, *consumers: CheckWorker | StaleMarker | Relay) -> Iterator[None]:
        """Run consumers (and relays) in threads for the duration of the block."""
        stop = threading.Event()
        threads = []
        for consumer in consumers:
            if isinstance(consumer, Relay):
                target = (lambda relay: lambda: relay.run(stop, idle_sleep=0.02))(consumer)
            else:
                consumer.stop_event = stop
                target = (lambda c: lambda: c.run(safety_interval=0.1))(consumer)
            threads.append(threading.Thread(target=target, daemon=True))
        for thread in threads:
            thread.start()
        try:
            yield
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=5)
            for consumer in consumers:
                if not isinstance(consumer, Relay):
                    consumer.connection.release()
            assert not any(t.is_alive() for t in threads), "a consumer did not stop"

    def close(self) -> None:
        for fn in reversed(self._cleanup):
            with contextlib.suppress(Exception):
                fn()
        self.conn.release()


def fast(consumer: BaseConsumer) -> BaseConsumer:
    """Short pauses between retries, so the tests need not wait out production backoff."""
    consumer.retry_delay = 0.01
    consumer.restart_backoff = 0.05
    consumer.max_restart_backoff = 0.2
    return consumer


def read_event_log(conn: kombu.Connection, since: dt.datetime, ids: set[str],
                   timeout: float = WAIT) -> dict[str, kombu.Message]:
    """The messages with ``ids`` in the event log stream, read from ``since`` on."""
    found: dict[str, kombu.Message] = {}

    def keep(body: Any, message: kombu.Message) -> None:
        if message.properties.get("message_id") in ids:
            found[message.properties["message_id"]] = message
        message.ack()

    with conn.channel() as channel:
        channel.basic_qos(0, 100, False)  # a stream reader must set a prefetch
        consumer = kombu.Consumer(channel, queues=[topology.event_log_queue(offset=since)],
                                  callbacks=[keep], accept=["json"])
        consumer.consume()
        deadline = time.monotonic() + timeout
        while len(found) < len(ids) and time.monotonic() < deadline:
            with contextlib.suppress(TimeoutError):
                conn.drain_events(timeout=0.2)
        consumer.cancel()
    return found


def load_pika_example():
    """``docs/examples/pika_consumer.py``, imported from its file."""
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "docs" / "examples" / "pika_consumer.py"
    spec = importlib.util.spec_from_file_location("pika_consumer_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def apply_case(runtime: Runtime, city, code: str = USCC) -> Case:
    return runtime.workflow.apply(city.handler, domain="msgtest", matter="测试采购项目",
                                  subject={"code": code, "name": "舞钢测试建设有限公司"},
                                  data={"project": "WG-2026-001"})


def state_of(case: Case) -> str:
    return Case.objects(pk=case.pk).only("state").first().state


def entries(routing_key: str, case: Case | None = None) -> list[OutboxEntry]:
    query = {"routing_key": routing_key}
    if case is not None:
        query["body__subject"] = f"case/{case.pk}"
    return list(OutboxEntry.objects(**query))


# -- the contract ---------------------------------------------------------------------------------

class QueueContract:
    """What both transports must do. Subclasses provide ``broker_settings``."""

    @pytest.fixture
    def broker_settings(self, settings: Settings) -> Settings:
        raise NotImplementedError

    @pytest.fixture
    def mq(self, broker_settings: Settings, host: PluginHost, workflow, mongo_uri) -> Iterator[Broker]:
        runtime = Runtime(broker_settings, host, workflow, mongo_uri)
        conn = topology.connection(broker_settings, name="creditcase-tests")
        topology.declare_all(conn, broker_settings)
        broker = Broker(broker_settings, runtime, conn, topology.is_amqp(broker_settings.broker_url))
        for name in (topology.CHECK_REQUESTS_QUEUE, topology.STALE_MARKER_QUEUE,
                     topology.DEAD_LETTER_QUEUE):
            Queue(name)(broker.channel).purge()
        yield broker
        broker.close()

    def test_declare_all_is_idempotent(self, mq: Broker):
        topology.declare_all(mq.conn, mq.settings)
        topology.declare_all(mq.conn, mq.settings)
        request = outbox.cloud_event("check.requested", "case/x", {}, event_id="probe")
        mq.publish_raw(request, exchange=CHECKS_EXCHANGE, routing_key=CHECK_REQUEST_KEY)
        [message] = mq.take(topology.CHECK_REQUESTS_QUEUE, 1)
        assert message.decode()["id"] == "probe"

    def test_apply_is_checked_through_the_broker(self, mq: Broker, city):
        case = apply_case(mq.runtime, city)
        assert state_of(case) == "applied"
        assert mq.relay().publish_pending() >= 1
        [request] = entries(CHECK_REQUEST_KEY)
        assert request.sent_at is not None
        with mq.running(CheckWorker(mq.runtime)):
            wait_for(lambda: state_of(case) == "checked", "the worker to check the case")
        [checked] = entries("case.checked", case)
        assert checked.body["data"]["state"] == "checked"
        assert checked.body["data"]["check_id"] == Case.objects(pk=case.pk).first().latest_check_id

    def test_relay_marks_sent_and_does_not_resend(self, mq: Broker):
        tap = mq.tap("#")
        made = [emit("objection.filed", f"subject/{USCC}", {"n": i}) for i in range(3)]
        relay = mq.relay()
        assert relay.publish_pending() == 3
        assert relay.publish_pending() == 0
        assert mq.relay().publish_pending() == 0
        for entry in made:
            entry.reload()
            assert entry.sent_at is not None and entry.attempts == 1 and not entry.last_error
        messages = mq.take(tap, 3, settle=0.3)
        assert sorted(m.properties["message_id"] for m in messages) == sorted(e.event_id for e in made)
        for message in messages:
            body = message.decode()
            assert body["id"] == message.properties["message_id"]
            assert message.content_type == relay_module.CONTENT_TYPE == "application/json"
            assert message.properties["delivery_mode"] == 2
            assert message.delivery_info["routing_key"] == "objection.filed"

    def test_two_relays_in_parallel_do_not_double_publish(self, mq: Broker):
        tap = mq.tap("#")
        made = {emit("objection.filed", f"subject/{USCC}", {"n": i}).event_id for i in range(40)}
        relays = [mq.relay(owner=f"relay-{n}", batch=4) for n in range(2)]
        counts: dict[str, int] = {}
        go = threading.Barrier(2)

        def drain(relay: Relay) -> None:
            counts[relay.owner] = 0
            go.wait()
            deadline = time.monotonic() + WAIT
            while OutboxEntry.objects(sent_at=None).count() and time.monotonic() < deadline:
                counts[relay.owner] += relay.publish_pending()

        threads = [threading.Thread(target=drain, args=(relay,)) for relay in relays]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=WAIT + 5)
        assert sum(counts.values()) == 40
        assert sorted(counts.values()) == [0, 40], f"one leader, one standby: {counts}"
        seen = Counter(m.properties["message_id"] for m in mq.take(tap, 40, settle=0.3))
        assert set(seen) == made
        assert set(seen.values()) == {1}
        assert OutboxEntry.objects(sent_at=None).count() == 0
        # the leader stops cleanly: the standby takes over at once
        leader, standby = sorted(relays, key=lambda r: -counts[r.owner])
        later = emit("objection.filed", f"subject/{USCC}", {"n": "later"})
        assert standby.publish_pending() == 0
        leader.close()
        assert standby.publish_pending() == 1
        later.reload()
        assert later.sent_at is not None and later.attempts == 1

    def test_a_dead_relays_lease_runs_out_and_its_batch_is_sent_again(self, mq: Broker):
        tap = mq.tap("objection.*")
        crashed = emit("objection.filed", f"subject/{USCC}", {"n": "in flight"})
        waiting = emit("objection.filed", f"subject/{USCC}", {"n": "waiting"})
        RelayLease(id=relay_module.LEASE_ID, owner="dead-relay",
                   until=utcnow() + dt.timedelta(minutes=5), inflight=[crashed.pk]).save()
        relay = mq.relay()
        assert relay.publish_pending() == 0  # the lease is still running: stay a standby
        assert not relay.leading
        RelayLease.objects(id=relay_module.LEASE_ID).update(
            set__until=utcnow() - dt.timedelta(seconds=1))
        assert relay.publish_pending() == 2
        assert relay.leading
        crashed.reload()
        waiting.reload()
        # the dead relay's batch may have reached the broker once: that attempt counts
        assert crashed.sent_at is not None and crashed.attempts == 2
        assert waiting.sent_at is not None and waiting.attempts == 1
        lease = RelayLease.objects(id=relay_module.LEASE_ID).first()
        assert lease.owner == relay.owner and crashed.pk in lease.inflight
        relay.close()
        lease.reload()
        assert lease.owner is None and lease.inflight == []
        messages = mq.take(tap, 2, settle=0.2)
        assert sorted(m.properties["message_id"] for m in messages) == sorted(
            [crashed.event_id, waiting.event_id])

    def test_entries_backing_off_do_not_hold_up_the_rest(self, mq: Broker):
        tap = mq.tap("objection.*")
        stuck = [emit("objection.filed", f"subject/{USCC}", {"n": i}) for i in range(5)]
        for entry in stuck:
            entry.update(set__lease_until=utcnow() + dt.timedelta(minutes=5), set__attempts=1,
                         set__last_error="unroutable")
        fresh = emit("objection.filed", f"subject/{USCC}", {"n": "fresh"})
        assert mq.relay(batch=2).publish_pending() == 1
        fresh.reload()
        assert fresh.sent_at is not None
        assert OutboxEntry.objects(sent_at=None).count() == 5
        [message] = mq.take(tap, 1, settle=0.2)
        assert message.properties["message_id"] == fresh.event_id

    def test_a_malformed_request_is_dead_lettered_and_the_worker_goes_on(self, mq: Broker, city,
                                                                       caplog):
        caplog.set_level(logging.ERROR, logger="creditcase.queue")
        bad_schema = outbox.cloud_event("check.requested", "case/x", {"case_id": "not-an-id"},
                                        event_id="bad-schema-1")
        mq.publish_raw(bad_schema, exchange=CHECKS_EXCHANGE, routing_key=CHECK_REQUEST_KEY,
                       message_id="bad-schema-1")
        mq.publish_raw("this is not json", exchange=CHECKS_EXCHANGE,
                       routing_key=CHECK_REQUEST_KEY, content_type="text/plain",
                       content_encoding="utf-8", message_id="bad-type-1")
        case = apply_case(mq.runtime, city)
        with mq.running(fast(CheckWorker(mq.runtime)), Relay(mq.settings)):
            wait_for(lambda: state_of(case) == "checked", "the worker to check the good request")
            dead = mq.take(topology.DEAD_LETTER_QUEUE, 2, settle=0.2)
        assert sorted(m.properties["message_id"] for m in dead) == ["bad-schema-1", "bad-type-1"]
        assert all(m.delivery_info["routing_key"] == CHECK_REQUEST_KEY for m in dead)
        assert "bad-schema-1" in caplog.text and "bad-type-1" in caplog.text

    def test_a_failing_check_is_retried_then_dead_lettered(self, mq: Broker, city, monkeypatch):
        calls: list[str] = []

        def broken(case_id, request_id, requested_by, requested_at=None):
            calls.append(request_id)
            raise RuntimeError("channel exploded")

        case = apply_case(mq.runtime, city)
        monkeypatch.setattr(mq.runtime.workflow, "perform_check", broken)
        with mq.running(fast(CheckWorker(mq.runtime)), Relay(mq.settings)):
            [dead] = mq.take(topology.DEAD_LETTER_QUEUE, 1, settle=0.3)
        assert calls == [case.check_request_id] * topology.MAX_DELIVERIES
        assert dead.properties["message_id"] == case.check_request_id
        assert state_of(case) == "applied"
        assert DeliveryCount.objects.count() == 0  # the ledger forgets what it is done with

    def test_a_check_failing_once_succeeds_on_redelivery(self, mq: Broker, city, monkeypatch):
        real = mq.runtime.workflow.perform_check
        calls: list[str] = []

        def flaky(case_id, request_id, requested_by, requested_at=None):
            calls.append(request_id)
            if len(calls) == 1:
                raise ValueError("a channel answered nonsense")
            return real(case_id, request_id, requested_by, requested_at=requested_at)

        case = apply_case(mq.runtime, city)
        monkeypatch.setattr(mq.runtime.workflow, "perform_check", flaky)
        with mq.running(fast(CheckWorker(mq.runtime)), Relay(mq.settings)):
            wait_for(lambda: state_of(case) == "checked", "the redelivered request")
        assert len(calls) == 2
        assert mq.take(topology.DEAD_LETTER_QUEUE, 0, settle=0.2) == []
        assert DeliveryCount.objects.count() == 0

    def test_an_unreachable_database_is_retried_in_hand(self, mq: Broker, city, monkeypatch):
        real = mq.runtime.workflow.perform_check
        calls: list[str] = []

        def blinking(case_id, request_id, requested_by, requested_at=None):
            calls.append(request_id)
            if len(calls) < 3:
                raise pymongo.errors.AutoReconnect("connection reset by peer")
            return real(case_id, request_id, requested_by, requested_at=requested_at)

        case = apply_case(mq.runtime, city)
        mq.relay().publish_pending()
        monkeypatch.setattr(mq.runtime.workflow, "perform_check", blinking)
        with mq.running(fast(CheckWorker(mq.runtime))):
            wait_for(lambda: state_of(case) == "checked", "the check after the database is back")
        assert calls == [case.check_request_id] * 3
        # kept in hand: never requeued, so never counted as a redelivery
        assert DeliveryCount.objects.count() == 0
        assert mq.take(topology.DEAD_LETTER_QUEUE, 0, settle=0.2) == []

    def test_stopping_finishes_the_message_in_hand_and_takes_no_more(self, mq: Broker, city,
                                                                     monkeypatch):
        real = mq.runtime.workflow.perform_check
        worker = CheckWorker(mq.runtime)
        started = threading.Event()

        def slow(case_id, request_id, requested_by, requested_at=None):
            started.set()
            worker.stop_event.wait(5)  # the stop arrives while the check runs
            time.sleep(0.2)
            return real(case_id, request_id, requested_by, requested_at=requested_at)

        first, second = apply_case(mq.runtime, city), apply_case(mq.runtime, city, OTHER_USCC)
        assert mq.relay().publish_pending() == 4
        monkeypatch.setattr(mq.runtime.workflow, "perform_check", slow)
        with mq.running(worker):
            assert started.wait(WAIT)
            worker.stop_event.set()
        assert state_of(first) == "checked"
        assert state_of(second) == "applied"
        [left] = mq.take(topology.CHECK_REQUESTS_QUEUE, 1, settle=0.2)
        assert left.properties["message_id"] == second.check_request_id
        if mq.amqp:  # never handed to the stopping worker
            assert not left.delivery_info["redelivered"]

    def test_dead_letters_are_listed_and_replayed(self, mq: Broker, city, monkeypatch):
        real = mq.runtime.workflow.perform_check

        def broken(case_id, request_id, requested_by, requested_at=None):
            raise RuntimeError("channel plugin misconfigured")

        bad = outbox.cloud_event("check.requested", "case/x", {"case_id": "nope"},
                                 event_id="bad-schema-dlq")
        mq.publish_raw(bad, exchange=CHECKS_EXCHANGE, routing_key=CHECK_REQUEST_KEY,
                       message_id="bad-schema-dlq")
        case = apply_case(mq.runtime, city)
        monkeypatch.setattr(mq.runtime.workflow, "perform_check", broken)
        worker = fast(CheckWorker(mq.runtime))
        worker.max_deliveries = 2
        with mq.running(worker, Relay(mq.settings)):
            wait_for(lambda: deadletter.count(mq.conn, mq.settings) == 2, "two dead letters")
        letters = deadletter.peek(mq.conn, mq.settings)
        assert deadletter.peek(mq.conn, mq.settings) == letters  # looking removes nothing
        by_id = {letter.message_id: letter for letter in letters}
        assert set(by_id) == {"bad-schema-dlq", case.check_request_id}
        for letter in letters:
            assert letter.queue == topology.CHECK_REQUESTS_QUEUE
            assert letter.routing_key == CHECK_REQUEST_KEY
            assert letter.event_type == "cn.creditcase.check.requested"
            assert letter.replays == 0
        assert by_id[case.check_request_id].body["data"]["case_id"] == str(case.pk)
        if not mq.amqp:
            assert by_id["bad-schema-dlq"].reason == "invalid"
            assert by_id[case.check_request_id].reason == "failed"
        else:
            assert {letter.reason for letter in letters} == {"rejected"}

        monkeypatch.setattr(mq.runtime.workflow, "perform_check", real)
        report = deadletter.replay(mq.conn, mq.settings, limit=1)
        assert [r.message_id for r in report.replayed] == [letters[0].message_id]
        report = deadletter.replay(mq.conn, mq.settings)
        assert len(report.replayed) == 1 and not report.failed
        assert deadletter.count(mq.conn, mq.settings) == 0
        with mq.running(fast(CheckWorker(mq.runtime))):
            wait_for(lambda: state_of(case) == "checked", "the replayed request")
            wait_for(lambda: deadletter.count(mq.conn, mq.settings) == 1,
                     "the malformed request to die again")
        [again] = deadletter.peek(mq.conn, mq.settings)
        assert again.message_id == "bad-schema-dlq" and again.replays == 1

    def test_a_record_makes_the_case_stale_and_a_recheck_brings_it_back(self, mq: Broker, city):
        stop = threading.Event()
        threads = start_background(mq.runtime, stop, force=True)
        assert len(threads) == 3
        try:
            case = apply_case(mq.runtime, city)
            wait_for(lambda: state_of(case) == "checked", "the first check")
            first_check = Case.objects(pk=case.pk).first().latest_check_id
            records.push_record(city.provider, record_values("舞应急罚〔2026〕7号"))
            wait_for(lambda: entries("case.stale", case), "the stale marker")
            wait_for(lambda: (lambda c: c.state == "checked" and c.latest_check_id != first_check)(
                Case.objects(pk=case.pk).first()), "the re-check")
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=5)
        assert not any(t.is_alive() for t in threads)
        [stale] = entries("case.stale", case)
        assert "舞应急罚〔2026〕7号" in stale.body["data"]["reason"]
        assert len(entries("case.checked", case)) == 2
        assert ProcessedEvent.objects(consumer="stale-marker").count() == 1

    def test_a_duplicate_event_is_applied_once(self, mq: Broker, city):
        case = apply_case(mq.runtime, city)
        run_pending_checks(mq.runtime.workflow)
        assert state_of(case) == "checked"
        data = {"record_id": "r1", "subject_code": USCC, "kind": "penalty", "severity": "general",
                "doc_no": "舞市监罚〔2026〕3号", "major": False}
        duplicate = outbox.cloud_event("record.created", f"subject/{USCC}", data)
        sentinel = outbox.cloud_event("record.created", f"subject/{OTHER_USCC}",
                                      {**data, "subject_code": OTHER_USCC})
        for body in (duplicate, duplicate, sentinel):
            mq.publish_raw(body, exchange=EVENTS_EXCHANGE, routing_key="record.created",
                           message_id=body["id"], delivery_mode=2)
        with mq.running(StaleMarker(mq.runtime)):
            wait_for(lambda: ProcessedEvent.objects(event_id=sentinel["id"]).first(),
                     "the stale marker to reach the sentinel")
        assert ProcessedEvent.objects(event_id=duplicate["id"]).count() == 1
        assert len(entries("case.stale", case)) == 1
        assert state_of(case) == "stale"

    def test_events_that_change_no_check_are_ignored(self, mq: Broker, city):
        case = apply_case(mq.runtime, city)
        run_pending_checks(mq.runtime.workflow)
        published = outbox.cloud_event("record.published", f"subject/{USCC}",
                                       {"subject_code": USCC, "doc_no": "舞市监罚〔2026〕5号"})
        sentinel = outbox.cloud_event("record.created", f"subject/{OTHER_USCC}",
                                      {"subject_code": OTHER_USCC, "doc_no": "X-1"})
        # straight into the queue, as a binding of an older version would deliver it
        for body in (published, sentinel):
            mq.publish_raw(body, exchange="", routing_key=topology.STALE_MARKER_QUEUE,
                           message_id=body["id"])
        with mq.running(StaleMarker(mq.runtime)):
            wait_for(lambda: ProcessedEvent.objects(event_id=sentinel["id"]).first(),
                     "the stale marker to reach the sentinel")
        assert state_of(case) == "checked"
        assert not ProcessedEvent.objects(event_id=published["id"]).first()
        assert mq.take(topology.DEAD_LETTER_QUEUE, 0, settle=0.1) == []

    def test_a_serious_record_flags_a_decided_case_for_review(self, mq: Broker, city):
        case = apply_case(mq.runtime, city)
        run_pending_checks(mq.runtime.workflow)
        mq.runtime.workflow.decide(city.handler, str(case.pk), outcome="approved", feedback=[])
        major = outbox.cloud_event("record.created", f"subject/{USCC}",
                                   {"subject_code": USCC, "kind": "dishonest_debtor",
                                    "doc_no": "(2026)豫0481执12号", "major": True})
        minor = outbox.cloud_event("report.filed", f"subject/{USCC}",
                                   {"subject_code": USCC, "number": "R-1"})
        for body in (minor, major):
            mq.publish_raw(body, exchange=EVENTS_EXCHANGE,
                           routing_key=body["type"].removeprefix("cn.creditcase."))
        with mq.running(StaleMarker(mq.runtime)):
            wait_for(lambda: ProcessedEvent.objects.count() == 2, "both events")
        flags = Case.objects(pk=case.pk).first().review_flags
        assert [f.reason for f in flags] == [
            f"新增信用记录 (2026)豫0481执12号 [record.created {major['id']}]"]
        assert state_of(case) == "decided"

    def test_an_invalid_event_on_the_stale_marker_is_dead_lettered(self, mq: Broker):
        body = outbox.cloud_event("record.created", f"subject/{USCC}", {"kind": "penalty"})
        mq.publish_raw(body, exchange=EVENTS_EXCHANGE, routing_key="record.created",
                       message_id=body["id"])
        with mq.running(StaleMarker(mq.runtime)):
            [dead] = mq.take(topology.DEAD_LETTER_QUEUE, 1)
        assert dead.properties["message_id"] == body["id"]
        assert dead.delivery_info["routing_key"] == "record.created"
        assert ProcessedEvent.objects.count() == 0


class TestMemory(QueueContract):
    @pytest.fixture
    def broker_settings(self, settings: Settings) -> Settings:
        return dataclasses.replace(settings, amqp_url=None)


@pytest.fixture(scope="session")
def private_vhost_url(_rabbitmq_status: tuple[str, str | None]) -> Iterator[str | None]:
    """The test broker in a virtual host of this session, so that test runs sharing the
    broker never consume each other's messages; ``None`` without ``rabbitmqctl``."""
    url, problem = _rabbitmq_status
    if problem or shutil.which("rabbitmqctl") is None:
        yield None
        return
    parsed = kombu.Connection(url)
    vhost = f"creditcase-test-{uuid.uuid4().hex[:8]}"
    created = subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], capture_output=True,
                             check=False, timeout=120)
    if created.returncode != 0:
        yield None
        return
    try:
        subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, parsed.userid, ".*",
                        ".*", ".*"], capture_output=True, check=True, timeout=120)
        yield (f"amqp://{quote(parsed.userid, safe='')}:{quote(parsed.password, safe='')}@"
               f"{parsed.hostname}:{parsed.port or 5672}/{quote(vhost, safe='')}")
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True,
                       check=False, timeout=120)


@pytest.mark.rabbitmq
class TestRabbitMQ(QueueContract):
    @pytest.fixture
    def broker_settings(self, settings: Settings, rabbitmq_url: str,
                        private_vhost_url: str | None) -> Settings:
        return dataclasses.replace(settings, amqp_url=private_vhost_url or rabbitmq_url)

    def test_background_threads_only_in_embedded_mode_unless_forced(self, mq: Broker):
        assert start_background(mq.runtime, threading.Event()) == []

    def test_an_unroutable_entry_is_not_marked_sent(self, mq: Broker):
        fresh = Exchange(unique("nowhere"), type="topic", durable=False)
        fresh(mq.channel).declare()
        mq._cleanup.append(lambda: fresh(mq.channel).delete())
        body = outbox.cloud_event("objection.filed", f"subject/{USCC}", {"n": 1})
        uow = UnitOfWork()
        entry = uow.add(OutboxEntry(event_id=body["id"], exchange=fresh.name,
                                    routing_key="objection.filed", body=body,
                                    created_at=utcnow()))
        uow.commit()
        relay = mq.relay()
        assert relay.publish_pending() == 0
        entry.reload()
        assert entry.sent_at is None and entry.attempts == 1
        assert "NO_ROUTE" in entry.last_error
        assert entry.lease_until > utcnow()  # backing off, not retried in a tight loop
        assert relay.publish_pending() == 0
        # once someone listens, the waiting entry goes out
        tap = mq.tap("objection.*", exchange=fresh)
        entry.update(set__lease_until=utcnow() - dt.timedelta(seconds=1))
        assert relay.publish_pending() == 1
        entry.reload()
        assert entry.sent_at is not None and entry.last_error is None
        [message] = mq.take(tap, 1, settle=0.2)
        assert message.properties["message_id"] == body["id"]

    def test_a_missing_exchange_fails_one_entry_and_the_rest_still_go(self, mq: Broker):
        tap = mq.tap("objection.*")
        body = outbox.cloud_event("objection.filed", f"subject/{USCC}", {"n": 0})
        uow = UnitOfWork()
        lost = uow.add(OutboxEntry(event_id=body["id"], exchange=unique("missing"),
                                   routing_key="objection.filed", body=body, created_at=utcnow()))
        uow.commit()
        good = emit("objection.filed", f"subject/{USCC}", {"n": 1})
        relay = mq.relay()
        sent = relay.publish_pending()
        sent += relay.publish_pending()
        assert sent == 1
        lost.reload()
        good.reload()
        assert lost.sent_at is None and "NOT_FOUND" in lost.last_error
        assert good.sent_at is not None
        [message] = mq.take(tap, 1, settle=0.2)
        assert message.properties["message_id"] == good.event_id

    def test_a_message_that_kills_its_consumer_is_dead_lettered_after_the_limit(
            self, mq: Broker, city, monkeypatch):
        # memory:// drops what a closed channel had not acknowledged (its broker lives
        # and dies with the process), so only a real broker hands the message out again
        class Crash(BaseException):
            """What a consumer dying in the middle of a message looks like from inside."""

        calls: list[str] = []

        def deadly(case_id, request_id, requested_by, requested_at=None):
            calls.append(request_id)
            raise Crash()

        case = apply_case(mq.runtime, city)
        mq.relay().publish_pending()
        monkeypatch.setattr(mq.runtime.workflow, "perform_check", deadly)
        for crashes in range(1, topology.MAX_DELIVERIES + 1):
            worker = fast(CheckWorker(mq.runtime))
            died: list[BaseException] = []

            def consume(worker=worker, died=died) -> None:
                try:
                    worker.run(safety_interval=0.1)
                except Crash as exc:  # the connection closes with the message unacknowledged
                    died.append(exc)
                finally:
                    worker.connection.release()

            thread = threading.Thread(target=consume, daemon=True)
            thread.start()
            thread.join(timeout=WAIT)
            assert died and not thread.is_alive(), f"worker {crashes} should have crashed"
            assert len(calls) == crashes
        # the next delivery is over the limit: dead-lettered without being worked on
        with mq.running(fast(CheckWorker(mq.runtime))):
            [dead] = mq.take(topology.DEAD_LETTER_QUEUE, 1, settle=0.2)
        assert len(calls) == topology.MAX_DELIVERIES
        assert dead.properties["message_id"] == case.check_request_id
        assert DeliveryCount.objects.count() == 0

    def test_every_event_is_routable_and_kept_in_the_event_log(self, mq: Broker, city):
        since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)
        # nobody but the event log subscribes to these
        made = [emit("objection.filed", f"subject/{USCC}", {"n": 1}),
                emit(f"{unique('nobody')}.happened", f"subject/{USCC}", {"n": 2})]
        relay = mq.relay()
        assert relay.publish_pending() == 2
        for entry in made:
            entry.reload()
            assert entry.sent_at is not None and entry.attempts == 1 and not entry.last_error
        found = read_event_log(mq.conn, since, {e.event_id for e in made})
        assert {m.properties["message_id"] for m in found.values()} == {e.event_id for e in made}
        # a stream is not consumed away: a second reader sees the same tail
        again = read_event_log(mq.conn, since, {e.event_id for e in made})
        assert set(again) == set(found)

    def test_quorum_queues_count_deliveries_and_dead_letter(self, mq: Broker, city, monkeypatch):
        quorum = dataclasses.replace(mq.settings, quorum_queues=True)
        prefix = unique("quorum") + "."
        checks = Exchange(prefix + CHECKS_EXCHANGE, type="direct", durable=True)
        dlx = Exchange(prefix + topology.DEAD_LETTER_EXCHANGE, type="fanout", durable=True)
        declared = {}
        for queue in topology.topology(quorum).queues:
            if queue.name not in (topology.CHECK_REQUESTS_QUEUE, topology.DEAD_LETTER_QUEUE):
                continue
            arguments = dict(queue.queue_arguments)
            assert arguments["x-queue-type"] == "quorum"
            if "x-dead-letter-exchange" in arguments:
                arguments["x-dead-letter-exchange"] = dlx.name
                assert arguments["x-delivery-limit"] == topology.MAX_DELIVERIES
            exchange = dlx if queue.name == topology.DEAD_LETTER_QUEUE else checks
            copy = Queue(prefix + queue.name, exchange=exchange, routing_key=CHECK_REQUEST_KEY,
                         durable=True, queue_arguments=arguments)(mq.channel)
            for entity in (exchange(mq.channel), copy):
                entity.declare()
            mq._cleanup.append(copy.delete)
            declared[queue.name] = copy
        for exchange in (checks, dlx):
            mq._cleanup.append((lambda e: lambda: e(mq.channel).delete())(exchange))

        class QuorumWorker(CheckWorker):
            def queues(self) -> list[Queue]:
                return [declared[topology.CHECK_REQUESTS_QUEUE]]

        calls: list[str] = []

        def broken(case_id, request_id, requested_by, requested_at=None):
            calls.append(request_id)
            raise RuntimeError("channel exploded")

        request = outbox.cloud_event("check.requested", "case/x",
                                     {"case_id": "0" * 24, "request_id": "q-1",
                                      "requested_by": "handler"}, event_id="q-1")
        mq.publish_raw(request, exchange=checks.name, routing_key=CHECK_REQUEST_KEY,
                       message_id="q-1", delivery_mode=2)
        monkeypatch.setattr(mq.runtime.workflow, "perform_check", broken)
        worker = fast(QuorumWorker(Runtime(quorum, mq.runtime.host, mq.runtime.workflow,
                                           mq.runtime.mongodb_uri)))
        assert worker.broker_counts
        with mq.running(worker):
            [dead] = mq.take(declared[topology.DEAD_LETTER_QUEUE].name, 1, settle=0.2)
        assert calls == ["q-1"] * topology.MAX_DELIVERIES
        # the broker counted the deliveries: no ledger rows were needed
        assert DeliveryCount.objects.count() == 0
        [death] = dead.headers["x-death"]
        assert death["queue"] == declared[topology.CHECK_REQUESTS_QUEUE].name
        assert (death["reason"], death["count"]) == ("rejected", 1)

    def test_heartbeats_are_negotiated(self, mq: Broker):
        conn = topology.connection(mq.settings, name="creditcase-heartbeat-test")
        try:
            conn.ensure_connection(max_retries=1)
            assert conn.connection.heartbeat == topology.HEARTBEAT_SECONDS
            conn.heartbeat_check()
        finally:
            conn.release()

    def test_an_unreachable_broker_releases_entries_without_counting(self, mq: Broker):
        made = [emit("objection.filed", f"subject/{USCC}", {"n": i}) for i in range(3)]
        nowhere = dataclasses.replace(mq.settings, amqp_url="amqp://guest:guest@127.0.0.1:1//")
        relay = Relay(nowhere)
        with pytest.raises(relay_module.BrokerUnavailable):
            relay.publish_pending()
        for entry in made:
            entry.reload()
            assert entry.sent_at is None and entry.lease_owner is None and entry.attempts == 0
        assert mq.relay().publish_pending() == 3

    def test_the_dlq_commands(self, mq: Broker, city, monkeypatch):
        from click.testing import CliRunner

        from creditcase.cli import main

        bad = outbox.cloud_event("check.requested", "case/x", {"case_id": "nope"},
                                 event_id="bad-for-cli")
        mq.publish_raw(bad, exchange=CHECKS_EXCHANGE, routing_key=CHECK_REQUEST_KEY,
                       message_id="bad-for-cli")
        with mq.running(CheckWorker(mq.runtime)):
            mq.take(topology.DEAD_LETTER_QUEUE, 0)
            wait_for(lambda: deadletter.count(mq.conn, mq.settings) == 1, "the dead letter")
        monkeypatch.setenv("CREDITCASE_AMQP_URL", mq.settings.amqp_url)
        runner = CliRunner()
        listed = runner.invoke(main, ["dlq", "list"], catch_exceptions=False)
        assert listed.exit_code == 0
        assert "1 message(s)" in listed.output
        assert "bad-for-cli" in listed.output and f"queue={topology.CHECK_REQUESTS_QUEUE}" in \
            listed.output
        as_json = json.loads(runner.invoke(main, ["dlq", "list", "--json"]).output)
        assert as_json["total"] == 1
        assert as_json["messages"][0]["body"]["data"] == {"case_id": "nope"}
        replayed = runner.invoke(main, ["dlq", "replay", "--limit", "5"], catch_exceptions=False)
        assert replayed.exit_code == 0, replayed.output
        assert "1 replayed, 0 left" in replayed.output
        [back] = mq.take(topology.CHECK_REQUESTS_QUEUE, 1)
        assert back.properties["message_id"] == "bad-for-cli"
        assert back.headers["x-creditcase-replays"] == 1
        monkeypatch.delenv("CREDITCASE_AMQP_URL")
        refused = runner.invoke(main, ["dlq", "list"])
        assert refused.exit_code != 0 and "CREDITCASE_AMQP_URL" in refused.output

    def test_the_documented_pika_consumer(self, mq: Broker, city, tmp_path):
        example = load_pika_example()
        url = mq.conn
        params = example.connection_parameters(
            f"amqp://{url.userid}:{url.password}@{url.hostname}:{url.port or 5672}/"
            f"{quote(url.virtual_host, safe='')}")
        queue = unique("pika-example")
        ledger = tmp_path / "events.sqlite3"
        connection = example.pika.BlockingConnection(params)
        try:
            channel = connection.channel()
            example.declare(channel, queue, ["case.*", "record.*"])
            channel.queue_declare(queue, passive=True)
            case = apply_case(mq.runtime, city)
            run_pending_checks(mq.runtime.workflow)
            records.push_record(city.provider, record_values("舞应急罚〔2026〕11号"))
            relay = mq.relay()
            relay.publish_pending()
            # a duplicate on the wire: the relay sends one event again
            checked = entries("case.checked", case)[0]
            checked.update(unset__sent_at=True, unset__lease_until=True)
            relay.publish_pending()
            handled = example.consume(channel, queue, example.sqlite_store(str(ledger)),
                                      stop_after=4, idle_timeout=WAIT)
        finally:
            channel.queue_delete(queue)
            connection.close()
        assert handled == 4
        import sqlite3

        with contextlib.closing(sqlite3.connect(ledger)) as db:
            stored = dict(db.execute("SELECT id, type FROM events").fetchall())
        assert sorted(stored.values()) == [
            "cn.creditcase.case.applied", "cn.creditcase.case.checked",
            "cn.creditcase.record.created"]
        assert set(stored) == {e.event_id for e in entries("case.applied", case)
                              + entries("case.checked", case) + entries("record.created")}

    def test_a_plain_pika_consumer_receives_cloudevents(self, mq: Broker, city):
        import pika

        url = mq.conn  # kombu parsed the URL; pika spells the default vhost differently
        params = pika.ConnectionParameters(
            host=url.hostname, port=url.port or 5672, virtual_host=url.virtual_host,
            credentials=pika.PlainCredentials(url.userid, url.password))
        with contextlib.closing(pika.BlockingConnection(params)) as connection:
            channel = connection.channel()
            channel.exchange_declare(EVENTS_EXCHANGE, exchange_type="topic", durable=True)
            queue = channel.queue_declare("", exclusive=True).method.queue
            for key in ("case.*", "record.*"):
                channel.queue_bind(queue, EVENTS_EXCHANGE, routing_key=key)
            case = apply_case(mq.runtime, city)
            run_pending_checks(mq.runtime.workflow)
            records.push_record(city.provider, record_values("舞应急罚〔2026〕9号"))
            mq.relay().publish_pending()

            received: dict[str, tuple[Any, dict]] = {}
            deadline = time.monotonic() + WAIT
            while len(received) < 3 and time.monotonic() < deadline:
                method, properties, payload = channel.basic_get(queue, auto_ack=True)
                if method is None:
                    connection.sleep(0.02)
                    continue
                body = json.loads(payload)
                received[method.routing_key] = (properties, body)
        assert set(received) == {"case.applied", "case.checked", "record.created"}
        for routing_key, (properties, body) in received.items():
            assert properties.message_id == body["id"]
            assert properties.delivery_mode == 2
            assert properties.content_type == "application/json"
            assert body["specversion"] == "1.0"
            assert body["type"] == f"cn.creditcase.{routing_key}"
            assert body["source"] == "urn:creditcase"
            assert body["datacontenttype"] == "application/json"
            assert body["time"].endswith("Z")
        assert received["case.checked"][1]["subject"] == f"case/{case.pk}"
        assert received["record.created"][1]["data"]["subject_code"] == USCC


@pytest.mark.parametrize("quorum", [False, True])
@pytest.mark.parametrize("url", ["amqp://u:p@broker:5672//", None])
def test_topology_arguments(settings: Settings, quorum: bool, url: str | None):
    entities = topology.topology(dataclasses.replace(settings, quorum_queues=quorum, amqp_url=url))
    queues = {q.name: q for q in entities.queues}
    work_queues = {topology.CHECK_REQUESTS_QUEUE, topology.STALE_MARKER_QUEUE,
                   topology.DEAD_LETTER_QUEUE}
    assert set(queues) == (work_queues | {topology.EVENT_LOG_QUEUE} if url else work_queues)
    for name in work_queues:
        queue = queues[name]
        assert queue.durable
        assert (queue.queue_arguments.get("x-queue-type") == "quorum") is quorum
        dead_letters = queue.queue_arguments.get("x-dead-letter-exchange")
        assert dead_letters == (None if name == topology.DEAD_LETTER_QUEUE
                                else topology.DEAD_LETTER_EXCHANGE)
        limit = queue.queue_arguments.get("x-delivery-limit")
        assert limit == (topology.MAX_DELIVERIES if quorum and dead_letters else None)
    checks = queues[topology.CHECK_REQUESTS_QUEUE]
    assert (checks.exchange.name, checks.exchange.type, checks.routing_key) == (
        CHECKS_EXCHANGE, "direct", CHECK_REQUEST_KEY)
    stale = queues[topology.STALE_MARKER_QUEUE]
    assert {(b.exchange.name, b.routing_key) for b in stale.bindings} == {
        (EVENTS_EXCHANGE, key) for key in ("record.created", "record.updated", "record.revoked",
                                           "list.entry.added", "list.entry.removed",
                                           "report.filed", "report.invalidated")}
    if url:
        log_queue = queues[topology.EVENT_LOG_QUEUE]
        assert (log_queue.exchange.name, log_queue.routing_key) == (EVENTS_EXCHANGE, "#")
        assert log_queue.durable and log_queue.queue_arguments["x-queue-type"] == "stream"
        assert log_queue.queue_arguments["x-max-length-bytes"] > 0
    assert {(e.name, e.type, e.durable) for e in entities.exchanges} == {
        (EVENTS_EXCHANGE, "topic", True), (CHECKS_EXCHANGE, "direct", True),
        (topology.DEAD_LETTER_EXCHANGE, "fanout", True)}


def test_backoff_doubles_and_is_capped():
    assert [topology.backoff(n, 0.5, 3) for n in range(1, 6)] == [0.5, 1, 2, 3, 3]


def test_connection_options(settings: Settings):
    amqp = topology.connection(dataclasses.replace(settings, amqp_url="amqp://u:p@broker:5672//"))
    assert amqp.transport_options["confirm_publish"] is True
    assert amqp.transport_options["max_retries"] == topology.CONNECTION_RETRY["max_retries"]
    assert amqp.heartbeat == topology.HEARTBEAT_SECONDS
    memory = topology.connection(dataclasses.replace(settings, amqp_url=None))
    assert "confirm_publish" not in memory.transport_options
    assert memory.transport_options["max_retries"] == topology.CONNECTION_RETRY["max_retries"]


# -- the documented contract ----------------------------------------------------------------------

DOCS = Path(__file__).resolve().parents[2] / "docs" / "events.md"


def documented_examples() -> dict[str, dict]:
    """The JSON examples of docs/events.md, by event type."""
    blocks = re.findall(r"```json\n(.*?)```", DOCS.read_text("utf-8"), flags=re.S)
    examples = [json.loads(block) for block in blocks]
    return {example["type"]: example for example in examples}


def test_every_emitted_event_type_is_documented():
    text = DOCS.read_text("utf-8")
    documented = set(re.findall(r"`([a-z_]+(?:\.[a-z_]+)+)`", text))
    literal, families = set(), set()
    for path in (Path(__file__).resolve().parents[2] / "creditcase").rglob("*.py"):
        source = path.read_text("utf-8")
        literal |= set(re.findall(r"outbox\.emit\(\s*uow,\s*\"([a-z_.]+)\"", source))
        families |= set(re.findall(r"outbox\.emit\(\s*uow,\s*f\"([a-z_]+)\.\{", source))
    assert literal, "no emitted events found: has outbox.emit changed?"
    assert literal - documented == set()
    for family in families:
        assert any(key.startswith(f"{family}.") for key in documented), family
    for key in topology.STALE_MARKER_KEYS:
        assert key in documented


def test_documented_examples_have_the_fields_the_code_emits(workflow, city):
    case = workflow.apply(city.handler, domain="msgtest", matter="测试采购项目",
                          subject={"code": USCC, "name": "舞钢测试建设有限公司"},
                          data={"project": "WG-2026-001"})
    run_pending_checks(workflow)
    records.push_record(city.provider, record_values("舞应急罚〔2026〕31号"))
    workflow.subject_changed(USCC, "新增信用记录 舞应急罚〔2026〕31号", serious=False)
    run_pending_checks(workflow)
    workflow.decide(city.handler, str(case.pk), outcome="approved",
                    feedback=[{"measure": m["code"], "applied": True}
                              for m in workflow.latest_check(Case.objects(pk=case.pk).first())
                              .measures])
    workflow.archive(city.handler, str(case.pk))
    other = workflow.apply(city.handler, domain="msgtest", matter="测试采购项目",
                           subject={"code": OTHER_USCC, "name": "另一测试公司"},
                           data={"project": "WG-2026-002"})
    workflow.withdraw(city.handler, str(other.pk), "申请人撤回")
    examples = documented_examples()
    emitted = {entry.body["type"]: entry.body for entry in OutboxEntry.objects}
    checked = set()
    for event_type, body in emitted.items():
        example = examples.get(event_type)
        assert example is not None, f"{event_type} has no example in docs/events.md"
        assert set(example) == set(body), event_type
        assert set(example["data"]) == set(body["data"]), event_type
        checked.add(event_type)
    assert {f"cn.creditcase.{key}" for key in ("case.applied", "case.checked", "case.stale",
                                               "case.decided", "case.archived", "case.withdrawn",
                                               "record.created", "check.requested")} <= checked
