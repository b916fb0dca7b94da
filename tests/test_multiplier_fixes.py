"""Multipliers see the tier in force and the earning day, and multiply exactly (issue 11, items 1-4).

Each program is small and written here; every figure is worked out by hand in the comment
above its assertion.
"""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from click.testing import CliRunner

from loyalty_dsl import compile_text
from loyalty_dsl.cli import main
from loyalty_dsl.tools.explain import explain_member
from tests.helpers import history_of, run_json

STAYS = """\
event stay with nights: integer at least 0
window last 1 months, recalculated monthly
rule stays:
    on stay
    earn nights
"""


def stay(member: str, day: str, nights: int) -> dict:
    return {"member": member, "type": "stay", "at": f"{day}T12:00:00Z", "nights": nights}


# --- 1. a tier kept by retention gets its multiplier ---------------------------------------------

KEPT = (
    STAYS
    + """\
multiply stays by 2 for Silver
keep a tier reached until the end of the next year
tier Silver from 10 points:
"""
)


def test_a_tier_kept_by_retention_gets_its_multiplier():
    # January: 10 nights, no tier at the 1 January recalculation (0 points): 10 points.
    # 1 February counts January (10): Silver, reached in 2026, so kept until the end of 2027.
    # February: 3 nights as Silver (by points): 6. 1 March counts February (6): the points give no
    # tier, but Silver is kept; so March's 3 nights earn 3 x 2 = 6. As of 31 March the status is
    # that of 1 April, counting March: 6 points, Silver kept.
    program = compile_text(KEPT, "kept.loy")
    events = [stay("k", "2026-01-10", 10), stay("k", "2026-02-10", 3), stay("k", "2026-03-10", 3)]
    (o,) = run_json(program, events, "2026-03-31")
    assert (o["points"], o["tier"], o["tier_by_points"]) == (6, "Silver", None)


def test_the_ledger_shows_the_kept_tiers_multiplier():
    # The same member: the ledger of the 1 April status lists March's stay, 3 -> 6.
    program = compile_text(KEPT, "kept.loy")
    events = [stay("k", "2026-01-10", 10), stay("k", "2026-02-10", 3), stay("k", "2026-03-10", 3)]
    history = history_of(program, events)
    ex = explain_member(program, "k", history.members["k"], dt.date(2026, 3, 31)).to_json()
    assert [(e["points"], e.get("note")) for e in ex["ledger"]] == [(6, "multiplied: 3 -> 6")]


def test_a_tier_no_longer_kept_has_no_multiplier():
    # Without the guarantee, Silver ends with its points: at 1 March (6 points) there is no
    # tier, so March's 3 nights earn 3.
    program = compile_text(KEPT.replace("keep a tier reached until the end of the next year\n", ""), "k.loy")
    events = [stay("k", "2026-01-10", 10), stay("k", "2026-02-10", 3), stay("k", "2026-03-10", 3)]
    (o,) = run_json(program, events, "2026-03-31")
    assert (o["points"], o["tier"]) == (3, None)


# --- 2. a tier held at 0 points holds from the first event ----------------------------------------


def test_a_tier_from_0_points_multiplies_the_first_month():
    # Member holds at 0 points, so from the first event: 3 nights on 10 January earn 3 x 10 = 30;
    # the status of 1 February counts January.
    program = compile_text(STAYS + "multiply stays by 10 for Member\ntier Member from 0 points:\n", "m.loy")
    (o,) = run_json(program, [stay("m", "2026-01-10", 3)], "2026-01-31")
    assert (o["points"], o["tier"]) == (30, "Member")


def test_a_tier_from_1_point_does_not_multiply_the_first_month():
    # Gold needs 1 point: at the 1 January recalculation the member has none, so no Gold and no
    # multiplier for January's 3 nights: 3 points.
    program = compile_text(STAYS + "multiply stays by 10 for Gold\ntier Gold from 1 point:\n", "g.loy")
    (o,) = run_json(program, [stay("g", "2026-01-10", 3)], "2026-01-31")
    assert (o["points"], o["tier"]) == (3, "Gold")


# --- 3. a campaign multiplier is judged on the day points are earned ------------------------------

VESTING = """\
event order_confirmed with order: text, amount: money
window lifetime, continuous
rule base_points:
    on order_confirmed
    earn 10
    vesting after 15 days
multiply base_points by 10 during 2025-10-18 to 2025-10-23
tier Member from 0 points:
"""


def order(member: str, day: str, name: str, amount: float | int | str = 20) -> dict:
    return {"member": member, "type": "order_confirmed", "at": f"{day}T12:00:00Z", "order": name, "amount": amount}


EARLY_AND_LATE = [order("early", "2025-10-05", "o1"), order("late", "2025-10-20", "o2")]


def test_a_campaign_multiplier_reads_the_earning_day():
    # early: ordered 5 October (outside the campaign), vests 20 October (inside): 10.
    # late: ordered 20 October (inside), vests 4 November (outside): 10 x 10 = 100.
    program = compile_text(VESTING, "v.loy")
    by_member = {o["member"]: o["points"] for o in run_json(program, EARLY_AND_LATE, "2025-11-30")}
    assert by_member == {"early": 10, "late": 100}


def test_pending_points_are_multiplied():
    # As of 25 October: early's 10 have vested (20 October), nothing pending; late's order is
    # pending until 4 November, at 10 x 10 = 100.
    program = compile_text(VESTING, "v.loy")
    got = {o["member"]: (o["points"], o["pending_points"]) for o in run_json(program, EARLY_AND_LATE, "2025-10-25")}
    assert got == {"early": (10, 0), "late": (0, 100)}


