"""The columnar evaluator: every member's outcome from one table of events, with DuckDB.

DuckDB runs the plan's steps (columnar_plan.py) over all members at once and
gives, per member, the points by rule in the last status, the running total
of points over time, and the few events grants and decisions read. The
per-member part then finds any status by bisection in the running total and
judges grants and decisions with the functions the per-member evaluator uses,
so their words are the same; it runs on `--jobs` forked workers.
"""

from __future__ import annotations

import bisect
import contextlib
import datetime as dt
import functools
import itertools
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any, TypeVar

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from loyalty_dsl.columnar.bulk_history import event_fields
from loyalty_dsl.columnar.bulk_read import COLUMN_TYPES, read_bulk
from loyalty_dsl.columnar.local_time import local_instants
from loyalty_dsl.columnar.plan import (
    AT,
    EXACT_PLACES,
    LOCAL,
    LOTS,
    LOTS_NEVER,
    PENDING,
    TS,
    UNIT_LOTS,
    NotColumnar,
    Plan,
    claim_types,
    every_columns,
    exact_columns,
    sql_text,
)
from loyalty_dsl.engines import parallel
from loyalty_dsl.evaluation.balance import Balance, Decided, Lot, balance_of_lots
from loyalty_dsl.evaluation.compile import CompiledProgram, Tier, steps_of
from loyalty_dsl.evaluation.conditions import Facts
from loyalty_dsl.evaluation.evaluate import (
    Outcome,
    Status,
    decided_by,
    decision_on,
    decisions,
    grant_verdicts,
    granted,
    quiet_instant,
    status_key,
)
from loyalty_dsl.evaluation.events import Event
from loyalty_dsl.evaluation.grants import candidate_days
from loyalty_dsl.evaluation.order import tie_key_sql
from loyalty_dsl.evaluation.retention import TierKeeper
from loyalty_dsl.evaluation.run import Result, day_of
from loyalty_dsl.io.history import Accounting, History, read_history
from loyalty_dsl.io.progress import Progress
from loyalty_dsl.language.vocabulary import MAX_EXACT, NEVER

# (file, line) of the events at these input positions (`seq`): where a claim was read.
Places = Callable[[list[int]], list[tuple[str, int]]]


def history_places(history: History) -> Places:
    """The places of a history read per line (its events keep them)."""

    def places(seqs: list[int]) -> list[tuple[str, int]]:
        wanted = set(seqs)
        found = {e.seq: (e.file, e.line) for es in history.members.values() for e in es if e.seq in wanted}
        return [found[seq] for seq in seqs]

    return places


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
        columns[name] = pa.array([e.fields.get(name) for e in events], COLUMN_TYPES[types[name]])
    return pa.table(columns)


@attrs.frozen
class _Rows:
    """Rows sorted by member, as Python lists: member i's rows are [starts[i], starts[i + 1])."""

    starts: list[int]
    columns: list[list[Any]]

    @classmethod
    def of(cls, table: pa.Table, members: int) -> _Rows:
        counts = pc.value_counts(table.column("member")) if table.num_rows else pa.array([], _COUNTS)
        by_member = [0] * (members + 1)
        for item in counts.to_pylist():
            by_member[item["values"] + 1] = item["counts"]
        starts = list(itertools.accumulate(by_member))
        return cls(starts, [table.column(i).to_pylist() for i in range(1, table.num_columns)])

    def span(self, member: int) -> range:
        return range(self.starts[member], self.starts[member + 1])


_COUNTS = pa.struct([("values", pa.int32()), ("counts", pa.int64())])


@attrs.frozen
class Prepared:
    """What the per-member part needs, computed for all members at once (by member index)."""

    plan: Plan
    members: Sequence[str]
    as_of: dt.date
    last: int  # the instant of the status at the end of the as-of day
    by_rule: dict[int, list[int]]  # points by rule in that status
    running: _Rows  # (time, total points of the steps up to it), each member's in time order
    special: _Rows  # (type, at, seq, fields...): the events grants and decisions read, in time order
    fields: list[str]  # the field columns of `special`
    balances: dict[int, Balance] | None = None  # with lots: the members' balances (absent: nothing left)
    lots: _Rows | None = None  # (instant, rule, points, day it stops counting): the lots claims spend from
    places: dict[int, tuple[str, int]] = attrs.field(factory=dict)  # by seq: where each claim was read
    spans: dict[int, tuple[int, int]] | None = None  # with retention: each member's first and last event
    pending: dict[int, int] | None = None  # with vesting: points not vested at the end (absent: none)
    facts: dict[int, Facts] | None = None  # facts a redemption's `where` reads, by member (absent: none)


