"""Working-day arithmetic from the official PRC holiday schedule (法定节假日与调休).

Legal deadlines such as the 双公示 rule ("publish within 7 working days of the
decision", 国办发〔2015〕51号) are counted in working days. A working day is a
weekday that is not a statutory holiday, or a weekend day that the State Council
has made a make-up working day (调休上班). The schedule for each year is published
by the State Council General Office, usually in October–November of the previous
year, so it cannot be computed by rule.

Years are shipped as versioned data in ``creditcase/core/data/calendar/<year>.json``
(shape ``{"year", "off", "makeup_workdays", "source"}``). Years published later are
loaded by the credit office (``creditcase calendar load FILE``) into the
``calendar_years`` collection; :func:`current_calendar` merges both, and a stored
year replaces the shipped one.

The calendar **fails closed**: asking about a day in a year without an official
schedule raises :class:`CalendarDataMissing`. It never guesses, so a legal
deadline is never computed silently from an estimate.

Counting rule: the start day (e.g. the day of the decision) is not counted; each
later working day counts (民法典 Art. 201, 行政许可法 Art. 82).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from os import PathLike
from typing import Any

import mongoengine as me

__all__ = [
    "MAX_YEAR",
    "MIN_YEAR",
    "CalendarDataMissing",
    "CalendarFileError",
    "CalendarYear",
    "WorkingCalendar",
    "YearSchedule",
    "current_calendar",
    "load_year_file",
    "parse_year",
    "shipped_years",
    "store_year",
]

MIN_YEAR = 1900
MAX_YEAR = 2200

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ONE_DAY = timedelta(days=1)


class CalendarDataMissing(LookupError):
    """No official working-day schedule is loaded for ``year``."""

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(
            f"no official working-day schedule for {year}; "
            "load it with `creditcase calendar load FILE`"
        )


class CalendarFileError(ValueError):
    """A year file (or stored year) fails validation."""


@dataclass(frozen=True)
class YearSchedule:
    """The official schedule of one year.

    ``off``: days off, including weekend days inside a holiday block.
    ``makeup_workdays``: weekend days that are working days.
    """

    year: int
    off: frozenset[date]
    makeup_workdays: frozenset[date]
    source: str

    def to_json(self) -> dict[str, Any]:
        """The file shape accepted by :func:`parse_year`."""
        return {
            "year": self.year,
            "off": [d.isoformat() for d in sorted(self.off)],
            "makeup_workdays": [d.isoformat() for d in sorted(self.makeup_workdays)],
            "source": self.source,
        }


# --------------------------------------------------------------------------- parsing


def _parse_dates(value: Any, field: str, year: int) -> frozenset[date]:
    if not isinstance(value, list):
        raise CalendarFileError(f"{field!r} must be a list of ISO dates (YYYY-MM-DD)")
    seen: set[date] = set()
    for i, item in enumerate(value):
        where = f"{field}[{i}]"
        if not isinstance(item, str) or not _ISO_DATE.fullmatch(item):
            raise CalendarFileError(f"{where} must be an ISO date string YYYY-MM-DD, got {item!r}")
        try:
            d = date.fromisoformat(item)
        except ValueError:
            raise CalendarFileError(f"{where} is not a valid date: {item!r}") from None
        if d.year != year:
            raise CalendarFileError(f"{where} = {item} is outside the year {year}")
        if d in seen:
            raise CalendarFileError(f"{where} = {item} is listed twice")
        seen.add(d)
    return frozenset(seen)


def parse_year(data: Mapping[str, Any]) -> YearSchedule:
    """Validate one year's schedule (the JSON file shape) and return it.

    Rules: ``year`` is an int in 1900..2200; ``off`` and ``makeup_workdays`` are
    lists of ISO dates (YYYY-MM-DD) inside that year, without repeats; no day is
    both off and a make-up working day; every make-up working day is a Saturday
    or Sunday; ``source`` (the State Council notice) is a non-empty string.
    Extra keys are ignored. Raises :class:`CalendarFileError`.
    """
    if not isinstance(data, Mapping):
        raise CalendarFileError("a year file must be a JSON object")
    for key in ("year", "off", "makeup_workdays", "source"):
        if key not in data:
            raise CalendarFileError(f"missing field {key!r}")

    year = data["year"]
    if not isinstance(year, int) or isinstance(year, bool):
        raise CalendarFileError(f"'year' must be an integer, got {year!r}")
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise CalendarFileError(f"'year' must be between {MIN_YEAR} and {MAX_YEAR}, got {year}")

    off = _parse_dates(data["off"], "off", year)
    makeup = _parse_dates(data["makeup_workdays"], "makeup_workdays", year)

    both = sorted(off & makeup)
    if both:
        listed = ", ".join(d.isoformat() for d in both)
        raise CalendarFileError(f"'off' and 'makeup_workdays' must be disjoint; both list {listed}")
    weekdays = sorted(d for d in makeup if d.weekday() < 5)
    if weekdays:
        listed = ", ".join(d.isoformat() for d in weekdays)
        raise CalendarFileError(
            f"'makeup_workdays' must be Saturdays or Sundays; {listed} is a weekday"
        )

    source = data["source"]
    if not isinstance(source, str) or not source.strip():
        raise CalendarFileError("'source' must be a non-empty string naming the official notice")

    return YearSchedule(year=year, off=off, makeup_workdays=makeup, source=source.strip())


def load_year_file(path: str | PathLike[str]) -> YearSchedule:
    """Read and validate a year file. Raises :class:`CalendarFileError`."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise CalendarFileError(f"cannot read {path}: {exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CalendarFileError(f"{path} is not valid JSON: {exc}") from exc
    try:
        return parse_year(data)
    except CalendarFileError as exc:
        raise CalendarFileError(f"{path}: {exc}") from None


def shipped_years() -> dict[int, YearSchedule]:
    """The years shipped with the package (``creditcase/core/data/calendar/*.json``)."""
    folder = resources.files("creditcase.core").joinpath("data", "calendar")
    years: dict[int, YearSchedule] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        try:
            schedule = parse_year(json.loads(entry.read_text(encoding="utf-8")))
        except (CalendarFileError, json.JSONDecodeError) as exc:
            raise CalendarFileError(f"shipped calendar file {entry.name}: {exc}") from exc
        if entry.name != f"{schedule.year}.json":
            raise CalendarFileError(
                f"shipped calendar file {entry.name} holds year {schedule.year}"
            )
        years[schedule.year] = schedule
    return years


# --------------------------------------------------------------------------- arithmetic


class WorkingCalendar:
    """Working-day arithmetic over the given years; fails closed outside them."""

    def __init__(self, years: Mapping[int, YearSchedule]) -> None:
        for key, schedule in years.items():
            if key != schedule.year:
                raise ValueError(f"schedule for {schedule.year} given under the key {key}")
        self._years: dict[int, YearSchedule] = dict(years)
        self.years: tuple[int, ...] = tuple(sorted(self._years))

    def __repr__(self) -> str:
        return f"WorkingCalendar(years={self.years!r})"

    def schedule(self, year: int) -> YearSchedule:
        """The schedule of ``year``; raises :class:`CalendarDataMissing`."""
        try:
            return self._years[year]
        except KeyError:
            raise CalendarDataMissing(year) from None

    @staticmethod
    def _check_date(d: Any, name: str) -> None:
        # datetime is a date subclass but never equals a date: a lookup would
        # silently miss every holiday, so refuse it.
        if not isinstance(d, date) or isinstance(d, datetime):
            raise TypeError(f"{name} must be a datetime.date, got {type(d).__name__}")

    def is_working_day(self, d: date) -> bool:
        """Whether ``d`` is a working day. Raises :class:`CalendarDataMissing`."""
        self._check_date(d, "d")
        schedule = self.schedule(d.year)
        if d in schedule.off:
            return False
        if d in schedule.makeup_workdays:
            return True
        return d.weekday() < 5

    def add_working_days(self, start: date, n: int) -> date:
        """The day on which the ``n``-th working day after ``start`` falls.

        ``start`` itself is not counted. ``n == 0`` returns ``start``. A negative
        ``n`` counts backwards: the ``|n|``-th working day before ``start``.
        """
        self._check_date(start, "start")
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"n must be an int, got {type(n).__name__}")
        step = _ONE_DAY if n >= 0 else -_ONE_DAY
        remaining = abs(n)
        d = start
        while remaining:
            d += step
            if self.is_working_day(d):
                remaining -= 1
        return d

    def working_days_between(self, start: date, end: date) -> int:
        """Working days passed going from ``start`` to ``end``.

        For ``end >= start``: the number of working days ``d`` with
        ``start < d <= end``. For ``end < start``: minus the number with
        ``end <= d < start``. In both directions ``start`` is not counted and
        ``end`` is, so ``add_working_days(s, n) == e`` implies
        ``working_days_between(s, e) == n`` for any sign of ``n``.
        """
        self._check_date(start, "start")
        self._check_date(end, "end")
        if end >= start:
            return self._count(start + _ONE_DAY, end)
        return -self._count(end, start - _ONE_DAY)

    def working_days_in_year(self, year: int) -> int:
        """Number of working days in ``year``. Raises :class:`CalendarDataMissing`."""
        self.schedule(year)
        return self._count(date(year, 1, 1), date(year, 12, 31))

    def _count(self, first: date, last: date) -> int:
        """Working days in the closed range ``first..last`` (0 if empty)."""
        count = 0
        d = first
        while d <= last:
            if self.is_working_day(d):
                count += 1
            d += _ONE_DAY
        return count


