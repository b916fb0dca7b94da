"""A program over a history: every member's outcome, in member order, on one or more cores."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from loyalty_dsl.calendar import datetime_of
from loyalty_dsl.compile import CompiledProgram
from loyalty_dsl.evaluate import Outcome, evaluate_member
from loyalty_dsl.explain import member_ledger
from loyalty_dsl.history import History

Result = tuple[dict[str, Any], list[dict[str, Any]] | None]  # an outcome as JSON, and its ledger
_CHUNK = 512  # members per task: large enough to hide the cost of a task, small enough to balance


def default_as_of(history: History) -> dt.date | None:
    """The UTC day of the latest event that was neither rejected nor a repeat."""
    return datetime_of(history.latest).date() if history.latest is not None else None


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def outcomes(
    program: CompiledProgram,
    history: History,
    as_of: dt.date | None,
    on_member: Callable[[str, list[dict[str, Any]]], None] | None = None,
) -> Iterator[Outcome]:
    """One outcome per member with an accepted event, ordered by member id.

    `on_member`, if given, also receives each member's ledger as it is evaluated.
    """
    day = as_of or default_as_of(history)
    if day is None:
        return
    for member in history.member_ids():
        events = history.members[member]
        if on_member is not None:
            on_member(member, member_ledger(program, member, events, day))
        yield evaluate_member(program, member, events, day)


def results(
    program: CompiledProgram,
    history: History,
    as_of: dt.date | None,
    jobs: int = 1,
    ledger: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Result]:
    """Every member's outcome (as JSON) and ledger, in member order, on `jobs` processes.

    Members are independent, so they are split in chunks; worker processes are
    forked, so they share the history already in memory instead of copying it.
    """
    day = as_of or default_as_of(history)
    if day is None:
        return
    members = history.member_ids()
    chunks = [members[i : i + _CHUNK] for i in range(0, len(members), _CHUNK)]
    context = (program, history, day, ledger)
    if jobs <= 1 or len(chunks) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        done = (_evaluate(context, chunk) for chunk in chunks)
        yield from _reported(done, progress)
        return
    with multiprocessing.get_context("fork").Pool(jobs, initializer=_remember, initargs=(context,)) as pool:
        yield from _reported(pool.imap(_evaluate_shared, chunks), progress)


def _reported(done: Iterator[list[Result]], progress: Callable[[int], None] | None) -> Iterator[Result]:
    for chunk in done:
        yield from chunk
        if progress is not None:
            progress(len(chunk))


def _evaluate(context: tuple[CompiledProgram, History, dt.date, bool], members: Sequence[str]) -> list[Result]:
    program, history, day, ledger = context
    out: list[Result] = []
    for member in members:
        events = history.members[member]
        entries = member_ledger(program, member, events, day) if ledger else None
        out.append((evaluate_member(program, member, events, day).to_json(), entries))
    return out


# Set once in each forked worker by the pool's initializer: the inherited, read-only context.
_WORKER_CONTEXT: list[tuple[CompiledProgram, History, dt.date, bool]] = []


def _remember(context: tuple[CompiledProgram, History, dt.date, bool]) -> None:
    # The parent answers Ctrl-C and SIGTERM (and ends the pool): a worker just stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _WORKER_CONTEXT[:] = [context]


def _evaluate_shared(members: Sequence[str]) -> list[Result]:
    return _evaluate(_WORKER_CONTEXT[0], members)
