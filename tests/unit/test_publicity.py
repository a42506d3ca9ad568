"""双公示 rules without a database: the 7-working-day deadline over holidays and
make-up days, the effective-dated publicity regimes at every boundary and for
every severity, the month-end clamp, and the publicity state of a pushed record."""

from __future__ import annotations

import datetime as dt

import pytest

from creditcase.core import publicity
from creditcase.core.calendar import WorkingCalendar, shipped_years
from creditcase.core.publicity import Plan, RegimeMissing

D = dt.date
CALENDAR = WorkingCalendar(shipped_years())


def penalty(decided: dt.date, severity: str, **extra) -> dict:
    return {"kind": "penalty", "decision_date": decided, "severity": severity, **extra}


# -- publication deadline ------------------------------------------------------------------------

@pytest.mark.parametrize("decided,deadline", [
    (D(2025, 9, 30), D(2025, 10, 16)),   # National Day 10/1-8 off, Sat 10/11 a make-up day
    (D(2025, 1, 24), D(2025, 2, 10)),    # Spring Festival, make-up days 1/26 and 2/8
    (D(2026, 2, 13), D(2026, 3, 2)),     # Spring Festival 2/15-23, make-up Sat 2/14 and 2/28
    (D(2026, 9, 24), D(2026, 10, 12)),   # Mid-Autumn 9/25-27, National Day 10/1-7, Sat 10/10
    (D(2026, 3, 2), D(2026, 3, 11)),     # an ordinary fortnight
])
def test_publication_deadline_is_seven_working_days_after_the_decision(decided, deadline):
    assert publicity.publication_deadline(decided, CALENDAR) == deadline


def test_deadline_is_unknown_without_the_official_calendar():
    assert publicity.publication_deadline(D(2027, 12, 28), CALENDAR) is None


# -- regimes -------------------------------------------------------------------------------------

@pytest.mark.parametrize("day,regime", [
    (D(2019, 7, 1), "NDRC-2019-527"),
    (D(2023, 4, 30), "NDRC-2019-527"),
    (D(2023, 5, 1), "NDRC-ORDER-2023-58"),
    (D(2026, 3, 31), "NDRC-ORDER-2023-58"),
    (D(2026, 4, 1), "GBF-2025-22+NDRC-ORDER-2025-36"),
    (D(2040, 1, 1), "GBF-2025-22+NDRC-ORDER-2025-36"),
])
def test_regime_for_is_effective_dated(day, regime):
    assert publicity.regime_for(day).id == regime


def test_no_regime_before_2019_07_01():
    with pytest.raises(RegimeMissing):
        publicity.regime_for(D(2019, 6, 30))
    for severity in ("minor", "general", "serious"):
        assert publicity.plan(penalty(D(2019, 6, 30), severity)) == Plan(None, False, None, None)


R527, R58, R22 = "NDRC-2019-527", "NDRC-ORDER-2023-58", "GBF-2025-22+NDRC-ORDER-2025-36"


@pytest.mark.parametrize("decided,severity,regime,min_end,max_end", [
    # 发改办财金〔2019〕527号: 一般 3 months..1 year, 严重 6 months..3 years, 轻微 not published
    (D(2019, 7, 1), "minor", R527, None, None),
    (D(2019, 7, 1), "general", R527, D(2019, 10, 1), D(2020, 7, 1)),
    (D(2019, 7, 1), "serious", R527, D(2020, 1, 1), D(2022, 7, 1)),
    (D(2023, 4, 30), "minor", R527, None, None),
    (D(2023, 4, 30), "general", R527, D(2023, 7, 30), D(2024, 4, 30)),
    (D(2023, 4, 30), "serious", R527, D(2023, 10, 30), D(2026, 4, 30)),
    # Order 58: 3 months..3 years, 轻微 not published
    (D(2023, 5, 1), "minor", R58, None, None),
    (D(2023, 5, 1), "general", R58, D(2023, 8, 1), D(2026, 5, 1)),
    (D(2023, 5, 1), "serious", R58, D(2023, 8, 1), D(2026, 5, 1)),
    (D(2026, 3, 31), "minor", R58, None, None),
    (D(2026, 3, 31), "general", R58, D(2026, 6, 30), D(2029, 3, 31)),
    (D(2026, 3, 31), "serious", R58, D(2026, 6, 30), D(2029, 3, 31)),
    # 国办发〔2025〕22号 + Order 36: 轻微 not published, 一般 3 months..1 year, 严重 1..3 years
    (D(2026, 4, 1), "minor", R22, None, None),
    (D(2026, 4, 1), "general", R22, D(2026, 7, 1), D(2027, 4, 1)),
    (D(2026, 4, 1), "serious", R22, D(2027, 4, 1), D(2029, 4, 1)),
])
def test_periods_at_every_regime_boundary(decided, severity, regime, min_end, max_end):
    record = penalty(decided, severity)
    plan = publicity.plan(record)
    assert plan.regime == regime
    assert plan.published is (max_end is not None)
    assert publicity.min_period_end(record) == min_end
    assert publicity.max_period_end(record) == max_end


