"""双公示 publicity of administrative licences and penalties.

Two clocks run from a record's decision date:

* the **publication deadline**: decision date + 7 working days of the official
  calendar (国办发〔2015〕51号; the decision day is not counted);
* the **publicity period** (公示期), which depends on the regime in force on the
  decision date and on the record's severity (domain.md §3.4). The regimes are
  effective-dated data in ``core/data/publicity_regimes.json``; each record
  stores the id of the regime used (``publicity_regime``) and the end of the
  maximum period (``publicity_until`` = CF_GSJZQ). At that day publication stops.

Publicity states of a licence or penalty:

``due``        pushed for later publication, deadline not passed;
``overdue``    not published and the deadline has passed;
``published``  on the public site (``published_late`` says whether after the deadline);
``ended``      the period is over (or the licence became invalid, or the record was
               repaired or revoked): no longer shown;
``not_applicable``  never published (other kinds, 轻微 penalties the rules keep
               private, decisions older than every regime).

:func:`sweep` moves ``due`` → ``overdue`` and ``published`` → ``ended``; the
public search also filters on ``publicity_until`` so an ended record is hidden
even before the sweep has run. This module computes and stores; it never
renders anything and never speaks HTTP.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from creditcase.core.calendar import CalendarDataMissing, WorkingCalendar, current_calendar
from creditcase.core.db import local_today
from creditcase.core.lists import add_months

if TYPE_CHECKING:
    from creditcase.core.accounts import Principal
    from creditcase.core.records import CreditRecord

__all__ = [
    "LICENCE_REGIME_ID",
    "OPEN_ENDED",
    "PUBLICATION_WORKING_DAYS",
    "PUBLICITY_STATES",
    "SHOWN_STATES",
    "Plan",
    "Regime",
    "RegimeMissing",
    "SweepCounts",
    "max_period_end",
    "min_period_end",
    "overdue_report",
    "plan",
    "public_filter",
    "publication_deadline",
    "publish",
    "regime_for",
    "regimes",
    "sweep",
]

PUBLICATION_WORKING_DAYS = 7
PUBLICITY_STATES = ("not_applicable", "due", "published", "overdue", "ended")
#: Record states whose published records the public sees (a disputed one is marked).
SHOWN_STATES = ("active", "disputed")
SEVERITY_ORDER = ("minor", "general", "serious")

Period = tuple[int | None, int | None]


class RegimeMissing(LookupError):
    """No publicity regime covers the decision date (before the first one in force)."""

    def __init__(self, decision_date: dt.date) -> None:
        self.decision_date = decision_date
        super().__init__(f"no publicity regime in force on {decision_date.isoformat()}")


@dataclass(frozen=True)
class Regime:
    """One effective-dated rule set of publicity periods (months from the decision date).

    ``periods`` maps a severity (minor, general, serious) to ``(min_months,
    max_months)``; ``(None, None)`` means not published. ``minor_when_necessary``
    is the period of a 轻微 record that the department marks as necessary to publish
    (``None``: the regime does not allow it). ``sector_min_months`` raises the
    minimum for some sectors (e.g. 特种设备, 安全生产, 消防 under Order 58).
    """

    id: str
    name: str
    in_force_from: dt.date
    in_force_until: dt.date | None
    periods: dict[str, Period]
    minor_when_necessary: Period | None = None
    sector_min_months: dict[str, int] = field(default_factory=dict)
    source: str = ""

    def in_force(self, day: dt.date) -> bool:
        return self.in_force_from <= day and (self.in_force_until is None
                                              or day <= self.in_force_until)


@dataclass(frozen=True)
class Plan:
    """What the rules say about publishing one record.

    ``regime`` is the id stored on the record (``None`` when no rule applies);
    ``published`` whether the rules publish it at all; ``min_until`` /
    ``max_until`` the ends of the minimum and maximum periods.
    """

    regime: str | None
    published: bool
    min_until: dt.date | None
    max_until: dt.date | None


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _period(value: Any) -> Period:
    low, high = value
    return (None if low is None else int(low), None if high is None else int(high))


@cache
def _data() -> dict[str, Any]:
    text = resources.files("creditcase.core").joinpath("data", "publicity_regimes.json")
    return json.loads(text.read_text("utf-8"))


@cache
def regimes() -> tuple[Regime, ...]:
    """The shipped regimes, oldest first."""
    out = []
    for item in _data()["regimes"]:
        necessary = item.get("minor_when_necessary")
        out.append(Regime(
            id=item["id"], name=item["name"],
            in_force_from=dt.date.fromisoformat(item["in_force_from"]),
            in_force_until=_date(item.get("in_force_until")),
            periods={k: _period(v) for k, v in item["periods"].items()},
            minor_when_necessary=_period(necessary) if necessary else None,
            sector_min_months={k: int(v) for k, v in item.get("sector_min_months", {}).items()},
            source=item.get("source", "")))
    return tuple(sorted(out, key=lambda r: r.in_force_from))


LICENCE_REGIME_ID: str = _data()["licence"]["id"]
#: ``有效期至`` of a licence valid without end (长期).
OPEN_ENDED: dt.date = dt.date.fromisoformat(_data()["licence"]["open_ended_until"])


def regime_for(decision_date: dt.date) -> Regime:
    """The regime in force on ``decision_date``; raises :class:`RegimeMissing`."""
    for regime in regimes():
        if regime.in_force(decision_date):
            return regime
    raise RegimeMissing(decision_date)


# -------------------------------------------------------------------------- periods


def _get(record: Any, name: str, default: Any = None) -> Any:
    if isinstance(record, Mapping):
        return record.get(name, default)
    return getattr(record, name, default)


def _severities(record: Any) -> list[str]:
    found = [s for s in [_get(record, "severity"), *(_get(record, "type_severities") or {})
                                                       .values()] if s in SEVERITY_ORDER]
    return found


def _penalty_period(regime: Regime, record: Any) -> Period:
    """The period of a penalty: the longest over its severities (several penalty types
    in one decision → the longest period), raised by a sector minimum."""
    best: Period = (None, None)
    for severity in _severities(record):
        period = regime.periods.get(severity, (None, None))
        if severity == "minor" and period[1] is None and _get(record, "publish_minor"):
            period = regime.minor_when_necessary or period
        if period[1] is not None and (best[1] is None or (period[1], period[0] or 0)
                                      > (best[1], best[0] or 0)):
            best = period
    low, high = best
    sector_min = regime.sector_min_months.get(_get(record, "sector") or "")
    if high is not None and sector_min is not None:
        low = min(max(low or 0, sector_min), high)
    return low, high


def _licence_valid_until(record: Any) -> dt.date:
    fields = _get(record, "fields") or {}
    until = _get(record, "effective_until") or _date(fields.get("XK_YXQZI") or None)
    return until or OPEN_ENDED


def _licence_invalid(record: Any) -> bool:
    fields = _get(record, "fields") or {}
    return str(fields.get("XK_ZT") or "").strip() == "2"


def plan(record: Any) -> Plan:
    """The publicity rules applied to ``record`` (a :class:`CreditRecord` or a mapping
    with ``kind``, ``decision_date``, ``severity`` and optionally ``type_severities``,
    ``publish_minor``, ``sector``, ``effective_until``, ``fields``)."""
    kind = _get(record, "kind")
    decided: dt.date = _get(record, "decision_date")
    if kind == "licence":
        return Plan(LICENCE_REGIME_ID, not _licence_invalid(record), None,
                    _licence_valid_until(record))
    if kind != "penalty":
        return Plan(None, False, None, None)
    try:
        regime = regime_for(decided)
    except RegimeMissing:
        return Plan(None, False, None, None)
    low, high = _penalty_period(regime, record)
    if high is None:
        return Plan(regime.id, False, None, None)
    return Plan(regime.id, True, add_months(decided, low or 0), add_months(decided, high))


def min_period_end(record: Any) -> dt.date | None:
    """Decision date + the minimum period of the record's regime and severity (the
    earliest day a credit repair may be applied for); ``None`` when the record is not
    published under the rules or is a licence."""
    return plan(record).min_until


def max_period_end(record: Any) -> dt.date | None:
    """Decision date + the maximum period (= CF_GSJZQ; the day publication stops); for a
    licence its 有效期至. ``None`` when the rules do not publish the record."""
    return plan(record).max_until


def publication_deadline(decision_date: dt.date,
                         calendar: WorkingCalendar | None = None) -> dt.date | None:
    """双公示: published within 7 working days of the decision (the decision day not
    counted). ``None`` when the official calendar of that period is not loaded: the
    deadline is then unknown, never guessed."""
    try:
        return (calendar or current_calendar()).add_working_days(decision_date,
                                                                 PUBLICATION_WORKING_DAYS)
    except CalendarDataMissing:
        return None


# -------------------------------------------------------------------------- state


def today_local() -> dt.date:
    """Today in Beijing (:func:`creditcase.core.db.local_today`); the one place the
    publicity rules read the date, so tests can fix it."""
    return local_today()


def state_on_push(rules: Plan, *, publish: bool, deadline: dt.date | None, today: dt.date,
                  previous: str | None = None) -> str:
    """The publicity state a pushed (or corrected) record takes.

    ``previous`` is the state before a correction: a record already published stays
    published while the rules still publish it.
    """
    if not rules.published:
        return "ended" if previous in ("published", "ended") else "not_applicable"
    if rules.max_until is not None and rules.max_until < today:
        return "ended"
    if previous in ("published", "ended") or (previous is None and publish):
        return "published"
    if previous == "not_applicable" and publish:
        return "published"
    return "overdue" if deadline is not None and today > deadline else "due"


def is_late(deadline: dt.date | None, published_on: dt.date) -> bool | None:
    """Whether publishing on ``published_on`` misses the deadline (``None``: unknown)."""
    return None if deadline is None else published_on > deadline


def public_filter(today: dt.date | None = None) -> dict[str, Any]:
    """The raw MongoDB filter of records the public may see on ``today``: published,
    still in their period (even if the sweep has not run), not repaired or revoked."""
    day = today or today_local()
    return {"publicity_state": "published", "state": {"$in": list(SHOWN_STATES)},
            "kind": {"$in": ["licence", "penalty"]},
            "publicity_until": {"$gte": dt.datetime(day.year, day.month, day.day)}}


# -------------------------------------------------------------------------- operations


def publish(principal: Principal, record_id: str, *, today: dt.date | None = None
            ) -> CreditRecord:
    """Publish a record pushed with ``publish: false`` (state ``due`` or ``overdue``).

    Only the source department (or a city-wide user) may publish. Marks
    ``published_late`` when the deadline has passed. Raises ``NotFound``,
    ``PermissionDenied`` or ``Conflict`` (already published, ended, or never
    published under the rules).
    """
    from creditcase.core import audit, outbox
    from creditcase.core.db import UnitOfWork, utcnow
    from creditcase.core.errors import Conflict, PermissionDenied
    from creditcase.core.records import find_record, record_event_data

    if not principal.has("data_provider", "credit_office", "dept_admin"):
        raise PermissionDenied("publishing needs the data_provider, dept_admin or "
                               "credit_office role")
    record: CreditRecord = find_record(record_id, principal)
    if record.publicity_state not in ("due", "overdue"):
        raise Conflict(f"record is {record.publicity_state}; only due or overdue records "
                       "can be published", errors={"publicity_state": [
                           f"is {record.publicity_state}, expected due or overdue"]})
    day = today or today_local()
    if record.state not in SHOWN_STATES:
        raise Conflict(f"record is {record.state}", errors={"state": [
            f"a {record.state} record is not published"]})
    if record.publicity_until is not None and record.publicity_until < day:
        raise Conflict("the publicity period has ended", errors={"publicity_until": [
            f"ended on {record.publicity_until.isoformat()}"]})
    now = utcnow()
    record.publicity_state, record.published_at = "published", now
    record.published_late = is_late(record.publication_due, day)
    record.updated_at = now
    uow = UnitOfWork()
    uow.save(record)
    audit.record(uow, principal, "record.published", record,
                 department=record.source_department, doc_no=record.doc_no,
                 late=record.published_late)
    outbox.emit(uow, "record.published", f"subject/{record.subject_code}",
                record_event_data(record))
    uow.commit()
    return record


@dataclass
class SweepCounts:
    """What one :func:`sweep` changed."""

    overdue: int = 0
    ended: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"overdue": self.overdue, "ended": self.ended}


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


def sweep(today: dt.date | None = None, *, batch_size: int = 500,
          thorough: bool = True) -> SweepCounts:
    """Move ``due`` → ``overdue`` (deadline passed) and ``published`` → ``ended`` (the
    maximum period is over; with ``thorough``, also records repaired, revoked or
    expired while still marked published, which needs a scan of the published
    records: the daily run does it, the overdue report skips it).

    Each change is a version-guarded write with its audit event and, for an ended
    record, a ``record.publicity_ended`` event. Records changed concurrently are left
    for the next sweep. Safe to run any number of times.
    """
    from creditcase.core import audit, outbox
    from creditcase.core.accounts import SYSTEM
    from creditcase.core.db import UnitOfWork, utcnow
    from creditcase.core.errors import ConcurrentUpdate
    from creditcase.core.records import CreditRecord, record_event_data

    day = today or today_local()
    counts = SweepCounts()
    # each query leads with publicity_state so that the (publicity_state,
    # publicity_until) index serves it
    queries: list[tuple[str, dict[str, Any]]] = [
        ("overdue", {"publicity_state": "due", "publication_due": {"$lt": _midnight(day)}}),
        ("ended", {"publicity_state": "published", "publicity_until": {"$lt": _midnight(day)}}),
    ]
    if thorough:
        queries.append(("ended", {"publicity_state": "published",
                                  "state": {"$nin": list(SHOWN_STATES)}}))
    for target, query in queries:
        skipped: set[Any] = set()
        while True:
            found = CreditRecord.objects(__raw__=query).limit(batch_size + len(skipped))
            batch = [record for record in found if record.pk not in skipped]
            if not batch:
                break
            now = utcnow()
            for record in batch:
                uow = UnitOfWork()
                record.publicity_state, record.updated_at = target, now
                if target == "ended":
                    record.publicity_ended_at = now
                uow.save(record)
                audit.record(uow, SYSTEM, f"record.publicity_{target}", record,
                             department=record.source_department, doc_no=record.doc_no,
                             on=day.isoformat())
                if target == "ended":
                    outbox.emit(uow, "record.publicity_ended", f"subject/{record.subject_code}",
                                record_event_data(record))
                try:
                    uow.commit()
                except ConcurrentUpdate:
                    skipped.add(record.pk)
                    continue
                setattr(counts, target, getattr(counts, target) + 1)
    return counts


def _department_rows(pipeline_result: Iterable[dict[str, Any]]) -> dict[str, dict[str, int]]:
    rows: dict[str, dict[str, int]] = {}
    for item in pipeline_result:
        dept = item["_id"]["department"]
        bucket = item["_id"]["bucket"]
        rows.setdefault(dept, {"on_time": 0, "late": 0, "due": 0, "overdue": 0,
                               "unknown": 0})[bucket] = item["n"]
    return rows


def overdue_report(principal: Principal, *, department: str | None = None,
                   today: dt.date | None = None, run_sweep: bool = True) -> dict[str, Any]:
    """The 双公示 timeliness report per source department.

    For each department: ``on_time`` and ``late`` (published, or published then ended,
    before / after the deadline), ``due`` and ``overdue`` (not yet published),
    ``unknown`` (deadline unknown: calendar missing), and the overdue records. The
    credit office sees every department (or the one it names); a department sees its
    own only. Runs :func:`sweep` first unless ``run_sweep`` is false, so the
    overdue figures are current even without a scheduled sweep.
    """
    from creditcase.core.errors import PermissionDenied
    from creditcase.core.records import CreditRecord

    day = today or today_local()
    if not principal.city_wide:
        if department and department != principal.department:
            raise PermissionDenied("a department sees its own publicity report only",
                                   errors={"department": ["must be your own department"]})
        department = principal.department
    swept = sweep(day, thorough=False) if run_sweep else SweepCounts()
    # the department first: the (source_department, doc_no) index then selects its records
    match: dict[str, Any] = {"source_department": department} if department else {}
    match.update({"kind": {"$in": ["licence", "penalty"]},
                  "publicity_state": {"$in": ["due", "published", "overdue", "ended"]}})
    bucket = {"$switch": {"branches": [
        {"case": {"$eq": ["$publicity_state", "due"]}, "then": "due"},
        {"case": {"$eq": ["$publicity_state", "overdue"]}, "then": "overdue"},
        {"case": {"$eq": ["$published_late", True]}, "then": "late"},
        {"case": {"$eq": ["$published_late", False]}, "then": "on_time"},
    ], "default": "unknown"}}
    pipeline = [{"$match": match},
                {"$group": {"_id": {"department": "$source_department", "bucket": bucket},
                            "n": {"$sum": 1}}}]
    rows = _department_rows(CreditRecord.objects.aggregate(pipeline))
    calendar = current_calendar()
    overdue_query: dict[str, Any] = {"publicity_state": "overdue"}
    if department:
        overdue_query["source_department"] = department
    overdue = [{"id": str(r.pk), "source_department": r.source_department,
                "doc_no": r.doc_no, "kind": r.kind, "subject_name": r.subject_name,
                "decision_date": r.decision_date, "publication_due": r.publication_due,
                "working_days_late": _working_days_late(calendar, r.publication_due, day)}
               for r in CreditRecord.objects(__raw__=overdue_query)
               .order_by("publication_due").limit(1000)]
    departments = [{"department": dept, **counts,
                    "total": sum(counts.values())} for dept, counts in sorted(rows.items())]
    if department and not departments:
        departments = [{"department": department, "on_time": 0, "late": 0, "due": 0,
                        "overdue": 0, "unknown": 0, "total": 0}]
    return {"as_of": day, "swept": swept.as_dict(), "departments": departments,
            "overdue": overdue}


def _working_days_late(calendar: WorkingCalendar, deadline: dt.date | None,
                       today: dt.date) -> int | None:
    if deadline is None:
        return None
    try:
        return calendar.working_days_between(deadline, today)
    except CalendarDataMissing:
        return None
