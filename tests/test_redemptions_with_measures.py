"""Issues 13 and 14 together: a redemption's `where` reads measures, and a balance read in the pass
(by a decision or a tier) judges claims as the final balance does (gates, facts).

Figures by hand: 10 points a visit, one night a stay (a measure), a lifetime window.
"""

from __future__ import annotations

import datetime as dt
import io

import orjson
import pytest

from loyalty_dsl import ProgramError, compile_text, outcomes, read_history

BASE = """\
event visit
event stay
event free_drink_claimed
event reward_claimed with stars: integer
event checked with ask: text
measure nights
benefit free_drink
benefit big
window lifetime, continuous
rule visits:
    on visit
    earn 10
rule night_count:
    on stay
    earn 1 into nights
tier Silver from 0 points:
    big
tier Gold from 30 points:
    free_drink
    big
decide free_drink on free_drink_claimed
decide big on checked for its ask:
    grant when balance >= 15
"""


def run(program: str, records: list[tuple[str, str, dict]]) -> dict:
    compiled = compile_text(program, "p.loy")
    lines = [orjson.dumps({"member": "m", "type": t, "at": at, **f}) + b"\n" for t, at, f in records]
    history = read_history(["-"], compiled, stdin=io.BytesIO(b"".join(lines)))
    (o,) = outcomes(compiled, history, dt.date(2026, 1, 31))
    return o.to_json()


def test_a_decision_reads_the_balance_after_a_gated_claim_as_the_final_balance_does():
    # 2 visits: 20 points, Silver (no free_drink): the gated claim of 9 is refused, nothing spent.
    # The check at 20 >= 15 is granted. Were the gate ignored in the pass, 20 - 9 = 11 < 15: refused.
    o = run(
        BASE + "redeem 9 points by free_drink_claimed, only when free_drink is granted\n",
        [
            ("visit", "2026-01-01T10:00:00Z", {}),
            ("visit", "2026-01-02T10:00:00Z", {}),
            ("free_drink_claimed", "2026-01-03T10:00:00Z", {}),
            ("checked", "2026-01-04T10:00:00Z", {"ask": "a1"}),
        ],
    )
    assert [r["granted"] for r in o["redemptions"]] == [False]
    assert o["balance"] == 20
    assert [(d["benefit"], d["granted"]) for d in o["decisions"]] == [("free_drink", False), ("big", True)]


def test_a_where_reads_a_measure_at_the_claims_instant():
    # 3 visits: 30 points. A claim of 10 with 1 night (1 < 2): refused; a second stay (2 nights),
    # then the same claim: granted, 10 spent, balance 20.
    o = run(
        BASE + "redeem points by reward_claimed with stars where nights >= 2\n",
        [
            *[("visit", f"2026-01-0{d}T10:00:00Z", {}) for d in (1, 2, 3)],
            ("stay", "2026-01-04T10:00:00Z", {}),
            ("reward_claimed", "2026-01-05T10:00:00Z", {"stars": 10}),
            ("stay", "2026-01-06T10:00:00Z", {}),
            ("reward_claimed", "2026-01-07T10:00:00Z", {"stars": 10}),
        ],
    )
    rs = o["redemptions"]
    assert [(r["spent"], r["granted"]) for r in rs] == [(0, False), (10, True)]
    assert rs[0]["reason"] == "asked 10: nights 1 < 2"
    assert o["balance"] == 20


def test_check_places_an_unknown_measure_in_a_redemptions_where():
    with pytest.raises(ProgramError) as err:
        compile_text(BASE + "redeem points by reward_claimed with stars where nigths >= 2\n", "p.loy")
    (d,) = err.value.diagnostics
    # line 24 (BASE has 23); after "redeem points by reward_claimed with stars where " (49), column 50
    assert (d.code, d.line, d.col) == ("E104", 24, 50)
    assert "nights" in (d.hint or "")
