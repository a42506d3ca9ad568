"""Red and black lists, their entries, and the catalogue of joint
reward/punishment measures.

List types and measures ship as versioned data (``core/data``) and are loaded
into the database by :func:`ensure_catalogue`; the credit office manages them
from there (:func:`update_list_type`, :func:`create_measure`,
:func:`update_measure`, :func:`deactivate_measure`), each change audited and
guarded by the document's version.

A measure without a legal basis may be stored as a draft but is never
enforced: :attr:`Measure.enforceable` is false and the check engine skips it
and says so.

List entries end in one of two ways. At the end of their period
(``valid_until``) the sweep :func:`expire_entries` marks them expired. Before
it, :func:`remove_entry` records an early removal with its reason; only the
issuing department or the credit office may do that. Removals that follow
from another decision (a credit repair, see :func:`remove_founded_on`) apply
only to list types that allow early removal: the others stay with their
issuer. Every change emits ``list.entry.added`` or ``list.entry.removed`` and
recomputes the subject's credit grade.

This module must not import the web or queue layers.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
from collections.abc import Iterable
from importlib import resources
from typing import Any

import mongoengine as me

from creditcase.core import audit, grades, outbox
from creditcase.core.accounts import SYSTEM, Principal
from creditcase.core.db import UnitOfWork, local_today, utcnow
from creditcase.core.errors import ConcurrentUpdate, Conflict, NotFound, PermissionDenied, RuleViolation
from creditcase.core.subjects import identify

BINDINGS = ("MANDATORY", "DISCRETIONARY")
MEASURE_KINDS = ("REWARD", "PUNISH")
#: What applying a measure means for the outcome: ``reject`` requires a rejection.
EFFECTS = ("reject", "restrict", "review", "incentive")
COLORS = ("red", "black")
#: The reason recorded when an entry reaches the end of its period.
EXPIRED_REASON = "expired"
#: The reason recorded when a credit repair lifts an entry founded on the repaired record.
REPAIR_REASON = "信用修复"

_DOMAIN_CODE = re.compile(r"^(\*|[a-z][a-z0-9_]{0,63})$")
_LIST_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")


class ListTypeRevision(me.EmbeddedDocument):
    """A list type as it was before one change by the credit office."""

    version = me.IntField(required=True)
    snapshot = me.DictField(required=True)
    changed_at = me.DateTimeField(required=True)
    changed_by = me.StringField(required=True)
    reason = me.StringField(default="")


class ListType(me.Document):
    code = me.StringField(required=True, unique=True)
    color = me.StringField(required=True, choices=COLORS)
    name_zh = me.StringField(required=True)
    name_en = me.StringField(default="")
    issuer = me.StringField(required=True)
    basis = me.StringField(required=True, help_text="the legal basis of the list")
    period_months = me.IntField(min_value=1, help_text="default period of an entry")
    extension_months = me.ListField(me.IntField(min_value=1),
                                    help_text="extensions the basis allows (e.g. +12 to +36)")
    early_removal = me.BooleanField(default=True,
                                    help_text="entries may be removed before their period ends")
    catalogue_version = me.StringField(help_text="version of the shipped data it came from")
    history = me.EmbeddedDocumentListField(ListTypeRevision)
    updated_at = me.DateTimeField()
    version = me.IntField(default=0, help_text="0 until the credit office changes it")

    meta = {"collection": "list_types"}

    @property
    def max_period_months(self) -> int | None:
        """The longest period an entry may have: the period plus the largest extension."""
        if not self.period_months:
            return None
        return self.period_months + max(self.extension_months or [0])


class Measure(me.Document):
    code = me.StringField(required=True, unique=True)
    kind = me.StringField(required=True, choices=MEASURE_KINDS)
    binding = me.StringField(required=True, choices=BINDINGS)
    effect = me.StringField(required=True, choices=EFFECTS)
    text_zh = me.StringField(required=True)
    text_en = me.StringField(default="")
    legal_basis = me.StringField(default="")
    basis_list_version = me.StringField(default="")
    domains = me.ListField(me.StringField(), help_text='domain codes, or "*" for all')
    triggers = me.ListField(me.StringField(),
                            help_text="hit codes: list type codes or RECORD:<kind>:<severity>")
    active = me.BooleanField(default=True)
    deactivated_reason = me.StringField()
    created_at = me.DateTimeField()
    updated_at = me.DateTimeField()
    updated_by = me.StringField()
    version = me.IntField(default=0)

    meta = {"collection": "measures", "indexes": ["triggers"]}

    @property
    def enforceable(self) -> bool:
        return self.active and bool((self.legal_basis or "").strip())

    @property
    def status(self) -> str:
        """``inactive``, ``draft`` (no legal basis: never enforced) or ``enforceable``."""
        if not self.active:
            return "inactive"
        return "enforceable" if self.enforceable else "draft"

    def applies_to(self, domain: str) -> bool:
        return "*" in self.domains or domain in self.domains


class ListEntry(me.Document):
    list_type = me.StringField(required=True)
    color = me.StringField(required=True, choices=COLORS)
    subject_code = me.StringField(required=True)
    subject_name = me.StringField(required=True)
    issuer = me.StringField(required=True)
    basis_doc_no = me.StringField(required=True, help_text="认定文书号")
    record_id = me.StringField(help_text="the credit record the entry is founded on, if any")
    listed_on = me.DateField(required=True)
    valid_until = me.DateField(required=True)
    source_department = me.StringField(required=True)
    removed_at = me.DateTimeField()
    removal_reason = me.StringField()
    removed_by = me.StringField()
    expired = me.BooleanField(default=False, help_text="removed by reaching valid_until")
    created_at = me.DateTimeField(default=utcnow)
    version = me.IntField(default=0)

    meta = {"collection": "list_entries", "indexes": [
        ("subject_code", "valid_until"),
        ("valid_until", "removed_at"),
        {"fields": ["list_type", "basis_doc_no"], "unique": True}]}

    def in_force(self, on: dt.date) -> bool:
        return self.removed_at is None and self.listed_on <= on <= self.valid_until


# -- the shipped catalogue ---------------------------------------------------------------------

def _data(name: str) -> dict:
    return json.loads(resources.files("creditcase.core").joinpath("data", name).read_text("utf-8"))


def ensure_catalogue() -> None:
    """Load shipped list types, measures and the grade scheme the database lacks.

    A list type the credit office never changed (``version`` 0) is upgraded when
    the shipped data has a newer ``version``; changed ones are left alone.
    """
    types = _data("list_types.json")
    # list types stored before they carried a version get one, so version guards match
    ListType.objects(version__exists=False).update(set__version=0)
    for item in types["list_types"]:
        fields = {k: v for k, v in item.items() if k in ListType._fields}
        ListType.objects(code=item["code"]).update_one(
            upsert=True, **{f"set_on_insert__{k}": v for k, v in fields.items()},
            set_on_insert__catalogue_version=types["version"], set_on_insert__version=0)
        ListType.objects(code=item["code"], version=0,
                         catalogue_version__ne=types["version"]).update_one(
            **{f"set__{k}": v for k, v in fields.items() if k != "code"},
            set__catalogue_version=types["version"])
    measures = _data("measures.json")
    for item in measures["measures"]:
        fields = {k: v for k, v in item.items() if k in Measure._fields}
        fields.setdefault("basis_list_version", measures["basis_list_version"])
        Measure.objects(code=item["code"]).update_one(
            upsert=True, **{f"set_on_insert__{k}": v for k, v in fields.items()},
            set_on_insert__version=0, set_on_insert__active=True)
    grades.ensure_shipped_scheme()


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months, clamped to the month's end (2026-11-30 + 3 = 2027-02-28)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# -- list types --------------------------------------------------------------------------------

#: Fields of a list type the credit office may change.
LIST_TYPE_FIELDS = ("name_zh", "name_en", "issuer", "basis", "period_months", "extension_months",
                    "early_removal")


def get_list_type(code: str) -> ListType:
    lt = ListType.objects(code=code).first()
    if lt is None:
        raise NotFound(f"no list type {code}")
    return lt


def update_list_type(principal: Principal, code: str, changes: dict[str, Any], *,
                     expected_version: int, reason: str = "") -> ListType:
    """Change a list type's issuer, basis or period rules (credit office only). The
    previous values are kept in ``history``; ``expected_version`` guards the write."""
    _require_office(principal, "list types")
    lt = get_list_type(code)
    if lt.version != expected_version:
        raise ConcurrentUpdate(f"list type {code} is at version {lt.version}, not "
                               f"{expected_version}; reload and retry",
                               errors={"expected_version": [f"current version is {lt.version}"]})
    unknown = sorted(set(changes) - set(LIST_TYPE_FIELDS))
    if unknown:
        raise RuleViolation("these fields cannot be changed",
                            errors={k: ["cannot be changed"] for k in unknown})
    errors: dict[str, list[str]] = {}
    for key in ("name_zh", "issuer", "basis"):
        if key in changes and not str(changes[key] or "").strip():
            errors[key] = ["required"]
    if "period_months" in changes and changes["period_months"] is not None \
            and int(changes["period_months"]) < 1:
        errors["period_months"] = ["must be at least 1"]
    if any(int(m) < 1 for m in changes.get("extension_months") or []):
        errors["extension_months"] = ["every extension must be at least 1 month"]
    if errors:
        raise RuleViolation("the list type change is not valid", errors=errors)
    snapshot = {k: getattr(lt, k) for k in LIST_TYPE_FIELDS}
    changed = {k: v for k, v in changes.items() if snapshot.get(k) != v}
    if not changed:
        return lt
    lt.history.append(ListTypeRevision(version=lt.version, snapshot=snapshot, changed_at=utcnow(),
                                       changed_by=principal.username, reason=reason))
    for key, value in changed.items():
        setattr(lt, key, value)
    lt.updated_at = utcnow()
    uow = UnitOfWork()
    uow.save(lt)
    audit.record(uow, principal, "list_type.updated", lt, code=code, reason=reason,
                 changed={k: [snapshot[k], v] for k, v in changed.items()})
    uow.commit()
    return lt


# -- measures ----------------------------------------------------------------------------------

#: Fields of a measure that may be set on create and update (``code`` only on create).
MEASURE_FIELDS = ("kind", "binding", "effect", "text_zh", "text_en", "legal_basis",
                  "basis_list_version", "domains", "triggers", "active")


def trigger_error(code: str, list_types: set[str]) -> str | None:
    """Why ``code`` is not a valid measure trigger, or ``None`` when it is.

    Valid: a list type code (``SXBZXR``), ``RECORD:<kind>:<severity>`` with an
    empty severity for "any" (``RECORD:penalty:``), and either prefixed with
    ``COUNTERPARTY:`` for hits on a transaction's other party.
    """
    from creditcase.core.records import KINDS_OF_RECORD, SEVERITIES

    bare = code.removeprefix("COUNTERPARTY:")
    if bare.startswith("RECORD:"):
        parts = bare.split(":")
        if len(parts) != 3:
            return "a record trigger is RECORD:<kind>:<severity> (severity may be empty)"
        if parts[1] not in KINDS_OF_RECORD:
            return f"unknown record kind {parts[1]!r}"
        if parts[2] and parts[2] not in SEVERITIES:
            return f"unknown severity {parts[2]!r} (minor, general, serious or empty)"
        return None
    if bare not in list_types:
        return f"unknown list type {bare!r}"
    return None


def _measure_errors(values: dict[str, Any],
                    known_domains: Iterable[str] | None) -> dict[str, list[str]]:
    """Field errors of a measure's values (empty when valid)."""
    errors: dict[str, list[str]] = {}
    if values.get("kind") not in MEASURE_KINDS:
        errors["kind"] = [f"one of {', '.join(MEASURE_KINDS)}"]
    if values.get("binding") not in BINDINGS:
        errors["binding"] = [f"one of {', '.join(BINDINGS)}"]
    if values.get("effect") not in EFFECTS:
        errors["effect"] = [f"one of {', '.join(EFFECTS)}"]
    if values.get("kind") == "REWARD" and values.get("effect") in ("reject", "restrict", "review"):
        errors.setdefault("effect", []).append("a reward measure has the effect incentive")
    if values.get("kind") == "PUNISH" and values.get("effect") == "incentive":
        errors.setdefault("effect", []).append("a punishment cannot have the effect incentive")
    if not str(values.get("text_zh") or "").strip():
        errors["text_zh"] = ["required"]
    domains = list(values.get("domains") or [])
    known = set(known_domains) if known_domains is not None else None
    if not domains:
        errors["domains"] = ['at least one domain code, or "*" for all']
    for i, code in enumerate(domains):
        if not isinstance(code, str) or not _DOMAIN_CODE.match(code):
            errors[f"domains.{i}"] = ['a domain code such as procurement, or "*"']
        elif known is not None and code != "*" and code not in known:
            errors[f"domains.{i}"] = [f"no installed domain {code!r}"]
    triggers = list(values.get("triggers") or [])
    if not triggers:
        errors["triggers"] = ["at least one trigger (a list type or RECORD:<kind>:<severity>)"]
    list_types = {t.code for t in ListType.objects.only("code")}
    for i, code in enumerate(triggers):
        problem = trigger_error(code, list_types) if isinstance(code, str) else "not a string"
        if problem:
            errors[f"triggers.{i}"] = [problem]
    basis = str(values.get("legal_basis") or "").strip()
    if basis and not str(values.get("basis_list_version") or "").strip():
        errors["basis_list_version"] = ["required with a legal basis: the edition of the "
                                        "全国失信惩戒措施基础清单 the measure is within"]
    return errors