def outcomes(
    plan: Plan, events: pa.Table, members: Sequence[str], as_of: dt.date, places: Places | None = None
) -> Iterator[Outcome]:
    """One outcome for each of `members` (sorted), at the end of day `as_of` (`places`: where
    the events were read, for a program whose claims name it)."""
    return assemble(prepare(plan, events, members, as_of, places=places), range(len(members)))


def prepare(
    plan: Plan,
    events: pa.Table,
    members: Sequence[str],
    as_of: dt.date,
    threads: int | None = None,
    connected: Callable[[Any], None] | None = None,
    places: Places | None = None,
) -> Prepared:
    """Every member's points over time, and the events grants and decisions read (all in SQL).

    NotColumnar where DuckDB cannot run the plan or the points leave the exact range:
    the per-member evaluator then runs (and says where the points leave it). `connected`
    hears of the DuckDB connection, to interrupt its queries from another thread. `places`
    gives where claims were read; a program that spends points needs it."""
    if plan.spends and places is None:
        raise ValueError("a program with redemptions or vouchers needs the places of its events")
    import duckdb  # a fast path's engine: imported only when it runs

    # DuckDB spills to disk past its memory limit: into a folder of our own, not the working one.
    threads_set = {"threads": threads} if threads else {}
    try:
        with (
            tempfile.TemporaryDirectory(prefix="loyalty-duckdb-") as spill,
            duckdb.connect(config={"temp_directory": spill, **threads_set}) as con,
        ):
            if connected is not None:
                connected(con)
            prepared = _prepare(con, plan, events, members, as_of)
    except duckdb.InterruptException:
        raise  # a signal stopped the query: its own exception follows (see _interruptible)
    except duckdb.Error as err:
        raise NotColumnar(f"DuckDB cannot run the plan ({str(err).splitlines()[0]})") from None
    if places is None or prepared.lots is None:
        return prepared
    types, _, seqs, *_ = prepared.special.columns
    claimed = [seq for kind, seq in zip(types, seqs, strict=True) if kind in plan.claim_types]
    return attrs.evolve(prepared, places=dict(zip(claimed, places(claimed), strict=True)))


