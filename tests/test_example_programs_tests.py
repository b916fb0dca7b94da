"""Every `NAME_test.loy` passes, and the example programs' examples pin every figure.

The examples beside the example programs (examples/programs/*_test.loy) are run
as `loyalty test examples/programs/` runs them, and so are the shipped
programs'. The mutation check of test_program_examples is applied to the
example programs: each number of a program's statements is moved one unit up
and down (and each construct they show is changed in words), and the changed
program must fail to check or fail an example.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from loyalty_dsl import ProgramError, compile_text
from loyalty_dsl.cli import main
from loyalty_dsl.language.parse import parse_file
from loyalty_dsl.tools.testing import check_examples, run_examples
from tests.test_program_examples import figures, mutants, mutate

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "programs"
EXAMPLE_PROGRAMS = {p.stem: p for p in sorted(EXAMPLES.glob("*.loy")) if not p.stem.endswith("_test")}
TEST_FILES = sorted([*EXAMPLES.glob("*_test.loy"), *(ROOT / "programs").glob("*_test.loy")])

# Mutants no history can tell apart from the program, with the reason.
EQUIVALENT = {
    # Shopping is capped at 5 a day (and multipliers act after the cap): 6 an order keeps 5 a day.
    ("campaigns", "earn 5", "6"),
    ("multipliers", "earn 5", "6"),
    # Every contribution of multipliers.loy is 5 points or more: no member has exactly 1 point.
    ("multipliers", "tier Silver from 1 point:", "2"),
    # Points come 10 at a time: no member has exactly 19 (or 29) points.
    ("pending_points", "tier Regular from 20 points:", "19"),
    ("spendable_points", "tier Regular from 30 points:", "29"),
    # Base points come 10 at a time (10 for every whole dollar): no member has exactly 24999 (74999, 119999).
    ("hotel_nights", "tier Silver from 10 nights or 4 stays or 25000 points:", "24999"),
    ("hotel_nights", "tier Gold from 40 nights or 20 stays or 75000 points:", "74999"),
    ("hotel_nights", "tier Diamond from 60 nights or 30 stays or 120000 points:", "119999"),
}
# Mutants the examples cannot tell apart: the test language has no expectation for what they change.
UNEXPRESSIBLE = {
    # Expiry acts on the spendable balance only, and an example cannot expect a balance.
    ("spendable_points", "points expire after 12 months", "13"),
    ("spendable_points", "points expire after 12 months", "11"),
    # Accepting a redemption of 0 points: an example cannot expect a given event to be rejected.
    ("spendable_points", "event redeemed with points: integer at least 1", "0"),
}


def test_every_example_program_has_examples():
    assert sorted(EXAMPLE_PROGRAMS) == sorted(p.stem.removesuffix("_test") for p in EXAMPLES.glob("*_test.loy"))


@pytest.mark.parametrize("tests", TEST_FILES, ids=lambda p: p.stem)
def test_examples_pass(tests):
    program_path = tests.with_name(tests.name.removesuffix("_test.loy") + ".loy")
    compiled = compile_text(program_path.read_text(), str(program_path))
    parsed = parse_file(tests)
    assert check_examples(parsed, compiled) == []
    results = run_examples(compiled, parsed.tests)
    assert [(r.test.name, r.failures) for r in results if not r.passed] == []
    assert len(results) >= 4


@pytest.mark.parametrize("folder", ["examples/programs/", "programs/"])
def test_the_test_command_passes_on_each_folder(folder, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["test", folder])
    assert result.exit_code == 0, result.output
    assert "FAILED" not in result.stdout


def killed(text: str, name: str) -> bool:
    try:
        compiled = compile_text(text, f"{name}.loy")
    except ProgramError:
        return True
    tests = parse_file(EXAMPLES / f"{name}_test.loy").tests
    return any(not r.passed for r in run_examples(compiled, tests))


@pytest.mark.parametrize("name", EXAMPLE_PROGRAMS)
def test_every_figure_is_pinned_by_an_example(name):
    text = EXAMPLE_PROGRAMS[name].read_text()
    survivors = []
    for line, start, end, value in figures(text):
        statement = text.splitlines()[line - 1].strip()
        for new in mutants(value):
            if (name, statement, new) in EQUIVALENT | UNEXPRESSIBLE:
                continue
            if not killed(mutate(text, line, start, end, new), name):
                survivors.append(f"line {line}: {statement!r}: {value} -> {new}")
    assert survivors == []


# Each construct an example program shows, changed in words: an example must notice.
CONSTRUCTS = [
    ("campaigns", "during 11 November", "during November"),
    ("currencies", 'currency: text default "USD"', 'currency: text default "EUR"'),
    ("fiscal_calendar", 'timezone "Europe/London"', 'timezone "UTC"'),
    ("fiscal_calendar", "week starts on Sunday", "week starts on Monday"),
    ("fiscal_calendar", "week starts on Sunday", "week starts on Saturday"),
    ("fiscal_calendar", "year starts in February", "year starts in January"),
    ("monthly_challenge", "earn 10 per month with at least 4", "earn 10 per week with at least 4"),
    ("monthly_challenge", "earn 5 per week with at least 3 distinct day", "earn 5 per week with at least 3"),
    ("monthly_challenge", "earn 3 per month with at least 2 distinct category", "earn 3 per month with at least 2"),
    ("multipliers", "the latest profile_updated", "the first profile_updated"),
    ("multipliers", "for Gold", "for Silver"),
    ("multipliers", "by 2 during 11 November", "by 2 during November"),
    ("pending_points", "where order is not voided", ""),
    ("spendable_points", "where order is not voided", ""),
    ("tier_retention", "drop tiers one level at a time", ""),
    ("cafe_rewards", ", at the end of that month", ""),
    ("cafe_rewards", ", in sizes 25, 100, 200, 300, 400", ""),
    ("supermarket_vouchers", "convert points every quarter", "convert points every month"),
    ("hotel_nights", "earn 1 per stay into stays", "earn 1 into stays"),
    ("hotel_nights", "window calendar year, continuous", "window last 12 months, recalculated monthly"),
    ("airline_dollars", "cap 75000 per ticket, after multipliers", "cap 75000 per ticket"),
    ("airline_dollars", "multiply miles by 2 during Tuesday", "multiply miles by 2 during Wednesday"),
    ("beauty_spend", 'multiply points by 2 where category = "skincare"', "multiply points by 2"),
    ("beauty_spend", "keep a tier reached until the end of the next year", ""),
    ("beauty_spend", "where order is not returned\n    earn amount", "\n    earn amount"),
    ("coffee_stars", 'where paid_by in ["card", "app"]', 'where paid_by in ["card"]'),
]


@pytest.mark.parametrize(("name", "old", "new"), CONSTRUCTS, ids=lambda v: str(v) or "nothing")
def test_every_construct_is_pinned_by_an_example(name, old, new):
    text = EXAMPLE_PROGRAMS[name].read_text()
    assert text.count(old) == 1
    assert killed(text.replace(old, new), name)


def test_exemptions_still_point_at_a_figure():
    for name, statement, _ in EQUIVALENT | UNEXPRESSIBLE:
        assert statement in [line.strip() for line in EXAMPLE_PROGRAMS[name].read_text().splitlines()]
