"""`earn N for every X of FIELD`: N x floor(FIELD / X) points, in exact decimals.

Every figure below is worked out by hand from that rule (floor of the amount over the
step, times the points), never copied from the program's output.
"""

from __future__ import annotations

import pytest

from loyalty_dsl import ProgramError, compile_text
from loyalty_dsl.columnar.plan import NotColumnar, plan
from loyalty_dsl.language.check import check
from loyalty_dsl.language.fmt import format_source
from loyalty_dsl.language.lint import lint
from loyalty_dsl.language.parse import parse
from tests.helpers import run_json

HEAD = """\
event order with order: text, amount: money, miles: integer, category: text
window lifetime, continuous
tier Member from 0 points:
"""


def program(rule: str, head: str = HEAD) -> str:
    return head + rule


def order(at: str, amount: float, miles: int = 0, order_id: str = "o", category: str = "home") -> dict:
    return {
        "member": "m",
        "type": "order",
        "at": at,
        "order": order_id,
        "amount": amount,
        "miles": miles,
        "category": category,
    }


def points(text: str, events: list[dict], as_of: str = "2026-12-31") -> int:
    (o,) = run_json(compile_text(text, "p.loy"), events, as_of)
    return int(o["points"])


def test_two_points_per_dollar_floor():
    # $7.99 holds 7 whole dollars: 2 x 7 = 14 (the issue's own figure).
    text = program("rule shopping:\n    on order\n    earn 2 for every 1.00 of amount\n")
    assert points(text, [order("2026-01-05T10:00:00Z", 7.99)]) == 14


def test_ten_per_two_hundred():
    # 450 / 200 = 2.25, floor 2: 10 x 2 = 20; 199.99 holds none: 0.
    text = program("rule shopping:\n    on order\n    earn 10 for every 200 of amount\n")
    assert points(text, [order("2026-01-05T10:00:00Z", 450)]) == 20
    assert points(text, [order("2026-01-05T10:00:00Z", 199.99)]) == 0


def test_an_integer_field():
    # 1 for every 100 miles: 2550 miles -> 25.
    text = program("rule flights:\n    on order\n    earn 1 for every 100 of miles\n")
    assert points(text, [order("2026-01-05T10:00:00Z", 0, miles=2550)]) == 25


def test_exact_decimals_not_floats():
    # 0.30 / 0.10 is exactly 3 (in binary floats it is 2.9999999999999996): 3 points.
    # 0.70 / 0.10 = 7 exactly (float: 6.999999999999999): 7 points.
    text = program("rule cents:\n    on order\n    earn 1 for every 0.10 of amount\n")
    assert points(text, [order("2026-01-05T10:00:00Z", 0.3)]) == 3
    assert points(text, [order("2026-01-05T10:00:00Z", 0.7)]) == 7


def test_a_negative_amount_earns_nothing():
    # A refund written as a negative amount takes no points: floor is clamped at 0.
    text = program("rule shopping:\n    on order\n    earn 2 for every 1.00 of amount\n")
    assert points(text, [order("2026-01-05T10:00:00Z", -5.5), order("2026-01-06T10:00:00Z", 3)]) == 6


