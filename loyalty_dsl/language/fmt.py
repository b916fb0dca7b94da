"""`loyalty fmt`: one canonical layout for a program, keeping every comment.

The AST says what to print, but it drops what only a reader needs: comments,
the word `once`, the article of a fact (`a`/`an`), and where `program` and
`timezone` stand. So the formatter also scans the source once for its tokens.

Layout model: a statement is a list of *pieces* (a header, a rule clause, a
tier benefit, an event field...). A piece owns the source tokens from its first
token up to the next piece's first token. A full-line comment is printed before
the piece that owns the next code token; a comment at the end of a line is
printed at the end of the line that holds the piece owning the previous code
token. Comments are placed by the code tokens around them, never by line
numbers: that is what makes the output independent of the original layout, and
formatting idempotent.
"""

from __future__ import annotations

import bisect
import difflib
import itertools
import re
from collections.abc import Callable, Sequence
from typing import Protocol, TypeVar

import attrs

from loyalty_dsl.language import ast
from loyalty_dsl.language.diagnostics import Diagnostic, ProgramError
from loyalty_dsl.language.parse import parse

WIDTH = 100
"""Events and benefits whose fields do not fit in this many columns continue on the next lines."""

INDENT = "    "

Pos = tuple[int, int]
"""A place as (line, column), 1-based like `ast.Span`: tuples compare in source order."""

_TOKEN = re.compile(
    r"""(?P<ws>[ \t\f\r\n]+)
    |(?P<comment>\#[^\n]*)
    |(?P<code>"(?:[^"\\\n]|\\.)*"|-?[0-9]+(?:\.[0-9]+)?|[A-Za-z_][A-Za-z0-9_]*|[<>!=]=|.)""",
    re.VERBOSE,
)

_PRECEDENCE: dict[type, int] = {ast.Or: 1, ast.And: 2, ast.Not: 3}
_ATOM = 4


# --- public API ---------------------------------------------------------------------


def format_source(text: str, file: str = "<program>") -> str:
    """The program in its canonical layout; raise ProgramError if it does not parse."""
    program = parse(text, file)
    tokens = _scan(text)
    source = _Source(tokens)
    statements = _statements(program, source) + _verbatim_statements(program, text)
    statements.sort(key=lambda s: s.start)
    tail = _attach_comments(tokens, statements)
    lines = _render(statements, tail)
    formatted = "\n".join(lines) + "\n" if lines else ""
    # Layout only: a formatter that changed what the program says would be a bug, never a result.
    # (An assumption may move to its own line and so belong to the next statement: only its text counts.)
    again = parse(formatted, file)
    if attrs.evolve(again, assumptions=()) != attrs.evolve(program, assumptions=()) or sorted(
        a.text for a in again.assumptions
    ) != sorted(a.text for a in program.assumptions):
        message = "fmt would change what the program says; nothing was changed"
        raise ProgramError([Diagnostic(file, 1, 1, 2, "E900", message, "please report this program")], text)
    return formatted


def needs_formatting(text: str, file: str = "<program>") -> bool:
    """Whether `format_source` would change the text (for `loyalty fmt --check`)."""
    return format_source(text, file) != text


def format_diff(text: str, file: str = "<program>") -> str:
    """A unified diff from the text to its formatted layout ("" when already formatted)."""
    formatted = format_source(text, file)
    return "".join(
        difflib.unified_diff(
            text.splitlines(keepends=True), formatted.splitlines(keepends=True), file, f"{file} (formatted)"
        )
    )