# --------------------------------------------------------------------------- storage


class CalendarYear(me.Document):
    """A year's official schedule loaded by the credit office after release."""

    year = me.IntField(required=True, unique=True, min_value=MIN_YEAR, max_value=MAX_YEAR)
    off = me.ListField(me.DateField())
    makeup_workdays = me.ListField(me.DateField())
    source = me.StringField(required=True)
    loaded_at = me.DateTimeField()
    loaded_by = me.StringField()

    meta = {"collection": "calendar_years"}

    def to_schedule(self) -> YearSchedule:
        """Validate the stored document and return it as a :class:`YearSchedule`."""
        try:
            return parse_year(
                {
                    "year": self.year,
                    "off": _iso_list(self.off),
                    "makeup_workdays": _iso_list(self.makeup_workdays),
                    "source": self.source,
                }
            )
        except CalendarFileError as exc:
            raise CalendarFileError(f"stored calendar year {self.year}: {exc}") from None


def _as_date(value: Any) -> date:
    # DateField returns date in mongoengine 0.29, but a raw BSON value is a datetime.
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise CalendarFileError(f"stored value {value!r} is not a date")


def _iso_list(values: Iterable[Any] | None) -> list[str]:
    return [_as_date(v).isoformat() for v in values or ()]


def store_year(schedule: YearSchedule, *, loaded_by: str) -> CalendarYear:
    """Insert or replace the stored schedule for ``schedule.year``."""
    doc = CalendarYear.objects(year=schedule.year).first()
    if doc is None:
        doc = CalendarYear(year=schedule.year)
    doc.off = sorted(schedule.off)
    doc.makeup_workdays = sorted(schedule.makeup_workdays)
    doc.source = schedule.source
    doc.loaded_at = datetime.now(UTC)
    doc.loaded_by = loaded_by
    doc.save()
    return doc


def current_calendar() -> WorkingCalendar:
    """Shipped years merged with stored years; a stored year wins over a shipped one."""
    years = shipped_years()
    for doc in CalendarYear.objects.order_by("year"):
        schedule = doc.to_schedule()
        years[schedule.year] = schedule
    return WorkingCalendar(years)