def test_composes_with_where_caps_per_and_multipliers():
    # where: only category "beauty"; cap 30 a day.
    # Day 1: beauty 12.50 -> 2 x 12 = 24; beauty 5.00 -> 10, cut to 6 by the cap (30 - 24); home 100 -> not counted.
    # Day 2: beauty 20.00 -> 40, cut to 30.  Total 24 + 6 + 30 = 60.
    text = program(
        'rule shopping:\n    on order where category = "beauty"\n'
        "    earn 2 for every 1.00 of amount\n    cap 30 per day\n"
    )
    events = [
        order("2026-01-05T10:00:00Z", 12.5, category="beauty", order_id="a"),
        order("2026-01-05T11:00:00Z", 5.0, category="beauty", order_id="b"),
        order("2026-01-05T12:00:00Z", 100, category="home", order_id="c"),
        order("2026-01-06T10:00:00Z", 20.0, category="beauty", order_id="d"),
    ]
    assert points(text, events) == 60
    # `per order`: an order earns once, from its first event: order "a" twice (12.50 then 50) pays 24 only.
    per_order = program("rule shopping:\n    on order\n    earn 2 for every 1.00 of amount per order\n")
    again = [order("2026-01-05T10:00:00Z", 12.5, order_id="a"), order("2026-01-07T10:00:00Z", 50, order_id="a")]
    assert points(per_order, again) == 24
    # A multiplier doubles the kept points: 2 x 7 = 14, x2 = 28 on 11 November.
    multiplied = program(
        "rule shopping:\n    on order\n    earn 2 for every 1.00 of amount\n"
        "multiply shopping by 2 during 11 November\n",
        HEAD.replace("window lifetime, continuous", "window last 12 months, recalculated monthly"),
    )
    assert points(multiplied, [order("2026-11-11T10:00:00Z", 7.99)], "2026-11-30") == 28


def test_fmt_lays_it_out_and_keeps_it():
    text = program("rule shopping:\n    on   order\n    earn 2   for every 1.00 of   amount\n")
    out = format_source(text, "p.loy")
    assert "    earn 2 for every 1.00 of amount\n" in out
    assert parse(out) == parse(text)
    assert format_source(out, "p.loy") == out


def codes(text: str) -> set[str]:
    return {d.code for d in check(parse(text, "p.loy"))}


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        ("earn 2 for every 0 of amount", "E202"),
        ("earn 2 for every 1.00 of amout", "E104"),
        ("earn 2 for every 1.00 of category", "E203"),
        ("earn miles for every 1.00 of amount", "E201"),
    ],
)
def test_check_refuses_bad_for_every(rule, code):
    assert code in codes(program(f"rule shopping:\n    on order\n    {rule}\n"))


def test_earn_a_money_field_hints_for_every():
    (d,) = [d for d in check(parse(program("rule shopping:\n    on order\n    earn amount\n"), "p.loy"))]
    assert d.code == "E151"
    assert d.hint is not None and "for every 1.00 of amount" in d.hint


def test_did_you_mean_for_a_misspelt_field():
    (d,) = check(parse(program("rule shopping:\n    on order\n    earn 2 for every 1.00 of amout\n"), "p.loy"))
    assert d.hint is not None and "amount" in d.hint


def test_lint_does_not_bound_a_rule_per_amount():
    # `earn 1 per day` alone reaches at most 366 points a year; `earn 1 for every 1.00 of amount per day`
    # pays as many as the day's first order holds, so a tier from 100000 points is reachable: no L103.
    head = HEAD.replace("window lifetime, continuous", "window last 12 months, recalculated monthly")
    head += "tier Top from 100000 points:\n"
    bounded = program("rule shopping:\n    on order\n    earn 1 per day\n", head)
    per_amount = program("rule shopping:\n    on order\n    earn 1 for every 1.00 of amount per day\n", head)
    assert "L103" in {d.code for d in lint(parse(bounded, "p.loy"))}
    assert "L103" not in {d.code for d in lint(parse(per_amount, "p.loy"))}


def test_columnar_runs_it_and_declines_it_into_a_money_measure():
    # Points per amount run columnar (tests/test_columnar_every.py compares both evaluators); a
    # money measure fed by amounts does not yet.
    text = program("rule shopping:\n    on order\n    earn 2 for every 1.00 of amount\n")
    plan(compile_text(text, "p.loy"))
    measured = text.replace(
        "rule shopping:",
        "measure spend in money\n\nrule spend:\n    on order\n    earn amount into spend\n\nrule shopping:",
    )
    with pytest.raises(NotColumnar, match="measures"):
        plan(compile_text(measured, "p.loy"))


def test_a_bad_program_is_an_error_not_a_traceback():
    with pytest.raises(ProgramError):
        compile_text(program("rule shopping:\n    on order\n    earn 2 for every of amount\n"), "p.loy")