def get_measure(code: str) -> Measure:
    measure = Measure.objects(code=code).first()
    if measure is None:
        raise NotFound(f"no measure {code}")
    return measure


def create_measure(principal: Principal, values: dict[str, Any], *,
                   known_domains: Iterable[str] | None = None) -> Measure:
    """Add a measure to the catalogue (credit office). Without a legal basis it is
    stored as a draft: listed, never enforced."""
    _require_office(principal, "measures")
    values = dict(values)
    code = str(values.pop("code", "") or "").strip()
    values.setdefault("active", True)
    errors = _measure_errors(values, known_domains)
    if not re.fullmatch(r"[A-Z0-9][A-Z0-9_-]{0,63}", code):
        errors["code"] = ["upper-case letters, digits, - and _ (e.g. ZFCG-JZ)"]
    errors.update({k: ["unknown field"] for k in set(values) - set(MEASURE_FIELDS)})
    if errors:
        raise RuleViolation("the measure is not valid", errors=errors)
    if Measure.objects(code=code).only("id").first() is not None:
        raise Conflict(f"measure {code} exists", errors={"code": ["already exists"]})
    now = utcnow()
    measure = Measure(code=code, **values, created_at=now, updated_at=now,
                      updated_by=principal.username)
    uow = UnitOfWork()
    uow.add(measure)
    audit.record(uow, principal, "measure.created", measure, code=code, status=measure.status)
    uow.commit()
    return measure


