"""Measures: counters beside points (`measure nights`, `measure spend in money`) fed by `earn ... into M`.

The figures are worked out by hand from the rules below, over a 12-month window recalculated
monthly, as of 2026-03-31 (the recalculation of 2026-04-01 counts April 2025 to March 2026).
"""

from __future__ import annotations

import datetime as dt

import pytest

from loyalty_dsl import compile_text
from loyalty_dsl.columnar.plan import NotColumnar, plan
from loyalty_dsl.language.check import check
from loyalty_dsl.language.fmt import format_source
from loyalty_dsl.language.lint import lint
from loyalty_dsl.language.parse import parse
from loyalty_dsl.tools.explain import explain_member
from tests.helpers import history_of, run_json

PROGRAM = """\
event stay with stay: text, nights: integer, amount: money
window last 12 months, recalculated monthly
measure nights
measure stays
measure spend in money
tier Member from 0 points:
rule night_count:
    on stay
    earn nights into nights
rule stay_count:
    on stay
    earn 1 per stay into stays
rule spending:
    on stay
    earn amount into spend
rule base:
    on stay
    earn 10 for every 1.00 of amount
"""


def stay(at: str, stay_id: str, nights: int, amount: float) -> dict:
    return {"member": "m", "type": "stay", "at": at, "stay": stay_id, "nights": nights, "amount": amount}


EVENTS = [
    stay("2025-03-15T12:00:00Z", "s0", 5, 80.0),  # March 2025: before the window, counts nowhere
    stay("2026-01-10T12:00:00Z", "s1", 3, 350.10),
    stay("2026-01-11T12:00:00Z", "s1", 2, 100.05),  # the same stay again
    stay("2026-02-01T12:00:00Z", "s2", 1, 0.20),
]


def outcome(text: str = PROGRAM, events: list[dict] = EVENTS, as_of: str = "2026-03-31") -> dict:
    (o,) = run_json(compile_text(text, "m.loy"), events, as_of)
    return o


def test_measures_beside_points():
    o = outcome()
    # nights: 3 + 2 + 1 = 6; stays: distinct s1, s2 = 2 (s0 is outside the window);
    # spend: 350.10 + 100.05 + 0.20 = 450.35 exactly (binary floats make it 450.34999999999997).
    assert o["measures"] == {"nights": 6, "stays": 2, "spend": 450.35}
    # points: 10 x (350 + 100 + 0) = 4500; only the rule into points is in points_by_rule.
    assert o["points"] == 4500
    assert o["points_by_rule"] == {"base": 4500}


def test_earn_1_into_counts_events():
    # `earn 1 into stays` (no per): each of the 3 stay events in the window counts.
    text = PROGRAM.replace("earn 1 per stay into stays", "earn 1 into stays")
    assert outcome(text)["measures"]["stays"] == 3


def test_a_cap_applies_to_a_measure():
    # cap 4 per month: January 3 + 2 = 5 is cut to 4; February 1: 5 nights.
    text = PROGRAM.replace("    earn nights into nights\n", "    earn nights into nights\n    cap 4 per month\n")
    assert outcome(text)["measures"]["nights"] == 5


def test_a_measure_counts_over_the_window():
    # As of 2027-01-31 (recalculation of 2027-02-01: February 2026 to January 2027), only s2 counts.
    o = outcome(as_of="2027-01-31")
    assert o["measures"] == {"nights": 1, "stays": 1, "spend": 0.2}
    assert o["points"] == 0


def test_an_integer_into_a_money_measure_is_exact():
    # `earn nights into spend`: 3 + 2 + 1 = 6 in a money measure, beside the amounts.
    text = PROGRAM.replace("earn amount into spend", "earn nights into spend")
    assert outcome(text)["measures"]["spend"] == 6.0


def test_a_program_without_measures_has_no_measures_key():
    text = (
        PROGRAM.split("measure nights")[0]
        + "tier Member from 0 points:\n"
        + PROGRAM.split("earn amount into spend\n")[1]
    )
    o = outcome(text)
    assert "measures" not in o and o["points"] == 4500


def test_balance_holds_points_only():
    # With expiry, the balance is every point earned and not expired (it has no window): s0's 80.00 earned
    # 800 on 2025-03-15 (valid until 2027-03-15), then 3500 + 1000 + 0: 5300; none of the nights, stays or spend.
    o = outcome(PROGRAM + "points expire after 24 months\n")
    assert o["balance"] == 5300