# --- 4. multipliers, rates and sums of money are exact decimals -----------------------------------

FLIGHTS = """\
event flight with distance: integer at least 0
window last 12 months, recalculated monthly
rule miles:
    on flight
    earn distance
tier Member from 0 points:
"""


@pytest.mark.parametrize(
    ("factors", "distance", "points"),
    [
        (["1.4"], 45, 63),  # 45 x 1.4 = 63 exactly (62.99999999999999 in binary floating point)
        (["1.15"], 100, 115),  # 100 x 1.15 = 115 exactly (114.99999999999999 in binary)
        (["1.45"], 45, 65),  # 65.25, rounded down
        (["1.1", "1.1"], 100, 121),  # 100 x 1.21 = 121 (121.00000000000001 in binary, also 121)
        (["0.7", "0.1"], 100, 7),  # both apply: 100 x 0.07 = 7 exactly (6.999999999999999 in binary)
        (["1.4", "1.5"], 10, 21),  # 10 x 2.1 = 21 exactly (20.999999999999996 in binary)
    ],
)
def test_fractional_multipliers_are_exact(factors, distance, points):
    lines = "".join(f"multiply miles by {f} during January\n" for f in factors)
    program = compile_text(FLIGHTS + lines, "f.loy")
    (o,) = run_json(
        program, [{"member": "f", "type": "flight", "at": "2026-01-10T12:00:00Z", "distance": distance}], "2026-01-31"
    )
    assert o["points"] == points


def test_a_fractional_multiplier_by_tier_is_exact():
    # Member holds from the first event (item 2): 45 x 1.4 = 63.
    program = compile_text(FLIGHTS + "multiply miles by 1.4 for Member\n", "f.loy")
    (o,) = run_json(
        program, [{"member": "f", "type": "flight", "at": "2026-01-10T12:00:00Z", "distance": 45}], "2026-01-31"
    )
    assert o["points"] == 63


CURRENCIES = """\
currency USD
rate EUR 1.15
rate GBP 1.1
event order_confirmed with order: text, amount: money in currency, currency: text default "USD"
window lifetime, continuous
rule big_order:
    on order_confirmed where amount >= 115
    earn 20
rule small_order:
    on order_confirmed where amount <= 3.30
    earn 1
tier Member from 0 points:
"""


def test_converted_amounts_are_exact():
    # 100 EUR x 1.15 = 115.00 USD exactly, so >= 115 (in binary: 114.99999999999999): big_order 20.
    # 3 GBP x 1.1 = 3.30 USD exactly, so <= 3.30 (in binary: 3.3000000000000003): small_order 1;
    # 3.01 GBP x 1.1 = 3.311 USD is above 3.30: nothing.
    program = compile_text(CURRENCIES, "c.loy")
    events = [
        {**order("c", "2026-01-10", "o1", 100), "currency": "EUR"},
        {**order("c", "2026-01-11", "o2", 3), "currency": "GBP"},
        {**order("c", "2026-01-12", "o3", 3.01), "currency": "GBP"},
    ]
    (o,) = run_json(program, events, "2026-01-31")
    assert o["points_by_rule"] == {"big_order": 20, "small_order": 1}


def test_rates_from_a_file_are_exact(tmp_path):
    # The program's rates replaced by the file's, EUR 1.15 and GBP 1.1: 100 EUR is 115.00 USD
    # (big_order 20); 3 GBP is 3.30 USD (small_order 1).
    program = tmp_path / "c.loy"
    program.write_text(CURRENCIES.replace("rate EUR 1.15", "rate EUR 2").replace("rate GBP 1.1", "rate GBP 5"))
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,rate\nEUR,1.15\nGBP,1.1\n")
    history = tmp_path / "h.jsonl"
    lines = [{**order("c", "2026-01-10", "o1", 100), "currency": "EUR"}, {**order("c", "2026-01-11", "o2", 3)}]
    lines[1]["currency"] = "GBP"
    history.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))
    args = ["run", str(program), str(history), "--as-of", "2026-01-31", "--rates", str(rates)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    (o,) = [orjson.loads(x) for x in result.stdout.splitlines()]
    assert o["points_by_rule"] == {"big_order": 20, "small_order": 1}


def test_a_sum_of_money_is_exact():
    # 0.70 + 0.10 = 0.80 exactly, which reaches "at least 0.80 in amount" (in binary the sum is
    # 0.7999999999999999, short of it): 20 points in January.
    text = """\
event order_confirmed with order: text, amount: money
window lifetime, continuous
rule spender:
    on order_confirmed
    earn 20 per month with at least 0.80 in amount
tier Member from 0 points:
"""
    program = compile_text(text, "s.loy")
    events = [order("s", "2026-01-10", "o1", 0.70), order("s", "2026-01-11", "o2", 0.10)]
    (o,) = run_json(program, events, "2026-01-31")
    assert o["points"] == 20


def test_lint_reaches_a_tier_with_an_exact_multiplier():
    # At most 45 points a month (the cap), x 1.4 in November = 63 exactly (62.99999999999999 in
    # binary): a tier from 63 points can be reached, one from 64 cannot (L103).
    from loyalty_dsl.language.lint import lint
    from loyalty_dsl.language.parse import parse

    text = (
        "window last 1 months, recalculated monthly\nevent visit\n"
        "rule v: on visit earn 2 per day cap 45 per month\ntier Top from 63 points:\n"
        "multiply v by 1.4 during November\n"
    )
    assert [d.code for d in lint(parse(text))] == []
    assert [d.code for d in lint(parse(text.replace("63 points", "64 points")))] == ["L103"]
