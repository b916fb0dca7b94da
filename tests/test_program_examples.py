"""The shipped programs' examples (programs/*_test.loy) pass, and pin every figure.

Mutation check: each number written in a program's statements is changed by
one unit up and down; the changed program must fail to check, or fail at
least one of its examples. A change no example can notice would be a figure
nobody tests.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from loyalty_dsl import ProgramError, compile_text
from loyalty_dsl.cli import main
from loyalty_dsl.language.parse import _comment_column, parse_file
from loyalty_dsl.tools.testing import check_examples, run_examples

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = {p.stem: p for p in sorted((ROOT / "programs").glob("*.loy")) if not p.stem.endswith("_test")}
NUMBER = re.compile(r'"[^"\n]*"|(?<![\w.])(\d+(?:\.\d+)?)(?![\w.])')

# Mutants that no history can tell apart from the program, with the reason.
EQUIVALENT = {
    # Legacy points come in steps of 2 (feedback), 10 (an order) and 5 (its day): no member ever
    # has exactly 1 point, so A1 from 2 behaves as A1 from 1.
    ("legacy_a0_a4", "tier A1 from 1 point:", "2"),
    # Shopping is capped at 5 a day: earning 6 an order keeps 5 a day all the same.
    ("four_tier", "earn 5", "6"),
}


def examples_of(name: str):
    return parse_file(ROOT / "programs" / f"{name}_test.loy").tests


@pytest.mark.parametrize("name", PROGRAMS)
def test_examples_pass(programs, name):
    compiled = compile_text(PROGRAMS[name].read_text(), str(PROGRAMS[name]))
    tests = parse_file(ROOT / "programs" / f"{name}_test.loy")
    assert check_examples(tests, compiled) == []
    results = run_examples(compiled, tests.tests)
    assert [r.failures for r in results if not r.passed] == []
    assert len(results) >= 10


def figures(text: str):
    """(line number, start, end, text) of every number outside comments and strings."""
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        code = line[: _comment_column(line)] if _comment_column(line) is not None else line
        for m in NUMBER.finditer(code):
            if m.group(1):
                yield number, m.start(1), m.end(1), m.group(1)


def mutants(value: str) -> list[str]:
    step = 10 ** -len(value.split(".")[1]) if "." in value else 1
    decimals = len(value.split(".")[1]) if "." in value else 0
    shown = [float(value) + step, float(value) - step]
    return [f"{v:.{decimals}f}" for v in shown if v >= 0 and f"{v:.{decimals}f}" != value]


def mutate(text: str, line: int, start: int, end: int, new: str) -> str:
    lines = text.splitlines(keepends=True)
    lines[line - 1] = lines[line - 1][:start] + new + lines[line - 1][end:]
    return "".join(lines)


def killed(text: str, name: str) -> bool:
    try:
        compiled = compile_text(text, f"{name}.loy")
    except ProgramError:
        return True
    return any(not r.passed for r in run_examples(compiled, examples_of(name)))


@pytest.mark.parametrize("name", PROGRAMS)
def test_every_figure_is_pinned_by_an_example(name):
    text = PROGRAMS[name].read_text()
    survivors = []
    count = 0
    for line, start, end, value in figures(text):
        for new in mutants(value):
            count += 1
            statement = text.splitlines()[line - 1].strip()
            if not killed(mutate(text, line, start, end, new), name) and (name, statement, new) not in EQUIVALENT:
                survivors.append(f"line {line}: {value} -> {new}")
    assert count > 20
    assert survivors == []


def test_equivalent_mutants_still_point_at_a_figure():
    for name, statement, _ in EQUIVALENT:
        assert statement in [line.strip() for line in PROGRAMS[name].read_text().splitlines()]


def test_the_test_command_reports_failures_and_exit_1(tmp_path):
    program = tmp_path / "p.loy"
    program.write_text(
        "window lifetime, continuous\nevent visit\ntier T from 1 point:\nrule v: on visit earn 1 per day\n"
    )
    (tmp_path / "p_test.loy").write_text(
        'test "two visits":\n    given visit at 2026-01-01\n          visit at 2026-01-02\n'
        "    as of 2026-01-31\n    expect points 3\n"
    )
    result = CliRunner().invoke(main, ["test", str(tmp_path)])
    assert result.exit_code == 1
    assert f'{tmp_path / "p_test.loy"}:1: FAILED "two visits"' in result.stdout
    assert "expected points 3, got 2 (v 2 (line 4))" in result.stdout


def test_examples_naming_unknown_things_are_errors_with_places(tmp_path):
    program = tmp_path / "p.loy"
    program.write_text("window lifetime, continuous\nevent visit\ntier T from 1 point:\nrule v: on visit earn 1\n")
    (tmp_path / "p_test.loy").write_text('test "x": given vist at 2026-01-01 as of 2026-01-31 expect tier Q\n')
    result = CliRunner().invoke(main, ["test", str(program)])
    assert result.exit_code == 2
    assert "p_test.loy:1:17: error[E192]: unknown event `vist`" in result.stderr
    assert "unknown tier `Q`" in result.stderr
