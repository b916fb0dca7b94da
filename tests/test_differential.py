"""The interpreter against an independent brute-force reading of DOMAIN.md.

tests/oracle recomputes every status from scratch for each instant it needs;
the interpreter does it incrementally from the program text. They must agree
on random histories (all event types, offsets, boundaries, repeats).
"""

from __future__ import annotations

import datetime as dt
import random

import pytest

from tests.helpers import comparable, run_json
from tests.oracle import domain_oracle
from tests.oracle.gen import random_history

AS_OF = [None, dt.date(2025, 2, 28), dt.date(2026, 3, 31), dt.date(2026, 12, 31)]


@pytest.mark.parametrize("program", ["four_tier", "legacy"])
@pytest.mark.parametrize("seed", range(40))
def test_agrees_with_oracle(programs, program, seed):
    rng = random.Random(seed)
    history = random_history(rng, members=4, events_per_member=30)
    as_of = AS_OF[seed % len(AS_OF)]
    expected = domain_oracle.evaluate(program, history, as_of)
    got = [comparable(o) for o in run_json(programs[program], history, as_of)]
    assert got == expected
