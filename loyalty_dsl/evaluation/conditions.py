"""Conditions compiled to closures.

Each operator's function is chosen once, when the closure is built, so that
evaluation runs no `if op == ...` chains. Two forms:

- predicates for rules: `(fields, facts, before) -> bool`, fast;
- explained tests for decisions: `(fields, params, facts, before) -> (bool, words)`,
  where the words say what was compared ("80.00 <= up_to 100").

`facts` maps a fact name to {value: instant it became true}; a fact holds for
a value when it became true before `before`.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable
from typing import Any

from loyalty_dsl.language import ast

Facts = dict[str, dict[Any, int]]
Predicate = Callable[[dict[str, Any], Facts, int], bool]
Explained = Callable[[dict[str, Any], dict[str, Any], Facts, int], tuple[bool, str]]

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}
_NEGATED = {"==": "!=", "!=": "==", ">=": "<", "<=": ">", ">": "<=", "<": ">="}


def fact_refs(cond: ast.Condition | None) -> tuple[tuple[str, str], ...]:
    """The (fact, field) pairs a condition looks up: when such a fact changes, re-test."""
    if cond is None:
        return ()
    if isinstance(cond, ast.FactTest):
        return ((cond.fact.text, cond.field.text),)
    if isinstance(cond, (ast.And, ast.Or)):
        return tuple(dict.fromkeys(fact_refs(cond.left) + fact_refs(cond.right)))
    if isinstance(cond, ast.Not):
        return fact_refs(cond.operand)
    return ()


def _coerce(lit: ast.Literal, other_type: str | None) -> Any:
    """A literal in the type of what it is compared with (a text literal against a date)."""
    if other_type == "date" and lit.kind == "string":
        return dt.date.fromisoformat(str(lit.value))
    return lit.value


def _getter(op: ast.Operand, types: dict[str, str], other: ast.Operand) -> Callable[[dict[str, Any]], Any]:
    if isinstance(op, ast.Literal):
        value = _coerce(op, types.get(other.text) if isinstance(other, ast.Name) else None)
        return lambda fields: value
    name = op.text
    return lambda fields: fields.get(name)


def compile_predicate(cond: ast.Condition | None, types: dict[str, str]) -> Predicate:
    """A condition as a fast closure; `types` maps the event's fields to their types."""
    if cond is None:
        return lambda fields, facts, before: True
    if isinstance(cond, ast.And):
        left, right = compile_predicate(cond.left, types), compile_predicate(cond.right, types)
        return lambda f, facts, b: left(f, facts, b) and right(f, facts, b)
    if isinstance(cond, ast.Or):
        left, right = compile_predicate(cond.left, types), compile_predicate(cond.right, types)
        return lambda f, facts, b: left(f, facts, b) or right(f, facts, b)
    if isinstance(cond, ast.Not):
        inner = compile_predicate(cond.operand, types)
        return lambda f, facts, b: not inner(f, facts, b)
    if isinstance(cond, ast.Compare):
        fn = _OPS[cond.op]
        lget, rget = _getter(cond.left, types, cond.right), _getter(cond.right, types, cond.left)

        def compare(f: dict[str, Any], facts: Facts, b: int) -> bool:
            left, right = lget(f), rget(f)
            return left is not None and right is not None and fn(left, right)

        return compare
    if isinstance(cond, ast.FactTest):
        fact, field, negated = cond.fact.text, cond.field.text, cond.negated

        def fact_test(f: dict[str, Any], facts: Facts, b: int) -> bool:
            since = facts.get(fact, {}).get(f.get(field))
            return (since is not None and since < b) != negated

        return fact_test
    if isinstance(cond, ast.MemberOf):
        values = frozenset(_coerce(v, types.get(cond.field.text)) for v in cond.values)
        field, negated = cond.field.text, cond.negated
        return lambda f, facts, b: (f.get(field) in values) != negated
    assert isinstance(cond, ast.FieldTest)
    field = cond.field.text
    return lambda f, facts, b: bool(f.get(field))


# --- explained tests for decisions ---------------------------------------------------


def render_value(value: Any, type_name: str | None) -> str:
    if value is None:
        return "nothing"
    if type_name == "money" and isinstance(value, (int, float)) and not isinstance(value, bool):
        cents = f"{value:.2f}"
        return cents if float(cents) == value else repr(float(value))  # never round a figure compared
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


