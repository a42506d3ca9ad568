"""Canonical JSON and its SHA-256, used for check result hashes and evidence
bundles: keys sorted, no insignificant whitespace, UTF-8, datetimes as UTC ISO
8601 with a ``Z``, dates as ISO dates, ObjectIds as hex strings. Floats are
refused: amounts are carried as strings so that a hash never depends on float
formatting."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal
from typing import Any

from bson import ObjectId


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (ObjectId, Decimal)):
        return str(value)
    if isinstance(value, float):
        raise TypeError(f"floats are not canonical; got {value!r}")
    if value is None or isinstance(value, (str, int, bool)):
        return value
    raise TypeError(f"cannot canonicalise {type(value).__name__}")


def plain(value: Any) -> Any:
    """The JSON-ready form of ``value`` (what :func:`canonical_json` serialises)."""
    return _plain(value)


def canonical_json(value: Any) -> str:
    return json.dumps(_plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def digest(value: Any) -> str:
    return sha256_hex(canonical_json(value))
