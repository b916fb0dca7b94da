"""`loyalty lint`: warnings about programs that run but cannot behave as written.

check.py rejects what cannot run; lint looks for loyalty programs that run but
are very likely wrong: a tier no member can reach, a cap that cuts every
earning, a benefit no tier gives, a condition that never holds. A finding is
only reported when the program text proves it, and check's errors are not
repeated. Each finding has a stable code (see `CODES`), a place and a one-line
hint, with severity "warning". Lint also runs on programs that fail check: it
skips what it cannot read rather than guessing.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import math
from collections.abc import Callable, Iterator
from fractions import Fraction
from functools import lru_cache
from typing import Protocol

import attrs

from loyalty_dsl.evaluation.exact import factor_of
from loyalty_dsl.language import ast
from loyalty_dsl.language.check import Symbols
from loyalty_dsl.language.diagnostics import Diagnostic
from loyalty_dsl.language.fmt import format_condition
from loyalty_dsl.language.vocabulary import NUMERIC, PERIODS, REDEEM_WHERE_NAMES

CODES: dict[str, str] = {
    "L101": "a tier listed after a tier with a higher threshold",
    "L102": "two tiers with the same threshold",
    "L103": "a tier that no member can reach",
    "L104": "a cap smaller than a single earning",
    "L105": "a grant or decision about a benefit that no tier gives",
    "L106": "a benefit that no tier gives",
    "L107": "a field declared with different types in different events",
    "L108": "a condition that can never hold",
    "L109": "a cap per period longer than the window",
    "L110": "a rule that can never earn",
    "L111": "a cap that can never bind",
    "L112": "a tier that drops a benefit of the tier below it",
    "L113": "a fact that no condition tests",
    "L114": "a redemption size that the bounds or multiples always refuse",
}
"""Every lint code and what it finds; codes are stable: new findings get new codes."""

Lint = Callable[[ast.Program, Symbols], list[Diagnostic]]


def lint(program: ast.Program) -> list[Diagnostic]:
    """Every lint finding of the program, in source order."""
    symbols = Symbols.of(program)
    found = [d for run in LINTS for d in run(program, symbols)]
    return sorted(found, key=lambda d: (d.file, d.line, d.col, d.code))


class _Placed(Protocol):
    @property
    def span(self) -> ast.Span: ...


def _warn(node: _Placed, code: str, message: str, hint: str) -> Diagnostic:
    return attrs.evolve(Diagnostic.at(node.span, code, message, hint), severity="warning")


def _whole(lit: ast.Literal) -> int | None:
    """A whole number as written, else None (check reports other values)."""
    if lit.kind == "number" and isinstance(lit.value, int) and not isinstance(lit.value, bool):
        return lit.value
    return None


def _points(n: int) -> str:
    return f"{n} point" if n == 1 else f"{n} points"


# --- tiers ---------------------------------------------------------------------------


def lint_tier_order(p: ast.Program, s: Symbols) -> list[Diagnostic]:
    """L101, L102: tiers are read from the lowest threshold up.

    check's E141 compares each tier with the one just before it only; lint adds
    a tier below an earlier, non-adjacent one, and names equal thresholds as
    such (only one of the two tiers can ever be in force).
    """
    out = []
    if not all(t.points_only for t in p.tiers):
        return []  # tiers that qualify on measures rank in the order written
    for i, tier in enumerate(p.tiers):
        th = _whole(tier.threshold)
        if th is None:
            continue
        earlier = [(t, n) for t in p.tiers[:i] if (n := _whole(t.threshold)) is not None]
        same = next((t for t, n in earlier if n == th), None)
        if same is not None:
            out.append(
                _warn(
                    tier.threshold,
                    "L102",
                    f"tiers `{same.name.text}` and `{tier.name.text}` both start at {_points(th)}: "
                    "only one of them can ever be in force",
                    "give each tier its own threshold",
                )
            )
        previous = _whole(p.tiers[i - 1].threshold) if i else None
        above = max(((t, n) for t, n in earlier if n > th), key=lambda x: x[1], default=None)
        if above is not None and (previous is None or th > previous):  # else check's E141 says it
            out.append(
                _warn(
                    tier.threshold,
                    "L101",
                    f"tier `{tier.name.text}` ({_points(th)}) is listed after `{above[0].name.text}` "
                    f"({_points(above[1])})",
                    "list tiers from the lowest threshold to the highest",
                )
            )
    return out


def lint_unreachable_tiers(p: ast.Program, s: Symbols) -> list[Diagnostic]:
    """L103: a threshold above the most points the rules can ever put in a window.

    Only when every rule is bounded (capped, or paid once per period): one
    unbounded rule (such as `earn points` with no cap) makes every tier reachable.
    """
    window = _window(p)
    if window is None:
        return []
    most = 0
    multiplied = {m.rule.text: m for m in p.multipliers}
    for rule in p.rules:
        if rule.earn.into is not None and rule.earn.into.text != "points":
            continue  # it feeds a measure: no points toward a tier
        bound = _rule_bound(rule, window.months, _field_decls(s, rule.on.text))
        if bound is None:
            return []
        factor = Fraction(1)
        for m in (m for m in p.multipliers if m.rule.text == rule.name.text):  # all may apply at once
            factor *= factor_of(m.factor.text) if isinstance(m.factor.value, (int, float)) else Fraction(1)
        most += math.floor(bound * max(factor, Fraction(1))) if rule.name.text in multiplied else bound
    span = "lifetime" if window.months is None else f"{window.months}-month window"
    out = []
    for tier in p.tiers:
        th = _whole(tier.threshold) if tier.points_only else None  # a measure may reach the others
        if th is not None and th > most:
            out.append(
                _warn(
                    tier.threshold,
                    "L103",
                    f"tier `{tier.name.text}` needs {_points(th)}, but the rules can earn at most {most} in the {span}",
                    "lower the threshold, or raise the caps of the rules",
                )
            )
    return out


@attrs.frozen
class _Window:
    months: int | None  # None: lifetime, every point counts for ever


def _window(p: ast.Program) -> _Window | None:
    """The program's window, or None when check rejects it (lint then assumes nothing)."""
    if not p.windows:
        return None
    w = p.windows[0]
    if isinstance(w, ast.LifetimeWindow):
        return _Window(None)
    if isinstance(w, ast.CalendarYearWindow):
        return _Window(12)  # at most a year's months count at once
    n = _whole(w.length)
    return _Window(n) if n is not None and n >= 1 and w.unit.text in ("month", "months") else None


