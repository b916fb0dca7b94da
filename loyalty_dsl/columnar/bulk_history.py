"""A history read in bulk, as the per-member evaluator reads it: events by member.

Programs off the columnar plan are still evaluated member by member, but their
history need not be read line by line: where the bulk reader is sure of a file,
its table becomes the `History` the line reader would give (the same events,
fields, places and order), at a fraction of the cost. Only the members asked for
are converted, so that each process of a run converts its own share.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from loyalty_dsl.columnar.bulk_read import BulkHistory
from loyalty_dsl.evaluation.compile import CompiledProgram
from loyalty_dsl.evaluation.events import Event
from loyalty_dsl.evaluation.order import sort_events
from loyalty_dsl.io.history import History

_FIXED = 5  # member, type, at, seq, id: the field columns follow


def history_of(bulk: BulkHistory, program: CompiledProgram, members: Sequence[str] | None = None) -> History:
    """The `History` of `members` (all of them if None), every event with its file and line."""
    table = bulk.events
    if members is not None:
        table = table.filter(pc.is_in(table.column("member"), value_set=pa.array(members, pa.string())))
    # Input order within each member first: sort_events is stable, as after the line reader.
    table = table.sort_by([("member", "ascending"), ("seq", "ascending")])
    member_of, types, ats, seqs, ids = (table.column(i).to_pylist() for i in range(_FIXED))
    names = table.column_names[_FIXED:]
    values = [table.column(i).to_pylist() for i in range(_FIXED, table.num_columns)]
    column = {name: i for i, name in enumerate(names)}
    declared = {t: [(column[s.name], s.name) for s in specs] for t, specs in program.schema.items()}
    places = bulk.places(seqs)
    by_member: dict[str, list[Event]] = {m: [] for m in (bulk.members if members is None else members)}
    for row, (member, type_, at, seq, id_) in enumerate(zip(member_of, types, ats, seqs, ids, strict=True)):
        file, line = places[row]
        by_member[member].append(Event(at, seq, type_, event_fields(values, row, declared[type_]), file, line, id_))
    for events in by_member.values():
        sort_events(events, program.schema)
    return History(by_member, bulk.accounting, bulk.latest)


def event_fields(values: list[list[Any]], row: int, declared: list[tuple[int, str]]) -> dict[str, Any]:
    """An event's fields as the line reader gives them: its type's, where present."""
    out = {}
    for column, name in declared:
        value = values[column][row]
        if value is not None:
            out[name] = value
    return out