def test_adding_months_clamps_to_the_end_of_the_month():
    record = penalty(D(2026, 11, 30), "general")
    assert publicity.min_period_end(record) == D(2027, 2, 28)
    assert publicity.max_period_end(record) == D(2027, 11, 30)
    minor = penalty(D(2026, 11, 30), "minor", publish_minor=True)
    assert publicity.max_period_end(minor) == D(2027, 2, 28)
    assert publicity.max_period_end(penalty(D(2027, 11, 30), "general")) == D(2028, 11, 30)
    assert publicity.min_period_end(penalty(D(2027, 11, 30), "general")) == D(2028, 2, 29)


def test_minor_is_published_from_2026_04_01_only_when_the_department_deems_it_necessary():
    assert publicity.plan(penalty(D(2026, 4, 1), "minor")).published is False
    necessary = publicity.plan(penalty(D(2026, 4, 1), "minor", publish_minor=True))
    assert necessary == Plan(R22, True, D(2026, 4, 1), D(2026, 7, 1))
    # earlier regimes have no "necessary" exception: still not published
    assert publicity.plan(penalty(D(2026, 3, 31), "minor", publish_minor=True)).published is False


def test_several_penalty_types_take_the_longest_period():
    record = penalty(D(2026, 5, 6), "minor",
                     type_severities={"警告": "minor", "罚款": "general", "吊销许可证件": "serious"})
    assert publicity.plan(record) == Plan(R22, True, D(2027, 5, 6), D(2029, 5, 6))
    record = penalty(D(2026, 5, 6), "minor", type_severities={"罚款": "general"})
    assert publicity.plan(record) == Plan(R22, True, D(2026, 8, 6), D(2027, 5, 6))


def test_sector_minimum_under_order_58():
    record = penalty(D(2023, 5, 1), "general", sector="work_safety")
    assert publicity.min_period_end(record) == D(2024, 5, 1)
    assert publicity.max_period_end(record) == D(2026, 5, 1)
    assert publicity.min_period_end(penalty(D(2026, 5, 1), "general", sector="fire_safety")) \
        == D(2026, 8, 1)


def test_licences_are_published_while_valid():
    licence = {"kind": "licence", "decision_date": D(2026, 3, 2),
               "effective_until": D(2031, 3, 1), "fields": {"XK_ZT": "1"}}
    assert publicity.plan(licence) == Plan(publicity.LICENCE_REGIME_ID, True, None, D(2031, 3, 1))
    assert publicity.plan({**licence, "effective_until": None}).max_until == publicity.OPEN_ENDED
    assert publicity.plan({**licence, "fields": {"XK_ZT": "2"}}).published is False
    assert publicity.plan({"kind": "award", "decision_date": D(2026, 3, 2)}) == \
        Plan(None, False, None, None)


# -- state of a pushed record --------------------------------------------------------------------

PUBLISHED = Plan(R22, True, D(2026, 8, 6), D(2027, 5, 6))


@pytest.mark.parametrize("publish,today,previous,state", [
    (True, D(2026, 5, 10), None, "published"),
    (False, D(2026, 5, 15), None, "due"),          # deadline 2026-05-15 itself: still due
    (False, D(2026, 5, 16), None, "overdue"),
    (True, D(2027, 5, 7), None, "ended"),          # pushed after its period: never shown
    (False, D(2026, 5, 20), "due", "overdue"),
    (True, D(2026, 5, 20), "published", "published"),
    (False, D(2026, 5, 20), "not_applicable", "overdue"),
])
def test_state_on_push(publish, today, previous, state):
    assert publicity.state_on_push(PUBLISHED, publish=publish, deadline=D(2026, 5, 15),
                                   today=today, previous=previous) == state


def test_records_the_rules_do_not_publish_stay_unpublished_or_end():
    hidden = Plan(R22, False, None, None)
    assert publicity.state_on_push(hidden, publish=True, deadline=None, today=D(2026, 5, 1)) \
        == "not_applicable"
    assert publicity.state_on_push(hidden, publish=True, deadline=None, today=D(2026, 5, 1),
                                   previous="published") == "ended"


def test_is_late():
    assert publicity.is_late(D(2026, 5, 15), D(2026, 5, 15)) is False
    assert publicity.is_late(D(2026, 5, 15), D(2026, 5, 16)) is True
    assert publicity.is_late(None, D(2026, 5, 16)) is None


def test_public_filter_hides_ended_periods_by_date():
    query = publicity.public_filter(D(2026, 11, 26))
    assert query["publicity_state"] == "published"
    assert query["publicity_until"] == {"$gte": dt.datetime(2026, 11, 26)}
    assert set(query["state"]["$in"]) == {"active", "disputed"}
