"""`loyalty fmt`: the canonical layout, every comment kept, and its properties.

Properties, on the shipped programs, the cases in tests/cases/fmt/ and small
generated programs: formatting twice changes nothing; the formatted program
parses to the same AST (and the same assumptions); no comment is lost or
duplicated; and the layout of the input (whitespace and line breaks between
code tokens) does not change the output.
"""

from __future__ import annotations

import itertools
import random
import re
from collections import Counter
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty_dsl.language import ast, fmt
from loyalty_dsl.language.diagnostics import ProgramError
from loyalty_dsl.language.fmt import format_condition, format_diff, format_source, needs_formatting
from loyalty_dsl.language.parse import parse

from .conftest import PROGRAMS

FMT_CASES = Path(__file__).parent / "cases" / "fmt"
INPUTS = sorted(FMT_CASES.glob("*.in.loy"))
SHIPPED = {name: path.read_text(encoding="utf-8") for name, path in PROGRAMS.items()}

# Chunks that whitespace never splits: strings, comments, runs of other characters.
_CHUNK = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[^\s"#]+')
_COMMENT = re.compile(r'"(?:[^"\\\n]|\\.)*"|(#[^\n]*)')


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")  # keep CRLF as written


def comments(text: str) -> Counter[str]:
    """Every comment of a program (outside strings), without trailing blanks."""
    return Counter(m.group(1).rstrip() for m in _COMMENT.finditer(text) if m.group(1))


def assumptions(program: ast.Program) -> list[tuple[str, str]]:
    return [(a.text, a.about) for a in program.assumptions]


def assert_round_trip(text: str) -> str:
    """The properties every formatting must have; returns the formatted text."""
    once = format_source(text, "p.loy")
    assert format_source(once, "p.loy") == once, "formatting is idempotent"
    assert not needs_formatting(once, "p.loy")
    before, after = parse(text, "p.loy"), parse(once, "p.loy")
    assert after == before
    assert assumptions(after) == assumptions(before)
    assert comments(once) == comments(text), "no comment is lost or duplicated"
    assert once == "" or (once.endswith("\n") and not once.startswith("\n"))
    assert "\n\n\n" not in once
    assert all(line == line.rstrip() for line in once.splitlines())
    return once


def relayout(text: str, rng: random.Random, chance: float) -> str:
    """The same program with other whitespace between code chunks.

    Whitespace next to a comment is kept: it decides whether the comment ends a
    line of code or stands on its own, and where blank lines are.
    """
    chunks = list(_CHUNK.finditer(text))
    if not chunks:
        return text
    choices = [" ", "  ", "\n", "\n\n", "\t", "\n    ", " \n\n\t "]
    out = [text[: chunks[0].start()]]
    for here, after in itertools.pairwise(chunks):
        out.append(here.group())
        gap = text[here.end() : after.start()]
        next_to_comment = here.group().startswith("#") or after.group().startswith("#")
        if gap and not next_to_comment and rng.random() < chance:
            gap = rng.choice(choices)
        out.append(gap)
    out.append(text[chunks[-1].start() :])
    return "".join(out)


# --- cases --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.name.removesuffix(".in.loy"))
def test_case_formats_as_expected(path: Path) -> None:
    expected = read(path.with_name(path.name.replace(".in.loy", ".out.loy")))
    assert assert_round_trip(read(path)) == expected
    assert assert_round_trip(expected) == expected


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_programs_round_trip(name: str) -> None:
    formatted = assert_round_trip(SHIPPED[name])
    assert formatted.count("\n") <= SHIPPED[name].count("\n")


@pytest.mark.parametrize("path", sorted(PROGRAMS["four_tier"].parent.glob("*_test.loy")), ids=lambda p: p.stem)
def test_statements_fmt_does_not_lay_out_are_kept_as_written(path: Path) -> None:
    # `test` examples beside the programs: fmt has no layout for them yet and keeps them as written.
    text = read(path)
    assert assert_round_trip(text) == text


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_programs_with_every_gap_changed_format_the_same(name: str) -> None:
    text = SHIPPED[name]
    assert format_source(relayout(text, random.Random(0), chance=1.0)) == format_source(text)


def test_needs_formatting_and_diff() -> None:
    assert needs_formatting("window  lifetime, continuous\n")
    assert not needs_formatting("window lifetime, continuous\n")
    assert needs_formatting("window lifetime, continuous")  # no newline at the end
    assert format_diff("window lifetime, continuous\n") == ""
    diff = format_diff("window  lifetime, continuous\n", "p.loy")
    assert "-window  lifetime, continuous" in diff and "+window lifetime, continuous" in diff


def test_a_program_that_does_not_parse_is_an_error() -> None:
    with pytest.raises(ProgramError) as err:
        format_source("rule x: on visit earn\n", "bad.loy")
    assert err.value.diagnostics[0].code == "E001"


def test_empty_and_comment_only_programs() -> None:
    assert format_source("") == ""
    assert format_source("\n\n  \n") == ""
    assert format_source("\n# one\n\n\n# two  \n") == "# one\n\n# two\n"


def test_kept_as_written() -> None:
    text = (
        'program "a \\"quoted\\" title"\nwindow last 12 months, recalculated monthly\n'
        "an order is voided by order_returned\na visit is counted by visit\n"
        "rule review: on review where amount >= 2.00 and amount == -1 earn 1 once per order\n"
    )
    out = format_source(text)
    assert 'program "a \\"quoted\\" title"' in out
    assert "an order is voided by order_returned\na visit is counted by visit\n" in out
    assert "on review where amount >= 2.00 and amount = -1\n    earn 1 once per order\n" in out


def test_point_or_points() -> None:
    out = format_source("window lifetime, continuous tier A from 1 points: tier B from 2 point:")
    assert "tier A from 1 point:\ntier B from 2 points:\n" in out


def test_two_trailing_comments_on_one_line() -> None:
    text = "window lifetime, continuous\nevent a event b # on b\nevent c # on c\n"
    assert format_source(text) == "window lifetime, continuous\n\nevent a\nevent b  # on b\nevent c  # on c\n"


def test_comment_inside_an_event_breaks_its_line() -> None:
    text = "window lifetime, continuous\nevent e with a: text,\n# about b\nb: text, c: text\n"
    expected = "window lifetime, continuous\n\nevent e with a: text,\n    # about b\n    b: text, c: text\n"
    assert format_source(text) == expected


@attrs.frozen
class _GrownProgram(ast.Program):
    """A Program with a statement kind that fmt does not know (as the language grows)."""

    notes: tuple[ast.EventDecl, ...] = ()


def test_unknown_statement_kinds_are_kept_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    def parse_grown(text: str, file: str = "<program>") -> ast.Program:
        program = parse(text, file)
        fields = {f.name: getattr(program, f.name) for f in attrs.fields(ast.Program)}
        return _GrownProgram(**{**fields, "events": (), "notes": program.events})

    monkeypatch.setattr(fmt, "parse", parse_grown)
    text = "window  lifetime, continuous\nevent e  with a: text,\n  # inside\n  b: text # after\nrule r: on e earn 1\n"
    expected = (
        "window lifetime, continuous\n\nevent e  with a: text,\n  # inside\n  b: text  # after\n\n"
        "rule r:\n    on e\n    earn 1\n"
    )
    assert format_source(text) == expected


# --- conditions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "printed"),
    [
        ("a = 1 or b = 2 and c = 3", "a = 1 or b = 2 and c = 3"),
        ("(a = 1 or b = 2) and c = 3", "(a = 1 or b = 2) and c = 3"),
        ("((a = 1) and (b = 2)) or (c = 3)", "a = 1 and b = 2 or c = 3"),
        ("a = 1 or (b = 2 or c = 3)", "a = 1 or (b = 2 or c = 3)"),
        ("(a = 1 or b = 2) or c = 3", "a = 1 or b = 2 or c = 3"),
        ("a = 1 and (b = 2 and c = 3)", "a = 1 and (b = 2 and c = 3)"),
        ("not (a and b)", "not (a and b)"),
        ("not (not a)", "not not a"),
        ("(not a) and b", "not a and b"),
        ("not (x is voided)", "not x is voided"),
        ('x not in ["a","b"]', 'x not in ["a", "b"]'),
        ("a == 1", "a = 1"),
        ("1.50 <= a", "1.50 <= a"),
    ],
)
def test_conditions_with_the_fewest_parentheses(written: str, printed: str) -> None:
    rule = parse(f"rule r: on e where {written} earn 1").rules[0]
    assert rule.where is not None
    assert format_condition(rule.where) == printed
    again = parse(f"rule r: on e where {printed} earn 1").rules[0]
    assert again.where == rule.where


