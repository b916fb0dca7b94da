"""A program over a history: every member's outcome, in member order."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from typing import Any

from loyalty_dsl.evaluation.calendar import Calendar
from loyalty_dsl.evaluation.compile import CompiledProgram
from loyalty_dsl.evaluation.evaluate import Outcome, PointsOutOfRange, evaluate_member
from loyalty_dsl.io.history import Accounting, History
from loyalty_dsl.tools.explain import member_ledger

Result = tuple[dict[str, Any], list[dict[str, Any]] | None]  # an outcome as JSON, and its ledger
WITHHELD = "\0withheld"  # in a Result's place of an outcome: why the member's outcome is withheld
_CHUNK = 512  # members between two progress reports


def default_as_of(history: History, calendar: Calendar) -> dt.date | None:
    """The local day (in the program's zone) of the latest event that was neither rejected nor a repeat."""
    return day_of(None, history.latest, calendar)


def day_of(as_of: dt.date | None, latest: int | None, calendar: Calendar) -> dt.date | None:
    """The day evaluated: `as_of` if given, else the local day of the latest accepted instant."""
    if as_of is not None:
        return as_of
    return calendar.date_of(latest) if latest is not None else None


def far_as_of_note(accounting: Accounting, as_of: dt.date | None, calendar: Calendar) -> str | None:
    """Where the default as-of lies after today: which line set it (one far date moves every outcome)."""
    if as_of is not None or accounting.latest is None:
        return None
    at, _, file, line = accounting.latest
    day, today = calendar.date_of(at), dt.datetime.now(dt.UTC).date()
    if day <= today:
        return None
    return (
        f"the default as-of, {day.isoformat()}, is after today ({today.isoformat()}): it is the day of "
        f"{file}:{line}; give --as-of to choose the day"
    )


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
    if day is None:
        return
    for i, member in enumerate(history.member_ids(), start=1):
        events = history.members[member]
        try:
            outcome = evaluate_member(program, member, events, day)
            entries = member_ledger(program, member, events, day) if ledger else None
        except PointsOutOfRange as err:  # withheld: the caller reports it (see WITHHELD)
            yield {"member": member, WITHHELD: str(err)}, None
        else:
            yield outcome.to_json(), entries
        if progress is not None and not i % _CHUNK:
            progress(_CHUNK)
