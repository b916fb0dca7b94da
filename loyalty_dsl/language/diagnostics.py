"""Errors in programs, as values with a place, and their one renderer."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import attrs

from loyalty_dsl.language.ast import Span
from loyalty_dsl.language.suggest import closest


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
    end_line: int = 0  # the line end_col is on; 0: the same line as `line`

    @classmethod
    def at(cls, span: Span, code: str, message: str, hint: str | None = None) -> Diagnostic:
        if span.end_line > span.line:
            return cls(span.file, span.line, span.col, span.end_col, code, message, hint, end_line=span.end_line)
        return cls(span.file, span.line, span.col, max(span.end_col, span.col + 1), code, message, hint)

    @property
    def last_line(self) -> int:
        return max(self.end_line, self.line)


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
    last = min(d.last_line, len(lines))
    for number in range(d.line, last + 1):  # a span over several lines is underlined on each
        text = _UNPRINTABLE.sub(" ", lines[number - 1].removesuffix("\r"))
        start = d.col if number == d.line else len(text) - len(text.lstrip()) + 1
        stop = d.end_col if number == d.last_line else len(text.rstrip()) + 1
        if number > d.line and not text.strip():
            continue
        out.append(f"    {text}")
        out.append("    " + " " * (start - 1) + "^" * max(1, min(stop, len(text) + 1) - start))
    if d.hint:
        out.append(f"    hint: {d.hint}")
    return "\n".join(out)


def render_all(diagnostics: Iterable[Diagnostic], source: str) -> str:
    lines = source_lines(source)  # once: a program may have thousands of problems
    return "\n".join(render(d, source, lines) for d in diagnostics)
