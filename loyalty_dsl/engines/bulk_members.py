"""The per-member evaluator over a history read in bulk, on every core.

A program off the columnar plan is evaluated member by member, but where the
bulk reader is sure of its files it reads them many times faster than the line
reader. The table is read once, in the parent; then each forked worker (the
workers share the table's memory) turns its own share of the members into
events and evaluates them, while the parent merges and writes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

from loyalty_dsl.columnar.bulk_history import history_of
from loyalty_dsl.columnar.bulk_read import BulkHistory, read_bulk
from loyalty_dsl.engines import parallel
from loyalty_dsl.evaluation.compile import CompiledProgram
from loyalty_dsl.evaluation.run import Result, day_of, results
from loyalty_dsl.io.history import Accounting
from loyalty_dsl.io.progress import Progress


def bulk_readable(program: CompiledProgram) -> bool:
    """Whether outcomes read from the bulk table are the line reader's, byte for byte.

    The table holds every amount as a double, where the line reader keeps a whole number
    written without a point (`5`) as an integer. Every figure an outcome shows is worked out
    from the value, except a decision's key, which is shown as read: a numeric key stays
    with the line reader."""
    numeric = {s.name for specs in program.schema.values() for s in specs if s.type in ("number", "money")}
    return not any(d.key in numeric for d in program.decisions)


def run_bulk(
    program: CompiledProgram,
    paths: Sequence[str],
    as_of: dt.date | None,
    jobs: int,
    progress: Progress | None = None,
) -> tuple[Accounting, Iterator[Result]] | None:
    """The accounting and every member's outcome, in member order; None where the bulk reader
    is not sure of the files (the caller reads them line by line)."""
    if "-" in paths or not bulk_readable(program):
        return None
    if progress is not None:
        progress.phase("reading in bulk")
    bulk = read_bulk(paths, program)
    if progress is not None:
        progress.phase(None)
    if bulk is None:
        return None
    if progress is not None:
        progress.read(bulk.accounting.read)
        progress.members(len(bulk.members))
    day = day_of(as_of, bulk.latest, program.calendar)
    if day is None:
        return bulk.accounting, iter(())
    if jobs > 1 and parallel.available():

        def part(k: int, n: int) -> Iterator[Result]:
            return _share(program, bulk, day, bulk.members[k::n])

        return bulk.accounting, parallel.forked(part, jobs, progress, in_parent=False)
    return bulk.accounting, _share(program, bulk, day, None, progress)


def _share(
    program: CompiledProgram,
    bulk: BulkHistory,
    day: dt.date,
    members: Sequence[str] | None,
    progress: Progress | None = None,
) -> Iterator[Result]:
    """The outcomes of these members (None: all), converted to events only once asked for."""
    counted = progress.evaluated if progress is not None else None
    yield from results(program, history_of(bulk, program, members), day, progress=counted)