def format_condition(cond: ast.Condition) -> str:
    """A condition with the fewest parentheses that parse back to the same tree.

    `and` binds tighter than `or` and both group to the left, so only a right
    operand of the same operator, an `or` inside an `and`, or a compound under
    `not` needs parentheses.
    """
    if isinstance(cond, ast.Or):
        return f"{_operand_of(cond.left, 1)} or {_operand_of(cond.right, 2)}"
    if isinstance(cond, ast.And):
        return f"{_operand_of(cond.left, 2)} and {_operand_of(cond.right, 3)}"
    if isinstance(cond, ast.Not):
        return f"not {_operand_of(cond.operand, 3)}"
    if isinstance(cond, ast.Compare):
        op = "=" if cond.op == "==" else cond.op
        return f"{_operand(cond.left)} {op} {_operand(cond.right)}"
    if isinstance(cond, ast.FactTest):
        return f"{cond.field.text} is {'not ' if cond.negated else ''}{cond.fact.text}"
    if isinstance(cond, ast.MemberOf):
        values = ", ".join(v.text for v in cond.values)
        return f"{cond.field.text} {'not ' if cond.negated else ''}in [{values}]"
    return cond.field.text


def _operand_of(cond: ast.Condition, minimum: int) -> str:
    text = format_condition(cond)
    return f"({text})" if _PRECEDENCE.get(type(cond), _ATOM) < minimum else text


def _operand(op: ast.Operand) -> str:
    return op.text


# --- tokens -------------------------------------------------------------------------


@attrs.frozen
class _Token:
    text: str
    start: Pos
    is_comment: bool

    @property
    def line(self) -> int:
        return self.start[0]


def _scan(text: str) -> list[_Token]:
    """Code tokens and comments with their places (no token spans lines in this language)."""
    tokens = []
    line, line_start = 1, 0
    for m in _TOKEN.finditer(text):
        value = m.group()
        if m.lastgroup != "ws":
            tokens.append(_Token(value, (line, m.start() - line_start + 1), m.lastgroup == "comment"))
        elif "\n" in value:
            line += value.count("\n")
            line_start = m.start() + value.rindex("\n") + 1
    return tokens


class _Source:
    """Lookups of code tokens by place, for what the AST does not keep."""

    def __init__(self, tokens: Sequence[_Token]) -> None:
        self.code = [t for t in tokens if not t.is_comment]
        self._starts = [t.start for t in self.code]

    def before(self, pos: Pos) -> _Token:
        """The code token just before `pos` (e.g. the `on` before a rule's event)."""
        return self.code[bisect.bisect_left(self._starts, pos) - 1]

    def within(self, span: ast.Span) -> list[_Token]:
        lo = bisect.bisect_left(self._starts, (span.line, span.col))
        hi = bisect.bisect_left(self._starts, (span.end_line, span.end_col))
        return self.code[lo:hi]


# --- statements as pieces -------------------------------------------------------------


@attrs.define
class _Comment:
    text: str
    blank_before: bool


@attrs.define
class _Piece:
    """A printed unit that owns the source tokens from `start` to the next piece."""

    text: str
    start: Pos
    indent: str = ""
    joins: bool = False  # may continue the line before it (fields of an event or benefit)
    leading: list[_Comment] = attrs.Factory(list)
    trailing: list[str] = attrs.Factory(list)
    blank_after_leading: bool = False


@attrs.define
class _Statement:
    kind: str
    pieces: list[_Piece]
    verbatim_end: Pos | None = None  # a statement printed as written, comments inside included

    @property
    def start(self) -> Pos:
        return self.pieces[0].start


class _Placed(Protocol):
    @property
    def span(self) -> ast.Span: ...


def _start(node: _Placed) -> Pos:
    return (node.span.line, node.span.col)


def _statements(program: ast.Program, source: _Source) -> list[_Statement]:
    out = _settings(source)
    out += [_event(e) for e in program.events]
    out += [_fact(f, source) for f in program.facts]
    out += [_window(w) for w in program.windows]
    out += [_measure(m) for m in program.measures]
    out += [_benefit(b) for b in program.benefits]
    out += [_tier(t) for t in program.tiers]
    out += [_rule(r, source) for r in program.rules]
    out += [_grant(g, source) for g in program.grants]
    out += [_decide(d, source) for d in program.decisions]
    out += [_expiry(e) for e in program.expiries]
    out += [_redeem(r) for r in program.redemptions]
    vouchers: list[ast.Conversion | ast.VoucherExpiry | ast.VoucherUse] = [*program.conversions]
    vouchers += [*program.voucher_expiries, *program.voucher_uses]
    out += [_voucher_statement(v) for v in vouchers]
    return out


