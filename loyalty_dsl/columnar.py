"""The columnar evaluator: every member's outcome from one table of events, with DuckDB.

Points come from the plan's steps (columnar_plan.py), summed at the status
instants the outcomes need: the as-of status of every member, the days a
grant may fall on, the instants of decided events. Grants and decisions are
then judged per member by the same functions the per-member evaluator uses,
over the few events they read, so their words are the same.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from loyalty_dsl import parallel
from loyalty_dsl.bulk_read import read_bulk
from loyalty_dsl.calendar import datetime_of, end_of_day
from loyalty_dsl.columnar_plan import AT, Plan
from loyalty_dsl.compile import CompiledGrant, CompiledProgram
from loyalty_dsl.evaluate import Outcome, Status, decisions, grant_verdicts, granted
from loyalty_dsl.events import Event
from loyalty_dsl.grants import candidate_days
from loyalty_dsl.history import Accounting, History, read_history
from loyalty_dsl.progress import Progress
from loyalty_dsl.run import Result

_ARROW_TYPES = {
    "text": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "money": pa.float64(),
    "date": pa.date32(),
    "boolean": pa.bool_(),
}


def field_types(program: CompiledProgram) -> dict[str, str]:
    """Every field name of the program's events, with its type (one type a name: plan() checks)."""
    return {spec.name: spec.type for specs in program.schema.values() for spec in specs}


def events_table(history: History, program: CompiledProgram) -> pa.Table:
    """The applied events of a history read per line, as the table the bulk reader gives."""
    types = field_types(program)
    events = [e for member_events in history.members.values() for e in member_events]
    columns: dict[str, Any] = {
        "member": pa.array([m for m, es in history.members.items() for _ in es], pa.string()),
        "type": pa.array([e.type for e in events], pa.string()),
        "at": pa.array([e.at for e in events], pa.int64()),
        "seq": pa.array([e.seq for e in events], pa.int64()),
        "id": pa.array([e.id for e in events], pa.string()),
    }
    for name in sorted(types):
        columns[name] = pa.array([e.fields.get(name) for e in events], _ARROW_TYPES[types[name]])
    return pa.table(columns)


@attrs.frozen
class Prepared:
    """What the per-member part needs, computed for all members at once (keyed by member index)."""

    plan: Plan
    members: Sequence[str]
    as_of: dt.date
    last: int  # the instant of the status at the end of the as-of day
    by_rule: dict[int, list[int]]  # points by rule at `last`
    special: dict[int, list[Event]]  # the events grants and decisions read
    days: dict[int, dict[CompiledGrant, list[int]]]  # the days each grant may fall on
    totals: dict[int, dict[int, int]]  # total points at the other statuses asked, by time


def outcomes(plan: Plan, events: pa.Table, members: Sequence[str], as_of: dt.date) -> Iterator[Outcome]:
    """One outcome for each of `members` (sorted), at the end of day `as_of`."""
    return assemble(prepare(plan, events, members, as_of), range(len(members)))


def prepare(plan: Plan, events: pa.Table, members: Sequence[str], as_of: dt.date) -> Prepared:
    """Points at every status the outcomes read, and the events grants and decisions read."""
    import duckdb  # a fast path's engine: imported only when it runs

    program = plan.program
    end = end_of_day(as_of)
    last = program.status_instant(end)
    con = duckdb.connect()
    # Members by their place in `members`: integers group and sort much faster than text.
    ids = pc.index_in(events.column("member"), value_set=pa.array(members, pa.string())).cast(pa.int32())
    con.register("ev", events.set_column(events.schema.get_field_index("member"), "member", ids))
    con.execute(f"CREATE TEMP VIEW evp AS SELECT *, make_timestamp({AT}) AS ts FROM ev WHERE {AT} < {end}")
    con.execute(
        f"CREATE TEMP TABLE steps AS SELECT member, rule, t, sum(d)::BIGINT AS d FROM ({plan.steps}) GROUP BY ALL"
    )
    final_time = plan.time_at(last)
    by_rule = _points_by_rule(con, final_time, len(plan.rules))
    special = _special_events(con, program, end)
    # The statuses grants and decisions read, besides the last one, by their time on the steps' axis.
    needed: dict[int, set[int]] = {}
    days: dict[int, dict[CompiledGrant, list[int]]] = {}
    decided = {d.on for d in program.decisions}
    cal = program.calendar
    time_at = plan.time_at
    for index, group in special.items():
        grant_days = {g: candidate_days(g, group, cal, as_of.toordinal()) for g in program.grants}
        days[index] = grant_days
        times = {time_at(cal.day_start(d)) for ds in grant_days.values() for d in ds}
        times.update(time_at(e.at) for e in group if e.type in decided)
        times.discard(final_time)
        if times:
            needed[index] = times
    totals = _totals_at(con, needed)
    con.close()
    return Prepared(plan, members, as_of, last, by_rule, special, days, totals)


def assemble(prepared: Prepared, indexes: Iterable[int]) -> Iterator[Outcome]:
    """The outcomes of the members at these indexes (in the order given)."""
    plan, as_of, last = prepared.plan, prepared.as_of, prepared.last
    program, time_at = plan.program, plan.time_at
    final_time = time_at(last)
    zero = [0] * len(plan.rules)
    for index in indexes:
        member = prepared.members[index]
        points = prepared.by_rule.get(index, zero)
        total = sum(points)
        final = Status(last, total, dict(zip(plan.rules, points, strict=True)), program.tier_for(total))
        if index not in prepared.special:
            yield Outcome(member, as_of, final, (), ())
            continue
        by_time = {final_time: final}
        for time, pts in prepared.totals.get(index, {}).items():
            by_time[time] = Status(plan.instant_of(time), pts, {}, program.tier_for(pts))

        def status_at(instant: int, by_time: dict[int, Status] = by_time) -> Status:
            return by_time[time_at(instant)]

        verdicts = grant_verdicts(prepared.days[index], program.calendar, status_at)
        found = decisions(program, prepared.special[index], status_at, {})
        yield Outcome(member, as_of, final, granted(verdicts), found)


