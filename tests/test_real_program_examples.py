"""The four example programs of real schemes over their bundled histories, figures worked out by hand.

- coffee_stars (as of 2026-06-30; the recalculation of 2026-07-01 counts July 2025 to June 2026):
  c1: card 4.75 -> 2 x 4 = 8, app 12.30 -> 24, cash 3.99 -> 3: 35 stars, Green; 25 redeemed oldest first
  (the 8, then 17 of the 24): balance 10, so the brewed coffee asked on 2026-03-06 is refused (10 < 100).
  c2: card 160.00 -> 320 stars, Gold from 2026-02-01; asked on 2026-02-02 with 320 spendable: granted;
  100 redeemed: balance 220.
- hotel_nights (as of 2026-12-31): h1: 3 + 2 + 5 = 10 nights in 3 stays, 10 x (450 + 300 + 1000) = 17500
  points: Silver (10 nights), no room upgrade. h2: 20 weekly stays of 1 night at 80.00: 20 stays, Gold,
  16000 points; the upgrade asked on 2026-06-01 (after the 20th stay, on 2026-05-18) is granted.
- beauty_spend (as of 2026-12-31): b1: 120.00 makeup (120), 250.00 skincare (250 x 2 = 500), 30.00 (30):
  650 points, spend 400.00, VIB from the second order; free shipping refused for o1 and o2 (decided by the
  status before each: Insider), granted for o3. b2: 80.00: 80 points, Insider.
- airline_dollars (as of 2026-12-31): a1: 1200.00 (Wednesday: 6000 miles), 2500.00 (Tuesday: 12500 x 2 =
  25000), card 3000.00 (300 qualifying dollars), 1400.00 (Wednesday: 7000): 38000 miles, 5400.00 qualifying
  dollars, Silver. a2: 12000.00 on a Tuesday: 5 x 12000 x 2 = 120000 miles, cut to 75000; Gold.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from loyalty_dsl import compile_text, load, outcomes, read_history
from loyalty_dsl.tools.diff import pair_outcomes

ROOT = Path(__file__).resolve().parent.parent


def run(name: str, history: str, as_of: str) -> dict[str, dict]:
    program = load(ROOT / "examples" / "programs" / f"{name}.loy")
    found = outcomes(program, read_history([str(ROOT / "examples" / history)], program), dt.date.fromisoformat(as_of))
    return {o.member: o.to_json() for o in found}


def test_coffee_stars():
    got = run("coffee_stars", "coffee_history.jsonl", "2026-06-30")
    c1, c2 = got["c1"], got["c2"]
    assert (c1["points"], c1["tier"], c1["balance"]) == (35, "Green", 10)
    assert [(d["granted"], d["reason"]) for d in c1["decisions"]] == [(False, "Green: balance 10 < 100")]
    assert (c2["points"], c2["tier"], c2["balance"]) == (320, "Gold", 220)
    assert [(d["granted"], d["reason"]) for d in c2["decisions"]] == [(True, "Gold: balance 320 >= 100")]


def test_hotel_nights():
    got = run("hotel_nights", "hotel_history.jsonl", "2026-12-31")
    h1, h2 = got["h1"], got["h2"]
    assert (h1["points"], h1["tier"], h1["measures"]) == (17500, "Silver", {"nights": 10, "stays": 3})
    assert [d["granted"] for d in h1["decisions"]] == [False]
    assert (h2["points"], h2["tier"], h2["measures"]) == (16000, "Gold", {"nights": 20, "stays": 20})
    assert [d["granted"] for d in h2["decisions"]] == [True]


def test_beauty_spend():
    got = run("beauty_spend", "beauty_history.jsonl", "2026-12-31")
    b1, b2 = got["b1"], got["b2"]
    assert (b1["points"], b1["tier"], b1["measures"]) == (650, "VIB", {"spend": 400.0})
    assert [(d["order"], d["granted"]) for d in b1["decisions"]] == [("o1", False), ("o2", False), ("o3", True)]
    assert (b2["points"], b2["tier"], b2["measures"]) == (80, "Insider", {"spend": 80.0})


def test_airline_dollars():
    got = run("airline_dollars", "airline_history.jsonl", "2026-12-31")
    a1, a2 = got["a1"], got["a2"]
    assert (a1["points"], a1["tier"], a1["measures"]) == (38000, "Silver", {"mqd": 5400.0})
    assert (a2["points"], a2["tier"], a2["measures"]) == (75000, "Gold", {"mqd": 12000.0})


def test_diff_sees_a_change_of_measure():
    # 1 qualifying dollar for every 20.00 on the card instead of 10.00: a1 has 5400 - 300 + 150 = 5250,
    # still Silver with the same miles; a2 has no card spend. Only a1 changes, by its measure.
    path = ROOT / "examples" / "programs" / "airline_dollars.loy"
    a = load(path)
    b = compile_text(path.read_text().replace("earn 1 for every 10.00 of amount", "earn 1 for every 20.00 of amount"))
    history = read_history([str(ROOT / "examples" / "airline_history.jsonl")], a)
    changes = {c.member: c for c in pair_outcomes(a, history, b, history, dt.date(2026, 12, 31))}
    assert [m for m, c in changes.items() if c.changed] == ["a1"]
    view = changes["a1"].to_json()
    assert (view["a"]["measures"], view["b"]["measures"]) == ({"mqd": 5400.0}, {"mqd": 5250.0})
    assert view["a"]["tier"] == view["b"]["tier"] == "Silver"
