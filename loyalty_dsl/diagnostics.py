"""Errors in programs, as values with a place, and their one renderer."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import attrs

from loyalty_dsl.ast import Span
from loyalty_dsl.suggest import closest


@attrs.frozen
class Diagnostic:
    """One problem in a program: where it is, a stable code, and what to do."""

    file: str
    line: int
    col: int
    end_col: int
    code: str
    message: str
    hint: str | None = None
    severity: str = "error"

    @classmethod
    def at(cls, span: Span, code: str, message: str, hint: str | None = None) -> Diagnostic:
        end = span.end_col if span.end_line == span.line else span.col + 1
        return cls(span.file, span.line, span.col, max(end, span.col + 1), code, message, hint)


class ProgramError(Exception):
    """A program that does not parse or check; carries every diagnostic found."""

    def __init__(self, diagnostics: Sequence[Diagnostic], source: str) -> None:
        super().__init__(f"{len(diagnostics)} problem(s) in the program")
        self.diagnostics = list(diagnostics)
        self.source = source

    def render(self) -> str:
        return render_all(self.diagnostics, self.source)


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A hint naming the closest choice, only when one is really close."""
    close = closest(word, choices)
    return f"did you mean `{close}`?" if close is not None and close != word else None


# Shown as one space each, so that the caret stays under its column: tabs, form feeds,
# other control characters and line separators that are not line ends for the parser.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def source_lines(source: str) -> list[str]:
    """The program's lines as the parser counts them: ended by `\\n` only."""
    return source.split("\n")


def render(d: Diagnostic, source: str, lines: list[str] | None = None) -> str:
    """`file:line:col: message`, the source line, a caret under the place, the hint."""
    out = [f"{d.file}:{d.line}:{d.col}: {d.severity}[{d.code}]: {d.message}"]
    lines = source_lines(source) if lines is None else lines
    if 1 <= d.line <= len(lines):
        text = _UNPRINTABLE.sub(" ", lines[d.line - 1].removesuffix("\r"))
        width = max(1, min(d.end_col, len(text) + 1) - d.col)
        out.append(f"    {text}")
        out.append("    " + " " * (d.col - 1) + "^" * width)
    if d.hint:
        out.append(f"    hint: {d.hint}")
    return "\n".join(out)


def render_all(diagnostics: Iterable[Diagnostic], source: str) -> str:
    lines = source_lines(source)  # once: a program may have thousands of problems
    return "\n".join(render(d, source, lines) for d in diagnostics)
