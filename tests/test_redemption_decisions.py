"""A `decide` and a `redeem` on one event type: independent unless the redemption says
`only when BENEFIT is granted`.

The program earns 10 points a visit (kept forever). Silver (from 0 points) has no
free_drink; Gold (from 30 points) has it. A `decide free_drink on free_drink_claimed` is
granted while the member is Gold. Figures: the visits before the claim times 10.
"""

from __future__ import annotations

import datetime as dt
import io

import orjson
import pytest

from loyalty_dsl import ProgramError, compile_text, outcomes, read_history
from loyalty_dsl.language.fmt import format_source

BASE = """
event visit
event free_drink_claimed
benefit free_drink
window lifetime, continuous
rule visits:
    on visit
    earn 10
tier Silver from 0 points:
tier Gold from 30 points:
    free_drink
decide free_drink on free_drink_claimed
"""
# 2 visits (20 points: Silver, the decision refused), a claim, a third visit (30: Gold), a claim.
HISTORY = [
    ("visit", "2026-01-01T10:00:00Z"),
    ("visit", "2026-01-02T10:00:00Z"),
    ("free_drink_claimed", "2026-01-03T10:00:00Z"),
    ("visit", "2026-01-04T10:00:00Z"),
    ("free_drink_claimed", "2026-01-05T10:00:00Z"),
]


def outcome(redeem: str) -> dict:
    program = compile_text(BASE + redeem + "\n", "drinks.loy")
    lines = [orjson.dumps({"member": "m", "type": t, "at": at}) + b"\n" for t, at in HISTORY]
    history = read_history(["-"], program, stdin=io.BytesIO(b"".join(lines)))
    (o,) = outcomes(program, history, dt.date(2026, 1, 31))
    return o.to_json()


def test_by_default_a_refused_decision_does_not_stop_the_spend():
    # The decisions: refused at 20 points (Silver), granted at 30 (Gold). The claims ask 9 each:
    # 20 >= 9 granted (11 left); then 11 + 10 = 21 >= 9 granted (12 left).
    o = outcome("redeem 9 points by free_drink_claimed")
    assert [d["granted"] for d in o["decisions"]] == [False, True]
    assert [(r["spent"], r["granted"]) for r in o["redemptions"]] == [(9, True), (9, True)]
    assert o["balance"] == 30 - 18


def test_only_when_granted_refuses_the_claim_its_decision_refuses():
    # The first claim's decision is refused (Silver has no free_drink): nothing spent, with the
    # decision's reason; the second (Gold) spends 9. Balance: 30 - 9 = 21.
    o = outcome("redeem 9 points by free_drink_claimed, only when free_drink is granted")
    assert [d["granted"] for d in o["decisions"]] == [False, True]
    rs = o["redemptions"]
    assert [(r["spent"], r["granted"]) for r in rs] == [(0, False), (9, True)]
    assert rs[0]["reason"] == "asked 9: free_drink refused (Silver has no free_drink)"
    assert o["balance"] == 21


@pytest.mark.parametrize(
    ("redeem", "code", "col"),
    [
        # no `decide` on visit for that benefit: the gate could never open. The benefit's name is
        # placed: after "redeem 9 points by visit, only when " (36 characters), column 37.
        ("redeem 9 points by visit, only when free_drink is granted", "E275", 37),
        # after "redeem 9 points by free_drink_claimed, only when " (49 characters), column 50.
        ("redeem 9 points by free_drink_claimed, only when free_drnk is granted", "E103", 50),
    ],
)
def test_check_places_a_gate_without_its_decision(redeem, code, col):
    with pytest.raises(ProgramError) as err:
        compile_text(BASE + redeem + "\n", "drinks.loy")
    (d,) = err.value.diagnostics
    assert (d.code, d.line, d.col) == (code, 13, col)  # BASE's 12 lines (a blank first), then this


def test_fmt_keeps_the_gate():
    text = BASE + "redeem 9 points by free_drink_claimed,   only when free_drink is granted\n"
    out = format_source(text, "drinks.loy")
    assert "redeem 9 points by free_drink_claimed, only when free_drink is granted\n" in out
    assert format_source(out, "drinks.loy") == out
