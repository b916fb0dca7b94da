"""Errors in programs, as values with a place, and their one renderer."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence

import attrs

from loyalty_dsl.ast import Span


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
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.75)
    return f"did you mean `{close[0]}`?" if close else None


def render(d: Diagnostic, source: str) -> str:
    """`file:line:col: message`, the source line, a caret under the place, the hint."""
    out = [f"{d.file}:{d.line}:{d.col}: {d.severity}[{d.code}]: {d.message}"]
    lines = source.splitlines()
    if 1 <= d.line <= len(lines):
        text = lines[d.line - 1].expandtabs(1)
        width = max(1, min(d.end_col, len(text) + 1) - d.col)
        out.append(f"    {text}")
        out.append("    " + " " * (d.col - 1) + "^" * width)
    if d.hint:
        out.append(f"    hint: {d.hint}")
    return "\n".join(out)


def render_all(diagnostics: Iterable[Diagnostic], source: str) -> str:
    return "\n".join(render(d, source) for d in diagnostics)
