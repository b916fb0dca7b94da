"""What the editor shows for one document's text: its problems and its parsed program.

A program gets every syntax error and `check` error, then, once it checks clean,
the `lint` warnings. An examples file (`NAME_test.loy`) is checked against the
program beside it, and each failed example's failures are placed on the lines
they name (an `expect` line, or a `given` line whose event is rejected).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import attrs

from loyalty_dsl.evaluation.compile import CompiledProgram, compile_text, diagnose
from loyalty_dsl.io.input_files import read_program
from loyalty_dsl.language import ast
from loyalty_dsl.language.diagnostics import Diagnostic, ProgramError
from loyalty_dsl.language.lint import lint
from loyalty_dsl.language.parse import parse_partial
from loyalty_dsl.tools.testing import TEST_SUFFIX, check_examples, run_examples

# A failure names its line: "line 12: points: expected 5, got 0" or
# "given event on line 9 is rejected (H202): ...".
_FAILURE_LINE = re.compile(r"^line (\d+): |^given event on line (\d+) ")

Reader = Callable[[Path], str]  # a file's text: the editor's copy when it has the file open


@attrs.frozen
class Analysis:
    program: ast.Program | None  # as much as parsed; None when nothing did
    problems: list[Diagnostic]
    beside: ast.Program | None = None  # for an examples file: the program it tests


def is_examples(path: str) -> bool:
    return path.endswith(TEST_SUFFIX)


def program_beside(path: str) -> Path:
    p = Path(path)
    return p.with_name(p.name.removesuffix(TEST_SUFFIX) + ".loy")


def read_disk(path: Path) -> str:
    return read_program(path)


def analyse(text: str, path: str, read: Reader = read_disk) -> Analysis:
    if is_examples(path):
        return _analyse_examples(text, path, read)
    program, problems = diagnose(text, path)
    if program is not None and not problems:
        problems = lint(program)
    return Analysis(program, problems)


def _analyse_examples(text: str, path: str, read: Reader) -> Analysis:
    examples, problems = parse_partial(text, path)
    if examples is None:
        return Analysis(None, problems)
    beside = program_beside(path)
    try:
        compiled = compile_text(read(beside), str(beside))
    except ProgramError as err:
        where = f"{beside.name} has {len(err.diagnostics)} problem(s); the examples cannot run"
        return Analysis(examples, [*problems, _at_line(examples, 1, "E249", where, "fix the program first")])
    except OSError as err:
        message = f"no program {beside.name} beside this file ({err.strerror or err})"
        return Analysis(examples, [*problems, _at_line(examples, 1, "E249", message, None)])
    problems = [*problems, *check_examples(examples, compiled)]
    if not problems:
        problems = _failures(examples, compiled)
    return Analysis(examples, problems, compiled.source)


def _failures(examples: ast.Program, compiled: CompiledProgram) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for result in run_examples(compiled, examples.tests):
        for failure in result.failures:
            found = _FAILURE_LINE.match(failure)
            line = int(found.group(1) or found.group(2)) if found else result.test.span.line
            message = f"example {result.test.name.text} fails: {failure[found.end() :] if found else failure}"
            out.append(_at_line(examples, line, "T100", message, None))
    return out


def _at_line(program: ast.Program, line: int, code: str, message: str, hint: str | None) -> Diagnostic:
    """A problem underlining the written part of a whole line."""
    lines = program.source.split("\n")
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    start = len(text) - len(text.lstrip()) + 1
    end = max(len(text.rstrip()) + 1, start + 1)
    return Diagnostic(program.file, line, start, end, code, message, hint)
