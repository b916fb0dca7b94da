"""Multipliers see the tier in force and the earning day, and multiply exactly (issue 11, items 1-4).

Each program is small and written here; every figure is worked out by hand in the comment
above its assertion.
"""

from __future__ import annotations

import datetime as dt

from loyalty_dsl import compile_text
from loyalty_dsl.explain import explain_member
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
