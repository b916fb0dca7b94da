"""Which evaluator runs a program: the columnar plan where it applies, else the per-member reference."""

from __future__ import annotations

from typing import Literal

from loyalty_dsl.columnar.plan import NotColumnar, Plan, plan
from loyalty_dsl.evaluation.compile import CompiledProgram

Evaluator = Literal["auto", "columnar", "per-member"]
EVALUATORS: tuple[Evaluator, ...] = ("auto", "columnar", "per-member")


def choose_plan(program: CompiledProgram, evaluator: str, barred: str | None = None) -> Plan | None:
    """The columnar plan to run, or None for the per-member evaluator.

    `barred` says why the caller's options rule the columnar path out
    (None when they allow it). Asking for `columnar` where it cannot run raises
    NotColumnar with the reason, rather than quietly running the other one.
    """
    if evaluator not in EVALUATORS:
        raise ValueError(f"evaluator must be one of {', '.join(EVALUATORS)}, not {evaluator!r}")
    if evaluator == "per-member":
        return None
    if barred is not None:
        if evaluator == "columnar":
            raise NotColumnar(barred)
        return None
    try:
        return plan(program)
    except NotColumnar:
        if evaluator == "columnar":
            raise
        return None