def update_measure(principal: Principal, code: str, changes: dict[str, Any], *,
                   expected_version: int, known_domains: Iterable[str] | None = None) -> Measure:
    """Change a measure (credit office); 409 when ``expected_version`` is not current."""
    _require_office(principal, "measures")
    measure = get_measure(code)
    if measure.version != expected_version:
        raise ConcurrentUpdate(f"measure {code} is at version {measure.version}, not "
                               f"{expected_version}; reload and retry",
                               errors={"expected_version": [f"current version is {measure.version}"]})
    unknown = sorted(set(changes) - set(MEASURE_FIELDS))
    if unknown:
        raise RuleViolation("these fields cannot be changed",
                            errors={k: ["cannot be changed"] for k in unknown})
    before = {k: getattr(measure, k) for k in MEASURE_FIELDS}
    errors = _measure_errors({**before, **changes}, known_domains)
    if errors:
        raise RuleViolation("the measure is not valid", errors=errors)
    changed = {k: v for k, v in changes.items() if before[k] != v}
    if not changed:
        return measure
    for key, value in changed.items():
        setattr(measure, key, value)
    if changed.get("active") is True:
        measure.deactivated_reason = None
    measure.updated_at, measure.updated_by = utcnow(), principal.username
    uow = UnitOfWork()
    uow.save(measure)
    audit.record(uow, principal, "measure.updated", measure, code=code, status=measure.status,
                 changed={k: [before[k], v] for k, v in changed.items()})
    uow.commit()
    return measure