def _points_by_rule(con: Any, last: int, rules: int) -> dict[int, list[int]]:
    """Each member's points by rule (in rule order) in the last status."""
    if not rules:
        return {}
    table = con.sql(
        f"SELECT member, list(p ORDER BY rule) AS points, list(rule ORDER BY rule) AS rules FROM"
        f" (SELECT member, rule, sum(d)::BIGINT AS p FROM steps WHERE t < {last} GROUP BY ALL) GROUP BY member"
    ).to_arrow_table()
    out: dict[int, list[int]] = {}
    for member, points, present in zip(*(table.column(i).to_pylist() for i in range(3)), strict=True):
        full = [0] * rules
        for r, p in zip(present, points, strict=True):
            full[r] = p
        out[member] = full
    return out


def _special_events(con: Any, program: CompiledProgram, end: int) -> dict[int, list[Event]]:
    """Each member's events that grants and decisions read, in time order."""
    wanted = {g.event for g in program.grants} | {d.on for d in program.decisions}
    if not wanted:
        return {}
    names = sorted({spec.name for t in wanted for spec in program.schema.get(t, ())})
    quoted = "".join(f', "{n}"' for n in names)
    types = ", ".join("'" + t.replace("'", "''") + "'" for t in sorted(wanted))
    table = con.sql(
        f"SELECT member, type, {AT}, seq{quoted} FROM ev WHERE {AT} < {end} AND type IN ({types})"
        f" ORDER BY member, {AT}, seq"
    ).to_arrow_table()
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    declared = {t: [f.name for f in program.schema.get(t, ())] for t in wanted}
    index = {n: 4 + i for i, n in enumerate(names)}
    out: dict[int, list[Event]] = {}
    for row in zip(*columns, strict=True):
        member, type_, at, seq = row[0], row[1], row[2], row[3]
        fields = {n: row[index[n]] for n in declared[type_] if row[index[n]] is not None}
        out.setdefault(member, []).append(Event(at, seq, type_, fields, "", 0, None))
    return out


def _totals_at(con: Any, needed: dict[int, set[int]]) -> dict[int, dict[int, int]]:
    """Total points of each member at each instant asked (steps before it)."""
    if not needed:
        return {}
    pairs = [(m, q) for m, qs in needed.items() for q in qs]
    queries = pa.table(
        {"member": pa.array([m for m, _ in pairs], pa.int32()), "q": pa.array([q for _, q in pairs], pa.int64())}
    )
    con.register("queries", queries)
    table = con.sql(
        "SELECT member, t, s FROM (SELECT member, t, k, sum(d) OVER (PARTITION BY member ORDER BY t, k"
        " ROWS UNBOUNDED PRECEDING) AS s FROM (SELECT member, t, sum(d) AS d, 1 AS k FROM steps GROUP BY member, t"
        " UNION ALL SELECT member, q AS t, 0 AS d, 0 AS k FROM queries)) WHERE k = 0"
    ).to_arrow_table()
    out: dict[int, dict[int, int]] = {}
    for member, q, s in zip(*(table.column(i).to_pylist() for i in range(3)), strict=True):
        out.setdefault(member, {})[q] = int(s)
    return out


def run_columnar(
    plan: Plan,
    paths: Sequence[str],
    as_of: dt.date | None,
    fallback: bool,
    jobs: int = 1,
    progress: Progress | None = None,
) -> tuple[Accounting, Iterator[Result]] | None:
    """A whole run on the columnar path: the accounting, and every member's outcome in order.

    Histories are read in bulk; where the bulk reader is not sure of a file (a bad line,
    an unusual form), they are read line by line instead, so that accounting and
    rejections stay the reference reader's. With `fallback` false that case gives None:
    the caller then runs per member, which reads on every core.
    """
    program = plan.program
    bulk = read_bulk(paths, program) if "-" not in paths else None
    if bulk is not None:
        accounting, events, members, latest = bulk.accounting, bulk.events, bulk.members, bulk.latest
    elif fallback:
        history = read_history(paths, program)
        accounting, latest = history.accounting, history.latest
        events, members = events_table(history, program), history.member_ids()
    else:
        return None
    if progress is not None:
        progress.read(accounting.read)
        progress.members(len(members))
    day = as_of or (datetime_of(latest).date() if latest is not None else None)
    if day is None:
        return accounting, iter(())
    prepared = prepare(plan, events, members, day)
    if jobs > 1 and parallel.available():  # the per-member part is Python: split it over the cores

        def part(k: int, n: int) -> Iterator[Result]:
            return ((o.to_json(), None) for o in assemble(prepared, range(k, len(members), n)))

        return accounting, parallel.forked(part, jobs, progress)
    return accounting, _results(assemble(prepared, range(len(members))), progress)


def _results(found: Iterator[Outcome], progress: Progress | None) -> Iterator[Result]:
    for i, outcome in enumerate(found, start=1):
        yield outcome.to_json(), None
        if progress is not None and not i % 512:
            progress.evaluated(512)
