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

from loyalty_dsl.columnar.choice import Evaluator, choose_plan
from loyalty_dsl.columnar.run import events_table, history_places
from loyalty_dsl.columnar.run import outcomes as columnar_outcomes
from loyalty_dsl.evaluation.compile import CompiledProgram, diagnose
from loyalty_dsl.evaluation.evaluate import Outcome
from loyalty_dsl.evaluation.run import default_as_of, outcomes
from loyalty_dsl.io.history import Accounting, read_records
from loyalty_dsl.language.diagnostics import Diagnostic


@attrs.frozen
class Evaluation:
    """What a run gives: the day evaluated, each member's outcome (by member id), the accounting."""

    as_of: dt.date | None
    outcomes: list[Outcome]
    accounting: Accounting
    evaluator: str = "per-member"  # the one that ran: "columnar" or "per-member"

    def by_member(self) -> dict[str, Outcome]:
        return {o.member: o for o in self.outcomes}


def check_text(text: str, file: str = "<program>") -> list[Diagnostic]:
    """Every problem of a program's text (syntax, then meaning); empty when it is fine."""
    return diagnose(text, file)[1]


def evaluate(
    program: CompiledProgram,
    events: Iterable[dict[str, Any]] | Any,
    as_of: dt.date | None = None,
    evaluator: Evaluator = "auto",
) -> Evaluation:
    """A program over events in memory: dicts as JSON Lines would hold them, or a pyarrow Table.

    Bad events are rejected and accounted, never raised: see `Evaluation.accounting`.
    `evaluator`: "auto" (columnar where the program allows it, as `loyalty run`),
    "columnar" (raises NotColumnar with the reason where it cannot run) or
    "per-member" (the reference). Both give the same outcomes.
    """
    fast = choose_plan(program, evaluator)
    history = read_records(events, program)
    day = as_of or default_as_of(history, program.calendar)
    if fast is None or day is None:
        return Evaluation(day, list(outcomes(program, history, day)), history.accounting)
    ran = columnar_outcomes(fast, events_table(history, program), history.member_ids(), day, history_places(history))
    return Evaluation(day, list(ran), history.accounting, "columnar")
