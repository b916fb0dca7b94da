"""Multipliers always or where a condition holds, multipliers that do not combine, caps per field and
after multipliers, and local weekdays and times of day for rules and multipliers.

Program: 1 point for every 1.00 of an order's amount (a lifetime window). 2026-01-06 is a Tuesday.
Every figure is worked out by hand in its comment.
"""

from __future__ import annotations

import pytest

from loyalty_dsl import compile_text
from loyalty_dsl.columnar.plan import NotColumnar, plan
from loyalty_dsl.language.check import check
from loyalty_dsl.language.fmt import format_source
from loyalty_dsl.language.parse import parse
from tests.helpers import run_json

HEAD = """\
event order with order: text, amount: money, category: text
window lifetime, continuous
tier Member from 0 points:
"""
RULE = "rule shopping:\n    on order\n{during}    earn 1 for every 1.00 of amount\n{caps}"


def program(extra: str = "", during: str = "", caps: str = "", head: str = HEAD) -> str:
    return head + RULE.format(during=f"    {during}\n" if during else "", caps=caps) + extra


def order(at: str, amount: float, order_id: str = "o1", category: str = "home") -> dict:
    return {"member": "m", "type": "order", "at": at, "order": order_id, "amount": amount, "category": category}


def points(text: str, events: list[dict]) -> int:
    (o,) = run_json(compile_text(text, "p.loy"), events, "2026-12-31")
    return int(o["points"])


TUESDAY = "2026-01-06T12:00:00Z"


def test_multiply_always():
    # 7.99 holds 7 whole units: 7 x 10 = 70.
    assert points(program("multiply shopping by 10\n"), [order(TUESDAY, 7.99)]) == 70


def test_multiply_where():
    # beauty 10 -> 10 x 2 = 20; home 10 -> 10: 30.
    text = program('multiply shopping by 2 where category = "beauty"\n')
    events = [order(TUESDAY, 10, "o1", "beauty"), order("2026-01-07T12:00:00Z", 10, "o2", "home")]
    assert points(text, events) == 30


def test_multipliers_that_do_not_combine():
    # A beauty order of 10 on a Tuesday meets both (x2 where beauty, x3 on Tuesdays): combined 10 x 6 = 60;
    # not combining, the largest applies: 10 x 3 = 30.
    both = program('multiply shopping by 2 where category = "beauty"\nmultiply shopping by 3 during Tuesday\n')
    events = [order(TUESDAY, 10, "o1", "beauty")]
    assert points(both, events) == 60
    assert points(both + "multipliers of shopping do not combine: the largest applies\n", events) == 30


def test_cap_per_field():
    # Order o1 twice (200 + 200) keeps 300; o2 (50) keeps 50: 350. Without the cap: 450.
    events = [order(TUESDAY, 200, "o1"), order("2026-01-07T12:00:00Z", 200, "o1"), order(TUESDAY, 50, "o2")]
    assert points(program(caps="    cap 300 per order\n"), events) == 350
    assert points(program(), events) == 450


def test_cap_after_multipliers():
    # 30 x 10 = 300: a cap after multipliers keeps 100; a cap before them keeps 30, then x 10 = 300.
    events = [order(TUESDAY, 30)]
    after = program("multiply shopping by 10\n", caps="    cap 100 per order, after multipliers\n")
    before = program("multiply shopping by 10\n", caps="    cap 100 per order\n")
    assert points(after, events) == 100
    assert points(before, events) == 300


def test_during_a_weekday():
    # 10 on Tuesday counts, 10 on Wednesday does not.
    events = [order(TUESDAY, 10, "a"), order("2026-01-07T12:00:00Z", 10, "b")]
    assert points(program(during="during Tuesday"), events) == 10


def test_during_times_of_day():
    # 15:59 no, 16:00 yes, 17:59 yes, 18:00 no (the end is excluded): 2 x 10.
    events = [order(f"2026-01-06T{t}:00Z", 10, t) for t in ("15:59", "16:00", "17:59", "18:00")]
    assert points(program(during="during 16:00 to 18:00"), events) == 20


def test_during_a_weekday_and_times():
    # Tuesday 17:00 yes; Wednesday 17:00 no; Tuesday 19:00 no: 10.
    events = [order("2026-01-06T17:00:00Z", 10, "a"), order("2026-01-07T17:00:00Z", 10, "b")]
    events.append(order("2026-01-06T19:00:00Z", 10, "c"))
    assert points(program(during="during Tuesday 16:00 to 18:00"), events) == 10


def test_times_are_local():
    # In Paris (UTC+1 in January): 15:30Z is 16:30, inside; 17:30Z is 18:30, outside: 10.
    head = 'timezone "Europe/Paris"\n' + HEAD
    events = [order("2026-01-06T15:30:00Z", 10, "a"), order("2026-01-06T17:30:00Z", 10, "b")]
    assert points(program(during="during 16:00 to 18:00", head=head), events) == 10


def test_a_multiplier_during_times():
    # 16:30 order of 10, doubled; 12:00 order of 10 not: 30.
    events = [order("2026-01-06T16:30:00Z", 10, "a"), order(TUESDAY, 10, "b")]
    assert points(program("multiply shopping by 2 during 16:00 to 18:00\n"), events) == 30


@pytest.mark.parametrize(
    ("text", "code", "hint"),
    [
        (program(during="during 25:00 to 26:00"), "E211", None),
        (program(during="during 16:00 to 16:00"), "E212", None),
        (program(during="during Tusday 16:00 to 18:00"), "E118", "Tuesday"),
        (program(during="during Tusday"), "E119", "Tuesday"),
        (program(caps="    cap 300 per ordr\n"), "E155", "order"),
        (program(caps="    cap 300 per order, after multipliers\n    cap 500 per day\n"), "E210", None),
        (program("multipliers of shoping do not combine: the largest applies\n"), "E106", "shopping"),
        (program('multiply shopping by 2 where categry = "beauty"\n'), "E104", "category"),
    ],
)
def test_check(text, code, hint):
    found = [d for d in check(parse(text, "p.loy")) if d.code == code]
    assert found, check(parse(text, "p.loy"))
    if hint is not None:
        assert found[0].hint is not None and hint in found[0].hint


def test_fmt():
    text = program(during="during  Tuesday   16:00 to 18:00", caps="    cap 100   per order ,  after multipliers\n")
    out = format_source(text, "p.loy")
    assert "    during Tuesday 16:00 to 18:00\n" in out
    assert "    cap 100 per order, after multipliers\n" in out
    assert format_source(out, "p.loy") == out


def test_columnar_declines_a_cap_per_field():
    text = program(caps="    cap 300 per order\n").replace("earn 1 for every 1.00 of amount", "earn 5")
    with pytest.raises(NotColumnar, match="cap per field"):
        plan(compile_text(text, "p.loy"))