def deactivate_measure(principal: Principal, code: str, reason: str, *,
                       expected_version: int | None = None) -> Measure:
    """Take a measure out of force (credit office); it stays in the catalogue."""
    _require_office(principal, "measures")
    measure = get_measure(code)
    if expected_version is not None and measure.version != expected_version:
        raise ConcurrentUpdate(f"measure {code} is at version {measure.version}",
                               errors={"expected_version": [f"current version is {measure.version}"]})
    if not reason.strip():
        raise RuleViolation("a deactivation needs a reason", errors={"reason": ["required"]})
    if not measure.active:
        raise Conflict(f"measure {code} is already inactive")
    measure.active, measure.deactivated_reason = False, reason.strip()
    measure.updated_at, measure.updated_by = utcnow(), principal.username
    uow = UnitOfWork()
    uow.save(measure)
    audit.record(uow, principal, "measure.deactivated", measure, code=code, reason=reason)
    uow.commit()
    return measure


def _require_office(principal: Principal, what: str) -> None:
    if not principal.has("credit_office"):
        raise PermissionDenied(f"only the credit office manages {what}")


# -- entries -----------------------------------------------------------------------------------

def add_entry(principal: Principal, *, list_type: str, subject_code: str, subject_name: str,
              basis_doc_no: str, listed_on: dt.date, valid_until: dt.date | None = None,
              source_department: str | None = None, record_id: str | None = None) -> ListEntry:
    """List a subject. ``valid_until`` defaults to the list type's period and may not
    exceed the period plus its longest extension. A black-list entry voids the
    subject's credit reports issued before ``listed_on``."""
    lt = ListType.objects(code=list_type).first()
    if lt is None:
        raise RuleViolation(f"unknown list type {list_type}",
                            errors={"list_type": [f"unknown list type {list_type}"]})
    _, code = identify(subject_code, field="subject_code")
    valid_until = valid_until or add_months(listed_on, lt.period_months or 36)
    if valid_until < listed_on:
        raise RuleViolation("valid_until before listed_on",
                            errors={"valid_until": ["must not be before listed_on"]})
    if lt.max_period_months and valid_until > add_months(listed_on, lt.max_period_months):
        latest = add_months(listed_on, lt.max_period_months)
        raise RuleViolation(
            f"{lt.name_zh}: the period may not exceed {lt.max_period_months} months",
            errors={"valid_until": [f"不得晚于 {latest.isoformat()}：{lt.name_zh}最长期限为 "
                                    f"{lt.max_period_months} 个月 (at most {latest.isoformat()})"]})
    if record_id is not None:
        _check_founding_record(record_id, code)
    entry = ListEntry(list_type=lt.code, color=lt.color, subject_code=code,
                      subject_name=subject_name, issuer=lt.issuer, basis_doc_no=basis_doc_no,
                      record_id=record_id, listed_on=listed_on, valid_until=valid_until,
                      source_department=source_department or principal.department)
    uow = UnitOfWork()
    uow.add(entry)
    if lt.color == "black":
        from creditcase.core.reports import void_reports_before

        void_reports_before(uow, principal, code, listed_on,
                            f"black-list entry: {lt.name_zh} ({basis_doc_no})")
    audit.record(uow, principal, "list.entry.added", entry, department=entry.source_department,
                 list_type=lt.code)
    outbox.emit(uow, "list.entry.added", f"subject/{code}", entry_event_data(entry))
    uow.commit()
    grades.recompute(code)
    return entry


