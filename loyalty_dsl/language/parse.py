"""Program text -> typed AST (`loyalty_dsl.language.ast`), or diagnostics with a place.

The grammar lives in `grammar/loyalty.lark`; in an installed package it is at
`loyalty_dsl/grammar/loyalty.lark` (mapped there at build time) and is read
with importlib.resources. The parser is built once, at import.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
import lark
from lark import Token, Transformer, v_args

from loyalty_dsl.io.input_files import read_program
from loyalty_dsl.language import ast
from loyalty_dsl.language.ast import Span
from loyalty_dsl.language.diagnostics import Diagnostic, ProgramError, source_lines


def _grammar_text() -> str:
    packaged = resources.files("loyalty_dsl").joinpath("grammar/loyalty.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    # A source checkout: the grammar sits in the top-level grammar/ folder.
    return (Path(__file__).resolve().parents[2] / "grammar" / "loyalty.lark").read_text(encoding="utf-8")


_PARSER = lark.Lark(
    _grammar_text(),
    parser="lalr",
    lexer="contextual",
    propagate_positions=True,
    maybe_placeholders=True,
)

# Words for the grammar's named terminals; keywords and punctuation are shown as written.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": 'a quoted text ("...")',
    "COMPARATOR": "a comparison (>=, <=, >, <, =, !=)",
    "ONCE": "`once`",
    "WHICH": "`latest` or `first`",
    "$END": "the end of the program",
}
_STATEMENT_KEYWORDS = {
    "program",
    "timezone",
    "week",
    "year",
    "event",
    "a",
    "an",
    "window",
    "benefit",
    "tier",
    "rule",
    "grant",
    "decide",
    "test",
    "points",
    "redeem",
    "convert",
    "vouchers",
    "currency",
    "rate",
    "keep",
    "drop",
    "multiply",
    "measure",
    "multipliers",
}
_ASSUMPTION = re.compile(r"#\s*assumption\s*:\s*(.*)", re.IGNORECASE)


def parse(text: str, file: str = "<program>") -> ast.Program:
    """Parse program text into a Program; raise ProgramError with every syntax error."""
    program, problems = parse_partial(text, file)
    if problems or program is None:
        raise ProgramError(problems, text)
    return program


MAX_SYNTAX_ERRORS = 50  # past this many, the rest of a file is rarely worth reading


def parse_partial(text: str, file: str = "<program>") -> tuple[ast.Program | None, list[Diagnostic]]:
    """Every syntax error, and the Program of the statements that parsed (None if none can be had).

    A statement that fails is skipped up to the next line that opens a statement,
    and parsing resumes there, so one error does not hide the next. Skipped text
    is blanked rather than cut, so every later place is still the file's own.
    """
    problems: list[Diagnostic] = []
    work = text
    while True:
        try:
            tree = _PARSER.parse(work)
            break
        except lark.exceptions.UnexpectedInput as err:
            problems.append(_syntax_diagnostic(err, work, file))
            resumed = _skip_statement(work, err)
            if resumed is None or len(problems) >= MAX_SYNTAX_ERRORS:
                return None, problems
            work = resumed
    too_deep = _too_deep(tree)
    if too_deep is not None:
        return None, [*problems, too_deep.diagnostic(file, text)]
    program: ast.Program = _ToAst(file, work).transform(tree)
    return program, problems


def _opens_statement(line: str) -> bool:
    words = line.split(None, 2)
    if not words or words[0] not in _STATEMENT_KEYWORDS:
        return False
    return not (words[0] == "grant" and words[1:2] == ["when"])  # a decision's body, not a dated grant


def _skip_statement(text: str, err: lark.exceptions.UnexpectedInput) -> str | None:
    """The text with the failed statement blanked; None when there is nothing left to skip.

    Where the parser wanted a new statement, the one before is whole: the failed
    one starts at the error. Where the error is a statement's first word, the
    one before is unfinished. Otherwise the failed statement is the one the
    error lies in. Each runs to the next line that opens a statement.
    """
    lines = text.split("\n")
    line = getattr(err, "line", -1)
    line = line if line >= 1 else len(lines)
    col = getattr(err, "column", -1)
    starts = [0]
    for x in lines:
        starts.append(starts[-1] + len(x) + 1)
    here = lines[line - 1] if line <= len(lines) else ""
    at_line_start = col >= 1 and not here[: col - 1].strip()
    words = {_terminal_word(n) for n in (getattr(err, "expected", None) or getattr(err, "allowed", None) or ())}
    following = next((i for i in range(line, len(lines)) if _opens_statement(lines[i])), len(lines))
    before = next((i for i in range(line - 2, -1, -1) if _opens_statement(lines[i])), 0)
    if "`rule`" in words and col >= 1:  # a statement ended just before the error
        begin, end = starts[line - 1] + col - 1, starts[following]
    elif at_line_start and _opens_statement(here):  # the statement before this one is unfinished
        begin, end = starts[before], starts[line - 1]
    else:
        begin = starts[line - 1] if _opens_statement(here) else starts[before]
        end = starts[following]
    end = min(end, len(text))
    if not text[begin:end].strip():
        return None
    return text[:begin] + re.sub(r"[^\n]", " ", text[begin:end]) + text[end:]


MAX_DEPTH = 200  # levels of nesting in one statement: far beyond any real condition


class _Deep:
    def __init__(self, meta: Any) -> None:
        self.meta = meta

    def diagnostic(self, file: str, text: str) -> Diagnostic:
        line, col = getattr(self.meta, "line", 1), getattr(self.meta, "column", 1)
        message = f"this condition nests more than {MAX_DEPTH} levels deep"
        return Diagnostic(file, line, col, col + 1, "E002", message, "split it into simpler rules")


def _too_deep(tree: lark.Tree) -> _Deep | None:
    """The first subtree nested deeper than MAX_DEPTH, found without recursion.

    Later stages walk the tree recursively; a hostile program ("not not not ...",
    thousands of `and`) must stop here with a message, not in a RecursionError.
    """
    stack: list[tuple[lark.Tree, int, Any]] = [(tree, 0, tree.meta)]
    while stack:
        node, depth, statement = stack.pop()
        if depth > MAX_DEPTH:
            return _Deep(statement)  # reported where its statement starts
        for child in node.children:
            if isinstance(child, lark.Tree):
                stack.append((child, depth + 1, child.meta if depth == 0 else statement))
    return None


def parse_file(path: str | Path) -> ast.Program:
    return parse(read_program(path), str(path))


# --- syntax errors in an analyst's words ------------------------------------


def _terminal_word(name: str) -> str:
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    term = _PARSER.get_terminal(name)
    pattern = term.pattern
    if isinstance(pattern, lark.lexer.PatternStr):
        return f"`{pattern.value}`"
    return name.lower()


def _expected_words(expected: set[str]) -> str:
    # Kinds of value first ("a number"), then keywords and punctuation as written.
    words = sorted({_terminal_word(n) for n in expected}, key=lambda w: (w.startswith("`"), w))
    statements = {f"`{k}`" for k in _STATEMENT_KEYWORDS}
    if len(statements & set(words)) >= 5:
        words = [w for w in words if w not in statements] + ["a new statement (event, rule, tier, ...)"]
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " or " + words[-1]


def _previous_word(text: str, offset: int) -> str | None:
    before = re.sub(r"#[^\n]*", "", text[:offset]).rstrip()
    m = re.search(r'("[^"\n]*"|[A-Za-z_0-9.]+|[^\sA-Za-z_0-9"]+)$', before)
    return m.group(1) if m else None


def _end_position(text: str) -> tuple[int, int]:
    lines = source_lines(text.removesuffix("\n"))  # as str.splitlines() would, but with `\n` only
    return len(lines), len(lines[-1].removesuffix("\r")) + 1


def _syntax_diagnostic(err: lark.exceptions.UnexpectedInput, text: str, file: str) -> Diagnostic:
    line, col = getattr(err, "line", -1), getattr(err, "column", -1)
    width = 1
    got: str
    if isinstance(err, lark.exceptions.UnexpectedToken) and err.token.type != "$END":
        got = f"`{err.token.value}`"
        width = max(1, len(str(err.token.value)))
        expected = set(err.expected)
    elif isinstance(err, lark.exceptions.UnexpectedCharacters):
        got = f"`{text[err.pos_in_stream or 0]}`"
        expected = set(err.allowed or ())
    else:  # end of input: Lark reports -1, give the real place
        got = "the end of the program"
        expected = set(getattr(err, "expected", ()) or ())
        line, col = _end_position(text)
    if line < 1:
        line, col = _end_position(text)
    offset = _offset(text, line, col)
    prev = _previous_word(text, offset)
    where = f" after `{prev}`" if prev else ""
    ended = got == "the end of the program"
    message = f"the program ends too early{where}" if ended else f"unexpected {got}{where}"
    unfinished = _unfinished_before(err, text, offset)
    if unfinished is not None:  # the next statement is fine: the one before it stops short
        (line, col), width = unfinished, 1
        message = f"the statement ends too early{where}"
    if expected:
        message += f": expected {_expected_words(expected)}"
    hint = None
    if isinstance(err, lark.exceptions.UnexpectedCharacters) and text[err.pos_in_stream or 0] == "'":
        hint = 'texts are written in double quotes: "like this"'
    return Diagnostic(file, line, col, col + width, "E001", message, hint)


def _unfinished_before(err: lark.exceptions.UnexpectedInput, text: str, offset: int) -> tuple[int, int] | None:
    """Just after the last word, when the unexpected word opens a statement on a later line."""
    if not isinstance(err, lark.exceptions.UnexpectedToken) or str(err.token.value) not in _STATEMENT_KEYWORDS:
        return None
    end = len(re.sub(r"#[^\n]*", lambda m: " " * len(m.group()), text[:offset]).rstrip())
    if end == 0 or "\n" not in text[end:offset]:
        return None
    line = text.count("\n", 0, end) + 1
    return line, end - (text.rfind("\n", 0, end) + 1) + 1


def _offset(text: str, line: int, col: int) -> int:
    lines = text.split("\n")
    return sum(len(x) + 1 for x in lines[: line - 1]) + col - 1


# --- Lark tree -> AST ---------------------------------------------------------


def _assumptions(text: str, file: str, statements: list[Any]) -> tuple[ast.Assumption, ...]:
    """Find `# assumption:` comments (outside strings) and attach each to its statement."""
    starts = sorted((s.span.line, s.span.end_line, _describe(s)) for s in statements)
    found = []
    for number, line in enumerate(source_lines(text), start=1):
        line = line.removesuffix("\r")
        col = _comment_column(line)
        if col is None:
            continue
        m = _ASSUMPTION.match(line[col:])
        if not m:
            continue
        about = next((d for first, last, d in starts if first <= number <= last), None)
        if about is None:
            about = next((d for first, _, d in starts if first > number), "the program")
        span = Span(file, number, col + 1, number, len(line) + 1)
        found.append(ast.Assumption(m.group(1).strip(), about, span))
    return tuple(found)


def _comment_column(line: str) -> int | None:
    in_string = False
    escaped = False
    for i, ch in enumerate(line):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "#":
            return i
    return None


def _describe(statement: Any) -> str:
    kinds = {
        ast.EventDecl: "event",
        ast.BenefitDecl: "benefit",
        ast.TierDecl: "tier",
        ast.RuleDecl: "rule",
        ast.GrantDecl: "grant",
        ast.DecideDecl: "decide",
    }
    if isinstance(statement, ast.TestDecl):
        return f"test {statement.name.text}"
    if isinstance(statement, ast.Expiry):
        return "points expire"
    if isinstance(statement, ast.Redemption):
        return "redeem points"
    if isinstance(statement, (ast.Conversion, ast.VoucherExpiry, ast.VoucherUse)):
        return "vouchers"
    if isinstance(statement, ast.Rate):
        return f"rate {statement.currency}"
    if isinstance(statement, ast.Retention):
        return "tier retention"
    if isinstance(statement, ast.NoCombine):
        return f"multipliers of {statement.rule}"
    if isinstance(statement, ast.MeasureDecl):
        return f"measure {statement.name}"
    if isinstance(statement, ast.Multiplier):
        return f"multiply {statement.rule}"
    if isinstance(statement, ast.FactDecl):
        return f"fact `{statement.subject} is {statement.fact}`"
    if isinstance(statement, (ast.RollingWindow, ast.LifetimeWindow, ast.CalendarYearWindow)):
        return "window"
    if isinstance(statement, _Setting):
        return statement.kind
    return f"{kinds[type(statement)]} {statement.name if hasattr(statement, 'name') else statement.benefit}"


class _Setting:
    """`program`, `timezone`, `week starts on`, `year starts in`: kept until the Program is assembled."""

    def __init__(self, kind: str, value: ast.Literal | ast.Name, span: Span) -> None:
        self.kind, self.value, self.span = kind, value, span


@v_args(meta=True)
class _ToAst(Transformer[Token, Any]):
    """One small constructor per grammar rule; no checking here (see check.py)."""

    def __init__(self, file: str, text: str) -> None:
        super().__init__()
        self.file = file
        self.text = text

    def _span(self, meta: Any) -> Span:
        if getattr(meta, "empty", True):
            return ast.NO_SPAN
        return Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column)

    def _name(self, tok: Token) -> ast.Name:
        return ast.Name(
            str(tok), Span(self.file, tok.line or 1, tok.column or 1, tok.end_line or 1, tok.end_column or 1)
        )

    def _literal_of(self, tok: Token, value: Any, kind: str) -> ast.Literal:
        return ast.Literal(value, kind, str(tok), self._name(tok).span)

    # literals and operands
    def number(self, meta: Any, c: list[Token]) -> ast.Literal:
        text = str(c[0])
        value: int | float = float(text) if "." in text else int(text)
        return self._literal_of(c[0], value, "number")

    def string(self, meta: Any, c: list[Token]) -> ast.Literal:
        raw = str(c[0])[1:-1]
        value = re.sub(r"\\(.)", r"\1", raw)
        return self._literal_of(c[0], value, "string")

    def true(self, meta: Any, c: list[Token]) -> ast.Literal:
        return ast.Literal(True, "boolean", "true", self._span(meta))

    def false(self, meta: Any, c: list[Token]) -> ast.Literal:
        return ast.Literal(False, "boolean", "false", self._span(meta))

    def name_operand(self, meta: Any, c: list[Token]) -> ast.Name:
        return self._name(c[0])

    # conditions
    def compare(self, meta: Any, c: list[Any]) -> ast.Compare:
        op = "==" if str(c[1]) == "=" else str(c[1])
        return ast.Compare(c[0], op, c[2], self._span(meta))

    def fact_is(self, meta: Any, c: list[Token]) -> ast.FactTest:
        return ast.FactTest(self._name(c[0]), self._name(c[1]), False, self._span(meta))

    def fact_is_not(self, meta: Any, c: list[Token]) -> ast.FactTest:
        return ast.FactTest(self._name(c[0]), self._name(c[1]), True, self._span(meta))

    def member_of(self, meta: Any, c: list[Any]) -> ast.MemberOf:
        return ast.MemberOf(self._name(c[0]), tuple(c[1:]), False, self._span(meta))

    def not_member_of(self, meta: Any, c: list[Any]) -> ast.MemberOf:
        return ast.MemberOf(self._name(c[0]), tuple(c[1:]), True, self._span(meta))

    def field_test(self, meta: Any, c: list[Token]) -> ast.FieldTest:
        return ast.FieldTest(self._name(c[0]), self._span(meta))

    def not_(self, meta: Any, c: list[Any]) -> ast.Not:
        return ast.Not(c[0], self._span(meta))

    def and_(self, meta: Any, c: list[Any]) -> ast.And:
        return ast.And(c[0], c[1], self._span(meta))

    def or_(self, meta: Any, c: list[Any]) -> ast.Or:
        return ast.Or(c[0], c[1], self._span(meta))

    # declarations
    def program_decl(self, meta: Any, c: list[Any]) -> _Setting:
        return _Setting("program", self.string(meta, c), self._span(meta))

    def timezone_decl(self, meta: Any, c: list[Any]) -> _Setting:
        return _Setting("timezone", self.string(meta, c), self._span(meta))

    def week_decl(self, meta: Any, c: list[Token]) -> _Setting:
        return _Setting("week", self._name(c[0]), self._span(meta))

    def year_decl(self, meta: Any, c: list[Token]) -> _Setting:
        return _Setting("year", self._name(c[0]), self._span(meta))

    def currency_field(self, meta: Any, c: list[Token]) -> tuple[str, Any]:
        return ("currency", self._name(c[0]))

    def currency_decl(self, meta: Any, c: list[Token]) -> _Setting:
        return _Setting("currency", self._name(c[0]), self._span(meta))

    def rate_decl(self, meta: Any, c: list[Token]) -> ast.Rate:
        return ast.Rate(self._name(c[0]), self.number(meta, [c[1]]), self._span(meta))

    def optional(self, meta: Any, c: list[Any]) -> tuple[str, Any]:
        return ("optional", True)

    def default(self, meta: Any, c: list[Any]) -> tuple[str, Any]:
        return ("default", c[0])

    def at_least(self, meta: Any, c: list[Token]) -> tuple[str, Any]:
        return ("at_least", self.number(meta, c))

    def field_decl(self, meta: Any, c: list[Any]) -> ast.FieldDecl:
        options = dict(c[2:])
        return ast.FieldDecl(
            self._name(c[0]),
            self._name(c[1]),
            bool(options.get("optional")),
            options.get("default"),
            options.get("at_least"),
            options.get("currency"),
            self._span(meta),
        )

    def event_decl(self, meta: Any, c: list[Any]) -> ast.EventDecl:
        fields = tuple(f for f in c[1:] if f is not None)
        return ast.EventDecl(self._name(c[0]), fields, self._span(meta))

    def fact_decl(self, meta: Any, c: list[Token]) -> ast.FactDecl:
        return ast.FactDecl(self._name(c[0]), self._name(c[1]), tuple(self._name(t) for t in c[2:]), self._span(meta))

    def rolling_window(self, meta: Any, c: list[Token]) -> ast.RollingWindow:
        return ast.RollingWindow(self.number(meta, [c[0]]), self._name(c[1]), self._name(c[2]), self._span(meta))

    def lifetime_window(self, meta: Any, c: list[Token]) -> ast.LifetimeWindow:
        return ast.LifetimeWindow(self._span(meta))

    def year_window(self, meta: Any, c: list[Token]) -> ast.CalendarYearWindow:
        return ast.CalendarYearWindow(self._name(c[0]) if c else None, self._span(meta))

    def param_decl(self, meta: Any, c: list[Token]) -> ast.ParamDecl:
        return ast.ParamDecl(self._name(c[0]), self._name(c[1]), self._span(meta))

    def benefit_decl(self, meta: Any, c: list[Any]) -> ast.BenefitDecl:
        params = tuple(p for p in c[1:] if p is not None)
        return ast.BenefitDecl(self._name(c[0]), params, self._span(meta))

    def param_value(self, meta: Any, c: list[Any]) -> ast.ParamValue:
        return ast.ParamValue(self._name(c[0]), c[1], self._span(meta))

    def tier_benefit(self, meta: Any, c: list[Any]) -> ast.TierBenefit:
        return ast.TierBenefit(self._name(c[0]), tuple(p for p in c[1:] if p is not None), self._span(meta))

    def tier_decl(self, meta: Any, c: list[Any]) -> ast.TierDecl:
        name, qualification, *benefits = c
        first = qualification[0][0].amount
        return ast.TierDecl(self._name(name), first, tuple(benefits), qualification, self._span(meta))

    def qualification(self, meta: Any, c: list[Any]) -> tuple[tuple[ast.Quantity, ...], ...]:
        return tuple(c)

    def qualify_all(self, meta: Any, c: list[Any]) -> tuple[ast.Quantity, ...]:
        return tuple(c)

    def quantity(self, meta: Any, c: list[Token]) -> ast.Quantity:
        measure = self._name(c[1])
        if measure.text == "point":  # `1 point` and `1 points` say the same
            measure = attrs.evolve(measure, text="points")
        return ast.Quantity(self.number(meta, [c[0]]), measure, self._span(meta))

    def fixed_amount(self, meta: Any, c: list[Token]) -> ast.Literal:
        return self.number(meta, c)

    def field_amount(self, meta: Any, c: list[Token]) -> ast.Name:
        return self._name(c[0])

    def per(self, meta: Any, c: list[Token]) -> ast.Name:
        return self._name(c[0])

    def beyond(self, meta: Any, c: list[Any]) -> bool:
        return True

    def earn(self, meta: Any, c: list[Any]) -> ast.Earn:
        amount, every, once, *rest, into = c
        beyond_first = any(x is True for x in rest)
        per = tuple(x for x in rest if isinstance(x, ast.Name))
        threshold = next((x for x in rest if isinstance(x, ast.Threshold)), None)
        once_at = self._name(once).span if once is not None else None
        return ast.Earn(amount, per, beyond_first, threshold, every, into, self._span(meta), once=once_at)

    def into(self, meta: Any, c: list[Token]) -> ast.Name:
        return self._name(c[0])

    def measure_decl(self, meta: Any, c: list[Token | None]) -> ast.MeasureDecl:
        name, unit = c
        assert name is not None
        return ast.MeasureDecl(self._name(name), self._name(unit) if unit is not None else None, self._span(meta))

    def for_every(self, meta: Any, c: list[Token]) -> ast.ForEvery:
        return ast.ForEvery(self.number(meta, [c[0]]), self._name(c[1]), self._span(meta))

    def count_threshold(self, meta: Any, c: list[Token]) -> ast.Threshold:
        return ast.Threshold(ast.ThresholdKind.COUNT, self.number(meta, [c[0]]), None, self._span(meta))

    def distinct_threshold(self, meta: Any, c: list[Token]) -> ast.Threshold:
        return ast.Threshold(ast.ThresholdKind.DISTINCT, self.number(meta, [c[0]]), self._name(c[1]), self._span(meta))

    def sum_threshold(self, meta: Any, c: list[Token]) -> ast.Threshold:
        return ast.Threshold(ast.ThresholdKind.SUM, self.number(meta, [c[0]]), self._name(c[1]), self._span(meta))

    def cap(self, meta: Any, c: list[Any]) -> ast.Cap:
        return ast.Cap(self.number(meta, [c[0]]), self._name(c[1]), c[2] is True, self._span(meta))

    def after_multipliers(self, meta: Any, c: list[Any]) -> bool:
        return True

    def window_cap(self, meta: Any, c: list[Any]) -> ast.Cap:
        span = self._span(meta)
        after = c[1] is True
        end = span.end_col - (len(", after multipliers") if after else 0)  # the place of `window`, roughly
        word = Span(span.file, span.line, max(span.col, end - len("window")), span.line, end)
        return ast.Cap(self.number(meta, [c[0]]), ast.Name("window", word), after, span)

    def rule_decl(self, meta: Any, c: list[Any]) -> ast.RuleDecl:
        name, on, where, during, earn, *rest = c
        caps = tuple(x for x in rest if isinstance(x, ast.Cap))
        vesting = next((x for x in rest if isinstance(x, ast.Vesting)), None)
        return ast.RuleDecl(self._name(name), self._name(on), where, earn, caps, during, vesting, self._span(meta))

    def vesting(self, meta: Any, c: list[Token]) -> ast.Vesting:
        return ast.Vesting(self.number(meta, [c[0]]), self._name(c[1]), self._span(meta))

    def during_dates(self, meta: Any, c: list[Token]) -> ast.During:
        return ast.During(
            ast.DuringKind.DATES, self.instant(meta, [c[0]]), self.instant(meta, [c[1]]), None, self._span(meta)
        )

    def during_day(self, meta: Any, c: list[Token]) -> ast.During:
        return ast.During(ast.DuringKind.DAY, self.number(meta, [c[0]]), None, self._name(c[1]), self._span(meta))

    def during_month(self, meta: Any, c: list[Token]) -> ast.During:
        return ast.During(ast.DuringKind.MONTH, None, None, self._name(c[0]), self._span(meta))

    def during_hours(self, meta: Any, c: list[Token | None]) -> ast.During:
        day, start, end = c
        assert start is not None and end is not None
        first, last = (self._literal_of(t, str(t), "time") for t in (start, end))
        return ast.During(
            ast.DuringKind.HOURS, first, last, self._name(day) if day is not None else None, self._span(meta)
        )

    def notice(self, meta: Any, c: list[Token]) -> tuple[str, Any]:
        return ("notice", ast.Notice(self.number(meta, [c[0]]), self._name(c[1]), self._span(meta)))

    def once_a_year(self, meta: Any, c: list[Any]) -> tuple[str, Any]:
        return ("once_a_year", True)

    def leap_day(self, meta: Any, c: list[Token]) -> tuple[str, Any]:
        return (
            "leap_day",
            ast.LeapDay(
                self.number(meta, [c[0]]),
                self._name(c[1]),
                self.number(meta, [c[2]]),
                self._name(c[3]),
                self._span(meta),
            ),
        )

    def grant_decl(self, meta: Any, c: list[Any]) -> ast.GrantDecl:
        benefit, date, which, event, *options = c
        opts = dict(options)
        return ast.GrantDecl(
            self._name(benefit),
            self._name(date),
            str(which),
            self._name(event),
            opts.get("notice"),
            bool(opts.get("once_a_year")),
            opts.get("leap_day"),
            self._span(meta),
        )

    def decide_decl(self, meta: Any, c: list[Any]) -> ast.DecideDecl:
        benefit, on, key, when = c
        return ast.DecideDecl(
            self._name(benefit),
            self._name(on),
            self._name(key) if key is not None else None,
            when,
            self._span(meta),
        )

    # examples (tests written in the language)
    def instant(self, meta: Any, c: list[Token]) -> ast.Literal:
        return self._literal_of(c[0], str(c[0]), "date")

    def given_field(self, meta: Any, c: list[Any]) -> ast.ParamValue:
        return ast.ParamValue(self._name(c[0]), c[1], self._span(meta))

    def given_event(self, meta: Any, c: list[Any]) -> ast.GivenEvent:
        times, type_, at, *rest = c
        fields = tuple(f for f in rest if f is not None)
        count = int(str(times)) if times is not None and str(times).isdigit() else 1
        return ast.GivenEvent(self._name(type_), self.instant(meta, [at]), fields, count, self._span(meta))

    def expect_points(self, meta: Any, c: list[Token]) -> ast.Expectation:
        return ast.Expectation("points", False, value=self.number(meta, c), span=self._span(meta))

    def expect_tier(self, meta: Any, c: list[Token]) -> ast.Expectation:
        return ast.Expectation("tier", False, name=self._name(c[0]), span=self._span(meta))

    def expect_measure(self, meta: Any, c: list[Token]) -> ast.Expectation:
        value = self.number(meta, [c[1]])
        return ast.Expectation("measure", False, name=self._name(c[0]), value=value, span=self._span(meta))

    def expect_no_tier(self, meta: Any, c: list[Token]) -> ast.Expectation:
        return ast.Expectation("tier", True, span=self._span(meta))

    def expect_benefit(self, meta: Any, c: list[Any]) -> ast.Expectation:
        b: ast.TierBenefit = c[0]
        return ast.Expectation("benefit", False, name=b.name, params=b.params, span=self._span(meta))

    def expect_no_benefit(self, meta: Any, c: list[Token]) -> ast.Expectation:
        return ast.Expectation("benefit", True, name=self._name(c[0]), span=self._span(meta))

    def expect_grant(self, meta: Any, c: list[Token]) -> ast.Expectation:
        on = self.instant(meta, [c[1]])
        return ast.Expectation("grant", False, name=self._name(c[0]), value=on, span=self._span(meta))

    def expect_no_grant(self, meta: Any, c: list[Token]) -> ast.Expectation:
        return ast.Expectation("grant", True, name=self._name(c[0]), span=self._span(meta))

    def decision_key(self, meta: Any, c: list[Any]) -> tuple[ast.Name, ast.Literal]:
        return self._name(c[0]), c[1]

    def _decision(self, meta: Any, c: list[Any], refused: bool) -> ast.Expectation:
        key, value = c[1] if c[1] is not None else (None, None)
        return ast.Expectation("decision", refused, name=self._name(c[0]), key=key, value=value, span=self._span(meta))

    def expect_redemption_granted(self, meta: Any, c: list[Token]) -> ast.Expectation:
        return ast.Expectation("redemption", False, name=self._name(c[0]), span=self._span(meta))

    def expect_redemption_refused(self, meta: Any, c: list[Token]) -> ast.Expectation:
        return ast.Expectation("redemption", True, name=self._name(c[0]), span=self._span(meta))

    def expect_redemption_spent(self, meta: Any, c: list[Token]) -> ast.Expectation:
        spent = self.number(meta, [c[1]])
        return ast.Expectation("redemption", False, name=self._name(c[0]), value=spent, span=self._span(meta))

    def expect_expiring(self, meta: Any, c: list[Token]) -> ast.Expectation:
        on = self.instant(meta, [c[1]])
        return ast.Expectation("expiring", False, value=self.number(meta, [c[0]]), on=on, span=self._span(meta))

    def expect_voucher(self, meta: Any, c: list[Token]) -> ast.Expectation:
        on = self.instant(meta, [c[1]])
        return ast.Expectation("voucher", False, value=self.number(meta, [c[0]]), on=on, span=self._span(meta))

    def expect_no_voucher(self, meta: Any, c: list[Token]) -> ast.Expectation:
        return ast.Expectation("voucher", True, on=self.instant(meta, [c[0]]), span=self._span(meta))

    def expect_granted(self, meta: Any, c: list[Any]) -> ast.Expectation:
        return self._decision(meta, c, refused=False)

    def expect_refused(self, meta: Any, c: list[Any]) -> ast.Expectation:
        return self._decision(meta, c, refused=True)

    def test_decl(self, meta: Any, c: list[Any]) -> ast.TestDecl:
        name, *rest = c
        given = tuple(x for x in rest if isinstance(x, ast.GivenEvent))
        as_of = self.instant(meta, [next(x for x in rest if isinstance(x, Token))])
        expects = tuple(x for x in rest if isinstance(x, ast.Expectation))
        return ast.TestDecl(self.string(meta, [name]), given, as_of, expects, self._span(meta))

    def expire_after(self, meta: Any, c: list[Token]) -> ast.Expiry:
        return ast.Expiry(ast.ExpiryKind.AFTER, self.number(meta, [c[0]]), self._name(c[1]), self._span(meta))

    def expire_after_month_end(self, meta: Any, c: list[Token]) -> ast.Expiry:
        return ast.Expiry(ast.ExpiryKind.AFTER_MONTH_END, self.number(meta, [c[0]]), self._name(c[1]), self._span(meta))

    def expire_inactive(self, meta: Any, c: list[Token]) -> ast.Expiry:
        return ast.Expiry(ast.ExpiryKind.INACTIVE, self.number(meta, [c[0]]), self._name(c[1]), self._span(meta))

    def expire_at_end(self, meta: Any, c: list[Token]) -> ast.Expiry:
        return ast.Expiry(ast.ExpiryKind.END, None, self._name(c[0]), self._span(meta))

    def redeem_decl(self, meta: Any, c: list[Any]) -> ast.Redemption:
        amount, event, field, *options, where = c
        rules: dict[str, Any] = {"sizes": [], "loose": []}
        previous = None
        for kind, value in options:
            if kind == "sizes" or (kind == "more_size" and previous in ("sizes", "more_size")):
                rules["sizes"].append(value)
            elif kind == "more_size":  # a bare number that follows no `in sizes`: check says so
                rules["loose"].append(value)
            else:
                rules[kind] = value
            previous = kind
        return ast.Redemption(
            self._name(event),
            self._name(field) if field is not None else None,
            self._span(meta),
            amount=self.number(meta, [amount]) if amount is not None else None,
            all_or_nothing=bool(rules.get("all_or_nothing")),
            sizes=tuple(rules["sizes"]),
            at_least=rules.get("at_least"),
            at_most=rules.get("at_most"),
            multiple=rules.get("multiple"),
            where=where,
            loose=tuple(rules["loose"]),
            decided=rules.get("decided"),
        )

    def redeem_all_or_nothing(self, meta: Any, c: list[Token]) -> tuple[str, Any]:
        return "all_or_nothing", True

    def redeem_sizes(self, meta: Any, c: list[Token]) -> tuple[str, Any]:
        return "sizes", self.number(meta, c)

    def redeem_more_size(self, meta: Any, c: list[Token]) -> tuple[str, Any]:
        return "more_size", self.number(meta, c)

    def redeem_at_least(self, meta: Any, c: list[Token]) -> tuple[str, Any]:
        return "at_least", self.number(meta, c)

    def redeem_at_most(self, meta: Any, c: list[Token]) -> tuple[str, Any]:
        return "at_most", self.number(meta, c)

    def redeem_multiples(self, meta: Any, c: list[Token]) -> tuple[str, Any]:
        return "multiple", self.number(meta, c)

    def redeem_when_granted(self, meta: Any, c: list[Token]) -> tuple[str, Any]:
        return "decided", self._name(c[0])

    def convert_decl(self, meta: Any, c: list[Token]) -> ast.Conversion:
        points, value = self.number(meta, [c[1]]), self.number(meta, [c[2]])
        return ast.Conversion(self._name(c[0]), points, value, self._span(meta))

    def voucher_expiry_decl(self, meta: Any, c: list[Token]) -> ast.VoucherExpiry:
        return ast.VoucherExpiry(self.number(meta, [c[0]]), self._name(c[1]), self._span(meta))

    def voucher_use_decl(self, meta: Any, c: list[Token]) -> ast.VoucherUse:
        return ast.VoucherUse(self._name(c[0]), self._span(meta))

    def grace(self, meta: Any, c: list[Token]) -> ast.Retention:
        return ast.Retention(
            ast.RetentionKind.GRACE, self.number(meta, [c[0]]), self._name(c[1]), span=self._span(meta)
        )

    def one_level(self, meta: Any, c: list[Token]) -> ast.Retention:
        return ast.Retention(ast.RetentionKind.ONE_LEVEL, None, None, span=self._span(meta))

    def guarantee(self, meta: Any, c: list[Token]) -> ast.Retention:
        return ast.Retention(ast.RetentionKind.GUARANTEE, None, self._name(c[0]), span=self._span(meta))

    def guarantee_day(self, meta: Any, c: list[Token]) -> ast.Retention:
        day, month, period = c
        return ast.Retention(
            ast.RetentionKind.GUARANTEE_DAY,
            self.number(meta, [day]),
            self._name(period),
            self._name(month),
            self._span(meta),
        )

    def guarantee_for(self, meta: Any, c: list[Token]) -> ast.Retention:
        return ast.Retention(
            ast.RetentionKind.GUARANTEE_FOR, self.number(meta, [c[0]]), self._name(c[1]), span=self._span(meta)
        )

    def multiply_always(self, meta: Any, c: list[Any]) -> ast.Multiplier:
        return ast.Multiplier(self._name(c[0]), self.number(meta, [c[1]]), where=c[2], span=self._span(meta))

    def no_combine_decl(self, meta: Any, c: list[Token]) -> ast.NoCombine:
        return ast.NoCombine(self._name(c[0]), self._span(meta))

    def multiply_during(self, meta: Any, c: list[Any]) -> ast.Multiplier:
        return ast.Multiplier(self._name(c[0]), self.number(meta, [c[1]]), during=c[2], span=self._span(meta))

    def multiply_for(self, meta: Any, c: list[Token]) -> ast.Multiplier:
        tiers = tuple(self._name(t) for t in c[2:])
        return ast.Multiplier(self._name(c[0]), self.number(meta, [c[1]]), tiers=tiers, span=self._span(meta))

    def multiply_month_of(self, meta: Any, c: list[Token]) -> ast.Multiplier:
        rule, factor, field, which, event = c
        return ast.Multiplier(
            self._name(rule),
            self.number(meta, [factor]),
            field=self._name(field),
            which=str(which),
            event=self._name(event),
            span=self._span(meta),
        )

    def start(self, meta: Any, c: list[Any]) -> ast.Program:
        found = [s for s in c if isinstance(s, _Setting)]
        settings: dict[str, Any] = {s.kind: s.value for s in reversed(found)}  # the first one counts
        seen: set[str] = set()
        repeated = []
        for setting in found:
            if setting.kind in seen:
                repeated.append((setting.kind, setting.span))
            seen.add(setting.kind)

        def of(kind: type | tuple[type, ...]) -> tuple[Any, ...]:
            return tuple(s for s in c if isinstance(s, kind))

        title = settings.get("program")
        return ast.Program(
            file=self.file,
            title=str(title.value) if title is not None else None,
            timezone=settings.get("timezone"),
            week_start=settings.get("week"),
            year_start=settings.get("year"),
            events=of(ast.EventDecl),
            facts=of(ast.FactDecl),
            windows=of((ast.RollingWindow, ast.LifetimeWindow, ast.CalendarYearWindow)),
            benefits=of(ast.BenefitDecl),
            tiers=of(ast.TierDecl),
            rules=of(ast.RuleDecl),
            grants=of(ast.GrantDecl),
            decisions=of(ast.DecideDecl),
            assumptions=_assumptions(self.text, self.file, list(c)),
            tests=of(ast.TestDecl),
            repeated=tuple(repeated),
            currency=settings.get("currency"),
            rates=of(ast.Rate),
            retention=of(ast.Retention),
            multipliers=of(ast.Multiplier),
            expiries=of(ast.Expiry),
            redemptions=of(ast.Redemption),
            conversions=of(ast.Conversion),
            voucher_expiries=of(ast.VoucherExpiry),
            voucher_uses=of(ast.VoucherUse),
            measures=of(ast.MeasureDecl),
            no_combine=of(ast.NoCombine),
            source=self.text,
        )
