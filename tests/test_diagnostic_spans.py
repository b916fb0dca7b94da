"""A diagnostic keeps where its span ends, so a span over several lines is underlined whole."""

from __future__ import annotations

from loyalty_dsl.language.ast import Span
from loyalty_dsl.language.diagnostics import Diagnostic, render

SOURCE = "rule r:\n    on e where a > 1\n        and b < 2\n    earn 1\n"


def test_a_span_over_lines_keeps_its_end():
    d = Diagnostic.at(Span("p.loy", 2, 16, 3, 18), "E999", "this condition never holds")
    assert (d.line, d.col, d.last_line, d.end_col) == (2, 16, 3, 18)


def test_each_line_of_a_span_is_underlined():
    d = Diagnostic.at(Span("p.loy", 2, 16, 3, 18), "E999", "this condition never holds")
    assert render(d, SOURCE).splitlines() == [
        "p.loy:2:16: error[E999]: this condition never holds",
        "        on e where a > 1",
        "                   ^^^^^",
        "            and b < 2",
        "            ^^^^^^^^^",
    ]


def test_a_span_on_one_line_is_as_before():
    d = Diagnostic.at(Span("p.loy", 4, 5, 4, 9), "E999", "no")
    assert d.last_line == 4
    assert render(d, SOURCE).splitlines()[1:] == ["        earn 1", "        ^^^^"]
