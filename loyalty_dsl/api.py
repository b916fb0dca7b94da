"""Embedding: load and check a program, evaluate events held in memory, get typed outcomes.

import loyalty_dsl
program = loyalty_dsl.load("programs/four_tier.loy")
result = loyalty_dsl.evaluate(program, events, as_of=datetime.date(2026, 11, 30))
for outcome in result.outcomes:
    print(outcome.member, outcome.points, outcome.tier, outcome.benefits)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import attrs

from loyalty_dsl.check import check
from loyalty_dsl.compile import CompiledProgram
from loyalty_dsl.diagnostics import Diagnostic, ProgramError
from loyalty_dsl.evaluate import Outcome
from loyalty_dsl.history import Accounting, read_records
from loyalty_dsl.parse import parse
from loyalty_dsl.run import default_as_of, outcomes


@attrs.frozen
class Evaluation:
    """What a run gives: the day evaluated, each member's outcome (by member id), the accounting."""

    as_of: dt.date | None
    outcomes: list[Outcome]
    accounting: Accounting

    def by_member(self) -> dict[str, Outcome]:
        return {o.member: o for o in self.outcomes}


def check_text(text: str, file: str = "<program>") -> list[Diagnostic]:
    """Every problem of a program's text (syntax, then meaning); empty when it is fine."""
    try:
        return check(parse(text, file))
    except ProgramError as err:
        return err.diagnostics


def evaluate(
    program: CompiledProgram, events: Iterable[dict[str, Any]] | Any, as_of: dt.date | None = None
) -> Evaluation:
    """A program over events in memory: dicts as JSON Lines would hold them, or a pyarrow Table.

    Bad events are rejected and accounted, never raised: see `Evaluation.accounting`.
    """
    history = read_records(events, program)
    day = as_of or default_as_of(history, program.calendar)
    return Evaluation(day, list(outcomes(program, history, day)), history.accounting)