# --- generated programs ------------------------------------------------------------------------

NAMES = st.sampled_from(["alpha", "beta", "order", "amount", "visit", "e1", "f_2", "Gold", "limit"])
TYPES = st.sampled_from(["text", "integer", "number", "money", "date", "boolean"])
NUMBERS = st.sampled_from(["0", "1", "2", "12", "2.00", "-1", "100"])
LITERALS = st.one_of(NUMBERS, st.sampled_from(['"x"', '"a b"', '"q\\"uote"', "true", "false"]))
COMMENT_TEXTS = st.sampled_from(["# note", "#tight", "# assumption: a figure", "# ---- section ----", "#"])


def conditions() -> st.SearchStrategy[str]:
    atoms = st.one_of(
        st.tuples(NAMES, st.sampled_from(["=", "==", "!=", ">=", "<=", ">", "<"]), LITERALS).map(" ".join),
        st.tuples(NAMES, st.sampled_from(["is", "is not"]), NAMES).map(" ".join),
        st.tuples(NAMES, st.sampled_from(["in", "not in"]), st.lists(LITERALS, min_size=1, max_size=3)).map(
            lambda t: f"{t[0]} {t[1]} [{', '.join(t[2])}]"
        ),
        NAMES,
    )

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            inner.map(lambda c: f"not ({c})"),
            inner.map(lambda c: f"not {c}"),
        )

    return st.recursive(atoms, extend, max_leaves=6)


