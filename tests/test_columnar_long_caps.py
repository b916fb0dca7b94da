"""Groups longer than a month in a rolling window, on the columnar path: both evaluators agree.

A cap per quarter or per year, a week that spans two months, or `beyond the first` per quarter
makes a group whose units fall in several months, and so leave the window month by month. The
plan then works out each unit's kept points in time order (caps shared out unit after unit, the
earliest unit of a ranked group unpaid) and steps each in at its month and out when the window
passes it. That holds where a unit never changes once earned: with a fact or a threshold such a
rule still runs per member. The program is tests/columnar/long_caps.loy (a fiscal year from
February, weeks from Sunday), in two zones, two windows, with expiry and a claim.
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
SOURCE = (ROOT / "tests" / "columnar" / "long_caps.loy").read_text(encoding="utf-8")
ZONES = ["Europe/London", "Asia/Shanghai"]
WINDOWS = ["window last 3 months, recalculated monthly", "window last 12 months, recalculated monthly"]
EXTRAS = [
    "",
    "points expire after 40 days",
    "event redeemed with points: integer at least 1\nredeem points by redeemed with points",
]


def variant(zone: str, window: str, extra: str) -> str:
    source = SOURCE.replace('timezone "Europe/London"', f'timezone "{zone}"')
    return source.replace("window last 3 months, recalculated monthly", window) + extra + "\n"


PROGRAMS = {key: compile_text(variant(*key)) for key in [(z, w, e) for z in ZONES for w in WINDOWS for e in EXTRAS]}
FIRST = dt.date(2024, 12, 20)  # histories fall in the 15 months from here: quarters and fiscal years end within


def test_the_plan_takes_every_program_here():
    for program in PROGRAMS.values():
        plan(program)


@st.composite
def histories(draw):
    tz = zoneinfo.ZoneInfo(draw(st.sampled_from(ZONES)))
    events = []
    kinds = ["purchase", "purchase", "visit", "visit", "bonus", "redeemed"]
    for i in range(draw(st.integers(1, 40))):
        day = FIRST + dt.timedelta(days=draw(st.integers(0, 450)))
        time = draw(st.sampled_from([dt.time(0, 0), dt.time(9, 30), dt.time(23, 59)]))
        kind = draw(st.sampled_from(kinds))
        at = dt.datetime.combine(day, time, tzinfo=tz).isoformat()
        event: dict = {"member": draw(st.sampled_from("ab")), "type": kind, "at": at, "id": f"x{i}"}
        if kind == "purchase":
            event |= {"basket": draw(st.sampled_from(["b1", "b2", "b3"])), "total": draw(st.sampled_from([5, 20, 60]))}
            event["category"] = draw(st.sampled_from("xyz"))
        if kind == "bonus":
            event["points"] = draw(st.sampled_from([0, 15, 40]))
        if kind == "redeemed":
            event["points"] = draw(st.sampled_from([5, 30]))
        events.append(event)
    return events


AS_OF = [None, dt.date(2025, 3, 31), dt.date(2025, 7, 31), dt.date(2025, 12, 31), dt.date(2026, 2, 28)]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(PROGRAMS)), histories(), st.sampled_from(AS_OF))
def test_long_groups_agree_on_random_histories(key, events, day):
    got, want = both_ways(PROGRAMS[key], events, day)
    assert got == want


def test_a_quarter_cap_leaves_the_window_month_by_month():
    """Worked by hand (London, a window of 3 months, the fiscal year from February: quarters
    Feb-Apr, May-Jul, Aug-Oct, Nov-Jan). Purchases of 20 on 10 February, 10 March, 10 April and 20
    April 2025: 10 points each (purchases), up to 30 a quarter, so the last keeps none; categories
    (all `x`): 2 per category per quarter beyond the first, so 0; baskets: 3 each for b1, b2, b3, b4,
    at most 7 a week (each week has one). Points by rule at each recalculation, the window being
    the three months before it:
    - 1 May 2025 (Feb, Mar, Apr): purchases 30, baskets 12: 42, Plus.
    - 1 June (Mar, Apr, May): February's unit has left: purchases 20, baskets 9: 29, Member.
    - 1 August (May, Jun, Jul): nothing: 0 points, no tier."""
    program = PROGRAMS[("Europe/London", WINDOWS[0], "")]
    events = [
        {"member": "a", "type": "purchase", "at": f"2025-{d}T12:00:00Z", "basket": f"b{i}", "total": 20}
        | {"category": "x", "id": f"p{i}"}
        for i, d in enumerate(["02-10", "03-10", "04-10", "04-20"], start=1)
    ]
    seen = []
    for day in (dt.date(2025, 4, 30), dt.date(2025, 5, 31), dt.date(2025, 7, 31)):
        got, want = both_ways(program, events, day)
        assert got == want
        (o,) = got
        seen.append((o["points_by_rule"]["purchases"], o["points_by_rule"]["baskets"], o["points"], o["tier"]))
    assert seen == [(30, 12, 42, "Plus"), (20, 9, 29, "Member"), (0, 0, 0, None)]


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        ("    on purchase where total >= 20\n", "    on purchase where total >= 20 and basket is voided\n", "a fact"),
        (
            "    earn 1 per week\n    cap 4 per year",
            "    earn 1 per week with at least 2\n    cap 4 per year",
            "a threshold",
        ),
    ],
)
def test_the_plan_says_which_long_groups_it_leaves_per_member(old, new, why):
    source = variant("UTC", WINDOWS[0], "event voided with basket: text\na basket is voided by voided")
    assert old in source
    plan(compile_text(source))
    with pytest.raises(NotColumnar, match=f"several months, and {why}"):
        plan(compile_text(source.replace(old, new)))
