"""Multipliers that are not whole, or that change within a group its caps share out, on capped and
ranked points, on the columnar path: both evaluators agree.

Multipliers act on each unit's points after its caps, rounded down unit by unit (RuleState._keep).
A group's total times a factor is that sum only for a whole factor the same over the group; for
any other, the plan works out each unit's kept points in time order (caps shared out, the first
unit of a ranked group unpaid) and multiplies each by its first event's factor. That holds where
a unit never changes once earned: with a fact, a threshold or vesting such a rule runs per member.
The program is tests/columnar/unit_factors.loy, in two zones, two windows, with expiry and claims.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from loyalty_dsl import compile_text
from loyalty_dsl.columnar.plan import NotColumnar, plan
from tests.test_columnar_claims import histories
from tests.test_columnar_zones import both_ways

ROOT = Path(__file__).parent.parent
SOURCE = (ROOT / "tests" / "columnar" / "unit_factors.loy").read_text(encoding="utf-8")
ZONES = ["Europe/London", "Asia/Shanghai"]
WINDOWS = ["window last 12 months, recalculated monthly", "window lifetime, continuous"]
EXTRAS = ["", "points expire after 40 days", "redeem points by redeemed with points"]


def variant(zone: str, window: str, extra: str) -> str:
    source = SOURCE.replace('timezone "Europe/London"', f'timezone "{zone}"')
    return source.replace("window last 12 months, recalculated monthly", window) + extra + "\n"


PROGRAMS = {key: compile_text(variant(*key)) for key in [(z, w, e) for z in ZONES for w in WINDOWS for e in EXTRAS]}
AS_OF = [None, dt.date(2024, 3, 31), dt.date(2024, 12, 31), dt.date(2025, 4, 1), dt.date(2025, 12, 31)]


def test_the_plan_takes_every_program_here():
    for program in PROGRAMS.values():
        plan(program)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(PROGRAMS)), histories(), st.sampled_from(AS_OF))
def test_unit_factors_agree_on_random_histories(key, events, day):
    events = [e for e in events if e["type"] != "order_returned" and e["type"] != "voucher_used"]
    assume(events)  # the claims' histories less the types this program does not have
    for event in events:
        if event["type"] == "bonus":
            event["points"] = abs(event["points"])
    got, want = both_ways(PROGRAMS[key], events, day)
    assert got == want


def test_each_unit_is_multiplied_after_its_caps_and_rounded_down_alone():
    """Worked by hand (UTC, lifetime window). Three orders of 5.00 on Tuesday 4 March 2025 at 10:00,
    11:00 and 12:00: shopping earns 5 each, at most 5 a day, so the first keeps 5 and the others 0;
    x 1.5 on a Tuesday: floor(7.5) = 7. Two more on Wednesday 5 March: 5, then 0, x 1: 5. per_order
    (3 an order, at most 6 a month, x 0.5 in March): 3, 3, then 0 (the cap), 0, 0; each x 0.5
    rounded down alone: 1 + 1 = 2, where the month's 6 x 0.5 would be 3. categories (all `z`): the
    day's first unit is unpaid, one a day: 0. So 7 + 5 + 2 = 14 points."""
    program = compile_text(variant("UTC", WINDOWS[1], ""))
    events = [
        {"member": "a", "type": "order_confirmed", "at": f"2025-03-0{d}T{h}:00:00Z", "order": f"o{d}{h}"}
        | {"amount": 5, "category": "z", "id": f"{d}{h}"}
        for d, h in [(4, 10), (4, 11), (4, 12), (5, 10), (5, 11)]
    ]
    got, want = both_ways(program, events, dt.date(2025, 3, 31))
    assert got == want
    (o,) = got
    assert o["points_by_rule"] == {"shopping": 12, "nested": 0, "categories": 0, "per_order": 2, "bonus": 0}
    assert o["points"] == 14


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        (
            "    on order_confirmed where amount >= 2\n    earn 5",
            "    on order_confirmed where order is voided\n    earn 5",
            "a multiplier that is not whole",
        ),
        (
            "    earn 2\n    cap 3 per day\n    cap 5 per month",
            "    earn 2\n    cap 3 per day\n    cap 5 per month\n    vesting after 3 days",
            "change within",
        ),
    ],
)
def test_the_plan_says_which_unit_factors_it_leaves_per_member(old, new, why):
    source = variant("UTC", WINDOWS[1], "event voided with order: text\nan order is voided by voided")
    assert old in source
    plan(compile_text(source))
    with pytest.raises(NotColumnar, match=why):
        plan(compile_text(source.replace(old, new)))
