"""Rule state is told, it never asks: the evaluator gives it each event's multiplier, and readers
(explain) get a read-only view of it (issue 12).

RuleState is driven here alone, without a MemberRun: if it still needed a call back into the
evaluator (as it did through an injected `factor`), these tests could not give it one.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import attrs
import pytest

from loyalty_dsl import compile_text
from loyalty_dsl.evaluation.calendar import instant_of
from loyalty_dsl.evaluation.events import Event
from loyalty_dsl.evaluation.rules import RuleState, UnitView

PROGRAM = compile_text(
    """window lifetime, continuous
event visit with n: integer
rule visits:
    on visit
    earn n
    cap 10 per day
tier Member from 0 points:
"""
)


def _visit(day: int, n: int, rank: int) -> Event:
    event = Event(instant_of(dt.datetime(2026, 3, day, 12)), rank, "visit", {"n": n}, "h.jsonl", rank, None)
    event.rank = rank
    return event


def _state() -> RuleState:
    (rule,) = PROGRAM.rules
    return RuleState(rule, PROGRAM.calendar)


def test_the_multiplier_given_with_an_event_is_applied_after_the_caps() -> None:
    st = _state()
    st.add(_visit(1, 7, 1), {}, Fraction(3, 2))  # 7 under the day's cap of 10, x 1.5 = 10.5 -> 10
    st.add(_visit(2, 15, 2), {}, Fraction(2))  # 15 capped to 10, then x 2 = 20
    st.add(_visit(3, 4, 3), {})  # no multiplier: 4
    st.settle()
    assert st.points(None) == 10 + 20 + 4


def test_rule_state_holds_no_callable_of_the_evaluator() -> None:
    st = _state()
    st.add(_visit(1, 7, 1), {}, Fraction(3, 2))
    st.settle()
    held = {name: value for name, value in vars(st).items() if callable(value)}
    assert held == {}, f"rule state calls back through {sorted(held)}"


def test_the_view_is_a_copy_that_cannot_be_changed() -> None:
    st = _state()
    st.add(_visit(1, 7, 1), {}, Fraction(3, 2))
    st.settle()
    view = st.view()
    (unit,) = view.units
    assert (unit.base, unit.value, unit.kept) == (7, 7, 10)
    assert [passing for _, passing in unit.candidates] == [True]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        unit.kept = 0  # type: ignore[misc]
    with pytest.raises(TypeError):
        view.month_kept[0] = 1  # type: ignore[index]
    st.add(_visit(2, 3, 2), {})  # the state moves on; the view read before does not
    st.settle()
    assert len(view.units) == 1 and len(st.view().units) == 2
    assert isinstance(st.view().units[1], UnitView)
