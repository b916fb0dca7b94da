"""Every name written in a program, what kind of thing it names, and where that thing is declared.

Names are keyed by kind and text; a field's key is `event.field` and a benefit
parameter's is `benefit.param`, since two events may each have a field `amount`.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs

from loyalty_dsl.language import ast
from loyalty_dsl.language.check import PERIODS
from loyalty_dsl.language.vocabulary import REDEEM_WHERE_NAMES

KINDS = ("event", "field", "fact", "rule", "benefit", "param", "tier")


@attrs.frozen
class Occurrence:
    kind: str
    key: str
    span: ast.Span
    is_definition: bool

    @property
    def name(self) -> str:
        return self.key.rsplit(".", 1)[-1]


@attrs.define
class Index:
    occurrences: list[Occurrence] = attrs.field(factory=list)

    def at(self, line: int, col: int) -> Occurrence | None:
        """The name under a 1-based line and column (the end column is the character after it)."""
        for o in self.occurrences:
            if o.span.line == line and o.span.col <= col <= o.span.end_col:
                return o
        return None

    def definition(self, kind: str, key: str) -> Occurrence | None:
        return next((o for o in self.occurrences if o.is_definition and o.kind == kind and o.key == key), None)

    def references(self, kind: str, key: str) -> list[Occurrence]:
        return [o for o in self.occurrences if o.kind == kind and o.key == key]


def index_of(program: ast.Program) -> Index:
    index = Index()
    index.occurrences = [o for o in _walk(program) if o.span.file != ast.NO_SPAN.file]
    return index


def _def(kind: str, key: str, name: ast.Name) -> Occurrence:
    return Occurrence(kind, key, name.span, True)


def _ref(kind: str, key: str, name: ast.Name | None) -> Iterator[Occurrence]:
    if name is not None:
        yield Occurrence(kind, key, name.span, False)


def _walk(p: ast.Program) -> Iterator[Occurrence]:
    for e in p.events:
        yield _def("event", e.name.text, e.name)
        for f in e.fields:
            yield _def("field", f"{e.name.text}.{f.name.text}", f.name)
            if f.currency is not None:
                yield from _ref("field", f"{e.name.text}.{f.currency.text}", f.currency)
    for fact in p.facts:
        yield _def("fact", fact.fact.text, fact.fact)
        for ev in fact.events:
            yield from _ref("event", ev.text, ev)
    for b in p.benefits:
        yield _def("benefit", b.name.text, b.name)
        for param in b.params:
            yield _def("param", f"{b.name.text}.{param.name.text}", param.name)
    for t in p.tiers:
        yield _def("tier", t.name.text, t.name)
        for given in t.benefits:
            yield from _ref("benefit", given.name.text, given.name)
            for value in given.params:
                yield from _ref("param", f"{given.name.text}.{value.name.text}", value.name)
    for r in p.rules:
        yield from _rule(r)
    for g in p.grants:
        yield from _ref("benefit", g.benefit.text, g.benefit)
        yield from _ref("event", g.event.text, g.event)
        yield from _ref("field", f"{g.event.text}.{g.date.text}", g.date)
    for d in p.decisions:
        yield from _ref("benefit", d.benefit.text, d.benefit)
        yield from _ref("event", d.on.text, d.on)
        yield from _ref("field", f"{d.on.text}.{d.key.text}" if d.key else "", d.key)
        params = {param.name.text for b in p.benefits if b.name.text == d.benefit.text for param in b.params}
        if d.when is not None:
            for name in _condition_names(d.when):
                if name.text in params:
                    yield from _ref("param", f"{d.benefit.text}.{name.text}", name)
                else:
                    yield from _ref("field", f"{d.on.text}.{name.text}", name)
            yield from _facts_of(d.when)
    for m in p.multipliers:
        yield from _ref("rule", m.rule.text, m.rule)
        for tier in m.tiers:
            yield from _ref("tier", tier.text, tier)
        if m.event is not None:
            yield from _ref("event", m.event.text, m.event)
            yield from _ref("field", f"{m.event.text}.{m.field.text}" if m.field else "", m.field)
    for red in p.redemptions:
        yield from _ref("event", red.event.text, red.event)
        if red.field is not None:
            yield from _ref("field", f"{red.event.text}.{red.field.text}", red.field)
        yield from _ref("benefit", red.decided.text if red.decided else "", red.decided)
        if red.where is not None:  # `points` and `balance` are the language's, not fields
            for name in _condition_names(red.where):
                if name.text not in REDEEM_WHERE_NAMES:
                    yield from _ref("field", f"{red.event.text}.{name.text}", name)
            yield from _facts_of(red.where)
    for use in p.voucher_uses:
        yield from _ref("event", use.event.text, use.event)
    for test in p.tests:
        yield from _test(test)


def _rule(r: ast.RuleDecl) -> Iterator[Occurrence]:
    yield _def("rule", r.name.text, r.name)
    on = r.on.text
    yield from _ref("event", on, r.on)
    if r.where is not None:
        for name in _condition_names(r.where):
            yield from _ref("field", f"{on}.{name.text}", name)
        yield from _facts_of(r.where)
    if isinstance(r.earn.amount, ast.Name):
        yield from _ref("field", f"{on}.{r.earn.amount.text}", r.earn.amount)
    for key in r.earn.per:
        if key.text not in PERIODS:
            yield from _ref("field", f"{on}.{key.text}", key)
    if r.earn.threshold is not None and r.earn.threshold.key is not None and r.earn.threshold.key.text not in PERIODS:
        yield from _ref("field", f"{on}.{r.earn.threshold.key.text}", r.earn.threshold.key)


def _test(test: ast.TestDecl) -> Iterator[Occurrence]:
    for given in test.given:
        yield from _ref("event", given.type.text, given.type)
        for value in given.fields:
            yield from _ref("field", f"{given.type.text}.{value.name.text}", value.name)
    for e in test.expects:
        if e.what == "tier":
            yield from _ref("tier", e.name.text if e.name else "", e.name)
        elif e.what in ("benefit", "grant", "decision"):
            yield from _ref("benefit", e.name.text if e.name else "", e.name)


def _condition_names(cond: ast.Condition) -> Iterator[ast.Name]:
    """The fields (or parameters) a condition reads."""
    if isinstance(cond, ast.Compare):
        yield from (op for op in (cond.left, cond.right) if isinstance(op, ast.Name))
    elif isinstance(cond, ast.FactTest | ast.MemberOf | ast.FieldTest):
        yield cond.field
    elif isinstance(cond, ast.Not):
        yield from _condition_names(cond.operand)
    elif isinstance(cond, ast.And | ast.Or):
        yield from _condition_names(cond.left)
        yield from _condition_names(cond.right)


def _facts_of(cond: ast.Condition) -> Iterator[Occurrence]:
    if isinstance(cond, ast.FactTest):
        yield from _ref("fact", cond.fact.text, cond.fact)
    elif isinstance(cond, ast.Not):
        yield from _facts_of(cond.operand)
    elif isinstance(cond, ast.And | ast.Or):
        yield from _facts_of(cond.left)
        yield from _facts_of(cond.right)
