"""Killing and stopping real ``creditcase worker`` and ``creditcase relay`` processes.

The processes run against a standalone SecantusDB server and a private
RabbitMQ virtual host (see ``conftest``). The exact moment of a kill is reached
through the pause points of :mod:`creditcase.queue.faults`: the process logs
that it is pausing, the test acts.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

import kombu
import pytest

from creditcase.core import outbox, records
from creditcase.core.cases import Case
from creditcase.core.checks import CreditCheck
from creditcase.core.db import UnitOfWork, utcnow
from creditcase.core.outbox import CHECK_REQUEST_KEY, CHECKS_EXCHANGE, EVENTS_EXCHANGE, OutboxEntry
from creditcase.core.runtime import Runtime
from creditcase.queue import deadletter, topology
from creditcase.queue.consumers import DeliveryCount, ProcessedEvent, StaleMarker
from creditcase.queue.relay import LEASE_ID, Relay, RelayLease
from creditcase.testing import run_pending_checks

pytestmark = [pytest.mark.rabbitmq, pytest.mark.fault, pytest.mark.timeout(120)]

USCC = "91350100M000100Y43"


def state_of(case: Case) -> str:
    return Case.objects(pk=case.pk).only("state").first().state


def case_entries(routing_key: str, case: Case) -> list[OutboxEntry]:
    return list(OutboxEntry.objects(routing_key=routing_key, body__subject=f"case/{case.pk}"))


def publish_outbox(settings) -> int:
    with Relay(settings) as relay:
        return relay.publish_pending()


def test_a_worker_killed_mid_check_leaves_the_request_to_the_next(
        fault_settings, broker, processes, apply_case, helpers):
    case = apply_case()
    request = case.check_request_id
    assert publish_outbox(fault_settings) == 2

    first = processes("worker", check=60)
    first.wait_for(rf"fault-test pause CHECK request {request}")
    first.kill()  # holding the request, nothing stored yet
    assert state_of(case) == "applied"

    second = processes("worker", ack=60)
    second.wait_for(rf"fault-test pause ACK request {request}")
    assert state_of(case) == "checked"  # stored, not acknowledged
    second.kill()

    third = processes("worker")
    third.wait_for(rf"check request {request} for case {case.pk} no longer needed; acknowledged")
    assert third.terminate() == 0

    assert CreditCheck.objects(case_id=str(case.pk)).count() == 1
    assert len(case_entries("case.checked", case)) == 1
    assert Case.objects(pk=case.pk).first().latest_check_id
    assert helpers.queue_depth(broker, topology.CHECK_REQUESTS_QUEUE) == 0
    assert deadletter.count(broker, fault_settings) == 0
    assert DeliveryCount.objects.count() == 0  # the third delivery (counted) was forgotten


def test_sigterm_lets_the_worker_finish_the_check_in_hand(fault_settings, broker, processes,
                                                          apply_case, helpers):
    case = apply_case()
    publish_outbox(fault_settings)
    worker = processes("worker", check=2)
    worker.wait_for(rf"fault-test pause CHECK request {case.check_request_id}")
    assert state_of(case) == "applied"
    assert worker.terminate() == 0
    assert state_of(case) == "checked"
    lines = worker.lines
    signalled = next(i for i, line in enumerate(lines) if "signal 15" in line)
    checked = next(i for i, line in enumerate(lines) if f"case {case.pk} checked" in line)
    stopped = next(i for i, line in enumerate(lines) if "check-worker stopped" in line)
    assert signalled < checked < stopped
    # acknowledged before the exit: nothing went back to the queue
    assert helpers.queue_depth(broker, topology.CHECK_REQUESTS_QUEUE) == 0
    assert CreditCheck.objects(case_id=str(case.pk)).count() == 1


def test_sigterm_lets_the_relay_mark_what_it_published(fault_settings, broker, processes):
    uow = UnitOfWork()
    entry = outbox.emit(uow, "objection.filed", f"subject/{USCC}", {"objection_id": "o-1"})
    uow.commit()
    relay = processes("relay", relay_mark=2)
    relay.wait_for(r"fault-test pause RELAY_MARK")
    assert relay.terminate() == 0
    entry.reload()
    assert entry.sent_at is not None and entry.attempts == 1


def test_a_relay_killed_between_publish_and_mark_sends_again_and_it_is_applied_once(
        fault_settings, broker, processes, apply_case, city, workflow, host, helpers, caplog):
    caplog.set_level(logging.INFO, logger="creditcase.queue")
    case = apply_case()
    run_pending_checks(workflow)
    publish_outbox(fault_settings)
    with broker.channel() as channel:
        tap = kombu.Queue(f"fault.tap.{case.pk}", exchange=topology.EVENTS,
                          routing_key="record.*", durable=False)(channel)
        tap.declare()
    runtime = Runtime(fault_settings, host, workflow, fault_settings.mongodb_uri)
    stop = threading.Event()
    marker = StaleMarker(runtime, stop)
    thread = threading.Thread(target=marker.run, daemon=True)
    thread.start()
    try:
        records.push_record(city.provider, {
            "subject_code": USCC, "subject_name": "舞钢测试建设有限公司", "kind": "penalty",
            "severity": "general", "title": "未按规定履行安全生产职责",
            "doc_no": "舞应急罚〔2026〕21号", "decision_date": dt.date(2026, 3, 2),
            "authority": "舞钢市应急管理局"})
        [entry] = OutboxEntry.objects(routing_key="record.created")

        first = processes("relay", relay_mark=60)
        first.wait_for(r"fault-test pause RELAY_MARK")
        first.kill()  # confirmed by the broker, never marked sent
        entry.reload()
        assert entry.sent_at is None and entry.attempts == 0
        lease = RelayLease.objects(id=LEASE_ID).first()
        assert entry.pk in lease.inflight  # the dead relay's batch
        helpers.wait_for(lambda: ProcessedEvent.objects(event_id=entry.event_id).count(),
                         "the stale marker to apply the first copy")
        helpers.wait_for(lambda: case_entries("case.stale", case), "the case to go stale")

        # the dead relay's lease runs out (moved into the past instead of waiting 15 s)
        lease.update(set__until=utcnow() - dt.timedelta(seconds=1))
        second = processes("relay")
        helpers.wait_for(lambda: OutboxEntry.objects(pk=entry.pk, sent_at__ne=None).count(),
                         "the second relay to send the entry")
        helpers.wait_for(lambda: "already applied; duplicate acknowledged" in caplog.text,
                         "the stale marker to acknowledge the duplicate")
        assert second.terminate() == 0
    finally:
        stop.set()
        thread.join(timeout=10)
        marker.connection.release()
    entry.reload()
    assert entry.attempts == 2  # the dead relay's attempt, counted at the takeover, and ours
    with broker.channel() as channel:
        copies = []
        while (message := tap(channel).get(no_ack=True)) is not None:
            copies.append(message.properties["message_id"])
        tap(channel).delete()
    assert copies == [entry.event_id, entry.event_id]  # sent twice on the wire
    assert ProcessedEvent.objects(event_id=entry.event_id).count() == 1  # applied once
    assert len(case_entries("case.stale", case)) == 1
    assert state_of(case) == "stale"


def test_malformed_messages_go_to_the_dead_letter_queue_and_the_worker_goes_on(
        fault_settings, broker, processes, apply_case, helpers):
    producer = kombu.Producer(broker.default_channel)
    producer.publish("certainly not json", exchange=CHECKS_EXCHANGE,
                     routing_key=CHECK_REQUEST_KEY, content_type="text/plain",
                     content_encoding="utf-8", message_id="fault-not-json")
    wrong = outbox.cloud_event("check.requested", "case/x", {"case_id": "x"},
                               event_id="fault-bad-request")
    producer.publish(wrong, exchange=CHECKS_EXCHANGE, routing_key=CHECK_REQUEST_KEY,
                     message_id=wrong["id"])
    no_subject = outbox.cloud_event("record.created", f"subject/{USCC}", {"kind": "penalty"},
                                    event_id="fault-bad-record")
    producer.publish(no_subject, exchange=EVENTS_EXCHANGE, routing_key="record.created",
                     message_id=no_subject["id"])
    case = apply_case()
    publish_outbox(fault_settings)
    worker = processes("worker")
    helpers.wait_for(lambda: state_of(case) == "checked", "the good request after the bad ones")
    helpers.wait_for(lambda: deadletter.count(broker, fault_settings) == 3, "three dead letters")
    assert worker.proc.poll() is None, "the worker must keep consuming"
    for event_id in ("fault-not-json", "fault-bad-request", "fault-bad-record"):
        assert event_id in worker.output
    letters = {letter.message_id: letter for letter in deadletter.peek(broker, fault_settings)}
    assert {k: v.queue for k, v in letters.items()} == {
        "fault-not-json": topology.CHECK_REQUESTS_QUEUE,
        "fault-bad-request": topology.CHECK_REQUESTS_QUEUE,
        "fault-bad-record": topology.STALE_MARKER_QUEUE}
    # still consuming: one more good request after the poison
    second = apply_case("91110000600037341L", "另一测试公司")
    publish_outbox(fault_settings)
    helpers.wait_for(lambda: state_of(second) == "checked", "a request after the dead letters")
    assert worker.terminate() == 0