def _expiry(e: ast.Expiry) -> _Statement:
    amount = e.amount.text if e.amount is not None else ""
    text = {
        "after": f"points expire after {amount} {e.unit.text}",
        "after_month_end": f"points expire after {amount} {e.unit.text}, at the end of that month",
        "inactive": f"points expire after {amount} {e.unit.text} without activity",
    }.get(e.kind, f"points expire at the end of the {e.unit.text}")
    return _Statement("expiries", [_Piece(text, _start(e))])


def _redeem(r: ast.Redemption) -> _Statement:
    """One line, its rules in a fixed order: what a claim is, then what it may be, then `where`."""
    asked = f"{r.amount.text} {'point' if r.amount.text == '1' else 'points'}" if r.amount is not None else "points"
    text = f"redeem {asked} by {r.event.text}" + (f" with {r.field.text}" if r.field is not None else "")
    if r.all_or_nothing:
        text += ", all or nothing"
    if r.sizes:
        text += ", in sizes " + ", ".join(x.text for x in r.sizes)
    text += "".join(f", {x.text}" for x in r.loose)
    text += f", at least {r.at_least.text}" if r.at_least is not None else ""
    text += f", at most {r.at_most.text}" if r.at_most is not None else ""
    text += f", in multiples of {r.multiple.text}" if r.multiple is not None else ""
    text += f", only when {r.decided.text} is granted" if r.decided is not None else ""
    text += f" where {format_condition(r.where)}" if r.where is not None else ""
    return _Statement("redemptions", [_Piece(text, _start(r))])


def _voucher_statement(v: ast.Conversion | ast.VoucherExpiry | ast.VoucherUse) -> _Statement:
    if isinstance(v, ast.Conversion):
        text = f"convert points every {v.period.text} into vouchers of {v.points.text} points worth {v.value.text}"
    elif isinstance(v, ast.VoucherExpiry):
        text = f"vouchers expire after {v.amount.text} {v.unit.text}"
    else:
        text = f"vouchers are used by {v.event.text}"
    return _Statement("conversions", [_Piece(text, _start(v))])


def _settings(source: _Source) -> list[_Statement]:
    """`program "..."` and `timezone "..."`, found by their keywords (reserved words).

    The AST keeps only the last of each, and the title unescaped and without a
    place, so every one is printed as written, where it was written.
    """
    code = source.code
    settings = [
        _Statement("setting", [_Piece(f"{tok.text} {code[i + 1].text}", tok.start)])
        for i, tok in enumerate(code)
        if tok.text in ("program", "timezone") or _opens_currency(code, i)
    ]
    # `week starts on Sunday`, `year starts in April`: "week" and "year" open a statement only here.
    settings += [
        _Statement("setting", [_Piece(" ".join(t.text for t in code[i : i + 4]), tok.start)])
        for i, tok in enumerate(code)
        if tok.text in ("week", "year") and i + 3 < len(code) and code[i + 1].text == "starts"
    ]
    return settings


def _opens_currency(code: Sequence[_Token], i: int) -> bool:
    """`currency USD` as a statement; not a field named currency, nor `amount: money in currency`."""
    if code[i].text != "currency" or i + 1 >= len(code) or code[i + 1].text in (":", ","):
        return False
    return i == 0 or code[i - 1].text not in ("in", ",", "with", ":")


Item = TypeVar("Item", ast.FieldDecl, ast.ParamDecl)


def _listed(items: Sequence[Item], render: Callable[[Item], str]) -> list[_Piece]:
    """Comma-separated declarations that fill lines, continuing indented."""
    last = len(items) - 1
    return [_Piece(render(x) + ("," if i < last else ""), _start(x), INDENT, joins=True) for i, x in enumerate(items)]


def _field(f: ast.FieldDecl) -> str:
    text = f"{f.name.text}: {f.type.text}"
    if f.currency is not None:
        text += f" in {f.currency.text}"
    if f.optional:
        text += " optional"
    if f.default is not None:
        text += f" default {f.default.text}"
    if f.at_least is not None:
        text += f" at least {f.at_least.text}"
    return text


