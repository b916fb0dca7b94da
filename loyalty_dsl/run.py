"""A program over a history: every member's outcome, in member order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from loyalty_dsl.calendar import datetime_of
from loyalty_dsl.compile import CompiledProgram
from loyalty_dsl.evaluate import Outcome, evaluate_member
from loyalty_dsl.history import History


def default_as_of(history: History) -> dt.date | None:
    """The UTC day of the latest event that was neither rejected nor a repeat."""
    return datetime_of(history.latest).date() if history.latest is not None else None


def outcomes(program: CompiledProgram, history: History, as_of: dt.date | None) -> Iterator[Outcome]:
    """One outcome per member with an accepted event, ordered by member id."""
    day = as_of or default_as_of(history)
    if day is None:
        return
    for member in history.member_ids():
        yield evaluate_member(program, member, history.members[member], day)
