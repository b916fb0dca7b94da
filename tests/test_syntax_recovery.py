"""One syntax error does not hide the next: each failed statement is skipped to the next one."""

from __future__ import annotations

import pytest

from loyalty_dsl import ProgramError, check_text, compile_text
from loyalty_dsl.language.parse import parse, parse_partial

HEAD = "window lifetime, continuous\nevent e with a: integer, b: text\ntier T from 0 points:\n"


def places(text: str) -> list[tuple[int, int, str]]:
    return [(d.line, d.col, d.code) for d in check_text(text, "p.loy")]


def test_three_broken_statements_give_three_errors():
    text = (
        HEAD
        + "rule r1:\n    on e\n    earn 1 per per\nrule r2:\n    on e where a >=\n    earn 1\nrule r3:\n    on e earn\n"
    )
    assert places(text) == [(6, 16, "E001"), (9, 5, "E001"), (11, 14, "E001")]
    with pytest.raises(ProgramError) as err:
        parse(text, "p.loy")
    assert len(err.value.diagnostics) == 3


def test_checks_run_on_the_statements_that_parsed():
    text = HEAD + "rule broken:\n    on e where a >= earn 1\nrule fine:\n    on e where amout > 1\n    earn 1\n"
    # the broken rule's syntax error, then the next rule's misspelt field (E104), each in place
    assert places(text) == [(5, 21, "E001"), (7, 16, "E104")]


def test_a_statement_after_a_complete_one_is_the_broken_one():
    text = "window lifetime, continuous\nevnt e with a: integer\ntier T from 0 points:\nrule r:\n    on e\n    earn 1\n"
    found = check_text(text, "p.loy")
    assert (found[0].line, found[0].code) == (2, "E001")
    assert not any(d.code == "E111" for d in found), "the window before the typo is kept"


def test_an_unfinished_statement_before_the_next_one_is_skipped_alone():
    text = HEAD + "rule r:\n    on e\n    earn 1\nmultiply r by\nrule s:\n    on e\n    earn 2\n"
    program, problems = parse_partial(text, "p.loy")
    assert [d.code for d in problems] == ["E001"]  # one error, wherever its caret goes
    assert program is not None and [r.name.text for r in program.rules] == ["r", "s"]


def test_a_decision_body_is_not_taken_for_a_new_statement():
    text = (
        HEAD.replace(
            "tier T from 0 points:\n", "benefit fast with limit: integer\ntier T from 0 points:\n    fast (limit 3)\n"
        )
        + "event ask with a: integer\ndecide fast on ask for its:\n    grant when a <= limit\n"
    )
    found = places(text)
    assert len(found) == 1 and found[0][2] == "E001", found  # the header's error only, not one in its body


def test_a_program_that_parses_is_unchanged():
    text = HEAD + "rule r:\n    on e\n    earn 1\n"
    assert parse_partial(text, "p.loy")[1] == []
    assert [r.name for r in compile_text(text).rules] == ["r"]
