"""Vesting (pending points) on the columnar path: both evaluators agree.

A candidate's points step in as they vest, and a fact (a return) counts for it
only if established before then (RuleState._until); what has not vested at the
end is `pending_points` (MemberRun._pending). The program (tests/columnar/
vesting.loy) has vesting on plain, capped, ranked, per-unit, multiplied and
fact-tested rules; the histories put events at midnights so that points vest
exactly at the end of an as-of day, and returns just before and after vesting.
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
SOURCE = (ROOT / "tests" / "columnar" / "vesting.loy").read_text(encoding="utf-8")
ZONES = ["Europe/London", "UTC", "Asia/Shanghai"]
PROGRAMS = {zone: compile_text(SOURCE.replace('timezone "Europe/London"', f'timezone "{zone}"')) for zone in ZONES}
DAYS = [dt.date(2025, 3, 1), dt.date(2025, 3, 2), dt.date(2025, 3, 4), dt.date(2025, 3, 16), dt.date(2025, 3, 30)]
DAYS += [dt.date(2025, 11, 1), dt.date(2025, 11, 15)]
TIMES = [dt.time(0, 0), dt.time(0, 0, 0, 1), dt.time(12, 0), dt.time(23, 59, 59)]
AS_OF = [None, dt.date(2025, 3, 1), dt.date(2025, 3, 3), dt.date(2025, 3, 15), dt.date(2025, 3, 16)]
AS_OF += [dt.date(2025, 3, 31), dt.date(2025, 4, 1), dt.date(2025, 11, 16), dt.date(2025, 12, 31)]


def test_the_plan_takes_every_program_here():
    for program in PROGRAMS.values():
        plan(program)


@st.composite
def histories(draw):
    tz = zoneinfo.ZoneInfo(draw(st.sampled_from(ZONES)))
    events = []
    for i in range(draw(st.integers(1, 24))):
        day, time = draw(st.sampled_from(DAYS)), draw(st.sampled_from(TIMES))
        at = dt.datetime.combine(day, time, tzinfo=tz).isoformat()
        kind = draw(st.sampled_from(["order_confirmed", "order_confirmed", "order_returned", "review", "bonus"]))
        event: dict = {"member": draw(st.sampled_from("ab")), "type": kind, "at": at, "id": f"x{i}"}
        if kind in ("order_confirmed", "order_returned", "review"):
            event["order"] = draw(st.sampled_from(["o1", "o2", "o3"]))
        if kind == "order_confirmed":
            event |= {"amount": draw(st.sampled_from([1, 2, 25, 99.99])), "category": draw(st.sampled_from("xyz"))}
        if kind == "bonus":
            event["points"] = draw(st.sampled_from([-3, 4, 20]))
        events.append(event)
    return events


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ZONES), histories(), st.sampled_from(AS_OF))
def test_vesting_agrees_on_random_histories(zone, events, day):
    got, want = both_ways(PROGRAMS[zone], events, day)
    assert got == want


def test_points_vest_at_the_end_of_a_day_and_a_late_return_does_not_take_them_back():
    """Worked by hand (UTC). An order of 25 (category y) confirmed at 00:00 on 1 March 2025: orders
    10 vests at 00:00 on 16 March, the end of 15 March; capped 5 at the end of 3 March; per_order 3
    after 30 days; per_amount 2 (two steps of 10) with orders. As of 15 March: 10 + 5 + 2 = 17
    points, 3 pending. A return on 16 March comes after the points vested: nothing changes. A
    return on 15 March, 23:59:59, comes before: orders and per_amount never vest (capped had)."""
    program = PROGRAMS["UTC"]
    order = {"member": "a", "type": "order_confirmed", "at": "2025-03-01T00:00:00Z", "id": "o"}
    order |= {"order": "o1", "amount": 25, "category": "y"}
    late = {"member": "a", "type": "order_returned", "at": "2025-03-16T00:00:00Z", "order": "o1", "id": "r"}
    early = late | {"at": "2025-03-15T23:59:59Z"}
    seen = []
    for events in ([order], [order, late], [order, early]):
        got, want = both_ways(program, events, dt.date(2025, 3, 15))
        assert got == want
        seen.append((got[0]["points"], got[0]["pending_points"]))
    assert seen == [(17, 3), (17, 3), (5, 3)]


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (("window lifetime, continuous", "window last 12 months, recalculated monthly"), "rolling window"),
        (("    earn 3 per order\n", "    earn 3 per order with at least 2\n"), "threshold"),
        (("window lifetime, continuous", "window lifetime, continuous\npoints expire after 12 months"), "balance"),
    ],
)
def test_the_plan_says_which_vesting_it_leaves_per_member(change, why):
    with pytest.raises(NotColumnar, match=why):
        plan(compile_text(SOURCE.replace(*change)))
