"""The check worker: performs the credit checks requested on
``creditcase.check-requests``.

A request is a ``cn.creditcase.check.requested`` CloudEvent written by
``outbox.request_check``. The worker calls
:meth:`WorkflowService.perform_check` and acknowledges only after it returns,
so a worker that dies mid-check leaves the request to another worker. A
request the case no longer needs (superseded by a newer request, decided,
withdrawn, already done) returns ``None`` and is acknowledged and ignored; a
repeated delivery of a done request is therefore harmless.

A body failing :class:`~creditcase.queue.consumers.CheckRequestSchema` is
dead-lettered at once. An exception while checking (the database unreachable,
a channel raising) is retried once by requeueing; if the redelivered request
fails again it goes to the dead-letter queue rather than looping forever. The
case then keeps waiting, visible in the handler's queue, until the check is
requested again or an operator replays the dead-letter queue.

Stopping (``should_stop``, set from SIGTERM by the CLI, or the stop event)
lets the check in hand finish and be acknowledged before the worker exits.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

import kombu
import marshmallow as ma

from creditcase.queue import topology
from creditcase.queue.consumers import BaseConsumer, CheckRequestSchema

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

    def queues(self) -> list[kombu.Queue]:
        return [topology.check_requests_queue(self.runtime.settings)]

    def on_message(self, body: Any, message: kombu.Message) -> None:
        try:
            event = CheckRequestSchema().load(body)
        except ma.ValidationError as exc:
            self.invalid(message, body, exc)
            return
        data = event["data"]
        try:
            check = self.workflow.perform_check(data["case_id"], data["request_id"],
                                                data["requested_by"], requested_at=event["time"])
        except Exception:
            self.failed(message, body)
            return
        message.ack()
        if check is None:
            log.info("check request %s for case %s no longer needed; acknowledged",
                     data["request_id"], data["case_id"])
        else:
            log.info("case %s checked (request %s, check %s)", data["case_id"],
                     data["request_id"], check.pk)


def run_worker(runtime: Runtime, stop_event: threading.Event) -> None:
    """Declare the topology, then run one check worker in this thread until
    ``stop_event`` is set; the check in hand is finished first."""
    worker = CheckWorker(runtime, stop_event)
    topology.declare_all(worker.connection, runtime.settings)
    try:
        worker.run()
    finally:
        worker.connection.release()
