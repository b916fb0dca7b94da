"""Issue 13's constructs on what main changed since they were written: exact multipliers in the new
forms, and multipliers by tier that see the tier kept by retention on the earning day in a
calendar-year window. Every figure is worked out by hand in its comment.
"""

from __future__ import annotations

import csv
import io

from loyalty_dsl import compile_text
from loyalty_dsl.io.csv_out import write_csv
from loyalty_dsl.language.parse import parse
from loyalty_dsl.lsp.words import rule_words, tier_words
from tests.helpers import run_json

SHOP = """\
event order with order: text, amount: money, category: text
window lifetime, continuous
tier Member from 0 points:
rule shopping:
    on order
    earn 1 for every 1.00 of amount
"""


def order(at: str, amount: float, order_id: str = "o1", category: str = "home") -> dict:
    return {"member": "m", "type": "order", "at": at, "order": order_id, "amount": amount, "category": category}


def outcome(text: str, events: list[dict], as_of: str) -> dict:
    (o,) = run_json(compile_text(text, "p.loy"), events, as_of)
    return o


def test_multiply_always_is_exact():
    # 45.00 holds 45 whole units: 45 x 1.4 = 63 exactly (as doubles, 62.99999999999999, floored to 62).
    o = outcome(SHOP + "multiply shopping by 1.4\n", [order("2026-01-06T12:00:00Z", 45)], "2026-12-31")
    assert o["points"] == 63


def test_multiply_where_is_exact():
    # The beauty order: 45 x 1.4 = 63; the home order is not multiplied: 45. Together 108.
    text = SHOP + 'multiply shopping by 1.4 where category = "beauty"\n'
    events = [order("2026-01-06T12:00:00Z", 45, "o1", "beauty"), order("2026-01-07T12:00:00Z", 45, "o2")]
    assert outcome(text, events, "2026-12-31")["points"] == 108


def test_largest_of_multipliers_that_do_not_combine_is_exact():
    # x1.4 (beauty) and x1.2 (Tuesday, 2026-01-06) both apply; the largest alone: 45 x 1.4 = 63.
    text = (
        SHOP + 'multiply shopping by 1.4 where category = "beauty"\nmultiply shopping by 1.2 during Tuesday\n'
        "multipliers of shopping do not combine: the largest applies\n"
    )
    assert outcome(text, [order("2026-01-06T12:00:00Z", 45, "o1", "beauty")], "2026-12-31")["points"] == 63


def test_cap_after_multipliers_counts_exact_points():
    # 45 x 1.4 = 63 multiplied points, under the cap of 100 counted after multipliers: 63 kept.
    text = SHOP.replace(
        "    earn 1 for every 1.00 of amount\n",
        "    earn 1 for every 1.00 of amount\n    cap 100 per order, after multipliers\n",
    )
    o = outcome(text + "multiply shopping by 1.4\n", [order("2026-01-06T12:00:00Z", 45)], "2026-12-31")
    assert o["points"] == 63


YEAR = """\
event order with amount: money
window calendar year, {window}
tier Member from 0 points:
tier Gold from 100 points:
rule shopping:
    on order
    earn 1 for every 1.00 of amount
multiply shopping by 2 for Gold
{keep}
"""


def test_tier_kept_to_a_day_doubles_points_of_the_next_year():
    # Recalculated monthly. 2026: 100 points by the recalculation of 1 December, Gold reached there
    # (the order of 20 November earns before Gold: not doubled). 2027 starts at 0 points (Member by
    # points), but Gold is kept until the end of 31 January 2028, so the order of 10 March 2027, read
    # at the recalculation of 1 March 2027 (Gold kept), is doubled: 10 x 2 = 20.
    text = YEAR.format(window="recalculated monthly", keep="keep a tier reached until 31 January after the next year")
    events = [order("2026-11-20T12:00:00Z", 100), order("2027-03-10T12:00:00Z", 10)]
    o = outcome(text, events, "2027-12-31")
    assert (o["points"], o["tier"], o["tier_by_points"]) == (20, "Gold", "Member")


