"""Currencies on the columnar path: amounts converted in bulk as the line reader converts them.

The bulk reader turns an amount in another currency into the program's own as
history._convert_amounts does: the decimal written times the rate, exactly, then the nearest
double. The columnar plan then reads the converted column like any amount. An amount in a
currency without a rate is a line the line reader rejects: the bulk reader says None and the line
reader reads the file (tests/test_bulk_read.py). Here: the conversion itself against exact.times,
and whole runs of both evaluators on random histories in several currencies.
"""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import attrs
import pyarrow as pa
import pytest
from click.testing import CliRunner
from hypothesis import assume, given
from hypothesis import strategies as st

from loyalty_dsl import compile_text
from loyalty_dsl.cli import main
from loyalty_dsl.columnar.bulk_read import _times, read_bulk
from loyalty_dsl.columnar.plan import plan
from loyalty_dsl.evaluation.exact import times
from tests.test_columnar_zones import both_ways

ROOT = Path(__file__).resolve().parent.parent
CURRENCIES = (ROOT / "examples" / "programs" / "currencies.loy").read_text(encoding="utf-8")
# The example, with points per amount and a cap, so that converted amounts earn by their digits.
PROGRAM = CURRENCIES + (
    "\nrule per_dollar:\n    on order_confirmed\n    earn 1 for every 1.00 of amount\n    cap 300 per month\n"
    "tier Gold from 200 points:\n"
)
AMOUNTS = st.one_of(
    st.integers(0, 10**7).map(lambda cents: cents / 100),
    st.integers(0, 10**6).map(float),
    st.floats(0, 1e9, allow_nan=False, allow_infinity=False),
)
RATES = st.decimals(Decimal("0.0001"), Decimal("10000"), places=4, allow_nan=False, allow_infinity=False)


@given(st.lists(AMOUNTS, min_size=1, max_size=20), RATES)
def test_a_column_times_a_rate_is_exact_times_of_each(amounts, rate):
    try:
        found = _times(pa.array(amounts, pa.float64()), rate).to_pylist()
    except pa.ArrowInvalid:  # more digits than 20 places: the bulk reader leaves the file
        assume(False)
        return
    assert found == [times(a, rate) for a in amounts]


def test_the_conversion_is_exact_where_doubles_are_not():
    """19 x 1.08 is 20.520000000000003 in binary, 20.52 in decimals; 0.1 x 3 is 0.30000000000000004."""
    assert _times(pa.array([19.0, 0.1]), Decimal("1.08")).to_pylist() == [20.52, 0.108]
    assert _times(pa.array([0.1]), Decimal("3")).to_pylist() == [0.3]


def test_the_plan_takes_a_program_with_currencies():
    plan(compile_text(PROGRAM))


def history(seed: int) -> list[dict]:
    rng = random.Random(seed)
    events = []
    for i in range(rng.randint(5, 60)):
        event = {"member": rng.choice("abcd"), "type": "order_confirmed", "order": f"o{i}", "id": f"x{i}"}
        event["at"] = f"2026-0{rng.randint(1, 3)}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:00:00Z"
        event["amount"] = rng.choice([19, 20, 18.52, 92.6, 100, 78.75, rng.randrange(0, 40000) / 100])
        if rng.random() < 0.8:
            event["currency"] = rng.choice(["USD", "EUR", "GBP"])
        events.append(event)
    return events


@pytest.mark.parametrize("seed", range(30))
def test_both_evaluators_agree_on_random_histories_in_currencies(seed):
    """Amounts near the thresholds once converted (18.52 EUR is 20.0016 USD; 78.75 GBP is 100.0125)."""
    got, want = both_ways(compile_text(PROGRAM), history(seed), None)
    assert got == want


def test_a_run_from_a_file_reads_in_bulk_and_agrees(tmp_path):
    """The whole command: the bulk reader converts, the columnar plan runs, and the outcomes are the
    per-member evaluator's, byte for byte (with a rate file adding JPY)."""
    import orjson

    program = tmp_path / "currencies.loy"
    program.write_text(PROGRAM, encoding="utf-8")
    rng = random.Random(3)
    lines = [e | ({"currency": "JPY"} if rng.random() < 0.1 else {}) for s in range(8) for e in history(s)]
    for i, line in enumerate(lines):
        line["id"] = f"e{i}"
    path = tmp_path / "h.jsonl"
    path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,rate\nJPY,0.0067\nEUR,1.09\n", encoding="utf-8")
    given_rates = {"JPY": Decimal("0.0067"), "EUR": Decimal("1.09")}
    compiled = compile_text(PROGRAM)
    assert read_bulk([str(path)], attrs.evolve(compiled, rates={**compiled.rates, **given_rates})) is not None
    outs = {}
    for evaluator in ("columnar", "per-member"):
        args = ["run", str(program), str(path), "--rates", str(rates), "--evaluator", evaluator, "-q"]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        assert "0 rejected" in result.stderr
        outs[evaluator] = result.stdout
    assert outs["columnar"] == outs["per-member"]
    assert '"Gold"' in outs["columnar"]
