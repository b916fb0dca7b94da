"""Small helpers for tests: run a program over an in-memory history."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import orjson

from loyalty_dsl import CompiledProgram, History, outcomes, read_history


def history_of(program: CompiledProgram, lines: list[dict[str, Any]] | str) -> History:
    """A history read from JSON Lines held in memory (as `loyalty run ... -` would)."""
    data = lines.encode() if isinstance(lines, str) else b"".join(orjson.dumps(x) + b"\n" for x in lines)
    return read_history(["-"], program, stdin=io.BytesIO(data))


def run_json(
    program: CompiledProgram, lines: list[dict[str, Any]] | str, as_of: str | dt.date | None = None
) -> list[dict[str, Any]]:
    day = dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    return [o.to_json() for o in outcomes(program, history_of(program, lines), day)]


def comparable(outcome: dict[str, Any]) -> dict[str, Any]:
    """The keys an independent reading of DOMAIN.md states (decisions without reasons)."""
    return {
        "member": outcome["member"],
        "as_of": outcome["as_of"],
        "points": outcome["points"],
        "tier": outcome["tier"],
        "benefits": outcome["benefits"],
        "grants": outcome["grants"],
        "decisions": [{k: d[k] for k in ("benefit", "order", "granted")} for d in outcome["decisions"]],
    }
