"""Counting and thresholds: `earn N per PERIOD with at least ...`.

examples/programs/monthly_challenge.loy over examples/challenge_history.jsonl, as of 2026-04-30:

- c: March orders of 30, 30, 30 (toys on the 16th) and 5: four orders -> four_orders 10; two
  categories -> explorer 3; 95 spent, under 100 -> big_spender 0. April: 99.99 then 1 on the 10th:
  100.99 -> big_spender 20, dated by the order that reached it; one category, two orders: nothing else.
  33 points: Champion.
- v: visits Monday 2 March (twice), Wednesday 4, Sunday 8 -> three distinct days in the ISO week
  of 2 March -> 5; Monday 9 and Tuesday 10: two days -> nothing. 5 points.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from loyalty_dsl import ProgramError, compile_text, outcomes, read_history
from loyalty_dsl.language.fmt import format_source
from loyalty_dsl.tools.explain import explain_member

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "examples" / "programs" / "monthly_challenge.loy"
HISTORY = ROOT / "examples" / "challenge_history.jsonl"
AS_OF = dt.date(2026, 4, 30)


@pytest.fixture(scope="module")
def run():
    program = compile_text(PROGRAM.read_text(), str(PROGRAM))
    history = read_history([str(HISTORY)], program)
    return program, history, {o.member: o for o in outcomes(program, history, AS_OF)}


def test_the_example_program(run):
    _, _, got = run
    assert {m: o.status.by_rule for m, o in got.items()} == {
        "c": {"four_orders": 10, "regular_visitor": 0, "big_spender": 20, "explorer": 3},
        "v": {"four_orders": 0, "regular_visitor": 5, "big_spender": 0, "explorer": 0},
    }
    assert (got["c"].points, got["c"].tier, got["v"].tier) == (33, "Champion", "Member")


def test_a_threshold_is_dated_by_the_event_that_reaches_it(run):
    program, history, _ = run
    ex = explain_member(program, "c", history.members["c"], AS_OF).to_json()
    assert [(e["rule"], e["points"], e["event"]["at"][:10]) for e in ex["ledger"]] == [
        ("four_orders", 10, "2026-03-23"),
        ("big_spender", 20, "2026-04-10"),
        ("explorer", 3, "2026-03-16"),
    ]
    assert sum(e["points"] for e in ex["ledger"]) == ex["points"] == 33
    reasons = {(n["rule"], n["event"]["at"][:10]): n["reason"] for n in ex["not_rewarded"]}
    assert reasons[("big_spender", "2026-03-02")] == "counts toward 100 in amount per month, not reached"
    assert reasons[("four_orders", "2026-03-02")].startswith("counted toward 4 events, reached by order_confirmed")


def test_a_threshold_before_the_as_of_day_only(run):
    program, history, _ = run
    (c,) = [o for o in outcomes(program, history, dt.date(2026, 4, 9)) if o.member == "c"]
    assert c.status.by_rule["big_spender"] == 0  # 99.99 so far in April


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        ("rule r: on order_confirmed earn 10 with at least 4", "E158"),
        ("rule r: on order_confirmed earn 10 per month with at least 0", "E159"),
        ("rule r: on order_confirmed earn 10 per month with at least 2 in category", "E247"),
        ("rule r: on order_confirmed earn 10 per month with at least 2 distinct colour", "E152"),
    ],
)
def test_thresholds_are_checked(rule, code):
    text = PROGRAM.read_text().split("benefit")[0].split("# 10 bonus")[0] + rule + "\ntier T from 0 points:\n"
    with pytest.raises(ProgramError) as err:
        compile_text(text, "t.loy")
    assert code in {d.code for d in err.value.diagnostics}


def test_fmt_keeps_thresholds():
    text = PROGRAM.read_text()
    assert format_source(text, "t.loy") == text
    assert "with at least 100 in amount" in format_source(text.replace("\n    earn 20", " earn 20"), "t.loy")