def _event(e: ast.EventDecl) -> _Statement:
    head = f"event {e.name.text}" + (" with" if e.fields else "")
    return _Statement("event", [_Piece(head, _start(e)), *_listed(e.fields, _field)])


def _fact(f: ast.FactDecl, source: _Source) -> _Statement:
    article = source.within(f.span)[0].text  # `a` or `an`, as written
    events = " or ".join(e.text for e in f.events)
    return _Statement("fact", [_Piece(f"{article} {f.subject.text} is {f.fact.text} by {events}", _start(f))])


def _window(w: ast.Window) -> _Statement:
    if isinstance(w, ast.RollingWindow):
        text = f"window last {w.length.text} {w.unit.text}, recalculated {w.every.text}"
    elif isinstance(w, ast.CalendarYearWindow):
        text = "window calendar year, " + (f"recalculated {w.every.text}" if w.every else "continuous")
    else:
        text = "window lifetime, continuous"
    return _Statement("window", [_Piece(text, _start(w))])


def _measure(m: ast.MeasureDecl) -> _Statement:
    text = f"measure {m.name.text}" + (f" in {m.unit.text}" if m.unit is not None else "")
    return _Statement("measure", [_Piece(text, _start(m))])


def _benefit(b: ast.BenefitDecl) -> _Statement:
    head = f"benefit {b.name.text}" + (" with" if b.params else "")
    return _Statement(
        "benefit", [_Piece(head, _start(b)), *_listed(b.params, lambda p: f"{p.name.text}: {p.type.text}")]
    )


def _tier(t: ast.TierDecl) -> _Statement:
    if t.points_only:
        unit = "point" if t.threshold.value == 1 else "points"
        qualification = f"{t.threshold.text} {unit}"
    else:
        qualification = " or ".join(
            " and ".join(f"{q.amount.text} {q.measure.text}" for q in a) for a in t.qualification
        )
    head = _Piece(f"tier {t.name.text} from {qualification}:", _start(t))
    return _Statement("tier", [head, *(_Piece(_tier_benefit(b), _start(b), INDENT) for b in t.benefits)])


def _tier_benefit(b: ast.TierBenefit) -> str:
    if not b.params:
        return b.name.text
    return f"{b.name.text} (" + ", ".join(f"{p.name.text} {p.value.text}" for p in b.params) + ")"


def _rule(r: ast.RuleDecl, source: _Source) -> _Statement:
    on = f"on {r.on.text}" + (f" where {format_condition(r.where)}" if r.where is not None else "")
    pieces = [
        _Piece(f"rule {r.name.text}:", _start(r)),
        _Piece(on, source.before(_start(r.on)).start, INDENT),  # the `on` keyword
    ]
    if r.during is not None:
        pieces.append(_Piece(_during(r.during), _start(r.during), INDENT))
    pieces.append(_Piece(_earn(r.earn, source), _start(r.earn), INDENT))
    pieces += [
        _Piece(
            f"cap {c.amount.text} per {c.period.text}" + (", after multipliers" if c.after_multipliers else ""),
            _start(c),
            INDENT,
        )
        for c in r.caps
    ]
    if r.vesting is not None:
        vesting = f"vesting after {r.vesting.amount.text} {r.vesting.unit.text}"
        pieces.append(_Piece(vesting, _start(r.vesting), INDENT))
    return _Statement("rule", pieces)


def _during(d: ast.During) -> str:
    if d.kind == "dates":
        assert d.first is not None and d.last is not None
        return f"during {d.first.text} to {d.last.text}"
    if d.kind == "day":
        assert d.first is not None and d.month is not None
        return f"during {d.first.text} {d.month.text}"
    if d.kind == "hours":
        assert d.first is not None and d.last is not None
        return "during " + (f"{d.month.text} " if d.month else "") + f"{d.first.text} to {d.last.text}"
    assert d.month is not None
    return f"during {d.month.text}"


