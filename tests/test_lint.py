"""`loyalty lint`: one small program per finding, near misses, and the shipped programs.

Each program in tests/cases/lint/ says what lint must find in it, in comments:
`# expect: CODE LINE:COL` for every finding, `# check: CODE` for each error
that check reports too (lint does not repeat check's errors, but may run on a
program that has some).
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loyalty_dsl.evaluation.conditions import compile_predicate
from loyalty_dsl.language import ast
from loyalty_dsl.language.check import check
from loyalty_dsl.language.diagnostics import ProgramError
from loyalty_dsl.language.lint import CODES, _Field, _most_periods, _never_holds, lint
from loyalty_dsl.language.parse import parse, parse_file

from .conftest import PROGRAMS
from .test_fmt import programs

CASES = Path(__file__).parent / "cases"
LINT_CASES = sorted((CASES / "lint").glob("*.loy"))
_EXPECT = re.compile(r"#\s*expect:\s*(L\d{3})\s+(\d+):(\d+)")
_CHECK = re.compile(r"#\s*check:\s*(E\d{3})")

HEAD = """window last 12 months, recalculated monthly
event order_confirmed with order: text, amount: money, count: integer, category: text,
    coupon: text optional, vip: boolean, note: text optional, day: date
event bonus with points: integer
rule bonus: on bonus earn points
tier Silver from 1 point:
"""


def findings(text: str) -> list[tuple[str, int, int]]:
    return [(d.code, d.line, d.col) for d in lint(parse(text, "p.loy"))]


def codes_for_condition(cond: str) -> list[str]:
    return [code for code, _, _ in findings(HEAD + f"rule r: on order_confirmed where {cond} earn 1\n")]


# --- one program per finding ---------------------------------------------------------------


@pytest.mark.parametrize("path", LINT_CASES, ids=lambda p: p.stem)
def test_lint_case(path: Path) -> None:
    program = parse_file(path)
    expected = sorted((code, int(line), int(col)) for code, line, col in _EXPECT.findall(program.source))
    assert expected, "a lint case says what it expects"
    found = lint(program)
    assert sorted((d.code, d.line, d.col) for d in found) == expected
    for d in found:
        assert d.severity == "warning"
        assert d.code in CODES
        assert d.hint and "\n" not in d.hint and "\n" not in d.message
        assert d.file == str(path)
    assert sorted(d.code for d in check(program)) == sorted(_CHECK.findall(program.source))


def test_every_code_has_a_case() -> None:
    covered = {code for path in LINT_CASES for code, _, _ in _EXPECT.findall(path.read_text(encoding="utf-8"))}
    assert covered == set(CODES)


def test_codes_are_stable() -> None:
    # Codes are part of the interface (scripts filter on them): a new finding takes a new code.
    assert list(CODES) == [f"L{n}" for n in range(101, 115)]


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_shipped_programs_lint_clean(name: str) -> None:
    assert lint(parse_file(PROGRAMS[name])) == []


def test_lint_runs_on_programs_that_fail_check() -> None:
    for path in sorted((CASES / "broken").glob("*.loy")):
        try:
            program = parse_file(path)
        except ProgramError:
            continue  # a syntax error: nothing to lint
        assert all(d.code in CODES for d in lint(program))


# --- conditions that can never hold (L108), and near misses ---------------------------------------


@pytest.mark.parametrize(
    "cond",
    [
        "amount >= 2 and amount < 1",
        "amount > 5 and amount <= 5",
        "amount = 1 and amount = 2",
        "amount = 1 and amount != 1",
        "2 <= amount and amount < 2",
        "count > 1 and count < 2",  # no integer in between
        "count >= 1 and count <= 3 and count not in [1, 2, 3]",
        'category in ["toys", "home"] and category = "garden"',
        'category in ["toys"] and category not in ["toys"]',
        'category = "toys" and not category = "toys"',
        "vip and not vip",
        "vip = true and vip = false",
        "not (amount >= 1 or amount < 1)",
        "(amount > 10 or amount < 0) and amount = 5",
        'day = "2026-01-01" and day = "2026-01-02"',
        'coupon = "A" and coupon = "B"',
    ],
)
def test_condition_that_can_never_hold(cond: str) -> None:
    assert codes_for_condition(cond) == ["L108"]


@pytest.mark.parametrize(
    "cond",
    [
        "amount >= 2 and amount < 3",
        "amount > 1 and amount < 2",  # money is not whole
        "count >= 1 and count <= 3 and count not in [1, 2]",
        "amount >= 2 or amount < 1",
        'not coupon = "A" and not coupon != "A"',  # holds when the optional coupon is absent
        'coupon not in ["A"] and not coupon in ["B"]',
        'category > "a" and category < "a"',  # text order is not modelled (and check rejects it)
        "amount = count and amount != count",  # field against field: not modelled
        'day = "2026-01-01" and day = "20260101"',  # the same date, written two ways
        "count < 5 and count != 3",  # one bound only: infinitely many whole numbers
        "count >= 2 and count <= 4 and count not in [2, 4]",
    ],
)
def test_condition_near_misses_are_not_reported(cond: str) -> None:
    assert codes_for_condition(cond) == []


def test_a_decision_that_can_never_grant() -> None:
    text = (
        HEAD
        + "    fast_refund (limit 24)\nbenefit fast_refund with limit: money\n"
        + "decide fast_refund on order_confirmed for its order: grant when amount <= limit and amount > 5 "
        + "and amount < 4\n"
    )
    assert [code for code, _, _ in findings(text)] == ["L108"]


def test_large_conditions_are_left_alone() -> None:
    alternatives = " and ".join(f"(amount = {i} or amount = {i + 100})" for i in range(8))
    assert codes_for_condition(alternatives) == []  # 256 alternatives: too many to prove anything


# --- reachability (L103) ---------------------------------------------------------------------


def window_program(window: str, rules: str, threshold: int) -> str:
    return f"{window}\nevent visit\nevent bonus with points: integer\n{rules}\ntier Top from {threshold} points:\n"


@pytest.mark.parametrize(
    ("window", "rules", "most"),
    [
        ("window last 12 months, recalculated monthly", "rule v: on visit earn 1 per day", 366),
        ("window last 1 month, recalculated monthly", "rule v: on visit earn 1 per day", 31),
        ("window last 12 months, recalculated monthly", "rule v: on visit earn 3 per month", 36),
        ("window last 12 months, recalculated monthly", "rule v: on visit earn 5 cap 7 per year", 14),
        ("window last 12 months, recalculated monthly", "rule v: on visit earn 5 cap 9 per window", 9),
        ("window lifetime, continuous", "rule v: on visit earn 5 cap 9 per window", 9),
        ("window last 2 months, recalculated monthly", "rule v: on visit earn 1 cap 2 per week", 2 * 10),
        (
            "window last 12 months, recalculated monthly",
            "rule v: on visit earn 1 per day cap 10 per month\nrule b: on bonus earn points cap 100 per window",
            220,
        ),
    ],
)
def test_the_most_points_a_window_can_hold(window: str, rules: str, most: int) -> None:
    assert findings(window_program(window, rules, most)) == []
    assert [code for code, _, _ in findings(window_program(window, rules, most + 1))] == ["L103"]


@pytest.mark.parametrize(
    ("window", "rules"),
    [
        ("window last 12 months, recalculated monthly", "rule b: on bonus earn points"),
        ("window last 12 months, recalculated monthly", "rule v: on visit earn 1"),
        ("window last 12 months, recalculated monthly", "rule v: on visit earn 1 per visit_id"),
        ("window lifetime, continuous", "rule v: on visit earn 1 per day cap 10 per month"),
    ],
)
def test_an_unbounded_rule_makes_every_tier_reachable(window: str, rules: str) -> None:
    assert "L103" not in {code for code, _, _ in findings(window_program(window, rules, 10**9))}


def test_periods_in_a_window() -> None:
    assert [_most_periods("day", n) for n in (1, 2, 12)] == [31, 62, 366]
    assert [_most_periods("year", n) for n in (1, 2, 12, 13, 14, 24)] == [1, 2, 2, 2, 3, 3]
    assert _most_periods("week", 1) == 6  # 31 days can touch 6 ISO weeks
    assert _most_periods("month", 12) == 12


# --- the other findings, beyond their cases ----------------------------------------------------


def test_a_cap_below_an_earning_from_a_field_with_a_floor() -> None:
    text = (
        "window last 12 months, recalculated monthly\nevent bonus with points: integer at least 20\n"
        "rule bonus: on bonus earn points cap 10 per day\ntier Silver from 1 point:\n"
    )
    assert findings(text) == [("L104", 3, 38)]


def test_a_year_cap_fits_a_window_of_a_year_or_more() -> None:
    rule = "rule v: on visit earn 1 per day cap 100 per year"
    for months in (12, 24):
        window = f"window last {months} months, recalculated monthly"
        assert "L109" not in {code for code, _, _ in findings(window_program(window, rule, 1))}


def test_equal_thresholds_far_apart_are_reported_once() -> None:
    text = HEAD + "tier Gold from 100 points:\ntier Platinum from 50 points:\ntier Diamond from 100 points:\n"
    assert sorted(code for code, _, _ in findings(text)) == ["L102"]  # Platinum's order is check's E141


def test_lint_messages_quote_conditions_as_fmt_prints_them() -> None:
    program = parse(HEAD + "rule r: on order_confirmed where amount>=2 and amount==1 earn 1\n", "p.loy")
    (d,) = lint(program)
    assert "`amount >= 2` and `amount = 1`" in d.message
    assert isinstance(program.rules[1].where, ast.And)


# --- properties ---------------------------------------------------------------------------------

TYPED = {"amount": "money", "count": "integer", "vip": "boolean", "category": "text", "coupon": "text"}
OPTIONAL = {"coupon"}
NUMBERS = st.sampled_from(["-1", "0", "1", "2", "2.5", "3"])
TEXTS = st.sampled_from(['"a"', '"b"'])


def typed_conditions() -> st.SearchStrategy[str]:
    """Conditions over fields of known types, with literals that fit them."""
    numeric = st.sampled_from(["amount", "count"])
    textual = st.sampled_from(["category", "coupon"])
    ops = st.sampled_from(["=", "!=", ">=", "<=", ">", "<"])
    atoms = st.one_of(
        st.tuples(numeric, ops, NUMBERS).map(" ".join),
        st.tuples(NUMBERS, ops, numeric).map(" ".join),
        st.tuples(numeric, st.sampled_from(["in", "not in"]), st.lists(NUMBERS, min_size=1, max_size=2)).map(
            lambda t: f"{t[0]} {t[1]} [{', '.join(t[2])}]"
        ),
        st.tuples(textual, st.sampled_from(["=", "!="]), TEXTS).map(" ".join),
        st.tuples(textual, st.sampled_from(["in", "not in"]), st.lists(TEXTS, min_size=1, max_size=2)).map(
            lambda t: f"{t[0]} {t[1]} [{', '.join(t[2])}]"
        ),
        st.sampled_from(["vip", "vip = true", "vip = false", "vip != true"]),
    )

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            inner.map(lambda c: f"not ({c})"),
        )

    return st.recursive(atoms, extend, max_leaves=5)


def candidate_values(name: str) -> list[Any]:
    """Values around every literal a generated condition can hold: one satisfies it if any does."""
    if name in ("amount", "count"):
        values = [x / 2 for x in range(-4, 9)]
        return [v for v in values if v.is_integer()] if name == "count" else values
    if name == "vip":
        return [True, False]
    return ["a", "b", "c"] + ([None] if name in OPTIONAL else [])


@settings(max_examples=300, deadline=None)
@given(typed_conditions())
def test_a_condition_lint_calls_impossible_holds_for_no_event(written: str) -> None:
    where = parse(f"rule r: on e where {written} earn 1").rules[0].where
    assert where is not None
    fields = {n: _Field(t, n in OPTIONAL) for n, t in TYPED.items()}
    if _never_holds(where, fields) is None:
        return
    holds = compile_predicate(where, TYPED)
    names = sorted(TYPED)
    for values in itertools.product(*(candidate_values(n) for n in names)):
        event = {n: v for n, v in zip(names, values, strict=True) if v is not None}
        assert not holds(event, {}, 0), f"{written} holds for {event}"


@settings(max_examples=100, deadline=None)
@given(programs())
def test_lint_never_fails_on_a_program_that_parses(text: str) -> None:
    for d in lint(parse(text, "p.loy")):
        assert d.code in CODES and d.hint
