"""What an analyst sees for a broken program: every problem, its place, in words."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty_dsl import ProgramError, compile_text
from loyalty_dsl.io.input_files import read_program
from loyalty_dsl.language.check import check
from loyalty_dsl.language.parse import parse
from loyalty_dsl.tools.testing import check_examples

ROOT = Path(__file__).resolve().parent.parent
# Bounded in CI; `LOYALTY_FUZZ_EXAMPLES=20000 pytest tests/test_diagnostics.py` runs longer on demand.
FUZZ_EXAMPLES = int(os.environ.get("LOYALTY_FUZZ_EXAMPLES", "300"))
BROKEN = ROOT / "tests" / "cases" / "broken"
PROGRAMS = sorted(p for p in (ROOT / "programs").glob("*.loy") if not p.stem.endswith("_test"))
# Mutated by the fuzz test: the shipped programs, their examples, and every example program.
SOURCES = sorted([*(ROOT / "programs").glob("*.loy"), *(ROOT / "examples" / "programs").glob("*.loy")])


def diagnose(text: str, file: str) -> str:
    try:
        compile_text(text, file)
    except ProgramError as err:
        return err.render()
    raise AssertionError(f"{file} compiled without errors")


@pytest.mark.parametrize("name", sorted(p.name for p in BROKEN.glob("*.loy")))
def test_broken_program_messages(snapshot, name, monkeypatch):
    monkeypatch.chdir(ROOT)  # places read as the analyst's relative path, as `loyalty check` prints them
    file = f"tests/cases/broken/{name}"
    try:
        text = read_program(file)  # as the command reads it: bytes, so a file that is not UTF-8 is a case too
    except ProgramError as err:
        assert err.render() == snapshot
        return
    assert diagnose(text, file) == snapshot


# Examples files (`_test.loy`) are checked against a program, so their broken cases sit apart,
# beside the valid program they name things of.
BROKEN_EXAMPLES = BROKEN / "examples"


@pytest.mark.parametrize("name", sorted(p.name for p in BROKEN_EXAMPLES.glob("*_test.loy")))
def test_broken_examples_messages(snapshot, name):
    program = compile_text((BROKEN_EXAMPLES / "program.loy").read_text(), "program.loy")
    file = f"tests/cases/broken/examples/{name}"
    examples = parse((BROKEN_EXAMPLES / name).read_text(), file)
    problems = check_examples(examples, program)
    assert problems, f"{file} has no problem"
    assert ProgramError(problems, examples.source).render() == snapshot


@pytest.mark.parametrize("path", PROGRAMS, ids=lambda p: p.name)
def test_shipped_programs_check_clean(path):
    assert check(parse(path.read_text(), str(path))) == []


def test_every_problem_is_reported_in_one_run():
    text = (
        "window lifetime, continuous\nevent visit\ntier T from 0 points: prek\n"
        "rule a: on vist earn 1\nrule b: on visit earn 1 per dya\n"
    )
    with pytest.raises(ProgramError) as err:
        compile_text(text, "p.loy")
    assert [(d.line, d.code) for d in err.value.diagnostics] == [(3, "E103"), (4, "E101"), (5, "E152")]


def test_did_you_mean_only_when_close():
    with pytest.raises(ProgramError) as err:
        compile_text(
            "window lifetime, continuous\nevent visit\ntier T from 0 points:\n"
            "rule a: on vist earn 1\nrule b: on shopping earn 1\n",
            "p.loy",
        )
    first, second = err.value.diagnostics
    assert first.hint == "did you mean `visit`?"
    assert second.hint == "known: visit"


# --- the error contract, for any text ----------------------------------------------------

_WORDS = [
    "rule",
    "tier",
    "event",
    "window",
    "earn",
    "per",
    "day",
    "cap",
    "on",
    "where",
    "and",
    "not",
    "is",
    "in",
    "from",
    "points",
    ":",
    ",",
    "(",
    ")",
    "[",
    "]",
    ">=",
    "=",
    "5",
    "2.00",
    '"x"',
    "visit",
    "amount",
    "lifetime",
    "continuous",
    "last",
    "12",
    "months",
    "grant",
    "decide",
    "#",
    "\n",
    "during",
    "vesting",
    "multiply",
    "keep",
    "drop",
    "redeem",
    "currency",
    "rate",
    "week",
    "year",
    "starts",
    "with at least",
    "distinct",
    "test",
    "given",
    "expect",
    "2026-11-01",
]


def _mutations() -> st.SearchStrategy[str]:
    shipped = [p.read_text() for p in SOURCES]
    return st.builds(
        lambda text, at, junk, cut: text[:at] + junk + text[at + cut :],
        st.sampled_from(shipped),
        st.integers(0, 4000),
        # Line breaks of str.splitlines() that are no line end for the parser, and a Latin-1 letter.
        st.sampled_from([*_WORDS, "", "@", "'", '"', "\f", "\v", "\r", "\x1c", "\x85", "\u2028", "é"]),
        st.integers(0, 30),
    )


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.lists(st.sampled_from(_WORDS)).map(" ".join), _mutations(), st.text(max_size=200)))
def test_any_text_gives_a_program_or_placed_errors(text):
    try:
        compile_text(text, "fuzz.loy")
    except ProgramError as err:
        lines = text.split("\n")  # as the parser counts lines: `\n` ends one, nothing else
        assert err.diagnostics
        rendered = err.render().splitlines()
        for d in err.diagnostics:
            assert 1 <= d.line <= len(lines), d
            shown = re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", " ", lines[d.line - 1].removesuffix("\r"))
            assert f"    {shown}" in rendered, d  # the line the place is on, whatever else it holds
            assert d.col >= 1 and d.end_col > d.col, d
            assert d.file == "fuzz.loy"
        assert err.render()


@pytest.mark.parametrize(
    "condition", ["not " * 3000 + "a = 1", " and ".join(["a = 1"] * 3000), " or ".join(["a = 1"] * 3000)]
)
def test_a_hostile_nesting_is_an_error_not_a_crash(condition):
    head = "window lifetime, continuous\nevent e with a: integer\ntier T from 0 points:\n"
    text = head + f"rule r: on e where {condition} earn 1\n"
    with pytest.raises(ProgramError) as err:
        compile_text(text, "deep.loy")
    (d,) = err.value.diagnostics
    assert (d.code, d.line, d.col) == ("E002", 4, 1)


def test_deep_parentheses_are_fine():
    text = "window lifetime, continuous\nevent e with a: integer\ntier T from 0 points:\n"
    program = compile_text(text + "rule r: on e where " + "(" * 500 + "a = 1" + ")" * 500 + " earn 1\n")
    assert [r.name for r in program.rules] == ["r"]
