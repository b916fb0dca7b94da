"""Checks of what the evaluators can hold: figures within the calendar, names a rule can read.

A duration is bounded by the calendar the evaluators count in (years 1 to 9999), so
a figure `check` passes never overflows a date at run time. `member` and `id` name the
member and tell repeated lines apart: they are no fields of an event, so a rule or a
decision that reads them is refused here (the evaluators would disagree on them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING

from loyalty_dsl.language import ast
from loyalty_dsl.language.diagnostics import Diagnostic

if TYPE_CHECKING:
    from loyalty_dsl.language.check import Symbols

MAX_DAYS = dt.date.max.toordinal()  # 3652059: the days of years 1 to 9999
MAX_MONTHS = 9999 * 12  # 119988
MAX_TIMES = 100_000  # `N times` in an example: a history of that many lines is already absurd
NOT_FIELDS = {
    "member": "`member` names the member: a rule or decision applies to every member alike, it cannot read it",
    "id": "`id` only tells repeated lines apart: a rule or decision cannot read it",
}


def check_limits(p: ast.Program, s: Symbols) -> list[Diagnostic]:
    return [*_durations(p), *_not_fields(p)]


def _durations(p: ast.Program) -> Iterator[Diagnostic]:
    found: list[tuple[ast.Literal | None, str]] = []
    for w in p.windows:
        if isinstance(w, ast.RollingWindow):
            found.append((w.length, "months"))
    for rule in p.rules:
        if rule.vesting is not None:
            found.append((rule.vesting.amount, rule.vesting.unit.text))
    for g in p.grants:
        if g.notice is not None:
            found.append((g.notice.amount, g.notice.unit.text))
    for e in p.expiries:
        if e.kind == "after":
            found.append((e.amount, e.unit.text))
    for r in p.retention:
        if r.kind == "grace":
            found.append((r.amount, "months"))
    for figure, unit in found:
        if figure is None or isinstance(figure.value, bool) or not isinstance(figure.value, (int, float)):
            continue  # not a number: the checks of its statement say so
        months = unit in ("month", "months")
        bound = MAX_MONTHS if months else MAX_DAYS
        if figure.value > bound:
            yield Diagnostic.at(
                figure.span,
                "E187",
                f"{figure.text} {'months' if months else 'days'} is beyond the calendar (years 1 to 9999): "
                f"at most {bound}",
            )


def _not_fields(p: ast.Program) -> Iterator[Diagnostic]:
    names: list[ast.Name] = []
    for rule in p.rules:
        names += _condition_names(rule.where)
        earn = rule.earn
        if isinstance(earn.amount, ast.Name):
            names.append(earn.amount)
        names += earn.per
        if earn.threshold is not None and earn.threshold.key is not None:
            names.append(earn.threshold.key)
    for d in p.decisions:
        names += _condition_names(d.when)
        if d.key is not None:
            names.append(d.key)
    for name in names:
        if name.text in NOT_FIELDS:
            yield Diagnostic.at(
                name.span,
                "E188",
                NOT_FIELDS[name.text],
                "declare the value as a field of the event if the history carries it under another name",
            )


def _condition_names(cond: ast.Condition | None) -> list[ast.Name]:
    if cond is None:
        return []
    if isinstance(cond, (ast.And, ast.Or)):
        return _condition_names(cond.left) + _condition_names(cond.right)
    if isinstance(cond, ast.Not):
        return _condition_names(cond.operand)
    if isinstance(cond, ast.Compare):
        return [x for x in (cond.left, cond.right) if isinstance(x, ast.Name)]
    return [cond.field]  # FactTest, MemberOf, FieldTest


def check_times(given: ast.GivenEvent) -> list[Diagnostic]:
    """`N times EVENT` in an example: bounded, so an example stays a short history."""
    if given.times <= MAX_TIMES:
        return []
    return [Diagnostic.at(given.span, "E193", f"{given.times} times is too many for an example: at most {MAX_TIMES}")]