def fields() -> st.SearchStrategy[str]:
    options = st.sampled_from(["", " optional", " at least 0", " default 1", " optional default 2"])
    one = st.tuples(NAMES, TYPES, options).map(lambda t: f"{t[0]}: {t[1]}{t[2]}")
    return st.lists(one, max_size=4).map(lambda fs: f" with {', '.join(fs)}" if fs else "")


@st.composite
def statements(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["event", "fact", "window", "benefit", "tier", "rule", "grant", "decide", "setting"]))
    name = draw(NAMES)
    if kind == "event":
        return f"event {name}{draw(fields())}"
    if kind == "fact":
        events = " or ".join(draw(st.lists(NAMES, min_size=1, max_size=3)))
        return f"{draw(st.sampled_from(['a', 'an']))} {name} is {draw(NAMES)} by {events}"
    if kind == "window":
        return draw(st.sampled_from(["window last 12 months, recalculated monthly", "window lifetime, continuous"]))
    if kind == "benefit":
        params = draw(st.lists(st.tuples(NAMES, TYPES).map(": ".join), max_size=3))
        return f"benefit {name}" + (f" with {', '.join(params)}" if params else "")
    if kind == "tier":
        given = draw(st.lists(st.tuples(NAMES, st.lists(st.tuples(NAMES, LITERALS), max_size=2)), max_size=3))
        lines = [f"{n}" + (" (" + ", ".join(f"{p} {v}" for p, v in ps) + ")" if ps else "") for n, ps in given]
        return f"tier {name} from {draw(NUMBERS)} {draw(st.sampled_from(['point', 'points']))}:" + "".join(
            f"\n    {line}" for line in lines
        )
    if kind == "rule":
        return draw(rules(name))
    if kind == "grant":
        options = draw(
            st.lists(
                st.sampled_from(
                    ["known at least 2 days before", "at most once a year", "29 February falls on 1 March"]
                ),
                unique=True,
            )
        )
        which = draw(st.sampled_from(["latest", "first"]))
        head = f"grant {name} every year on the {draw(NAMES)} of the {which} {draw(NAMES)}"
        return ",\n    ".join([head, *options])
    if kind == "decide":
        key = draw(st.sampled_from(["", " for its order"]))
        when = draw(st.one_of(st.just(""), conditions().map(lambda c: f":\n    grant when {c}")))
        return f"decide {name} on {draw(NAMES)}{key}{when}"
    return draw(st.sampled_from(['program "demo"', 'timezone "UTC"', 'program "two \\"words\\""']))


@st.composite
def rules(draw: st.DrawFn, name: str) -> str:
    where = draw(st.one_of(st.just(""), conditions().map(lambda c: f" where {c}")))
    amount = draw(st.one_of(NUMBERS.filter(lambda n: not n.startswith("-")), NAMES))
    once = draw(st.sampled_from(["", " once"]))
    per = "".join(f" per {k}" for k in draw(st.lists(NAMES, max_size=2)))
    beyond = " beyond the first" if per and draw(st.booleans()) else ""
    caps = [
        f"cap {draw(st.sampled_from(['1', '5']))} per {p}"
        for p in draw(st.lists(NAMES | st.just("window"), max_size=2))
    ]
    clauses = [f"on {draw(NAMES)}{where}", f"earn {amount}{once}{per}{beyond}", *caps]
    for i in range(len(clauses)):
        if draw(st.booleans()):
            clauses[i] = f"{draw(COMMENT_TEXTS)}\n    {clauses[i]}"
        if draw(st.booleans()):
            clauses[i] += f"  {draw(COMMENT_TEXTS)}"
    return f"rule {name}:" + "".join(f"\n    {c}" for c in clauses)


@st.composite
def programs(draw: st.DrawFn) -> str:
    parts = []
    for statement in draw(st.lists(statements(), max_size=8)):
        before = draw(st.lists(COMMENT_TEXTS, max_size=2))
        blank = draw(st.sampled_from(["", "\n"]))
        trailing = draw(st.one_of(st.just(""), COMMENT_TEXTS.map(lambda c: f"  {c}")))
        parts.append(blank + "".join(c + "\n" for c in before) + statement + trailing)
    tail = draw(st.lists(COMMENT_TEXTS, max_size=2))
    return "\n".join(parts + tail) + "\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_generated_programs_round_trip(text: str) -> None:
    assert_round_trip(text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs(), st.randoms(use_true_random=False), st.floats(0.05, 1.0))
def test_generated_programs_ignore_layout(text: str, rng: random.Random, chance: float) -> None:
    assert format_source(relayout(text, rng, chance)) == format_source(text)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(SHIPPED)), st.randoms(use_true_random=False), st.floats(0.05, 1.0))
def test_shipped_programs_ignore_layout(name: str, rng: random.Random, chance: float) -> None:
    text = SHIPPED[name]
    assert format_source(relayout(text, rng, chance)) == format_source(text)
