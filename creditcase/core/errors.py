"""Domain errors. The web layer maps each class to one HTTP status; core never
mentions HTTP itself, it only says what went wrong and with which field."""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """Base class. ``errors`` maps a field path to its messages."""

    title = "Domain error"

    def __init__(self, detail: str, *, errors: Mapping[str, list[str]] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = dict(errors or {})


class NotFound(DomainError):
    title = "Not found"


class Conflict(DomainError):
    """The request is valid but the object's state does not allow it (now)."""

    title = "Conflict"


class ConcurrentUpdate(Conflict):
    """Someone else changed the object between our read and our write."""

    title = "Concurrent update"


class RuleViolation(DomainError):
    """Input is well-formed but breaks a business rule (a guard)."""

    title = "Rule violation"


class PermissionDenied(DomainError):
    title = "Permission denied"
