"""Pause points for fault tests of the worker and relay processes.

A fault test has to stop a real ``creditcase worker`` or ``creditcase relay``
process (``kill -9``, SIGTERM) at one exact moment: while a check request is in
hand, after a check is stored but before its message is acknowledged, after the
broker confirmed a message but before the outbox entry is marked sent. These
moments last microseconds in normal running, so each has a pause point that
sleeps when its environment variable holds a number of seconds:

=========================================  ==============================================
``CREDITCASE_TEST_CHECK_DELAY``            a check request is in hand, before the check runs
``CREDITCASE_TEST_ACK_DELAY``              the check is stored, before the acknowledgement
``CREDITCASE_TEST_RELAY_MARK_DELAY``       messages are confirmed, before the entries are
                                           marked sent
=========================================  ==============================================

Unset (the only setting for real deployments) they do nothing. A pause is
logged at WARNING, so a process started with one is never mistaken for a
healthy one; the test reads that line to know the moment has come.
"""

from __future__ import annotations

import logging
import os
import time

log = logging.getLogger(__name__)

CHECK = "CHECK"
ACK = "ACK"
RELAY_MARK = "RELAY_MARK"
POINTS = (CHECK, ACK, RELAY_MARK)


def variable(point: str) -> str:
    return f"CREDITCASE_TEST_{point}_DELAY"


def delay(point: str) -> float:
    """Seconds configured for ``point`` (0 when unset or not a positive number)."""
    raw = os.environ.get(variable(point), "")
    try:
        seconds = float(raw) if raw.strip() else 0.0
    except ValueError:
        log.error("%s=%r is not a number of seconds; ignored", variable(point), raw)
        return 0.0
    return max(seconds, 0.0)


def pause(point: str, detail: str = "") -> None:
    """Sleep at ``point`` if its variable is set; otherwise return at once."""
    seconds = delay(point)
    if seconds:
        log.warning("fault-test pause %s %s: sleeping %ss (%s is set)", point, detail,
                    seconds, variable(point))
        time.sleep(seconds)
