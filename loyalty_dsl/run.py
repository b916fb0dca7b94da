"""A program over a history: every member's outcome, in member order."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from typing import Any

from loyalty_dsl.calendar import Calendar
from loyalty_dsl.compile import CompiledProgram
from loyalty_dsl.evaluate import Outcome, evaluate_member
from loyalty_dsl.explain import member_ledger
from loyalty_dsl.history import History

Result = tuple[dict[str, Any], list[dict[str, Any]] | None]  # an outcome as JSON, and its ledger
_CHUNK = 512  # members between two progress reports


def default_as_of(history: History, calendar: Calendar) -> dt.date | None:
    """The local day (in the program's zone) of the latest event that was neither rejected nor a repeat."""
    return calendar.date_of(history.latest) if history.latest is not None else None


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def outcomes(program: CompiledProgram, history: History, as_of: dt.date | None) -> Iterator[Outcome]:
    """One outcome per member with an accepted event, ordered by member id."""
    day = as_of or default_as_of(history, program.calendar)
    if day is None:
        return
    for member in history.member_ids():
        yield evaluate_member(program, member, history.members[member], day)


def results(
    program: CompiledProgram,
    history: History,
    as_of: dt.date | None,
    ledger: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Result]:
    """Every member's outcome (as JSON) and, if asked, ledger, in member order.

    One process; `parallel.run_partitioned` and `distributed.run_on_cluster` split
    the members and call this on each part.
    """
    day = as_of or default_as_of(history, program.calendar)
    for i, outcome in enumerate(outcomes(program, history, day), start=1):
        assert day is not None  # outcomes() yields only when there is a day
        entries = member_ledger(program, outcome.member, history.members[outcome.member], day) if ledger else None
        yield outcome.to_json(), entries
        if progress is not None and not i % _CHUNK:
            progress(_CHUNK)
