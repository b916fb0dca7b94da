"""Multipliers and expiry on the columnar path: both evaluators agree.

Multipliers act on each unit's kept points: the plan multiplies a unit's value
where the rule keeps it whole (or its caps count multiplied points), and a top
group's points where the factor is whole and the same for the group. Expiry
reads each unit as it stands at the end (its first passing event dates it,
caps share out its period), whatever the window. The program
(tests/columnar/lots_zoned.loy) has every such form in a zone with DST; the
histories put events on campaign edges, DST days, 29 February and month ends,
and as-of days put lots on the edge of expiring.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty_dsl import compile_text
from loyalty_dsl.columnar.plan import NotColumnar, plan
from tests.test_columnar_zones import both_ways

ROOT = Path(__file__).parent.parent
SOURCE = (ROOT / "tests" / "columnar" / "lots_zoned.loy").read_text(encoding="utf-8")
EXPIRIES = [
    "",
    "points expire after 12 months",
    "points expire after 40 days",
    "points expire after 1 months, at the end of that month",
    "points expire at the end of the month",
    "points expire at the end of the quarter",
    "points expire at the end of the year",
    "points expire after 3 months without activity",
]
WINDOWS = ["window last 12 months, recalculated monthly", "window lifetime, continuous"]
ZONES = ["Europe/London", "Asia/Shanghai", "UTC"]


def variant(zone: str, expiry: str, window: str) -> str:
    source = SOURCE.replace('timezone "Europe/London"', f'timezone "{zone}"')
    return source.replace("window last 12 months, recalculated monthly", window) + expiry + "\n"


PROGRAMS = {
    (zone, expiry, window): compile_text(variant(zone, expiry, window))
    for zone in ZONES
    for expiry in EXPIRIES
    for window in WINDOWS
}
DAYS = [
    dt.date(2024, 2, 29),
    dt.date(2024, 3, 31),
    dt.date(2024, 11, 11),
    dt.date(2025, 3, 30),
    dt.date(2025, 3, 31),
    dt.date(2025, 10, 26),
    dt.date(2025, 11, 11),
    dt.date(2025, 11, 30),
]
TIMES = [dt.time(0, 0), dt.time(1, 30), dt.time(16, 0), dt.time(17, 59), dt.time(22, 0), dt.time(23, 59, 59)]
# as-of days where lots earned on DAYS stop counting, or are about to
AS_OF = [None, dt.date(2025, 3, 29), dt.date(2025, 3, 30), dt.date(2025, 4, 1), dt.date(2025, 12, 9)]
AS_OF += [dt.date(2025, 12, 31), dt.date(2026, 1, 1), dt.date(2026, 11, 10), dt.date(2026, 11, 11)]


def test_the_plan_takes_every_program_here():
    for program in PROGRAMS.values():
        plan(program)


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("rule kept:\n    on order_confirmed where order is not voided\n    earn 1 per month with at least 2", "fact"),
        ("multiply shopping by 1.5 during 11 November", "not whole"),
        ("multiply shopping by 2 during Tuesday 16:00 to 18:00", "change within a group"),
        ("multiply shopping by 2 for Plus", "by tier"),
    ],
)
def test_the_plan_says_which_multiplier_or_expiry_it_leaves_per_member(line, why):
    with pytest.raises(NotColumnar, match=why):
        plan(compile_text(SOURCE + line + "\n"))


@st.composite
def histories(draw):
    tz = zoneinfo.ZoneInfo(draw(st.sampled_from(ZONES)))
    events = []
    for i in range(draw(st.integers(1, 24))):
        day, time = draw(st.sampled_from(DAYS)), draw(st.sampled_from(TIMES))
        local = dt.datetime.combine(day, time, tzinfo=tz).replace(fold=draw(st.sampled_from([0, 1])))
        kind = draw(st.sampled_from(["visit", "order_confirmed", "order_confirmed", "order_returned", "bonus"]))
        event: dict = {"member": draw(st.sampled_from("ab")), "type": kind, "at": local.isoformat(), "id": f"x{i}"}
        if kind in ("order_confirmed", "order_returned"):
            event["order"] = draw(st.sampled_from(["o1", "o2", "o3", "o4"]))
        if kind == "order_confirmed":
            event |= {"amount": draw(st.sampled_from([1, 2, 30, 45])), "category": draw(st.sampled_from("xyz"))}
        if kind == "bonus":
            event["points"] = draw(st.sampled_from([-3, 1, 4, 7]))
        events.append(event)
    return events


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(PROGRAMS)),
    histories(),
    st.sampled_from(AS_OF),
)
def test_multipliers_and_expiry_agree_on_random_histories(key, events, day):
    got, want = both_ways(PROGRAMS[key], events, day)
    assert got == want


def test_the_comparison_sees_multiplied_and_expiring_points():
    """Worked by hand (UTC, lifetime window, points expire after 40 days), as of 2025-12-01:
    an order of 45 on 11 November 2025 (category x): shopping 5 x 2 (the 11 November campaign,
    whole over the day's cap group) = 10; orders 2 x 1.5 (category x; not March, so not 2.5) = 3;
    big_spend 7 (not 29 February); a bonus of 7 on 1 November x 1.4 = 9.8, rounded down to 9.
    per_order 3 (its first order of the month); monthly_categories 0 (the month's first category).
    Points 10 + 3 + 7 + 9 + 3 = 32. The bonus lot (earned 1 November) expires on 11 December, the
    order's lots (23 points, 11 November) on 21 December: the balance is 32, expiring in that order."""
    program = PROGRAMS[("UTC", "points expire after 40 days", "window lifetime, continuous")]
    events = [
        {"member": "a", "type": "bonus", "at": "2025-11-01T10:00:00Z", "points": 7},
        {"member": "a", "type": "order_confirmed", "at": "2025-11-11T10:00:00Z", "order": "o1"}
        | {"amount": 45, "category": "x"},
    ]
    got, want = both_ways(program, events, dt.date(2025, 12, 1))
    assert got == want
    assert got[0]["points_by_rule"] == {
        "shopping": 10,
        "categories": 0,
        "daily": 0,
        "happy_hour": 0,
        "orders": 3,
        "big_spend": 7,
        "bonus": 9,
        "monthly_categories": 0,
        "nested": 0,
        "per_order": 3,
        "four_visits": 0,
        "varied": 0,
        "visit_days": 0,
    }
    assert got[0]["balance"] == 32
    assert got[0]["expiring"] == [{"points": 9, "on": "2025-12-11"}, {"points": 23, "on": "2025-12-21"}]


@pytest.mark.parametrize("zone", ["Europe/London", "Asia/Shanghai"])
@pytest.mark.parametrize("expiry", [e for e in EXPIRIES[1:] if "activity" not in e])  # fixed days
def test_lots_stop_counting_on_the_same_day_both_ways(zone, expiry):
    """A bonus on each of DAYS; as of the days around each day a lot stops counting (read from the
    reference's `expiring`), both evaluators agree; a lot shown expiring on day D still counts as
    of D - 2 and has gone as of D - 1, whose end is D's first instant."""
    program = PROGRAMS[(zone, expiry, WINDOWS[1])]
    tz = zoneinfo.ZoneInfo(zone)
    events = [
        {"member": "a", "type": "bonus", "at": dt.datetime.combine(d, dt.time(12), tzinfo=tz).isoformat()}
        | {"points": 5, "id": f"b{i}"}
        for i, d in enumerate(DAYS)
    ]
    ends = sorted(
        {dt.date.fromisoformat(e["on"]) for d in DAYS for e in both_ways(program, events, d)[1][0]["expiring"]}
    )
    assert len(ends) >= 2, "the lots expire"
    for end in ends:
        shown = []
        for day in (end - dt.timedelta(days=2), end - dt.timedelta(days=1), end):
            got, want = both_ways(program, events, day)
            assert got == want
            shown.append({e["on"] for e in got[0]["expiring"]})
        assert end.isoformat() in shown[0]
        assert end.isoformat() not in shown[1]


def test_a_months_cap_is_shared_out_day_after_day():
    """Worked by hand (UTC, lifetime window, points expire after 40 days). Visits at 10:00 and 11:00
    on Saturday 1 March 2025 and Sunday 2 March, and at 10:00 on Monday 10 March:
    - daily (1 a day, cap 4 a month, x2 in March): 2 on each day, 6;
    - nested (2 a visit, cap 3 a day, then 5 a month): 3 on the 1st, 2 on the 2nd (the month's
      5 reached), 0 on the 10th: 5;
    - happy_hour (3 a visit, no multiplier at these hours): 6, 6 and 3: 15;
    - four_visits (4 a month, with at least 3 visits): earned by the third, on 2 March: 4;
    - visit_days (5 a week, with at least 2 distinct days): the week of Monday 24 February has
      1 and 2 March, earned on the 2nd; the week of the 10th has one day: 5.
    Points 35. As of 9 April, the lots of 1 March (they stop counting on 10 April) are gone: the
    balance is 19 (2 March: 2 + 2 + 6 + 4 + 5, until 11 April) + 5 (10 March: 2 + 0 + 3, until
    19 April)."""
    program = PROGRAMS[("UTC", "points expire after 40 days", "window lifetime, continuous")]
    ats = ["2025-03-01T10:00:00Z", "2025-03-01T11:00:00Z", "2025-03-02T10:00:00Z", "2025-03-02T11:00:00Z"]
    ats.append("2025-03-10T10:00:00Z")
    events = [{"member": "a", "type": "visit", "at": at, "id": f"v{i}"} for i, at in enumerate(ats)]
    got, want = both_ways(program, events, dt.date(2025, 4, 9))
    assert got == want
    by_rule = got[0]["points_by_rule"]
    assert (by_rule["daily"], by_rule["nested"], by_rule["happy_hour"]) == (6, 5, 15)
    assert (by_rule["four_visits"], by_rule["visit_days"], got[0]["points"]) == (4, 5, 35)
    assert got[0]["balance"] == 24
    assert got[0]["expiring"] == [{"points": 19, "on": "2025-04-11"}, {"points": 5, "on": "2025-04-19"}]


def test_fields_named_like_the_plans_own_columns():
    """The plan's own columns (the local timestamp, a lot's day, a factor) cannot clash with fields
    of those names: the program runs columnar and agrees with the reference."""
    source = """program "names"
timezone "Asia/Shanghai"
event purchase with ts: integer, ld: text, fm: integer at least 0
window lifetime, continuous
rule spend:
    on purchase where ld = "x"
    earn fm
    cap 9 per day
multiply spend by 2 during November
points expire after 2 months
tier Member from 1 point:
"""
    program = compile_text(source)
    plan(program)
    events = [
        {"member": "a", "type": "purchase", "at": f"2025-11-0{d}T10:00:00Z", "ts": d, "ld": "x", "fm": 4 * d}
        for d in range(1, 5)
    ]
    got, want = both_ways(program, events, dt.date(2025, 12, 30))
    assert got == want
    assert got[0]["points"] == 2 * (4 + 8 + 9 + 9)  # each day's cap of 9, then x2 in November
    assert got[0]["balance"] == got[0]["points"]
    got, want = both_ways(program, events, dt.date(2025, 12, 31))  # the lot of 1 November (8) is gone
    assert got == want
    assert got[0]["balance"] == 60 - 8
