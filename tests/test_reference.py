"""The hand-made edge cases of shared/reference: an independent reading of DOMAIN.md."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest

from loyalty_dsl import outcomes, read_history
from tests.conftest import SHARED
from tests.helpers import comparable

REFERENCE = SHARED / "reference"
CASES = [(program, as_of) for program in ("four_tier", "legacy") for as_of in ("2026-03-31", "2026-11-30")]


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="shared/reference is not beside this checkout")
@pytest.mark.parametrize(("program", "as_of"), CASES)
def test_reference_outcomes(programs, program, as_of):
    compiled = programs[program]
    history = read_history([str(REFERENCE / "edge_cases.jsonl")], compiled)
    expected = [orjson.loads(line) for line in (REFERENCE / f"{program}.{as_of}.jsonl").read_bytes().splitlines()]
    got = [comparable(o.to_json()) for o in outcomes(compiled, history, dt.date.fromisoformat(as_of))]
    assert got == expected
