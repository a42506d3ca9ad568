"""Database connection and the unit of work.

``connect()`` binds mongoengine to MongoDB, or starts the embedded SecantusDB
server when no URI is configured. ``UnitOfWork`` collects the inserts and
version-guarded replacements of one state change and applies them in a single
multi-document transaction, so a transition, its audit event and its outbox
entries are stored together or not at all. Production MongoDB must therefore
be a replica set (one node is enough).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mongoengine as me
from mongoengine.connection import DEFAULT_CONNECTION_NAME, get_connection, get_db
from pymongo.errors import BulkWriteError, DuplicateKeyError

from creditcase.core.errors import ConcurrentUpdate, Conflict

log = logging.getLogger(__name__)


#: China Standard Time (no daylight saving): dates of decisions, deadlines and reports
BEIJING = dt.timezone(dt.timedelta(hours=8), "CST")


def utcnow() -> dt.datetime:
    """Aware UTC now; every stored timestamp is UTC."""
    return dt.datetime.now(dt.UTC)


def local_today() -> dt.date:
    """Today's date in Beijing, the calendar every legal date of the system uses."""
    return dt.datetime.now(BEIJING).date()


def as_utc(value: dt.datetime | None) -> dt.datetime | None:
    """Stored datetimes come back naive or aware depending on the client; make them aware."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=dt.UTC)


class EmbeddedServer:
    """The SecantusDB server running in this process (embedded mode only)."""

    def __init__(self, storage_path: Path, port: int = 0):
        from secantus import SecantusDBServer  # optional dependency: extra "embedded"

        storage_path.mkdir(parents=True, exist_ok=True)
        self._server = SecantusDBServer(storage_path=str(storage_path), port=port)
        self._server.start()
        self.uri: str = self._server.uri

    def stop(self) -> None:
        self._server.stop()


_embedded: EmbeddedServer | None = None
_embedded_lock = threading.Lock()


def start_embedded(data_dir: Path) -> str:
    """Start (once per process) the embedded server and return its URI."""
    global _embedded
    with _embedded_lock:
        if _embedded is None:
            try:
                _embedded = EmbeddedServer(Path(data_dir) / "db")
            except ImportError as exc:  # pragma: no cover - depends on install
                raise RuntimeError(
                    "no CREDITCASE_MONGODB_URI and SecantusDB is not installed: "
                    "pip install 'creditcase[embedded]' or point CREDITCASE_MONGODB_URI at MongoDB"
                ) from exc
            log.info("embedded SecantusDB at %s (data in %s)", _embedded.uri, data_dir)
        return _embedded.uri


def connect(uri: str | None, db_name: str, data_dir: Path = Path("var")) -> str:
    """Bind mongoengine's default alias; returns the URI used."""
    options = {}
    if not uri:
        # one in-process node: retryable writes only grow the server's session registry
        options["retryWrites"] = False
    uri = uri or start_embedded(data_dir)
    me.disconnect(DEFAULT_CONNECTION_NAME)
    me.connect(db=db_name, host=uri, alias=DEFAULT_CONNECTION_NAME, tz_aware=True,
               uuidRepresentation="standard", serverSelectionTimeoutMS=10_000, **options)
    return uri


def ensure_indexes(*documents: type[me.Document]) -> None:
    for document in documents:
        document.ensure_indexes()


@dataclass
class _Op:
    kind: str
    document: me.Document
    expected_version: int | None = None
    son: dict[str, Any] = field(default_factory=dict)


@dataclass
class _BulkInsert:
    """Raw documents inserted with one ``insert_many`` (see :meth:`UnitOfWork.add_many`)."""

    document_class: type[me.Document]
    sons: list[dict[str, Any]]
    kind: str = "insert_many"


class UnitOfWork:
    """Writes of one state change, applied in one transaction.

    ``add(doc)`` inserts a new document; ``save(doc)`` replaces an existing
    document only if its stored ``version`` is still the one we read, and
    increments it. A version mismatch raises :class:`ConcurrentUpdate`; a
    unique-index clash raises :class:`Conflict`. ``add_many(cls, sons)`` inserts
    many documents already in their stored form with one ``insert_many`` (bulk
    writers such as the record importer; the caller builds exactly what
    mongoengine would store). Nothing is written until :meth:`commit`.
    """

    def __init__(self) -> None:
        self._ops: list[_Op | _BulkInsert] = []
        self._after_commit: list[Callable[[], None]] = []

    def add(self, document: me.Document) -> me.Document:
        if document.pk is None:
            from bson import ObjectId

            document.pk = ObjectId()
        document.validate()
        self._ops.append(_Op("insert", document, son=document.to_mongo().to_dict()))
        return document

    def save(self, document: me.Document) -> me.Document:
        expected = document.version
        document.version = expected + 1
        document.validate()
        self._ops.append(_Op("replace", document, expected, document.to_mongo().to_dict()))
        return document

    def add_many(self, document_class: type[me.Document], sons: list[dict[str, Any]]) -> None:
        """Insert ``sons`` (stored form, each with its ``_id``) into the collection of
        ``document_class`` in this unit of work, with one ``insert_many``."""
        if sons:
            self._ops.append(_BulkInsert(document_class, list(sons)))

    def after_commit(self, callback: Callable[[], None]) -> None:
        self._after_commit.append(callback)

    def _apply(self, session) -> None:
        for op in self._ops:
            if isinstance(op, _BulkInsert):
                op.document_class._get_collection().insert_many(op.sons, ordered=True,
                                                                 session=session)
                continue
            collection = op.document._get_collection()
            if op.kind == "insert":
                collection.insert_one(op.son, session=session)
            else:
                result = collection.replace_one(
                    {"_id": op.document.pk, "version": op.expected_version}, op.son,
                    session=session)
                if result.matched_count != 1:
                    raise ConcurrentUpdate(
                        f"{type(op.document).__name__} {op.document.pk} was changed by "
                        f"someone else (expected version {op.expected_version}); reload and retry")

    def commit(self) -> None:
        if not self._ops:
            return
        client = get_connection()
        try:
            with client.start_session() as session:
                session.with_transaction(self._apply)
        except DuplicateKeyError as exc:
            self._restore_versions()
            raise Conflict(f"duplicate: {exc.details.get('keyValue') if exc.details else exc}")
        except BulkWriteError as exc:
            self._restore_versions()
            clashes = [e for e in exc.details.get("writeErrors", []) if e.get("code") == 11000]
            if not clashes:
                raise
            raise Conflict(f"duplicate: {clashes[0].get('keyValue') or clashes[0].get('errmsg')}")
        except ConcurrentUpdate:
            self._restore_versions()
            raise
        for op in self._ops:
            if isinstance(op, _Op):
                op.document._created = False
                op.document._clear_changed_fields()
        for callback in self._after_commit:
            callback()

    def _restore_versions(self) -> None:
        for op in self._ops:
            if isinstance(op, _Op) and op.kind == "replace":
                op.document.version = op.expected_version


def database():
    """The pymongo ``Database`` behind mongoengine's default alias."""
    return get_db()
