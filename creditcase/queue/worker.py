"""The check worker, and the ``creditcase worker`` process.

A request on ``creditcase.check-requests`` is a ``cn.creditcase.check.requested``
CloudEvent written by ``outbox.request_check``. :class:`CheckWorker` calls
:meth:`WorkflowService.perform_check` and acknowledges only after it returns,
so a worker that dies mid-check leaves the request to another worker. A
request the case no longer needs (superseded by a newer request, decided,
withdrawn, already done) returns ``None`` and is acknowledged and ignored; a
repeated delivery of a done request is therefore harmless, and a case is
checked once per request however often the request arrives.

A body failing :class:`~creditcase.queue.consumers.CheckRequestSchema` is
dead-lettered at once. An exception while checking is retried with a pause,
and a request that fails (or kills its worker) on every one of
:data:`~creditcase.queue.topology.MAX_DELIVERIES` deliveries goes to the
dead-letter queue rather than looping forever. The case then keeps waiting,
visible in the handler's queue, until the check is requested again or an
operator replays the dead-letter queue (``creditcase dlq replay``).

:func:`run_worker` is the ``creditcase worker`` process: a check worker and a
stale marker (:class:`~creditcase.queue.consumers.StaleMarker`), each on its
own connection. Run as many worker processes as the checks need; they share
both queues. Stopping (SIGTERM or SIGINT from the CLI, or the stop event) lets
the message in hand finish and be acknowledged before the process exits.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

import kombu

from creditcase.queue import faults, topology
from creditcase.queue.consumers import BaseConsumer, CheckRequestSchema, StaleMarker

if TYPE_CHECKING:
    from creditcase.core.runtime import Runtime

log = logging.getLogger(__name__)


class CheckWorker(BaseConsumer):
    """Consumes check requests and performs them."""

    name = "check-worker"
    # One at a time: a check queries several channels and can take seconds, so a
    # larger window would park requests on this worker that an idle worker could
    # start now, and on shutdown only the one request in hand has to be finished.
    prefetch_count = 1
    schema = CheckRequestSchema

    def queues(self) -> list[kombu.Queue]:
        return [topology.check_requests_queue(self.runtime.settings)]

    def work(self, event: dict[str, Any], message: kombu.Message) -> None:
        data = event["data"]
        faults.pause(faults.CHECK, f"request {data['request_id']} case {data['case_id']}")
        check = self.workflow.perform_check(data["case_id"], data["request_id"],
                                            data["requested_by"], requested_at=event["time"])
        if check is None:
            log.info("check request %s for case %s no longer needed; acknowledged",
                     data["request_id"], data["case_id"])
        else:
            log.info("case %s checked (request %s, check %s)", data["case_id"],
                     data["request_id"], check.pk)
            faults.pause(faults.ACK, f"request {data['request_id']} case {data['case_id']}")


def run_worker(runtime: Runtime, stop_event: threading.Event) -> None:
    """Declare the topology, then run a check worker (in this thread) and a stale
    marker (in a second thread) until ``stop_event`` is set; each finishes the
    message in hand first. Returns when both have stopped."""
    worker = CheckWorker(runtime, stop_event)
    marker = StaleMarker(runtime, stop_event)
    topology.declare_all(worker.connection, runtime.settings)

    failures: list[BaseException] = []

    def run_marker() -> None:
        try:
            marker.run()
        except BaseException as exc:  # run() only returns on stop; anything else ends the process
            log.exception("stale marker stopped by an error")
            failures.append(exc)
            stop_event.set()
        finally:
            marker.connection.release()

    thread = threading.Thread(target=run_marker, name="creditcase-stale-marker")
    thread.start()
    try:
        worker.run()
    finally:
        stop_event.set()
        thread.join()
        worker.connection.release()
    if failures:
        raise RuntimeError("the stale marker stopped by an error") from failures[0]
