"""`for every STEP of FIELD` (points per currency unit), and thresholds on a sum of amounts, on the
columnar path.

The whole steps of each amount are worked out before the SQL, exactly, on the
decimal the amount was written as (`run.every_steps`, against the reference's
`compile.steps_of`); the rest is a rule whose points come from a field, with
caps, units and multipliers. Both evaluators must agree.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty_dsl import compile_text
from loyalty_dsl.columnar.plan import NotColumnar, plan
from loyalty_dsl.columnar.run import every_steps
from loyalty_dsl.evaluation.compile import steps_of
from tests.test_columnar_lots import DAYS, TIMES, ZONES
from tests.test_columnar_zones import both_ways

ROOT = Path(__file__).parent.parent
SOURCE = (ROOT / "tests" / "columnar" / "lots_zoned.loy").read_text(encoding="utf-8")
RULES = """
rule per_unit:
    on order_confirmed where order is not voided
    earn 2 for every 1.00 of amount
rule quarters:
    on order_confirmed
    earn 1 for every 0.25 of amount
    cap 30 per day
rule tens:
    on order_confirmed where amount >= 2
    earn 3 for every 10 of amount per order
    cap 12 per month
rule thirds:
    on order_confirmed
    earn 1 for every 0.3 of amount
rule big_month:
    on order_confirmed
    earn 7 per month with at least 50.5 in amount
rule busy_day:
    on order_confirmed where amount >= 2
    earn 2 per day with at least 0.6 in amount
multiply per_unit by 1.5 during November
multiply thirds by 2
"""
EDGES = [0.0, 0.3, 0.30000000000000004, 0.1 + 0.2, 1.99, 2.0, 2.25, 9.999999999999998, 10.0, 12.345]
EDGES += [29.999999999999996, 45.0, 1e-7, 123456.78, -5.5, 1e17, 1e22]
STEPS = [Decimal("1.00"), Decimal("0.25"), Decimal("10"), Decimal("0.3"), Decimal("0.001"), Decimal("0.0000001")]


def test_steps_of_a_column_are_the_references_on_edges():
    for step in STEPS:
        for kind in (pa.float64(), pa.int64()):
            values = EDGES if kind == pa.float64() else [0, 1, 7, 10, 99, -3, 10**15]
            column = pa.chunked_array([pa.array([*values, None], kind)])
            want = [steps_of(v, step) for v in [*values, None]]
            if max(want) >= 2**63:  # (beyond MAX_EXACT, the SQL's check of points says so too)
                with pytest.raises(NotColumnar, match="points beyond"):
                    every_steps(column, step)
                continue
            assert every_steps(column, step).to_pylist() == want, step
    assert every_steps(pa.array([1e17, 0.5]), Decimal("1.00")).to_pylist() == [10**17, 0]  # int64, exact


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e11)), st.sampled_from(STEPS)
)
def test_steps_of_a_column_are_the_references(values, step):
    assert every_steps(pa.array(values, pa.float64()), step).to_pylist() == [steps_of(v, step) for v in values]


PROGRAMS = {
    zone: compile_text(SOURCE.replace('timezone "Europe/London"', f'timezone "{zone}"') + RULES) for zone in ZONES
}


def test_the_plan_takes_the_rules():
    for program in PROGRAMS.values():
        plan(program)


@st.composite
def histories(draw):
    tz = zoneinfo.ZoneInfo(draw(st.sampled_from(ZONES)))
    events = []
    for i in range(draw(st.integers(1, 20))):
        day, time = draw(st.sampled_from(DAYS)), draw(st.sampled_from(TIMES))
        at = dt.datetime.combine(day, time, tzinfo=tz).isoformat()
        kind = draw(st.sampled_from(["order_confirmed", "order_confirmed", "order_returned", "visit"]))
        event: dict = {"member": draw(st.sampled_from("ab")), "type": kind, "at": at, "id": f"x{i}"}
        if kind != "visit":
            event["order"] = draw(st.sampled_from(["o1", "o2", "o3"]))
        if kind == "order_confirmed":
            edges = st.sampled_from([e for e in EDGES if abs(e) < 1e9])
            amount = draw(st.one_of(edges, st.floats(0, 500).map(lambda f: round(f, 2))))
            event |= {"amount": amount, "category": draw(st.sampled_from("xyz"))}
        events.append(event)
    return events


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ZONES), histories(), st.sampled_from([None, dt.date(2025, 3, 31), dt.date(2025, 12, 31)]))
def test_points_per_amount_agree_on_random_histories(zone, events, day):
    got, want = both_ways(PROGRAMS[zone], events, day)
    assert got == want


def test_points_per_amount_worked_by_hand():
    """UTC, as of 1 April 2025 (the window is recalculated monthly): one order of 12.345 on Tuesday
    4 March 2025, 10:00, category x, not returned. per_unit: 2 x 12 steps = 24 (no multiplier in
    March). quarters: 49 steps of 0.25, capped at 30 a day. tens: 3 x 1 step = 3. thirds: 41 steps of
    0.3 (12.3 is 41 x 0.3 exactly), doubled: 82. (The program's other rules are not read here.)"""
    program = PROGRAMS["UTC"]
    events = [
        {"member": "a", "type": "order_confirmed", "at": "2025-03-04T10:00:00Z", "id": "o"}
        | {"order": "o1", "amount": 12.345, "category": "x"}
    ]
    got, want = both_ways(program, events, dt.date(2025, 4, 1))
    assert got == want
    rules = got[0]["points_by_rule"]
    assert (rules["per_unit"], rules["quarters"], rules["tens"], rules["thirds"]) == (24, 30, 3, 82)


def test_a_sum_threshold_is_reached_by_the_decimals_written():
    """Worked by hand (UTC, as of 1 April 2025). busy_day (2 a day once its orders of at least 2
    sum to 0.6) needs amounts >= 2, so it earns on any such day: 2. big_month (7 once a month's
    orders sum to 50.5): orders of 0.1, 0.2 and 50.2 on 3, 4 and 5 March sum to exactly 50.5 as
    written (as doubles 0.1 + 0.2 + 50.2 is 50.50000000000001, which would not change this, but
    0.1 + 0.2 + 50.199999999999996 would sum to below 50.5 as written, and does not earn)."""
    program = PROGRAMS["UTC"]

    def orders(last: float) -> list[dict]:
        return [
            {"member": "a", "type": "order_confirmed", "at": f"2025-03-0{d}T10:00:00Z", "id": f"o{d}"}
            | {"order": f"o{d}", "amount": amount, "category": "x"}
            for d, amount in ((3, 0.1), (4, 0.2), (5, last))
        ]

    for last, earned in ((50.2, 7), (50.199999999999996, 0)):
        got, want = both_ways(program, orders(last), dt.date(2025, 4, 1))
        assert got == want
        assert got[0]["points_by_rule"]["big_month"] == earned
        assert got[0]["points_by_rule"]["busy_day"] == 2


def test_an_amount_a_sum_cannot_hold_exactly_hands_over_to_the_per_member_evaluator():
    """An amount with more than 18 decimals as written (1.2345678901234567e-05) cannot be summed
    exactly in SQL: the columnar evaluator says so (the command then runs per member)."""
    program = PROGRAMS["UTC"]
    events = [
        {"member": "a", "type": "order_confirmed", "at": "2025-03-03T10:00:00Z", "id": "o1"}
        | {"order": "o1", "amount": 1.2345678901234567e-05, "category": "x"}
    ]
    with pytest.raises(NotColumnar, match="more than 18 decimals"):
        both_ways(program, events, dt.date(2025, 4, 1))