def _check_founding_record(record_id: str, subject_code: str) -> None:
    from creditcase.core.records import CreditRecord

    try:
        record = CreditRecord.objects(pk=record_id).only("subject_code").first()
    except me.ValidationError:
        record = None
    if record is None:
        raise RuleViolation("no such record", errors={"record_id": ["no credit record with this id"]})
    if record.subject_code != subject_code:
        raise RuleViolation("the record is about another subject",
                            errors={"record_id": ["the record's subject is not the listed subject"]})


def get_entry(entry_id: str) -> ListEntry:
    try:
        entry = ListEntry.objects(pk=entry_id).first()
    except me.ValidationError:
        entry = None
    if entry is None:
        raise NotFound(f"no list entry {entry_id}")
    return entry


def remove_entry(principal: Principal, entry_id: str, reason: str) -> ListEntry:
    """Remove an entry before its period ends, with the reason (early removal).

    Only the issuing department (the entry's source department) or the credit office
    may do it; the reason and the remover are kept with the entry.
    """
    entry = get_entry(entry_id)
    if not (principal.has("credit_office") or principal.department == entry.source_department):
        raise PermissionDenied("only the issuing department or the credit office may remove "
                               "a list entry")
    if entry.removed_at is not None:
        raise Conflict("entry already removed" + (" (expired)" if entry.expired else ""))
    if not reason.strip():
        raise RuleViolation("a removal needs a reason", errors={"reason": ["required"]})
    uow = UnitOfWork()
    _remove(uow, principal, entry, reason.strip())
    uow.commit()
    grades.recompute(entry.subject_code)
    return entry