def _earn(earn: ast.Earn, source: _Source) -> str:
    text = f"earn {earn.amount.text}"
    if earn.every is not None:
        text += f" for every {earn.every.step.text} of {earn.every.field.text}"
    if any(tok.text == "once" for tok in source.within(earn.span)):  # the AST drops `once`: it only reads well
        text += " once"
    text += "".join(f" per {k.text}" for k in earn.per)
    text += " beyond the first" if earn.beyond_first else ""
    t = earn.threshold
    if t is not None:
        text += f" with at least {t.amount.text}"
        text += {"count": "", "distinct": f" distinct {t.key}", "sum": f" in {t.key}"}[t.kind]
    if earn.into is not None:
        text += f" into {earn.into.text}"
    return text


def _grant(g: ast.GrantDecl, source: _Source) -> _Statement:
    options: list[tuple[str, str]] = []  # (first word in the source, text), in canonical order
    if g.notice is not None:
        options.append(("known", f"known at least {g.notice.amount.text} {g.notice.unit.text} before"))
    if g.once_a_year:
        options.append(("at", "at most once a year"))
    if g.leap_day is not None:
        leap = g.leap_day
        text = f"{leap.day.text} {leap.month.text} falls on {leap.to_day.text} {leap.to_month.text}"
        options.append(("number", text))
    starts = _option_starts(source.within(g.span))
    head = f"grant {g.benefit.text} every year on the {g.date.text} of the {g.which} {g.event.text}"
    pieces = [_Piece(head + ("," if options else ""), _start(g))]
    last = len(options) - 1
    pieces += [_Piece(text + ("," if i < last else ""), starts[word], INDENT) for i, (word, text) in enumerate(options)]
    return _Statement("grant", pieces)


def _option_starts(tokens: Sequence[_Token]) -> dict[str, Pos]:
    """Where each kind of grant option first starts: the word after each comma.

    The comma before an option is printed at the end of the line before, so it
    belongs to the piece before, and a comment after it stays on that line.
    """
    starts: dict[str, Pos] = {}
    for comma, word in itertools.pairwise(tokens):
        if comma.text == ",":
            kind = word.text if word.text in ("known", "at") else "number"
            starts.setdefault(kind, word.start)
    return starts


def _decide(d: ast.DecideDecl, source: _Source) -> _Statement:
    head = f"decide {d.benefit.text} on {d.on.text}" + (f" for its {d.key.text}" if d.key is not None else "")
    if d.when is None:
        return _Statement("decide", [_Piece(head, _start(d))])
    grant = next(tok for tok in source.within(d.span) if tok.text == "grant")
    return _Statement(
        "decide",
        [_Piece(head + ":", _start(d)), _Piece(f"grant when {format_condition(d.when)}", grant.start, INDENT)],
    )


_FORMATTED = frozenset(
    {"events", "facts", "windows", "measures", "benefits", "tiers", "rules", "grants", "decisions"}
    | {"expiries", "redemptions", "conversions", "voucher_expiries", "voucher_uses"}
)


def _verbatim_statements(program: ast.Program, text: str) -> list[_Statement]:
    """Statements of kinds this formatter does not know, kept as written.

    The language grows (new kinds of statement land in `ast.Program` as new
    tuples); printing them as written keeps `fmt` from losing them until it
    learns their layout.
    """
    lines = text.split("\n")
    out = []
    for field in attrs.fields(type(program)):
        value = getattr(program, field.name)
        if field.name in _FORMATTED or field.name == "assumptions" or not isinstance(value, tuple):
            continue
        for node in value:
            span = getattr(node, "span", None)
            if isinstance(span, ast.Span) and span != ast.NO_SPAN:
                written = _written(lines, span)
                out.append(
                    _Statement(field.name, [_Piece(written, (span.line, span.col))], (span.end_line, span.end_col))
                )
    return out


