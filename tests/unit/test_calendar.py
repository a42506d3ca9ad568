"""Working-day calendar against the official PRC holiday schedule (oracle file)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditcase.core.calendar import (
    CalendarDataMissing,
    CalendarFileError,
    WorkingCalendar,
    YearSchedule,
    load_year_file,
    parse_year,
    shipped_years,
)

_REPO_ROOT = Path(__file__).resolve().parents[2]
_SHARED_ORACLE = _REPO_ROOT.parent / "shared" / "data" / "cn_official_calendar.json"
_LOCAL_ORACLE = _REPO_ROOT / "tests" / "data" / "cn_official_calendar.json"
ORACLE_PATH = _SHARED_ORACLE if _SHARED_ORACLE.is_file() else _LOCAL_ORACLE
ORACLE = json.loads(ORACLE_PATH.read_text(encoding="utf-8"))

YEARS = (2025, 2026)
CAL = WorkingCalendar(shipped_years())


def _days(year: int):
    d = date(year, 1, 1)
    while d.year == year:
        yield d
        d += timedelta(days=1)


def _oracle_is_working(d: date) -> bool:
    entry = ORACLE["years"][str(d.year)]
    iso = d.isoformat()
    if iso in entry["off"]:
        return False
    if iso in entry["makeup_workdays"]:
        return True
    return d.weekday() < 5


def _valid(**changes):
    data = {
        "year": 2027,
        "off": ["2027-01-01"],
        "makeup_workdays": ["2027-01-02"],
        "source": "synthetic test notice",
    }
    data.update(changes)
    return data


# --------------------------------------------------------------------------- shipped data


def test_shipped_years_match_oracle_lists():
    shipped = shipped_years()
    assert set(YEARS) <= set(shipped)
    for year in YEARS:
        entry = ORACLE["years"][str(year)]
        schedule = shipped[year]
        assert schedule.year == year
        assert sorted(d.isoformat() for d in schedule.off) == sorted(entry["off"])
        assert sorted(d.isoformat() for d in schedule.makeup_workdays) == sorted(
            entry["makeup_workdays"]
        )
        assert "国务院办公厅" in schedule.source
        assert f"{year}年" in schedule.source


def test_2026_source_cites_the_notice():
    assert "gov.cn/zhengce/content/202511/content_7047090.htm" in shipped_years()[2026].source


@pytest.mark.parametrize("year", YEARS)
def test_every_day_classified_like_oracle(year):
    mismatches = [d for d in _days(year) if CAL.is_working_day(d) != _oracle_is_working(d)]
    assert mismatches == []


@pytest.mark.parametrize("year", YEARS)
def test_248_working_days(year):
    assert CAL.working_days_in_year(year) == 248
    assert CAL.working_days_between(date(year - 1, 12, 31), date(year, 12, 31)) == 248


def test_specific_days():
    assert not CAL.is_working_day(date(2025, 10, 8))  # Wednesday inside National Day
    assert CAL.is_working_day(date(2025, 10, 11))  # make-up Saturday
    assert not CAL.is_working_day(date(2025, 10, 12))  # ordinary Sunday
    assert CAL.is_working_day(date(2026, 1, 4))  # make-up Sunday
    assert not CAL.is_working_day(date(2026, 9, 25))  # Mid-Autumn Friday


# --------------------------------------------------------------------------- deadlines


@pytest.mark.parametrize(
    ("decided", "deadline"),
    [tuple(pair) for pair in ORACLE["worked_deadlines_7_working_days"]],
)
def test_worked_deadlines_from_oracle(decided, deadline):
    start, end = date.fromisoformat(decided), date.fromisoformat(deadline)
    assert CAL.add_working_days(start, 7) == end
    assert CAL.working_days_between(start, end) == 7


@pytest.mark.parametrize(
    ("decided", "deadline"),
    [
        (date(2025, 9, 30), date(2025, 10, 16)),
        (date(2025, 1, 24), date(2025, 2, 10)),
        (date(2026, 2, 13), date(2026, 3, 2)),
        (date(2026, 9, 24), date(2026, 10, 12)),
    ],
)
def test_worked_deadlines_from_domain_doc(decided, deadline):
    assert CAL.add_working_days(decided, 7) == deadline


def test_add_across_year_boundary():
    # Dec 26, 29, 30, 31 (2025), then Jan 1-3 off, Jan 4 make-up Sunday, Jan 5, 6.
    assert CAL.add_working_days(date(2025, 12, 25), 7) == date(2026, 1, 6)
    assert CAL.working_days_between(date(2025, 12, 25), date(2026, 1, 6)) == 7


def test_makeup_saturday_counts():
    assert CAL.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)


def test_zero_and_negative():
    d = date(2025, 10, 3)
    assert CAL.add_working_days(d, 0) == d
    assert CAL.working_days_between(d, d) == 0
    # Backwards from Oct 16: Oct 15, 14, 13, 11 (make-up Sat), 10, 9, then Sep 30.
    assert CAL.add_working_days(date(2025, 10, 16), -7) == date(2025, 9, 30)
    assert CAL.working_days_between(date(2025, 10, 16), date(2025, 9, 30)) == -7


def test_datetime_is_rejected():
    with pytest.raises(TypeError):
        CAL.is_working_day(datetime(2025, 10, 1, 9, 0))


# --------------------------------------------------------------------------- property

# Bounded so that 60 working days either way stay inside 2025-2026.
_FORWARD_STARTS = st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 9, 30))
_BACKWARD_STARTS = st.dates(min_value=date(2025, 4, 15), max_value=date(2026, 12, 31))
_ANY = st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31))
_N = st.integers(min_value=0, max_value=60)


@settings(max_examples=150, deadline=None)
@given(start=_FORWARD_STARTS, n=_N)
def test_between_inverts_add(start, n):
    end = CAL.add_working_days(start, n)
    assert end >= start
    assert CAL.working_days_between(start, end) == n
    assert n == 0 or CAL.is_working_day(end)
    # `end` is the first day at which the count reaches n.
    if n:
        assert CAL.working_days_between(start, end - timedelta(days=1)) == n - 1


@settings(max_examples=100, deadline=None)
@given(start=_BACKWARD_STARTS, n=_N)
def test_between_inverts_add_backwards(start, n):
    end = CAL.add_working_days(start, -n)
    assert end <= start
    assert CAL.working_days_between(start, end) == -n


@settings(max_examples=100, deadline=None)
@given(a=_ANY, b=_ANY, c=_ANY)
def test_between_is_additive_forwards(a, b, c):
    a, b, c = sorted((a, b, c))
    assert CAL.working_days_between(a, c) == (
        CAL.working_days_between(a, b) + CAL.working_days_between(b, c)
    )


# --------------------------------------------------------------------------- fail closed


def test_2027_fails_closed():
    with pytest.raises(CalendarDataMissing, match="2027") as info:
        CAL.is_working_day(date(2027, 1, 4))
    assert "creditcase calendar load" in str(info.value)
    assert info.value.year == 2027
    with pytest.raises(CalendarDataMissing, match="2027"):
        CAL.add_working_days(date(2026, 12, 25), 7)
    with pytest.raises(CalendarDataMissing, match="2027"):
        CAL.working_days_in_year(2027)


def test_year_before_data_fails_closed():
    with pytest.raises(CalendarDataMissing, match="2024"):
        CAL.add_working_days(date(2025, 1, 3), -5)


# --------------------------------------------------------------------------- parsing


def test_parse_year_accepts_valid():
    schedule = parse_year(_valid())
    assert schedule == YearSchedule(
        year=2027,
        off=frozenset({date(2027, 1, 1)}),
        makeup_workdays=frozenset({date(2027, 1, 2)}),
        source="synthetic test notice",
    )
    assert parse_year(schedule.to_json()) == schedule


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"off": ["2026-12-31"]}, "outside the year"),
        ({"makeup_workdays": ["2027-01-04"]}, "Saturdays or Sundays"),
        ({"source": ""}, "source"),
        ({"source": "   "}, "source"),
        ({"source": None}, "source"),
        ({"year": "2027"}, "year"),
        ({"year": 1899}, "year"),
        ({"year": True}, "year"),
        ({"off": ["2027-1-1"]}, "ISO"),
        ({"off": ["2027-02-30"]}, "not a valid date"),
        ({"off": "2027-01-01"}, "list"),
        ({"off": ["2027-01-01", "2027-01-01"]}, "twice"),
        ({"off": ["2027-01-02"]}, "disjoint"),
    ],
)
def test_parse_year_rejects(changes, needle):
    with pytest.raises(CalendarFileError, match=needle):
        parse_year(_valid(**changes))


def test_parse_year_rejects_missing_source():
    data = _valid()
    del data["source"]
    with pytest.raises(CalendarFileError, match="source"):
        parse_year(data)


def test_load_year_file_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(CalendarFileError, match="JSON"):
        load_year_file(bad)
    with pytest.raises(CalendarFileError):
        load_year_file(tmp_path / "absent.json")


def test_loaded_2027_file_extends_calendar(tmp_path):
    # Synthetic 2027: New Year's Day (Friday) off, plus a made-up holiday block.
    path = tmp_path / "2027.json"
    path.write_text(
        json.dumps(
            {
                "year": 2027,
                "off": ["2027-01-01", "2027-01-04", "2027-01-05"],
                "makeup_workdays": ["2027-01-09"],
                "source": "synthetic notice for tests",
            }
        ),
        encoding="utf-8",
    )
    schedule = load_year_file(path)
    cal = WorkingCalendar({**shipped_years(), 2027: schedule})
    assert cal.years == (2025, 2026, 2027)
    # From Thu 2026-12-24: Dec 25, 28, 29, 30, 31; Jan 1 off, Jan 4-5 off;
    # Jan 6, 7 -> the 7th working day is 2027-01-07.
    assert cal.add_working_days(date(2026, 12, 24), 7) == date(2027, 1, 7)
    assert cal.add_working_days(date(2027, 1, 8), 1) == date(2027, 1, 9)  # make-up Saturday
    assert cal.working_days_between(date(2026, 12, 24), date(2027, 1, 7)) == 7