def test_explain_gives_each_measure_its_ledger():
    program = compile_text(PROGRAM, "m.loy")
    history = history_of(program, EVENTS)
    ex = explain_member(program, "m", history.members["m"], dt.date(2026, 3, 31)).to_json()
    assert sum(e["points"] for e in ex["ledger"]) == ex["points"] == 4500  # the points ledger: points only
    assert [e["rule"] for e in ex["ledger"]] == ["base", "base"]  # 3500 and 1000; 0.20 earns 0
    assert ex["measures"]["nights"]["value"] == 6
    assert [e["amount"] for e in ex["measures"]["nights"]["ledger"]] == [3, 2, 1]
    assert [e["amount"] for e in ex["measures"]["spend"]["ledger"]] == [350.1, 100.05, 0.2]
    assert [e["amount"] for e in ex["measures"]["stays"]["ledger"]] == [1, 1]


def diagnostics(text: str) -> list:
    return check(parse(text, "m.loy"))


@pytest.mark.parametrize(
    ("change", "code", "hint"),
    [
        (("earn nights into nights", "earn nights into night"), "E204", "`nights`"),
        (("measure stays\n", "measure stays\nmeasure visits\n"), "E207", "into visits"),
        (("measure spend in money", "measure spend"), "E151", "measure spend in money"),
        (("measure spend in money", "measure spend in dollars"), "E206", "money"),
        (("measure stays\n", "measure stays\nmeasure points\n"), "E205", None),
        (("measure stays\n", "measure stays\nmeasure stays\n"), "E102", None),
    ],
)
def test_check_knows_measures(change, code, hint):
    assert change[0] in PROGRAM
    found = [d for d in diagnostics(PROGRAM.replace(*change)) if d.code == code]
    assert found, diagnostics(PROGRAM.replace(*change))
    if hint is not None:
        assert found[0].hint is not None and hint in found[0].hint
    assert found[0].line >= 1 and found[0].col >= 1


def test_the_program_checks_clean():
    assert diagnostics(PROGRAM) == []


def test_fmt_lays_out_measures():
    messy = PROGRAM.replace("measure spend in money", "measure   spend  in money").replace(
        "earn nights into nights", "earn nights   into   nights"
    )
    assert format_source(messy, "m.loy") == format_source(PROGRAM, "m.loy")
    out = format_source(PROGRAM, "m.loy")
    assert "measure spend in money\n" in out and "    earn nights into nights\n" in out
    assert format_source(out, "m.loy") == out


def test_lint_a_measure_gives_no_points_toward_a_tier():
    # Points come from `earn 1 per day` only: at most 366 in 12 months, so Top at 1000 points is unreachable,
    # however many nights the unbounded measure rule counts.
    text = (
        "event stay with stay: text, nights: integer\nwindow last 12 months, recalculated monthly\nmeasure nights\n"
        "tier Top from 1000 points:\nrule nights:\n    on stay\n    earn nights into nights\n"
        "rule daily:\n    on stay\n    earn 1 per day\n"
    )
    assert "L103" in {d.code for d in lint(parse(text, "m.loy"))}


def test_columnar_declines_measures():
    text = PROGRAM.replace("rule base:\n    on stay\n    earn 10 for every 1.00 of amount\n", "")
    with pytest.raises(NotColumnar, match="measure"):
        plan(compile_text(text, "m.loy"))


@pytest.mark.parametrize("suffix", ["jsonl", "parquet"])
def test_the_ledger_file_says_what_each_entry_adds_to(tmp_path, suffix):
    # `run --ledger`: with measures, each row names its measure ("points" or the measure) and amount.
    # Points: base 3500 and 1000 (0.20 earns 0); nights 3, 2, 1; stays s1, s2; spend 350.10, 100.05, 0.20.
    import decimal

    import orjson
    import pyarrow.parquet as pq
    from click.testing import CliRunner

    from loyalty_dsl.cli import main

    program, history, ledger = tmp_path / "m.loy", tmp_path / "h.jsonl", tmp_path / f"l.{suffix}"
    program.write_text(PROGRAM)
    history.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in EVENTS))
    args = ["run", str(program), str(history), "--as-of", "2026-03-31", "--ledger", str(ledger), "-q"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    if suffix == "jsonl":
        rows = [orjson.loads(line) for line in ledger.read_bytes().splitlines()]
    else:
        rows = pq.read_table(ledger).to_pylist()
    by_measure: dict[str, list] = {}
    for row in rows:
        by_measure.setdefault(row["measure"], []).append(row["amount"])
    money = [decimal.Decimal(str(a)) for a in by_measure["spend"]]
    assert money == [decimal.Decimal("350.10"), decimal.Decimal("100.05"), decimal.Decimal("0.20")]
    assert [int(a) for a in by_measure["points"]] == [3500, 1000]
    assert [int(a) for a in by_measure["nights"]] == [3, 2, 1]
    assert [int(a) for a in by_measure["stays"]] == [1, 1]
    assert all(row["points"] is None and row["earned"] is None for row in rows if row["measure"] != "points")
