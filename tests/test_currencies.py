"""Amounts in several currencies, converted to the program's own when read.

examples/programs/currencies.loy (USD; EUR 1.08, GBP 1.27) over examples/currency_history.jsonl:
- 19 EUR = 20.52 USD: shopping 5.   - 19 USD: nothing.   - 80 GBP = 101.60 USD: shopping 5, big_order 20.
- 10 JPY: rejected, no rate.        - 25 with no currency: USD by default, shopping 5.
35 points. With examples/rates.csv (EUR 1.0, JPY 0.0067): 19 EUR is 19 USD (nothing) and 10 JPY is
0.07 USD (nothing): 30 points, nothing rejected.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from loyalty_dsl import ProgramError, compile_text
from loyalty_dsl.cli import main
from loyalty_dsl.language.fmt import format_source

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "examples" / "programs" / "currencies.loy"
HISTORY = ROOT / "examples" / "currency_history.jsonl"
RATES = ROOT / "examples" / "rates.csv"


def run(*extra: str):
    result = CliRunner().invoke(main, ["run", str(PROGRAM), str(HISTORY), "--as-of", "2026-02-28", *extra])
    (outcome,) = [orjson.loads(x) for x in result.stdout.splitlines()]
    return result, outcome


def test_amounts_are_compared_in_the_program_currency():
    result, o = run()
    assert o["points_by_rule"] == {"shopping": 15, "big_order": 20}
    assert "field 'currency': no rate for \"JPY\" (amounts are counted in USD)" in result.stderr


def test_rates_from_a_file_add_and_replace():
    result, o = run("--rates", str(RATES))
    assert o["points_by_rule"] == {"shopping": 10, "big_order": 20}
    assert "0 rejected" in result.stderr


def test_the_same_on_several_cores_and_on_dask():
    pytest.importorskip("dask.distributed")
    one = run("--rates", str(RATES), "-j", "1")[1]
    assert run("--rates", str(RATES), "-j", "2")[1] == one
    assert run("--rates", str(RATES), "--engine", "dask")[1] == one


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (("currency USD\n", ""), "E172"),
        (("rate EUR 1.08", "rate EUR 0"), "E173"),
        (("rate GBP 1.27", "rate USD 1"), "E174"),
        (("money in currency", "money in order_id"), "E104"),
        (("amount: money in currency", "amount: money in amount"), "E171"),
    ],
)
def test_currencies_are_checked(change, code):
    text = PROGRAM.read_text().replace(*change)
    with pytest.raises(ProgramError) as err:
        compile_text(text, "c.loy")
    assert code in {d.code for d in err.value.diagnostics}


def test_fmt_keeps_currencies():
    text = PROGRAM.read_text()
    assert format_source(text, "c.loy") == text