def _rule_bound(rule: ast.RuleDecl, months: int | None, fields: dict[str, _Field]) -> int | None:
    """The most points a rule can keep in one window, or None when it is unbounded."""
    if rule.where is not None and _never_holds(rule.where, fields) is not None:
        return 0
    bounds = []
    for cap in rule.caps:
        amount = _whole(cap.amount)
        if amount is None:
            continue
        if cap.period.text == "window":
            bounds.append(amount)
        elif months is not None and cap.period.text in PERIODS:
            bounds.append(amount * _most_periods(cap.period.text, months))
    # `for every` pays a multiple of its amount: only a rule earning 0 is bounded by it.
    fixed = _whole(rule.earn.amount) if isinstance(rule.earn.amount, ast.Literal) else None
    if rule.earn.every is not None and fixed != 0:
        fixed = None
    keys = [k.text for k in rule.earn.per]
    if fixed is not None and months is not None and keys and all(k in PERIODS for k in keys):
        # One payment per distinct key; every period key is a function of the day.
        units = min(_most_periods("day", months), math.prod(_most_periods(k, months) for k in keys))
        bounds.append(fixed * units)
    if fixed == 0:
        bounds.append(0)
    return min(bounds) if bounds else None


@lru_cache(maxsize=256)
def _most_days(months: int) -> int:
    """The most days in `months` consecutive calendar months (over a whole 400-year cycle)."""
    lengths = [calendar.monthrange(2000 + i // 12, i % 12 + 1)[1] for i in range(400 * 12 + months)]
    running = sum(lengths[:months])
    best = running
    for i in range(months, len(lengths)):
        running += lengths[i] - lengths[i - months]
        best = max(best, running)
    return best


def _most_periods(period: str, months: int) -> int:
    """The most distinct days, weeks, months or years that `months` consecutive months touch."""
    if period == "month":
        return months
    if period == "year":
        return (months + 10) // 12 + 1  # starting in December
    if period == "quarter":
        return (months + 1) // 3 + 1  # starting in a quarter's last month
    days = _most_days(months)
    if period == "day":
        return days
    return 1 + math.ceil((days - 1) / 7)  # weeks: the first may hold a single day


def lint_tier_benefits(p: ast.Program, s: Symbols) -> list[Diagnostic]:
    """L112: a tier that lacks a benefit the tier just below it gives.

    Members expect a higher tier to keep what the lower one had; a missing line
    in a long tier list is an easy slip.
    """
    out = []
    ordered = (
        sorted((t for t in p.tiers if _whole(t.threshold) is not None), key=lambda t: _whole(t.threshold) or 0)
        if all(t.points_only for t in p.tiers)
        else list(p.tiers)  # tiers on measures rank in the order written
    )
    for lower, higher in itertools.pairwise(ordered):
        has = {b.name.text for b in higher.benefits}
        for dropped in (b for b in lower.benefits if b.name.text not in has):
            out.append(
                _warn(
                    higher.name,
                    "L112",
                    f"tier `{higher.name.text}` does not give `{dropped.name.text}`, "
                    f"which the lower tier `{lower.name.text}` gives",
                    f"add `{dropped.name.text}` to `{higher.name.text}` if members keep it when they move up",
                )
            )
    return out


# --- caps and windows --------------------------------------------------------------


def lint_caps(p: ast.Program, s: Symbols) -> list[Diagnostic]:
    """L104, L110, L111: caps that cut every earning, stop every earning, or never act."""
    out: list[Diagnostic] = []
    for rule in p.rules:
        out += _cap_below_earning(rule, s)
        out += _never_earns(rule)
        out += _caps_never_binding(rule)
    return out


def _single_earning(rule: ast.RuleDecl, s: Symbols) -> int | None:
    """The least one earning can be: the fixed amount, or an integer field's `at least`."""
    amount = rule.earn.amount
    if isinstance(amount, ast.Literal):
        return _whole(amount)
    decl = s.fields.get(rule.on.text, {}).get(amount.text)
    if decl is None or decl.at_least is None:
        return None
    least = decl.at_least.value
    return math.ceil(least) if isinstance(least, (int, float)) and not isinstance(least, bool) else None


def _cap_below_earning(rule: ast.RuleDecl, s: Symbols) -> list[Diagnostic]:
    least = _single_earning(rule, s)
    out = []
    for cap in rule.caps:
        amount = _whole(cap.amount)
        if least is not None and amount is not None and 0 < amount < least:
            out.append(
                _warn(
                    cap.amount,
                    "L104",
                    f"the cap of {_points(amount)} per {cap.period.text} is smaller than one earning "
                    f"of rule `{rule.name.text}` ({least}): each {cap.period.text} pays {amount}, never {least}",
                    f"raise the cap to at least {least}, or lower what the rule earns",
                )
            )
    return out


def _never_earns(rule: ast.RuleDecl) -> list[Diagnostic]:
    if isinstance(rule.earn.amount, ast.Literal) and _whole(rule.earn.amount) == 0:
        return [
            _warn(
                rule.earn.amount,
                "L110",
                f"rule `{rule.name.text}` earns 0 points",
                "earn at least 1 point, or remove the rule",
            )
        ]
    return [
        _warn(
            cap.amount,
            "L110",
            f"a cap of 0 per {cap.period.text}: rule `{rule.name.text}` can never earn",
            "raise the cap, or remove the rule",
        )
        for cap in rule.caps
        if _whole(cap.amount) == 0
    ]


# Calendar periods that always lie inside a longer one (a week can straddle two months).
_INSIDE = {("day", "week"), ("day", "month"), ("day", "year"), ("month", "year"), ("week", "year")}


def _caps_never_binding(rule: ast.RuleDecl) -> list[Diagnostic]:
    """A cap on a short period at or above the cap on a period holding it: the longer cap binds first."""
    caps = [(c, _whole(c.amount)) for c in rule.caps]
    out = []
    for short, a in caps:
        for long, b in caps:
            if a is None or b is None or b == 0 or (short.period.text, long.period.text) not in _INSIDE:
                continue
            if a >= b:
                out.append(
                    _warn(
                        short.amount,
                        "L111",
                        f"the cap of {a} per {short.period.text} never binds: "
                        f"the cap of {b} per {long.period.text} is reached first",
                        f"lower the cap per {short.period.text} below {b}, or remove it",
                    )
                )
    return out


def lint_window_caps(p: ast.Program, s: Symbols) -> list[Diagnostic]:
    """L109: a cap per year with a window of fewer than 12 months.

    The window never holds a whole year, so the yearly cap counts points that
    have already left the window: it was most likely meant per window.
    """
    window = _window(p)
    months = window.months if window is not None else None
    if months is None or months >= 12:
        return []
    return [
        _warn(
            cap.period,
            "L109",
            f"rule `{rule.name.text}` has a cap per year, but the window is only {months} months long",
            f"write `cap {cap.amount.text} per window`, or lengthen the window to 12 months",
        )
        for rule in p.rules
        for cap in rule.caps
        if cap.period.text == "year"
    ]


# --- benefits, fields and facts -------------------------------------------------------------


def lint_benefits(p: ast.Program, s: Symbols) -> list[Diagnostic]:
    """L105, L106: a benefit that no tier gives is never in force.

    So a grant or decision about it never grants; L105 marks each of them, L106
    the declaration. (An undeclared benefit is check's E103.)
    """
    given = {b.name.text for t in p.tiers for b in t.benefits}
    out = []
    for b in p.benefits:
        if b.name.text not in given:
            out.append(
                _warn(
                    b.name,
                    "L106",
                    f"benefit `{b.name.text}` is given by no tier",
                    f"list `{b.name.text}` under the tiers that give it, or remove the declaration",
                )
            )
    about = [(g.benefit, "this grant never happens") for g in p.grants]
    about += [(d.benefit, "this decision always refuses") for d in p.decisions]
    for name, outcome in about:
        if name.text in s.benefits and name.text not in given:
            out.append(
                _warn(
                    name,
                    "L105",
                    f"{outcome}: no tier gives `{name.text}`",
                    f"list `{name.text}` under the tiers that give it",
                )
            )
    return out


def lint_field_types(p: ast.Program, s: Symbols) -> list[Diagnostic]:
    """L107: one field name with two types, such as `order: text` and `order: integer`.

    Facts match values across events (a basket is cancelled by another event of
    the same order), so the same name with another type is almost always a slip.
    Fact subjects with different types are already check's E131.
    """
    first: dict[str, tuple[ast.EventDecl, ast.FieldDecl]] = {}
    out = []
    for event in p.events:
        for f in event.fields:
            seen = first.setdefault(f.name.text, (event, f))
            if seen[1].type.text != f.type.text and seen[0] is not event:
                out.append(
                    _warn(
                        f.type,
                        "L107",
                        f"`{f.name.text}` is {f.type.text} here but {seen[1].type.text} in "
                        f"`{seen[0].name.text}` (line {seen[1].span.line})",
                        "use one type for a field name in every event, or rename one of them",
                    )
                )
    return out


def lint_facts(p: ast.Program, s: Symbols) -> list[Diagnostic]:
    """L113: a fact that no rule or decision tests has no effect."""
    tested = {c.fact.text for cond in _conditions(p) for c in _atoms(cond) if isinstance(c, ast.FactTest)}
    return [
        _warn(
            f.fact,
            "L113",
            f"no condition tests whether {f.subject.text} is {f.fact.text}",
            f"use it in a rule (`where {f.subject.text} is {f.fact.text}`), or remove it",
        )
        for f in p.facts
        if f.fact.text not in tested
    ]


def _conditions(p: ast.Program) -> Iterator[ast.Condition]:
    yield from (r.where for r in p.rules if r.where is not None)
    yield from (d.when for d in p.decisions if d.when is not None)
    yield from (r.where for r in p.redemptions if r.where is not None)


def _atoms(cond: ast.Condition) -> Iterator[ast.Condition]:
    if isinstance(cond, (ast.And, ast.Or)):
        yield from _atoms(cond.left)
        yield from _atoms(cond.right)
    elif isinstance(cond, ast.Not):
        yield from _atoms(cond.operand)
    else:
        yield cond


# --- conditions that can never hold ---------------------------------------------------------------


def lint_conditions(p: ast.Program, s: Symbols) -> list[Diagnostic]:
    """L108: a rule's `where` or a decision's `grant when` that no event can satisfy."""
    out = []
    for rule in p.rules:
        if rule.where is not None:
            why = _never_holds(rule.where, _field_decls(s, rule.on.text))
            if why is not None:
                out.append(_never(rule.where, f"the condition of rule `{rule.name.text}` can never hold: {why}"))
    for d in p.decisions:
        if d.when is not None:
            why = _never_holds(d.when, _field_decls(s, d.on.text))
            if why is not None:
                out.append(_never(d.when, f"the condition of decision `{d.benefit.text}` can never hold: {why}"))
    for r in p.redemptions:
        if r.where is not None:
            fields = _field_decls(s, r.event.text)
            fields.update({name: _Field(t, False) for name, t in REDEEM_WHERE_NAMES.items()})
            why = _never_holds(r.where, fields)
            if why is not None:
                out.append(_never(r.where, f"the condition of `redeem ... by {r.event.text}` can never hold: {why}"))
    return out


def _never(cond: ast.Condition, message: str) -> Diagnostic:
    return _warn(cond, "L108", message, "fix the values compared, or join the parts with `or` if either is enough")


@attrs.frozen
class _Field:
    """What a condition may assume about a field: its type, and whether it can be absent."""

    type: str
    may_be_missing: bool


def _field_decls(s: Symbols, event: str) -> dict[str, _Field]:
    fields = {
        name: _Field(f.type.text, f.optional and f.default is None) for name, f in s.fields.get(event, {}).items()
    }
    fields.update(member=_Field("text", False), id=_Field("text", True))
    return fields


# A literal atom: (the atom, whether it is negated).
_Lit = tuple[ast.Condition, bool]
_MAX_TERMS = 64  # beyond this many alternatives, give up rather than prove


def _never_holds(cond: ast.Condition, fields: dict[str, _Field]) -> str | None:
    """Why no event satisfies the condition, or None when one may (or it is too big to tell).

    The condition is put in disjunctive normal form (an `or` of `and`s of
    atoms); it never holds when every alternative holds a contradiction on one
    field or fact.
    """
    terms = _dnf(cond, False)
    if terms is None:
        return None
    reasons = []
    for term in terms:
        why = _contradiction(term, fields)
        if why is None:
            return None
        reasons.append(why)
    if len(reasons) == 1:
        return reasons[0]
    return "none of its alternatives can (" + "; ".join(reasons) + ")"


def _dnf(cond: ast.Condition, negated: bool) -> list[list[_Lit]] | None:
    """Alternatives of conjunctions of (atom, negated), pushing `not` down (De Morgan)."""
    if isinstance(cond, ast.Not):
        return _dnf(cond.operand, not negated)
    if isinstance(cond, (ast.And, ast.Or)):
        left, right = _dnf(cond.left, negated), _dnf(cond.right, negated)
        if left is None or right is None:
            return None
        conjunction = isinstance(cond, ast.And) != negated
        if not conjunction:
            return left + right if len(left) + len(right) <= _MAX_TERMS else None
        if len(left) * len(right) > _MAX_TERMS:
            return None
        return [a + b for a in left for b in right]
    return [[(cond, negated)]]


def _contradiction(term: list[_Lit], fields: dict[str, _Field]) -> str | None:
    """The words of a contradiction in one conjunction of atoms, or None."""
    facts: dict[tuple[str, str], set[bool]] = {}
    by_field: dict[str, list[_Lit]] = {}
    for atom, negated in term:
        if isinstance(atom, ast.FactTest):
            facts.setdefault((atom.field.text, atom.fact.text), set()).add(atom.negated != negated)
            if len(facts[atom.field.text, atom.fact.text]) == 2:
                return f"`{atom.field.text} is {atom.fact.text}` and `{atom.field.text} is not {atom.fact.text}`"
        else:
            name = _field_of(atom)
            if name is not None:
                by_field.setdefault(name, []).append((atom, negated))
    for name, lits in by_field.items():
        field = fields.get(name)
        if field is not None and _impossible(lits, field):
            return " and ".join(f"`{_show(atom, negated)}`" for atom, negated in lits)
    return None


def _show(atom: ast.Condition, negated: bool) -> str:
    text = format_condition(atom)
    return f"not {text}" if negated else text


def _field_of(atom: ast.Condition) -> str | None:
    """The field an atom constrains against literals only (field-to-field comparisons are skipped)."""
    if isinstance(atom, (ast.MemberOf, ast.FieldTest)):
        return atom.field.text
    if isinstance(atom, ast.Compare):
        names = [op for op in (atom.left, atom.right) if isinstance(op, ast.Name)]
        return names[0].text if len(names) == 1 else None
    return None


_FLIP = {">=": "<=", "<=": ">=", ">": "<", "<": ">", "==": "==", "!=": "!="}
_NEGATE = {"==": "!=", "!=": "==", ">=": "<", "<=": ">", ">": "<=", "<": ">="}


@attrs.define
class _Values:
    """The values a field may still take: an interval, a finite set, exclusions."""

    low: float = -math.inf
    low_open: bool = False
    high: float = math.inf
    high_open: bool = False
    allowed: set[object] | None = None
    excluded: set[object] = attrs.Factory(set)
    ordered: bool = True  # False: comparisons other than = and != are not understood

    def bound(self, op: str, v: object) -> None:
        if op == "==":
            self.allow({v})
        elif op == "!=":
            self.excluded.add(v)
        elif not isinstance(v, (int, float)) or isinstance(v, bool) or not self.ordered:
            return  # an ordering this lint does not model: assume nothing
        elif op in (">", ">="):
            if v > self.low or (v == self.low and op == ">"):
                self.low, self.low_open = v, op == ">"
        elif v < self.high or (v == self.high and op == "<"):
            self.high, self.high_open = v, op == "<"

    def allow(self, values: set[object]) -> None:
        self.allowed = set(values) if self.allowed is None else self.allowed & values

    def admits(self, v: object) -> bool:
        if v in self.excluded:
            return False
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            return True
        above = v > self.low or (v == self.low and not self.low_open)
        below = v < self.high or (v == self.high and not self.high_open)
        return above and below

    def empty(self, integer: bool) -> bool:
        if self.allowed is not None:
            return not any(self.admits(v) for v in self.allowed)
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            return False  # infinitely many values, and finitely many exclusions
        if integer:
            return self._no_whole_number()
        if self.low != self.high:
            return self.low > self.high
        return self.low_open or self.high_open or self.low in self.excluded

    def _no_whole_number(self) -> bool:
        """Whether every whole number of the (finite) interval is outside it or excluded."""
        lo, hi = math.ceil(self.low), math.floor(self.high)
        lo += 1 if self.low_open and lo == self.low else 0
        hi -= 1 if self.high_open and hi == self.high else 0
        if hi - lo + 1 > len(self.excluded):
            return False
        return all(n in self.excluded for n in range(lo, hi + 1))


def _impossible(lits: list[_Lit], field: _Field) -> bool:
    """Whether the atoms on one field rule out every value (and, if it may be absent, absence too).

    An absent field fails a comparison, `in` and a yes/no test, but passes
    their negations; so a negated atom on a field that may be absent proves nothing.
    """
    if field.may_be_missing and all(_holds_when_absent(atom, negated) for atom, negated in lits):
        return False
    values = _Values(ordered=field.type in NUMERIC)
    for atom, negated in lits:
        if not _constrain(values, atom, negated, field.type):
            return False
    if field.type == "boolean" and values.allowed is None:
        values.allow({True, False})
    return values.empty(field.type == "integer")


def _holds_when_absent(atom: ast.Condition, negated: bool) -> bool:
    return negated != (isinstance(atom, ast.MemberOf) and atom.negated)


def _constrain(values: _Values, atom: ast.Condition, negated: bool, type_name: str) -> bool:
    """Narrow `values` by one atom; False when the atom is not understood (then nothing is proved)."""
    if isinstance(atom, ast.FieldTest):
        values.allow({not negated})
        return type_name == "boolean"
    if isinstance(atom, ast.MemberOf):
        members = [_value(v, type_name) for v in atom.values]
        if any(m is None for m in members):
            return False
        if atom.negated != negated:
            values.excluded.update(members)
        else:
            values.allow(set(members))
        return True
    assert isinstance(atom, ast.Compare)
    op, lit = (atom.op, atom.right) if isinstance(atom.right, ast.Literal) else (_FLIP[atom.op], atom.left)
    assert isinstance(lit, ast.Literal)
    v = _value(lit, type_name)
    if v is None:
        return False
    values.bound(_NEGATE[op] if negated else op, v)
    return True


def _value(lit: ast.Literal, type_name: str) -> object | None:
    """A literal as the field's values compare (None when types do not fit: check reports that)."""
    if type_name in NUMERIC:
        ok = lit.kind == "number"
    elif type_name == "date" and lit.kind == "string":
        try:
            return dt.date.fromisoformat(str(lit.value))
        except ValueError:
            return None
    else:
        ok = {"text": "string", "boolean": "boolean"}.get(type_name) == lit.kind
    return lit.value if ok else None


# --- redemption rules ------------------------------------------------------------------------------


def lint_redemption_sizes(p: ast.Program, s: Symbols) -> list[Diagnostic]:
    """L114: a size of `in sizes` that `at least`, `at most` or `in multiples of` refuses, whoever claims it.

    check refuses rules that leave no claim at all (E266); a size they leave out is only dead.
    """
    out = []
    for r in p.redemptions:
        low = _whole(r.at_least) if r.at_least is not None else None
        high = _whole(r.at_most) if r.at_most is not None else None
        step = _whole(r.multiple) if r.multiple is not None else None
        for size in r.sizes:
            n = _whole(size)
            if n is None:
                continue
            why = (
                f"below at least {low}"
                if low is not None and n < low
                else f"above at most {high}"
                if high is not None and n > high
                else f"not a multiple of {step}"
                if step and n % step
                else None
            )
            if why is not None:
                out.append(
                    _warn(size, "L114", f"a claim of {n} is always refused: {why}", "drop the size, or fix the bound")
                )
    return out


LINTS: tuple[Lint, ...] = (
    lint_tier_order,
    lint_unreachable_tiers,
    lint_tier_benefits,
    lint_caps,
    lint_window_caps,
    lint_benefits,
    lint_field_types,
    lint_facts,
    lint_conditions,
    lint_redemption_sizes,
)
