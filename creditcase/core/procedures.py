"""Guards shared by the step-by-step procedures (objections, credit repair): the
version and state a step expects, and a required reason. Each procedure keeps its
own states and documents; only these checks are common."""

from __future__ import annotations

from typing import Protocol

from creditcase.core.errors import ConcurrentUpdate, Conflict, RuleViolation


class _Procedure(Protocol):
    number: str
    state: str
    version: int


def expect(item: _Procedure, label: str, *states: str,
           expected_version: int | None = None) -> None:
    """Refuse a step unless ``item`` (called ``label``, e.g. "objection") is at the
    version the caller read and in one of ``states``."""
    if expected_version is not None and item.version != expected_version:
        raise ConcurrentUpdate(f"{label} {item.number} is at version {item.version}",
                               errors={"expected_version": [f"current version is {item.version}"]})
    if item.state not in states:
        raise Conflict(f"{label} {item.number} is {item.state}; this step needs "
                       f"{' or '.join(states)}",
                       errors={"state": [f"is {item.state}, expected {' or '.join(states)}"]})


def required_reason(text: str | None, field: str = "reason") -> str:
    """``text`` stripped; a RuleViolation on ``field`` when it is empty."""
    text = (text or "").strip()
    if not text:
        raise RuleViolation(f"a {field} is required", errors={field: ["required"]})
    return text
