"""Shared fixtures: the shipped programs, compiled once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from loyalty_dsl import CompiledProgram, load

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = {"four_tier": ROOT / "programs" / "four_tier.loy", "legacy": ROOT / "programs" / "legacy_a0_a4.loy"}
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def programs() -> dict[str, CompiledProgram]:
    return {name: load(path) for name, path in PROGRAMS.items()}