def _prepare(con: Any, plan: Plan, events: pa.Table, members: Sequence[str], as_of: dt.date) -> Prepared:
    program = plan.program
    end = program.calendar.end_of_day(as_of)  # the end of the local day
    last = program.status_instant(end)
    # Members by their place in `members`: integers group and sort much faster than text.
    ids = pc.index_in(events.column("member"), value_set=pa.array(members, pa.string())).cast(pa.int32())
    table = events.set_column(events.schema.get_field_index("member"), "member", ids)
    for (step, field), name in every_columns(program).items():
        table = table.append_column(name, every_steps(events.column(field), step))
    for field, name in exact_columns(program).items():
        table = table.append_column(name, exact_decimals(events.column(field)))
    clock = AT
    if plan.zoned:  # calendar units on local wall-clock time; order and cuts on the instant
        table = table.append_column(LOCAL.strip('"'), local_instants(events.column("at"), program.calendar))
        clock = LOCAL
    con.register("ev", table)
    con.execute(f"CREATE TEMP VIEW evp AS SELECT *, make_timestamp({clock}) AS {TS} FROM ev WHERE {AT} < {end}")
    day = ", x" if plan.spends else ""  # the day a lot stops counting, on each lot
    con.execute(f"CREATE TEMP TABLE steps (member INTEGER, rule INTEGER, t BIGINT, d HUGEINT{day and ', x BIGINT'})")
    con.execute(f"CREATE TEMP MACRO status_end() AS {end}")  # the plan's candidates read it, with expiry
    for piece in plan.pieces:
        con.execute(f"INSERT INTO steps SELECT member, rule, t, sum(d){day} FROM ({piece}) GROUP BY ALL")
    if plan.lots:  # the pieces gave the lots too, as rule LOTS (and one by one, UNIT_LOTS - R)
        con.execute(f"CREATE TEMP TABLE lots AS SELECT member, t AS x, d AS p FROM steps WHERE rule = {LOTS}")
        if plan.spends:
            con.execute(
                f"CREATE TEMP TABLE ulots AS SELECT member, {UNIT_LOTS} - rule AS rule, t, d AS p, x"
                f" FROM steps WHERE rule <= {UNIT_LOTS} AND rule > {PENDING}"
            )
    pending = None
    if any(rule.vesting for rule in program.rules):  # the pieces gave what is pending, as rule PENDING
        found = con.sql(f"SELECT member, sum(d)::HUGEINT FROM steps WHERE rule = {PENDING} GROUP BY member").fetchall()
        pending = {member: int(points) for member, points in found}
        if max(map(abs, pending.values()), default=0) > MAX_EXACT:
            raise NotColumnar(f"points beyond {MAX_EXACT}")
    con.execute("DELETE FROM steps WHERE rule < 0")
    # Every sum of a member's steps is at most the sum of their sizes: within the bound, all are exact.
    ((largest,),) = con.sql(
        "SELECT coalesce(max(s), 0) FROM (SELECT sum(abs(d)) AS s FROM steps GROUP BY member)"
    ).fetchall()
    if largest > MAX_EXACT:
        raise NotColumnar(f"points beyond {MAX_EXACT}")
    by_rule = _points_by_rule(con, plan.time_at(last), len(plan.rules))
    running = con.sql(
        "SELECT member, t, sum(d) OVER (PARTITION BY member ORDER BY t ROWS UNBOUNDED PRECEDING)::BIGINT AS s"
        " FROM (SELECT member, t, sum(d) AS d FROM steps GROUP BY member, t) ORDER BY member, t"
    ).to_arrow_table()
    special, fields = _special_events(con, program, end)
    balances = _balances(con, as_of) if plan.lots else None
    n = len(members)
    lots = _Rows.of(_spent_lots(con, plan, end), n) if plan.spends else None
    rows = _Rows.of(running, n), _Rows.of(special, n)
    facts = _claim_facts(con, plan) if plan.claim_facts else None
    spans = None
    if program.retention is not None:  # the keeper reads every recalculation from the first event on
        found = con.sql(f"SELECT member, min({AT}), max({AT}) FROM evp GROUP BY member").fetchall()
        spans = {member: (first, latest) for member, first, latest in found}
    prepared = Prepared(
        plan, members, as_of, last, by_rule, *rows, fields, balances, lots, spans=spans, pending=pending
    )
    return attrs.evolve(prepared, facts=facts) if facts is not None else prepared


def _claim_facts(con: Any, plan: Plan) -> dict[int, Facts]:
    """Each member's facts a redemption's `where` reads: value -> the instant it was first said
    (MemberRun's facts; a claim reads those established before its instant)."""
    out: dict[int, Facts] = {}
    names = [name for name, _ in plan.claim_facts]
    for name, sql in plan.claim_facts:
        found = con.sql(f"SELECT member, v, since_at FROM ({sql})").fetchall()
        for member, value, since in found:
            facts = out.get(member)
            if facts is None:
                facts = out[member] = {fact: {} for fact in names}
            facts[name][value] = since
    return out


def every_steps(values: pa.ChunkedArray | pa.Array, step: Decimal) -> pa.ChunkedArray | pa.Array:
    """compile.steps_of for a column: the whole steps in each value, as the decimal it was written as
    (pyarrow writes a double's shortest round-trip digits, as repr does), never below 0.

    In decimals where they are exact; a value they cannot hold exactly (more than 12 decimals, beyond
    10^18) sends the column through steps_of itself."""
    places = max(0, -int(step.as_tuple().exponent))
    try:
        scaled = pc.multiply(_as_written(values, 30, 12), pa.scalar(Decimal(10**places), pa.decimal128(places + 1, 0)))
        whole = pc.cast(pc.floor(scaled), pa.int64())
        steps = pc.max_element_wise(pc.divide(whole, int(step * 10**places)), 0)
        return pc.fill_null(steps, 0)
    except (pa.ArrowInvalid, ValueError):
        found = [steps_of(v, step) for v in values.to_pylist()]
        if max(found, default=0) >= 2**63:  # beyond any exact sum of points anyway
            raise NotColumnar(f"points beyond {MAX_EXACT}") from None
        return pa.array(found, pa.int64())