def _written(lines: Sequence[str], span: ast.Span) -> str:
    if span.line == span.end_line:
        return lines[span.line - 1][span.col - 1 : span.end_col - 1]
    middle = lines[span.line : span.end_line - 1]
    parts = [lines[span.line - 1][span.col - 1 :], *middle, lines[span.end_line - 1][: span.end_col - 1]]
    return "\n".join(part.rstrip() for part in parts)


# --- comments -------------------------------------------------------------------------------


def _attach_comments(tokens: Sequence[_Token], statements: Sequence[_Statement]) -> list[_Comment]:
    """Give each comment to the piece it belongs to; return those after the last code token."""
    pieces = sorted((p for s in statements for p in s.pieces), key=lambda p: p.start)
    starts = [p.start for p in pieces]
    verbatim = [(s.start, s.verbatim_end) for s in statements if s.verbatim_end is not None]

    def owner(tok: _Token) -> _Piece:
        return pieces[bisect.bisect_right(starts, tok.start) - 1]

    pending: list[_Comment] = []
    previous: _Token | None = None
    for tok in tokens:
        if tok.is_comment and any(start < tok.start < end for start, end in verbatim):
            continue  # printed with the statement's own text
        if tok.is_comment:
            text = tok.text.rstrip()
            if previous is not None and not previous.is_comment and previous.line == tok.line:
                owner(previous).trailing.append(text)
            else:
                pending.append(_Comment(text, previous is not None and tok.line - previous.line > 1))
        elif pending:
            piece = owner(tok)
            piece.leading += pending
            piece.blank_after_leading = previous is not None and tok.line - previous.line > 1
            pending = []
        previous = tok
    return pending


# --- rendering -------------------------------------------------------------------------------


@attrs.define
class _Line:
    code: str
    indent: str
    before: list[_Comment]
    trailing: list[str]


def _lay_out(statement: _Statement) -> list[_Line]:
    """Pieces into lines: joinable pieces fill a line up to WIDTH; comments force breaks."""
    lines: list[_Line] = []
    for i, piece in enumerate(statement.pieces):
        before = piece.leading if i else []  # a statement's own leading comments are printed by _render
        last = lines[-1] if lines else None
        if last is not None and piece.joins and not before and not last.trailing:
            joined = f"{last.code} {piece.text}"
            if len(joined) <= WIDTH:
                last.code = joined
                last.trailing += piece.trailing
                continue
        lines.append(_Line(piece.indent + piece.text, piece.indent, list(before), list(piece.trailing)))
    return lines


def _comment_block(comments: Sequence[_Comment], indent: str = "") -> list[str]:
    """Comments one per line, keeping (at most one) blank line between them."""
    out: list[str] = []
    for i, c in enumerate(comments):
        if i and c.blank_before:
            out.append("")
        out.append(indent + c.text)
    return out


def _line_text(line: _Line) -> list[str]:
    """A line with its comments: one trailing comment stays at its end, any others go above it."""
    out = _comment_block(line.before, line.indent)
    out += [line.indent + extra for extra in line.trailing[:-1]]
    out.append(line.code + (f"  {line.trailing[-1]}" if line.trailing else ""))
    return out


def _render(statements: Sequence[_Statement], tail: Sequence[_Comment]) -> list[str]:
    out: list[str] = []
    previous: tuple[str, bool] | None = None  # kind and whether it took several lines
    for statement in statements:
        lines = _lay_out(statement)
        several = len(lines) > 1 or "\n" in lines[0].code
        first = statement.pieces[0]
        if previous is not None and _blank_between(previous, (statement.kind, several), first.leading):
            out.append("")
        out += _comment_block(first.leading)
        if first.leading and first.blank_after_leading:
            out.append("")
        for line in lines:
            out += _line_text(line)
        previous = (statement.kind, several)
    if tail and out and tail[0].blank_before:
        out.append("")
    return out + _comment_block(tail)


def _blank_between(previous: tuple[str, bool], current: tuple[str, bool], leading: Sequence[_Comment]) -> bool:
    """A blank line between statements of different kinds, around multi-line ones, or where the source had one
    before the comments of the next statement (section headings)."""
    return previous[0] != current[0] or previous[1] or current[1] or bool(leading and leading[0].blank_before)
