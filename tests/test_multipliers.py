"""Multipliers: on some days, for a tier, in each member's birthday month.

examples/programs/multipliers.loy (5 points an order, at most 5 a day; x2 on 11 November; x3 in the
birthday month; x1.5 for Gold, the tier of the month's recalculation; rounded down) over
examples/multiplier_history.jsonl, as of 2026-11-30 (the recalculation of 2026-12-01):
- 10 to 13 January: 4 orders, 5 each (no tier before February): 20.
- 10 February: Gold at the 1 February recalculation (20 points): 5 x 1.5 = 7.
- 10 March, the birthday month (birthday 1990-03-15 set on 2026-01-01): 5 x 3 x 1.5 = 22.
- 11 November: 5 x 2 x 1.5 = 15 (Gold at 1 November).
64 points.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from loyalty_dsl import ProgramError, compile_text, outcomes, read_history
from loyalty_dsl.language.fmt import format_source
from loyalty_dsl.tools.explain import explain_member

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "examples" / "programs" / "multipliers.loy"
HISTORY = ROOT / "examples" / "multiplier_history.jsonl"
AS_OF = dt.date(2026, 11, 30)


def points(text: str) -> int:
    program = compile_text(text, "m.loy")
    (o,) = outcomes(program, read_history([str(HISTORY)], program), AS_OF)
    return o.points


def test_the_example_program_and_its_ledger():
    assert points(PROGRAM.read_text()) == 64
    program = compile_text(PROGRAM.read_text(), "m.loy")
    history = read_history([str(HISTORY)], program)
    ex = explain_member(program, "z", history.members["z"], AS_OF).to_json()
    assert [e["points"] for e in ex["ledger"]] == [5, 5, 5, 5, 7, 22, 15]
    assert sum(e["points"] for e in ex["ledger"]) == ex["points"] == 64
    assert ex["ledger"][5]["note"] == "multiplied: 5 -> 22"


@pytest.mark.parametrize(
    ("line", "total"),
    [
        ("multiply shopping by 2 during 11 November\n", 20 + 7 + 22 + 7),
        ("multiply shopping by 3 during the birthday month of the latest profile_updated\n", 20 + 7 + 7 + 15),
        ("multiply shopping by 1.5 for Gold\n", 20 + 5 + 15 + 10),
    ],
)
def test_each_multiplier_counts(line, total):
    text = PROGRAM.read_text()
    assert line in text
    assert points(text.replace(line, "")) == total


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (("multiply shopping by 2", "multiply shoping by 2"), "E106"),
        (("by 1.5 for Gold", "by 0 for Gold"), "E178"),
        (("for Gold", "for Platinum"), "E179"),
        (("window last 12 months, recalculated monthly", "window lifetime, continuous"), "E175"),
    ],
)
def test_multipliers_are_checked(change, code):
    with pytest.raises(ProgramError) as err:
        compile_text(PROGRAM.read_text().replace(*change), "m.loy")
    assert code in {d.code for d in err.value.diagnostics}


def test_fmt_keeps_multipliers():
    assert format_source(PROGRAM.read_text(), "m.loy") == PROGRAM.read_text()


def test_lint_counts_multipliers_in_what_a_tier_can_reach():
    from loyalty_dsl.language.lint import lint
    from loyalty_dsl.language.parse import parse

    text = (
        "window last 1 months, recalculated monthly\nevent visit\n"
        "rule v: on visit earn 1 per day cap 10 per month\ntier Top from 15 points:\n"
    )
    assert [d.code for d in lint(parse(text))] == ["L103"]  # 10 at most in a month
    assert lint(parse(text + "multiply v by 2 during November\n")) == []  # 20 in November