def exact_decimals(values: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Each number as the decimal it was written as (exact.decimal_of: a double's shortest round-trip
    digits), for a sum in SQL; NotColumnar where one has more decimals, or digits, than that holds."""
    try:
        return _as_written(values, 38, EXACT_PLACES)
    except (pa.ArrowInvalid, ValueError):
        raise NotColumnar(f"an amount summed by a threshold has more than {EXACT_PLACES} decimals") from None


def _as_written(values: pa.ChunkedArray | pa.Array, precision: int, scale: int) -> pa.ChunkedArray | pa.Array:
    """Numbers as decimals of the digits they were written with: pyarrow writes a double's shortest
    round-trip digits, as repr does (exact.decimal_of). ArrowInvalid where one does not fit."""
    return pc.cast(pc.cast(values, pa.string()), pa.decimal128(precision, scale))


def _spent_lots(con: Any, plan: Plan, end: int) -> pa.Table:
    """Each lot of the members whose balance is a walk (balance._redeem): every member where points
    convert into vouchers or lapse without activity, else those with a claim (or an event a decision
    on the balance is on) before the end. In the order earned."""
    walking = ""
    if not plan.walks_all:
        kinds = ", ".join(sql_text(t) for t in sorted(plan.walk_types))
        walking = f" WHERE member IN (SELECT member FROM ev WHERE {AT} < {end} AND type IN ({kinds}))"
    query = f"SELECT member, t, rule, p::BIGINT, x FROM ulots{walking} ORDER BY member, t, rule"
    return con.sql(query).to_arrow_table()


def _balances(con: Any, as_of: dt.date) -> dict[int, Balance]:
    """Each member's balance at the end of the as-of day, from the table `lots`: the points of lots
    that have not expired, and the three next days lots expire (balance.member_balance, without
    claims)."""
    soon = f"x <> {LOTS_NEVER} AND n <= 3"
    table = con.sql(
        f"SELECT member, sum(p)::BIGINT, list(x ORDER BY x) FILTER (WHERE {soon}),"
        f" list(p::BIGINT ORDER BY x) FILTER (WHERE {soon}) FROM"
        f" (SELECT member, x, sum(p) AS p, row_number() OVER (PARTITION BY member ORDER BY x = {LOTS_NEVER}, x) AS n"
        f"  FROM lots WHERE x = {LOTS_NEVER} OR x > {as_of.toordinal() + 1} GROUP BY member, x)"
        " GROUP BY member"
    ).to_arrow_table()
    out = {}
    for member, points, days, amounts in zip(*(table.column(i).to_pylist() for i in range(4)), strict=True):
        expiring = tuple(zip(amounts or (), (dt.date.fromordinal(d) for d in days or ()), strict=True))
        out[member] = Balance(points, expiring, (), ())
    return out


_NO_BALANCE = Balance(0, (), (), ())


def assemble(prepared: Prepared, indexes: Iterable[int]) -> Iterator[Outcome]:
    """The outcomes of the members at these indexes (in the order given)."""
    plan, as_of, last = prepared.plan, prepared.as_of, prepared.last
    program, time_at, cal = plan.program, plan.time_at, plan.program.calendar
    zero = [0] * len(plan.rules)
    times, totals = prepared.running.columns
    types, ats, seqs, *values = prepared.special.columns
    column = {name: i for i, name in enumerate(prepared.fields)}  # only the types of `special` are looked up
    declared = {t: [(column[f.name], f.name) for f in specs if f.name in column] for t, specs in program.schema.items()}
    walks = _Walks(prepared) if prepared.lots is not None else None
    retained = program.retention is not None
    reads_balance = program.decision_balance or program.status_balance
    for index in indexes:
        member = prepared.members[index]
        balance = prepared.balances.get(index, _NO_BALANCE) if prepared.balances is not None else None
        points = prepared.by_rule.get(index, zero)
        total = sum(points)
        rows = prepared.special.span(index)
        group = [
            Event(ats[r], seqs[r], types[r], event_fields(values, r, declared[types[r]]), "", 0, None) for r in rows
        ]
        steps = prepared.running.span(index)

        def points_at(time: int, steps: range = steps) -> int:
            """The points of the status at `time` (on the steps' axis): the steps before it, summed."""
            before = bisect.bisect_left(times, time, steps.start, steps.stop)
            return totals[before - 1] if before > steps.start else 0

        kept: _Kept | None = None
        if retained:
            assert prepared.spans is not None
            kept = _Kept(prepared, group, prepared.spans.get(index), points_at)
        walked = walks is not None and (plan.walks_all or walks.walked(group))
        reader = _BalanceReader(walks, index, group) if walked and walks and reads_balance else None
        tier_of = _tier_reader(program, reader)
        by_time: dict[int, Status] = {}

        def status_at(
            instant: int,
            by_time: dict[int, Status] = by_time,
            points_at: Any = points_at,
            kept: Any = kept,
            tier_of: Any = tier_of,
        ) -> Status:
            time = time_at(instant)
            status = by_time.get(time)
            if status is None:
                pts, moment = points_at(time), plan.instant_of(time)
                tier, by_points = (tier_of(pts, moment), None) if kept is None else kept.at(moment)
                status = by_time[time] = Status(moment, pts, {}, tier, by_points)
            return status

        if reader is not None:  # a claim before a status the balance reads is judged at its own
            reader.status_at = status_at
        tier, by_points = (tier_of(total, last), None) if kept is None else kept.at(last)
        final = by_time[time_at(last)] = Status(
            last, total, dict(zip(plan.rules, points, strict=True)), tier, by_points
        )
        pending = prepared.pending.get(index, 0) if prepared.pending is not None else None
        if not rows:
            if walks is not None and plan.walks_all:  # points convert or lapse without any claim
                balance = walks.balance(index, [], None)
            yield Outcome(member, as_of, final, (), (), balance, retained, pending)
            continue

        # After the member's last step every status is the final one: a grant day after it is
        # looked at only if that status grants it (as MemberRun does: work grows with events).
        # With retention, tiers still move after it: from the quiet instant, as MemberRun.
        last_day = as_of.toordinal()
        if kept is not None:
            last_day = kept.last_day
        elif program.status_balance:  # the balance, and so the tier, changes as points expire
            pass
        elif not steps:
            last_day = 0
        elif times[steps.stop - 1] + 1 < time_at(last):
            last_day = min(last_day, cal.day(plan.instant_of(times[steps.stop - 1] + 1)))
        given = final.tier.benefits if final.tier is not None else {}
        days = {
            g: candidate_days(g, group, cal, as_of.toordinal() if g.benefit in given else last_day)
            for g in program.grants
        }
        if reader is not None and program.status_balance:  # every status reads the balance
            _warm(status_at, group, [d for found in days.values() for d in found], cal, last)
        verdicts = grant_verdicts(days, cal, status_at)
        decided = decisions(program, group, status_at, {}, reader if program.decision_balance else None)
        if walked and walks is not None:
            balance = walks.balance(index, group, decided_by(decided))
        yield Outcome(member, as_of, final, granted(verdicts), decided, balance, retained, pending)


class _Kept:
    """The tier in force at each status with retention: the per-member evaluator's TierKeeper, fed
    the statuses MemberRun settles, in time order (each recalculation from the first event's on,
    and those of the end, of decisions and of grant days, none after its quiet instant)."""

    def __init__(
        self, prepared: Prepared, group: list[Event], span: tuple[int, int] | None, points_at: Callable[[int], int]
    ) -> None:
        program, cal, as_of = prepared.plan.program, prepared.plan.program.calendar, prepared.as_of
        assert program.retention is not None
        end = cal.end_of_day(as_of)
        self.quiet = quiet_instant(program, span[1] if span else None, end)
        self.program = program
        self.last_day = as_of.toordinal() if self.quiet is None else min(as_of.toordinal(), cal.day(self.quiet))
        decided = {d.on for d in program.decisions}
        key = self.key
        wanted = {key(end)} | {key(e.at) for e in group if e.type in decided}
        wanted |= {key(cal.day_start(d)) for g in program.grants for d in candidate_days(g, group, cal, self.last_day)}
        if span is not None:
            wanted.update(cal.recalculations(span[0], key(end)))
        keeper = TierKeeper(program.retention, program.tiers, cal)
        self.tiers: dict[int, tuple[Tier | None, Tier | None]] = {}
        for instant in sorted(wanted):
            by_points = program.tier_for(points_at(prepared.plan.time_at(instant)))
            self.tiers[instant] = (keeper.tier_at(instant, by_points), by_points)

    def key(self, instant: int) -> int:
        return status_key(self.program, self.quiet, instant)

    def at(self, instant: int) -> tuple[Tier | None, Tier | None]:
        """(the tier in force, the tier the points give) at the status of `instant`."""
        return self.tiers[self.key(instant)]


class _Walks:
    """The balance of a member with claims or vouchers: its lots from SQL, its claims from the events
    read, walked in time order by the per-member evaluator's own function (balance_of_lots).

    The walk orders lots and claims by instant, then by rank. At one instant events are taken by
    type first (order.py), and the plan keeps claims off the types that earn: so a lot's rank is
    its rule's type, and a claim's is its type and then its place among the member's events."""

    def __init__(self, prepared: Prepared) -> None:
        assert prepared.lots is not None
        self.prepared, self.program = prepared, prepared.plan.program
        self.end = self.program.calendar.end_of_day(prepared.as_of)
        self.kinds = prepared.plan.claim_types
        self.no_facts: Facts = {name: {} for name, _ in prepared.plan.claim_facts}
        self.walking = prepared.plan.walk_types
        self.type_rank = {t: i << 32 for i, t in enumerate(sorted(self.program.schema))}
        self.rule_rank = [self.type_rank[rule.on] for rule in self.program.rules]
        self.ends: dict[int, int] = {}  # local day (ordinal) -> its first instant

    def walked(self, group: list[Event]) -> bool:
        return any(e.type in self.walking for e in group)

    def balance(self, index: int, group: list[Event], decided: Decided | None, until: int | None = None) -> Balance:
        """The balance at the end (or at the instant `until`: of the lots earned and the claims made
        before it), each claim's `only when` read from `decided`."""
        prepared, program = self.prepared, self.program
        assert prepared.lots is not None
        times, rules, points, days = prepared.lots.columns
        names, ranks, ends = prepared.plan.rules, self.rule_rank, self.ends
        span = prepared.lots.span(index)
        if until is not None:  # the member's lots are in the order earned
            span = range(span.start, bisect.bisect_left(times, until, span.start, span.stop))
        for i in span:
            if days[i] not in ends:  # the instant a lot stops counting, once a day (balance.expires_at)
                ends[days[i]] = NEVER if days[i] == LOTS_NEVER else program.calendar.day_start(days[i])
        lots = [Lot(names[rules[i]], times[i], ranks[rules[i]], points[i], ends[days[i]], points[i]) for i in span]
        claims = []
        for k, event in enumerate(group, start=1):  # k: its place among all the member's events
            if until is not None and event.at >= until:
                break
            if event.type in self.kinds:
                event.rank = self.type_rank[event.type] + k
                event.file, event.line = prepared.places[event.seq]
                claims.append(event)
        facts = prepared.facts.get(index, self.no_facts) if prepared.facts is not None else {}
        if until is None:
            return balance_of_lots(program, lots, claims, self.end, facts, decided)
        return balance_of_lots(program, lots, claims, until, facts, decided, records=False)


class _BalanceReader:
    """The balance at an instant of the pass (MemberRun._balance_in_pass), as a decision or a tier
    reads it: the lots earned and the claims made before it, each claim's `only when` judged by the
    decision made at its own instant. `status_at` is the member's, set once it exists."""

    def __init__(self, walks: _Walks, index: int, group: list[Event]) -> None:
        self.walks, self.index, self.group = walks, index, group
        self.status_at: Callable[[int], Status] | None = None
        self.found: dict[int, int] = {}

    def decide(self, benefit: str, event: Event) -> tuple[bool, str] | None:
        """The decision on a claim before the instant walked to: MemberRun has settled the balance
        at each decision's instant by then (in time order); here it is read, and so walked, now."""
        assert self.status_at is not None
        balance = self(event.at) if self.walks.program.decision_balance else None
        return decision_on(self.walks.program, benefit, event, self.status_at, {}, balance)

    def __call__(self, instant: int) -> int:
        if instant not in self.found:
            self.found[instant] = self.walks.balance(self.index, self.group, self.decide, until=instant).balance
        return self.found[instant]


def _tier_reader(program: CompiledProgram, reader: _BalanceReader | None) -> Callable[[int, int], Tier | None]:
    """The tier that points give at a status instant: by threshold, or by each tier's qualification
    (on points and, where a tier reads it, the balance at that instant; 0 for a member with no lot)."""
    if not program.measured_tiers:
        return lambda points, instant: program.tier_for(points)
    if not program.status_balance:
        return lambda points, instant: program.tier_of(points, {})
    return lambda points, instant: program.tier_of(points, {}, reader(instant) if reader is not None else 0)


def _warm(status_at: Callable[[int], Status], group: list[Event], days: Iterable[int], cal: Any, last: int) -> None:
    """Settle a member's statuses in time order, as MemberRun does: each reads the balance, whose
    claims read the statuses before it, so none waits on a chain of later ones (nor on recursion)."""
    for instant in sorted({e.at for e in group} | {cal.day_start(d) for d in days} | {last}):
        status_at(instant)


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


def _special_events(con: Any, program: CompiledProgram, end: int) -> tuple[pa.Table, list[str]]:
    """The events grants, decisions and claims read, by member and time, and the names of their fields."""
    wanted = sorted({g.event for g in program.grants} | {d.on for d in program.decisions} | claim_types(program))
    names = sorted({spec.name for t in wanted for spec in program.schema.get(t, ())})
    quoted = "".join(f', "{n}"' for n in names)
    types = ", ".join(sql_text(t) for t in wanted) or "NULL"
    # The order of order.py: same-type rows have the same fields, the others' columns are null.
    fields = {spec.name: spec for t in wanted for spec in program.schema.get(t, ())}
    ties = ", ".join(tie_key_sql(list(fields.values())))
    table = con.sql(
        f"SELECT member, type, {AT}, seq{quoted} FROM ev WHERE {AT} < {end} AND type IN ({types})"
        f" ORDER BY member, {AT}, type, {ties}"
    ).to_arrow_table()
    return table, names


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
    pa.set_cpu_count(jobs)  # --jobs bounds the threads of pyarrow and DuckDB too
    if progress is not None:
        progress.phase("reading in bulk")
    bulk = read_bulk(paths, program) if "-" not in paths else None
    places: Places
    if bulk is not None:
        accounting, events, members, latest = bulk.accounting, bulk.events, bulk.members, bulk.latest
        places = bulk.places
    elif fallback:
        if progress is not None:
            progress.phase(None)  # the line reader counts its lines as it goes
        history = read_history(paths, program, progress=progress.read if progress is not None else None)
        accounting, latest = history.accounting, history.latest
        events, members = events_table(history, program), history.member_ids()
        places = history_places(history)
    else:
        if progress is not None:
            progress.phase(None)  # the per-member engine takes over, with its own counts
        return None
    if progress is not None:
        progress.read(accounting.read)
        progress.members(len(members))
        progress.phase("computing points")
    day = day_of(as_of, latest, program.calendar)
    if day is None:
        return accounting, iter(())
    prepared = _interruptible(functools.partial(prepare, plan, events, members, day, jobs, places=places))
    if progress is not None:
        progress.phase(None)
    if jobs > 1 and parallel.available():  # the per-member part is Python: split it over the cores

        def part(k: int, n: int) -> Iterator[Result]:
            return ((o.to_json(), None) for o in assemble(prepared, range(k, len(members), n)))

        return accounting, parallel.forked(part, jobs, progress)
    return accounting, _results(assemble(prepared, range(len(members))), progress)


_T = TypeVar("_T")


def _interruptible(work: Callable[[Callable[[Any], None]], _T]) -> _T:
    """`work(connected)` in a thread of its own (it gives `connected` its DuckDB connection).

    Python runs a signal's handler in the main thread. A DuckDB query running
    there runs the handler itself, then drops its exception (Ctrl-C's
    KeyboardInterrupt, the command's for SIGTERM) for an error of its own, or
    does not stop at all. So the main thread only waits: the handler's exception
    is raised in it as usual, and goes on once the query is interrupted and done.
    """
    connections: list[Any] = []
    ended: dict[str, Any] = {}
    done = threading.Event()  # not Thread.join: interrupted, it can take the thread for ended (bpo-45274)

    def run() -> None:
        try:
            ended["value"] = work(connections.append)
        except BaseException as err:
            ended["error"] = err
        finally:
            done.set()

    threading.Thread(target=run, name="loyalty-duckdb", daemon=True).start()
    try:
        done.wait()
    except BaseException:
        while not done.wait(0.05):  # again and again: its next query may start after an interrupt
            for con in connections:
                with contextlib.suppress(Exception):  # already closed
                    con.interrupt()
        raise
    if "error" in ended:
        raise ended["error"]
    return ended["value"]


def _results(found: Iterator[Outcome], progress: Progress | None) -> Iterator[Result]:
    for i, outcome in enumerate(found, start=1):
        yield outcome.to_json(), None
        if progress is not None and not i % 512:
            progress.evaluated(512)
