"""The order in which a member's events are taken: one total order, whatever the packaging.

Events are taken by instant; events of the same instant by type, then id (an event
without one first), then the values of the type's declared fields, field by field in
name order (a missing value first; numbers by value, text by code point, dates by
day, false before true). So the same history shuffled, split into other files or
given in another format evaluates the same. Only events equal in all of these keep
their input order, and they differ in nothing the evaluation reads.

The per-member evaluator sorts by `event_key`; the columnar one orders its SQL by
`tie_key_sql`, which must give the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from loyalty_dsl.evaluation.compile import FieldSpec
from loyalty_dsl.evaluation.events import Event

Schema = dict[str, tuple[FieldSpec, ...]]
_ZERO_SQL = {  # a stand-in for a missing value: its presence flag, compared first, tells them apart
    "text": "''",
    "integer": "0",
    "number": "0.0",
    "money": "0.0",
    "date": "DATE '0001-01-01'",
    "boolean": "false",
}


def field_names(schema: Schema) -> dict[str, tuple[str, ...]]:
    """Each type's declared fields, in the order they break ties."""
    return {t: tuple(sorted(spec.name for spec in specs)) for t, specs in schema.items()}


def event_key(event: Event, names: dict[str, tuple[str, ...]]) -> tuple[Any, ...]:
    fields = event.fields
    values = tuple((fields.get(n) is not None, fields.get(n)) for n in names.get(event.type, ()))
    return (event.at, event.type, event.id is not None, event.id or "", values)


def sort_events(events: list[Event], schema: Schema) -> None:
    """One member's events in the total order, each ranked by its place in it."""
    names = field_names(schema)
    events.sort(key=lambda e: event_key(e, names))  # stable: only identical events keep input order
    for rank, event in enumerate(events):
        event.rank = rank


def tie_key_sql(specs: Sequence[FieldSpec], alias: str = "") -> list[str]:
    """After the instant and type: the SQL terms of the same order, for rows of one type
    whose fields are `specs` (`seq`, the input position, last, as the stable sort has it)."""
    p = f"{alias}." if alias else ""
    terms = [f"{p}id IS NOT NULL", f"coalesce({p}id, '')"]
    for spec in sorted(specs, key=lambda s: s.name):
        column = p + '"' + spec.name.replace('"', '""') + '"'
        terms += [f"{column} IS NOT NULL", f"coalesce({column}, {_ZERO_SQL[spec.type]})"]
    return [*terms, f"{p}seq"]
