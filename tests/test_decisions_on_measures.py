"""Decisions see points, the balance and every measure (`grant when nights >= 10`), and examples
pin them (`expect nights 12`, `expect spend 350.00`, `expect balance 40`).

Figures by hand, from the program and the history below (a lifetime window: every event counts at
once, so the status at a request holds every event before it):
- 2026-01-05 stay s1, 6 nights, 256.28: 25 points (floor 25.628).
- 2026-01-10 request a1: 6 nights < 10, spend 256.28 < 350, balance 25 >= 9.
- 2026-02-01 stay s2, 1 night, 0.20 (0 points); 2026-02-02 stay s3, 3 nights, 93.52 (9 points):
  10 nights, spend 256.28 + 0.20 + 93.52 = 350.00 exactly (binary floats: 349.99999999999994), 34 points.
- 2026-02-06 30 points redeemed: balance 4.
- 2026-02-10 request a2: 10 nights >= 10, spend 350.00 >= 350, balance 4 < 9.
"""

from __future__ import annotations

import pytest

from loyalty_dsl import compile_text
from loyalty_dsl.language.check import check
from loyalty_dsl.language.parse import parse
from loyalty_dsl.tools.testing import check_examples, run_examples
from tests.helpers import run_json

PROGRAM = """\
event stay with stay: text, nights: integer, amount: money
event request with ask: text
event redeemed with points: integer at least 1
window lifetime, continuous
redeem points by redeemed with points
measure nights
measure spend in money
benefit upgrade
benefit lounge
benefit late_checkout
tier Member from 0 points:
    upgrade
    lounge
    late_checkout
rule night_count:
    on stay
    earn nights into nights
rule spending:
    on stay
    earn amount into spend
rule base:
    on stay
    earn 1 for every 10.00 of amount
decide upgrade on request for its ask:
    grant when nights >= 10
decide lounge on request for its ask:
    grant when spend >= 350
decide late_checkout on request for its ask:
    grant when balance >= 9
"""

EVENTS = [
    {"member": "m", "type": "stay", "at": "2026-01-05T12:00:00Z", "stay": "s1", "nights": 6, "amount": 256.28},
    {"member": "m", "type": "request", "at": "2026-01-10T12:00:00Z", "ask": "a1"},
    {"member": "m", "type": "stay", "at": "2026-02-01T12:00:00Z", "stay": "s2", "nights": 1, "amount": 0.20},
    {"member": "m", "type": "stay", "at": "2026-02-02T12:00:00Z", "stay": "s3", "nights": 3, "amount": 93.52},
    {"member": "m", "type": "redeemed", "at": "2026-02-06T12:00:00Z", "points": 30},
    {"member": "m", "type": "request", "at": "2026-02-10T12:00:00Z", "ask": "a2"},
]


def test_decisions_read_measures_and_the_balance():
    (o,) = run_json(compile_text(PROGRAM, "d.loy"), EVENTS, "2026-02-28")
    got = {(d["benefit"], d["ask"]): (d["granted"], d["reason"]) for d in o["decisions"]}
    assert got == {
        ("upgrade", "a1"): (False, "Member: nights 6 < 10"),
        ("lounge", "a1"): (False, "Member: spend 256.28 < 350"),
        ("late_checkout", "a1"): (True, "Member: balance 25 >= 9"),
        ("upgrade", "a2"): (True, "Member: nights 10 >= 10"),
        ("lounge", "a2"): (True, "Member: spend 350.00 >= 350"),
        ("late_checkout", "a2"): (False, "Member: balance 4 < 9"),
    }
    assert (o["points"], o["balance"], o["measures"]) == (34, 4, {"nights": 10, "spend": 350.0})


def test_points_in_a_decision():
    # A program without measures: `points` is the status's points (34 by 2026-02-10, 25 on 2026-01-10).
    text = PROGRAM.replace("grant when nights >= 10", "grant when points >= 30")
    (o,) = run_json(compile_text(text, "d.loy"), EVENTS, "2026-02-28")
    assert [d["granted"] for d in o["decisions"] if d["benefit"] == "upgrade"] == [False, True]


def test_a_field_of_the_event_comes_first():
    # `redeemed` carries `points`: a decision on it reads its field (30), not the member's points (34).
    text = PROGRAM + "decide upgrade on redeemed:\n    grant when points >= 31\n"
    (o,) = run_json(compile_text(text, "d.loy"), EVENTS, "2026-02-28")
    (d,) = [d for d in o["decisions"] if d["at"].startswith("2026-02-06")]
    assert (d["granted"], d["reason"]) == (False, "Member: 30 < 31")


@pytest.mark.parametrize(
    ("change", "hint"),
    [
        (("grant when nights >= 10", "grant when nigths >= 10"), "`nights`"),
        (("grant when spend >= 350", "grant when spent >= 350"), "`spend`"),
    ],
)
def test_check_knows_measures_in_decisions(change, hint):
    (d,) = [d for d in check(parse(PROGRAM.replace(*change), "d.loy")) if d.code == "E104"]
    assert d.hint is not None and hint in d.hint


def test_balance_needs_spendable_points():
    text = PROGRAM.replace("redeem points by redeemed with points\n", "").replace(
        "decide late_checkout on request for its ask:\n    grant when balance >= 9\n", ""
    )
    assert check(parse(text, "d.loy")) == []
    bad = text + "decide late_checkout on request:\n    grant when balance >= 9\n"
    assert "E104" in {d.code for d in check(parse(bad, "d.loy"))}


EXAMPLES = """\
test "measures and the balance":
    given stay at 2026-01-05T12:00:00Z with stay "s1", nights 6, amount 256.28
          stay at 2026-02-01T12:00:00Z with stay "s2", nights 1, amount 0.20
          stay at 2026-02-02T12:00:00Z with stay "s3", nights 3, amount 93.52
          redeemed at 2026-02-06T12:00:00Z with points 30
    as of 2026-02-28
    expect nights 10
    expect spend 350.00
    expect balance 4
    expect points 34
"""


def test_examples_pin_measures_and_the_balance():
    program = compile_text(PROGRAM, "d.loy")
    tests = parse(EXAMPLES, "d_test.loy")
    assert check_examples(tests, program) == []
    (result,) = run_examples(program, tests.tests)
    assert result.failures == ()
    wrong = parse(EXAMPLES.replace("expect nights 10", "expect nights 11"), "d_test.loy")
    (result,) = run_examples(program, wrong.tests)
    assert result.failures == ("line 7: expected nights 11, got 10",)
    misspelt = parse(EXAMPLES.replace("expect nights 10", "expect night 10"), "d_test.loy")
    (d,) = check_examples(misspelt, program)
    assert d.code == "E192" and d.hint is not None and "nights" in d.hint


def test_the_balance_at_the_events_instant_with_a_rolling_window():
    # With a rolling window the tier is that of the last recalculation (1 January: nothing yet), but the
    # balance is the spendable points at the request itself: 25 on 2026-01-10, so late_checkout is granted;
    # nights are the window's (0 at the recalculation of 1 January): upgrade refused.
    text = PROGRAM.replace("window lifetime, continuous", "window last 12 months, recalculated monthly")
    (o,) = run_json(compile_text(text, "d.loy"), EVENTS[:2], "2026-01-31")
    got = {d["benefit"]: (d["granted"], d["reason"]) for d in o["decisions"]}
    assert got["late_checkout"] == (True, "Member: balance 25 >= 9")
    assert got["upgrade"] == (False, "Member: nights 0 < 10")
