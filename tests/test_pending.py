"""Pending points: `vesting after 15 days`.

examples/programs/pending_points.loy over examples/pending_history.jsonl (10 points an order not
returned, vesting 15 days after it is confirmed):
- o1 confirmed 2026-03-01 (vests 03-16); o2 2026-03-05, returned 03-10, before it vests: cancelled;
  o3 2026-03-06 (vests 03-21), returned 03-25, after: kept; o4 2026-03-25 (vests 04-09).
- as of 2026-03-15: nothing vested, 0 points; o1 and o3 pending (20).
- as of 2026-03-31: o1 and o3 vested, 20 points (Regular); o4 pending (10).
- as of 2026-04-30: 30 points, nothing pending.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from loyalty_dsl import ProgramError, compile_text, outcomes, read_history
from loyalty_dsl.language.fmt import format_source
from loyalty_dsl.tools.explain import explain_member

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "examples" / "programs" / "pending_points.loy"
HISTORY = ROOT / "examples" / "pending_history.jsonl"


@pytest.mark.parametrize(
    ("as_of", "points", "tier", "pending"),
    [
        ("2026-03-15", 0, "Member", 20),
        ("2026-03-31", 20, "Regular", 10),
        ("2026-04-30", 30, "Regular", 0),
    ],
)
def test_points_vest_and_returns_before_vesting_cancel(as_of, points, tier, pending):
    program = compile_text(PROGRAM.read_text(), "p.loy")
    (o,) = outcomes(program, read_history([str(HISTORY)], program), dt.date.fromisoformat(as_of))
    j = o.to_json()
    assert (j["points"], j["tier"], j["pending_points"]) == (points, tier, pending)


def test_explain_says_what_is_pending_and_adds_up():
    program = compile_text(PROGRAM.read_text(), "p.loy")
    history = read_history([str(HISTORY)], program)
    ex = explain_member(program, "p", history.members["p"], dt.date(2026, 3, 31)).to_json()
    assert sum(e["points"] for e in ex["ledger"]) == ex["points"] == 20
    reasons = [n["reason"] for n in ex["not_rewarded"]]
    assert "pending until 2026-04-09T10:00:00Z (vesting)" in reasons
    assert any(r.startswith('order "o2" is voided') for r in reasons)


def test_vesting_is_checked_and_formatted():
    with pytest.raises(ProgramError) as err:
        compile_text(PROGRAM.read_text().replace("after 15 days", "after 2 weeks"), "p.loy")
    assert "E246" in {d.code for d in err.value.diagnostics}  # an unknown unit of vesting
    assert format_source(PROGRAM.read_text(), "p.loy") == PROGRAM.read_text()


def test_a_threshold_counts_vested_points_only():
    text = PROGRAM.read_text().replace("    earn 10\n", "    earn 10 per month with at least 2\n")
    program = compile_text(text, "p.loy")
    history = read_history([str(HISTORY)], program)
    # March: o1 vests 03-16, o3 03-21 (o2 cancelled), o4 04-09: two vested by 03-31, in March -> 10.
    (o,) = outcomes(program, history, dt.date(2026, 3, 31))
    assert o.points == 10
    # As of 03-20 only o1 has vested: the threshold of 2 is not reached yet.
    (o,) = outcomes(program, history, dt.date(2026, 3, 20))
    assert o.points == 0