def _remove(uow: UnitOfWork, principal: Principal, entry: ListEntry, reason: str, *,
            expired: bool = False) -> None:
    entry.removed_at, entry.removal_reason = utcnow(), reason
    entry.removed_by, entry.expired = principal.username, expired
    uow.save(entry)
    audit.record(uow, principal, "list.entry.removed", entry, department=entry.source_department,
                 reason=reason, expired=expired)
    outbox.emit(uow, "list.entry.removed", f"subject/{entry.subject_code}",
                entry_event_data(entry))


def founded_on(record: Any) -> me.QuerySet:
    """Entries in force, not removed, founded on ``record`` (a ``CreditRecord``): linked by
    ``record_id``, or naming the record's document number for the same subject."""
    return ListEntry.objects(
        me.Q(record_id=str(record.pk)) | me.Q(basis_doc_no=record.doc_no),
        subject_code=record.subject_code, removed_at=None)


def remove_founded_on(uow: UnitOfWork, principal: Principal, record: Any, reason: str, *,
                      early_removal_only: bool = True) -> tuple[list[ListEntry], list[ListEntry]]:
    """Queue the removal of the entries founded on ``record`` in ``uow``.

    With ``early_removal_only`` (a repair), entries of list types that do not allow
    early removal are left to their issuer. Returns ``(removed, kept)``.
    """
    allowing = {t.code for t in ListType.objects(early_removal=True).only("code")}
    removed, kept = [], []
    for entry in founded_on(record):
        if early_removal_only and entry.list_type not in allowing:
            kept.append(entry)
            continue
        _remove(uow, principal, entry, reason)
        removed.append(entry)
    return removed, kept


def expire_entries(today: dt.date | None = None, principal: Principal = SYSTEM) -> list[ListEntry]:
    """Mark every entry whose period ended before ``today`` as expired (removal reason
    ``expired``), each with its ``list.entry.removed`` event. Safe to run repeatedly
    and from several processes: an entry changed meanwhile is skipped this time."""
    today = today or local_today()
    expired: list[ListEntry] = []
    for entry in ListEntry.objects(removed_at=None, valid_until__lt=today).order_by("valid_until"):
        uow = UnitOfWork()
        _remove(uow, principal, entry, EXPIRED_REASON, expired=True)
        try:
            uow.commit()
        except ConcurrentUpdate:
            continue
        expired.append(entry)
    for code in sorted({e.subject_code for e in expired}):
        grades.recompute(code, on=today)
    return expired


def entries_of(subject_code: str, *, include_removed: bool = False) -> me.QuerySet:
    query: dict[str, Any] = {"subject_code": subject_code}
    if not include_removed:
        query["removed_at"] = None
    return ListEntry.objects(**query).order_by("-listed_on")


def entry_event_data(entry: ListEntry) -> dict:
    return {"entry_id": str(entry.pk), "list_type": entry.list_type, "color": entry.color,
            "subject_code": entry.subject_code, "basis_doc_no": entry.basis_doc_no,
            "listed_on": entry.listed_on.isoformat(),
            "valid_until": entry.valid_until.isoformat(),
            "removed": entry.removed_at is not None, "reason": entry.removal_reason,
            "expired": bool(entry.expired)}