def test_tier_kept_for_months_doubles_points_in_a_continuous_year():
    # Continuous: the order of 1 November 2026 (100 points) reaches Gold at once, kept 12 months, to
    # 1 November 2027. The order of 10 January 2027 earns in 2027 (0 points: Member by points) with Gold
    # kept, so it is doubled: 10 x 2 = 20. By 2 November 2027 the guarantee is over: 20 points, Member.
    text = YEAR.format(window="continuous", keep="keep a tier reached for 12 months")
    events = [order("2026-11-01T12:00:00Z", 100), order("2027-01-10T12:00:00Z", 10)]
    o = outcome(text, events, "2027-06-30")
    assert (o["points"], o["tier"], o["tier_by_points"]) == (20, "Gold", "Member")
    assert outcome(text, events, "2027-11-02")["tier"] == "Member"


def test_csv_has_a_column_per_measure():
    # Two stays: nights 3 + 2 = 5 into `nights`; amounts 120.50 + 80.25 = 200.75 into `spend`.
    text = """\
event stay with nights: integer, amount: money
window lifetime, continuous
measure nights
measure spend in money
tier Member from 0 points:
rule night_count: on stay earn nights into nights
rule spending: on stay earn amount into spend
rule base: on stay earn 1
"""
    events = [
        {"member": "m", "type": "stay", "at": "2026-01-06T12:00:00Z", "nights": 3, "amount": 120.50},
        {"member": "m", "type": "stay", "at": "2026-02-06T12:00:00Z", "nights": 2, "amount": 80.25},
    ]
    out = io.BytesIO()
    write_csv(run_json(compile_text(text, "p.loy"), events, "2026-12-31"), out)
    (row,) = list(csv.DictReader(io.StringIO(out.getvalue().decode())))
    assert (row["points"], row["measures.nights"], row["measures.spend"]) == ("2", "5", "200.75")
    assert "measures" not in row


HOVER = """\
event stay with stay: text, nights: integer, amount: money, category: text
window calendar year, continuous
measure nights
tier Silver from 10 nights or 25000 points:
tier Gold from 40 nights or 30000 points and 5 nights:
rule base:
    on stay
    during Tuesday 16:00 to 18:00
    earn 10 for every 1.00 of amount
    cap 300 per stay, after multipliers
rule night_count: on stay during Tuesday earn nights into nights
multiply base by 2 where category = "suite"
"""


def test_hover_words_say_the_new_constructs():
    # What each line says, in the hover's words: not "10 points for each event", "in Tuesday each year"
    # or "from 10 points" as the older words would have it.
    program = parse(HOVER, "h.loy")
    base, nights = (rule_words(r, program) for r in program.rules)
    assert "Earns 10 points for every 1.00 of `amount` for each `stay` event." in base
    assert "Only from 16:00 to 18:00 local time on Tuesdays." in base
    assert "At most 300 points per stay, counted after multipliers." in base
    assert 'Multiplied by 2 when category = "suite".' in base
    assert "Earns the `nights` into measure `nights` for each `stay` event." in nights
    assert "Only on Tuesdays." in nights
    gold = tier_words(program.tiers[1], program)
    assert "Qualifies from 40 nights or 30000 points and 5 nights." in gold


SPENDING = """\
event reward_claimed with stars: integer
event cash_out with points: integer
event free_drink_claimed
event voucher_used
window lifetime, continuous
tier Member from 0 points:
rule visit: on free_drink_claimed earn 1
redeem points by reward_claimed with stars, in sizes 25, 100, 200
redeem points by cash_out with points, at least 500, at most 2500, in multiples of 500
redeem 9 points by free_drink_claimed
convert points every quarter into vouchers of 150 points worth 1.50
vouchers are used by voucher_used
"""


def test_hover_words_say_what_an_event_spends():
    # Issue 14's statements, in the hover of the event they name (bounds make a claim all or nothing,
    # as the evaluator judges it: a claim above the balance is refused whole).
    from loyalty_dsl.lsp.words import event_words

    program = parse(SPENDING, "s.loy")
    claimed, cash, drink, used = (event_words(e, program) for e in program.events)
    assert "Redeems the points in `stars`, all or nothing; in sizes 25, 100, 200." in claimed
    assert "Redeems the points in `points`, all or nothing; at least 500, at most 2500" in cash
    assert "in multiples of 500." in cash
    assert "Redeems exactly 9 points, all or nothing." in drink
    assert "Uses the member's oldest valid voucher." in used