def compile_explained(
    cond: ast.Condition, fields: dict[str, str], params: dict[str, str], name_fields: bool = False
) -> Explained:
    """A condition that also says, in the program's words, why it holds or fails.

    Decisions show a field by its value ("80.00 <= up_to 100"); rule ledgers name
    it too (`name_fields`: "amount 1.99 < 2.00").
    """
    if isinstance(cond, (ast.And, ast.Or)):
        left = compile_explained(cond.left, fields, params, name_fields)
        right = compile_explained(cond.right, fields, params, name_fields)
        want = isinstance(cond, ast.And)  # And: all must hold; Or: one is enough

        def both(f: dict[str, Any], p: dict[str, Any], facts: Facts, b: int) -> tuple[bool, str]:
            lok, lwhy = left(f, p, facts, b)
            if lok != want:
                return lok, lwhy
            rok, rwhy = right(f, p, facts, b)
            return (rok, f"{lwhy} and {rwhy}") if rok == want else (rok, rwhy)

        return both
    if isinstance(cond, ast.Not):
        inner = compile_explained(cond.operand, fields, params, name_fields)

        def negate(f: dict[str, Any], p: dict[str, Any], facts: Facts, b: int) -> tuple[bool, str]:
            ok, why = inner(f, p, facts, b)
            return not ok, why

        return negate
    if isinstance(cond, ast.Compare):
        fn, op = _OPS[cond.op], cond.op
        lget = _explained_operand(cond.left, cond.right, fields, params, name_fields)
        rget = _explained_operand(cond.right, cond.left, fields, params, name_fields)

        def compare(f: dict[str, Any], p: dict[str, Any], facts: Facts, b: int) -> tuple[bool, str]:
            (lv, lw), (rv, rw) = lget(f, p), rget(f, p)
            ok = lv is not None and rv is not None and fn(lv, rv)
            return ok, f"{lw} {op if ok else _NEGATED[op]} {rw}"

        return compare
    predicate = compile_predicate(cond, fields)
    words = _describe_simple(cond)

    def simple(f: dict[str, Any], p: dict[str, Any], facts: Facts, b: int) -> tuple[bool, str]:
        merged = {**p, **f}
        ok = predicate(merged, facts, b)
        return ok, words(merged, ok)

    return simple


def _type_of(op: ast.Operand, fields: dict[str, str], params: dict[str, str]) -> str | None:
    return (fields.get(op.text) or params.get(op.text)) if isinstance(op, ast.Name) else None


def _explained_operand(
    op: ast.Operand, other: ast.Operand, fields: dict[str, str], params: dict[str, str], name_fields: bool
) -> Callable[[dict[str, Any], dict[str, Any]], tuple[Any, str]]:
    if isinstance(op, ast.Literal):
        value = _coerce(op, _type_of(other, fields, params))
        return lambda f, p: (value, op.text)
    name = op.text
    if name in fields:
        t = fields[name]
        prefix = f"{name} " if name_fields else ""
        return lambda f, p: (f.get(name), prefix + render_value(f.get(name), t))
    # A parameter is shown as the program writes it: "limit 100", not "limit 100.00".
    return lambda f, p: (p.get(name), f"{name} {render_value(p.get(name), None)}")


def _describe_simple(cond: ast.Condition) -> Callable[[dict[str, Any], bool], str]:
    if isinstance(cond, ast.FieldTest):
        name = cond.field.text
        return lambda f, ok: f"{name} is {'true' if ok else 'false'}"
    if isinstance(cond, ast.FactTest):
        field, fact, negated = cond.field.text, cond.fact.text, cond.negated

        def fact_words(f: dict[str, Any], ok: bool) -> str:
            holds = ok != negated
            return f"{field} {render_value(f.get(field), None)} is {'' if holds else 'not '}{fact}"

        return fact_words
    assert isinstance(cond, ast.MemberOf)
    field = cond.field.text
    listed = ", ".join(v.text for v in cond.values)

    def member_words(f: dict[str, Any], ok: bool) -> str:
        inside = ok != cond.negated
        return f"{field} {render_value(f.get(field), None)} is {'' if inside else 'not '}in [{listed}]"

    return member_words
