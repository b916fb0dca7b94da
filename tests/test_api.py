"""The Python API for embedding: the same outcomes as the command, from memory."""

from __future__ import annotations

import datetime as dt

import orjson
import pyarrow as pa
import pytest
from click.testing import CliRunner

import loyalty_dsl
from loyalty_dsl.cli import main
from tests.conftest import PROGRAMS

EVENTS = [
    {"member": "b", "type": "bonus", "at": "2026-01-10", "points": 900, "id": "1"},
    {"member": "a", "type": "visit", "at": "2026-02-01T10:00:00+02:00", "id": "2"},
    {"member": "b", "type": "refund_requested", "at": "2026-03-02", "order": "o1", "amount": 20, "id": "3"},
    {"member": "b", "type": "bonus", "at": "2026-03-03", "points": "many"},
    ["not", "an", "event"],
]


def test_evaluate_dicts_like_the_command(tmp_path):
    program = loyalty_dsl.load(PROGRAMS["four_tier"])
    result = loyalty_dsl.evaluate(program, EVENTS, as_of=dt.date(2026, 3, 31))
    b = result.by_member()["b"]
    assert (b.points, b.tier, b.benefits["fast_refund"]) == (900, "Platinum", {"limit": 24})
    assert [(d.benefit, d.granted, d.reason) for d in b.decisions] == [
        ("fast_refund", True, "Platinum: 20.00 <= limit 24")
    ]
    assert result.accounting.counts() == {"read": 5, "applied": 3, "ignored": 0, "duplicate": 0, "rejected": 2}
    rejection = {"file": "<events>", "line": 5, "code": "H003", "reason": "expected an object, got list"}
    assert result.accounting.rejections[1] == rejection
    history = tmp_path / "h.jsonl"
    history.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in EVENTS))
    cli = CliRunner().invoke(main, ["run", str(PROGRAMS["four_tier"]), str(history), "--as-of", "2026-03-31"])
    assert [orjson.loads(x) for x in cli.stdout.splitlines()] == [o.to_json() for o in result.outcomes]


def test_evaluate_a_pyarrow_table():
    program = loyalty_dsl.load(PROGRAMS["legacy"])
    table = pa.Table.from_pylist(
        [
            {
                "member": "m",
                "type": "order_confirmed",
                "at": "2026-01-05",
                "order": "o1",
                "amount": 10.0,
                "category": "x",
            },
            {"member": "m", "type": "visit", "at": "2026-01-06", "order": None, "amount": None, "category": None},
        ]
    )
    result = loyalty_dsl.evaluate(program, table)
    (m,) = result.outcomes
    assert (result.as_of, m.points, m.tier) == (dt.date(2026, 1, 6), 15, "A1")
    assert result.accounting.counts()["ignored"] == 1


def test_check_text_returns_diagnostics():
    assert loyalty_dsl.check_text(PROGRAMS["four_tier"].read_text()) == []
    (d,) = loyalty_dsl.check_text("window lifetime, continuous\ntier T from 0 points: perk\n", "p.loy")
    assert (d.file, d.line, d.code) == ("p.loy", 2, "E103")
    (syntax,) = loyalty_dsl.check_text("rule", "p.loy")
    assert syntax.code == "E001"


def test_the_api_takes_the_columnar_path_where_it_can():
    program = loyalty_dsl.load(PROGRAMS["four_tier"])
    fast = loyalty_dsl.evaluate(program, EVENTS, as_of=dt.date(2026, 3, 31))
    slow = loyalty_dsl.evaluate(program, EVENTS, as_of=dt.date(2026, 3, 31), evaluator="per-member")
    assert (fast.evaluator, slow.evaluator) == ("columnar", "per-member")
    assert [o.to_json() for o in fast.outcomes] == [o.to_json() for o in slow.outcomes]
    assert fast.accounting.counts() == slow.accounting.counts()


def test_the_api_says_why_it_cannot_run_columnar():
    program = loyalty_dsl.compile_text(
        'timezone "Europe/Paris"\nwindow calendar year, continuous\nevent bonus with points: integer\n'
        "rule bonus:\n    on bonus\n    earn points\n    vesting after 1 day\ntier T from 0 points:\n"
    )
    events = [{"member": "a", "type": "bonus", "at": "2026-01-01", "points": 3}]
    auto = loyalty_dsl.evaluate(program, events, as_of=dt.date(2026, 1, 5))  # vested on 2 January
    assert (auto.evaluator, [o.points for o in auto.outcomes]) == ("per-member", [3])
    with pytest.raises(loyalty_dsl.NotColumnar, match="calendar-year"):
        loyalty_dsl.evaluate(program, [], evaluator="columnar")
    with pytest.raises(ValueError, match="evaluator must be one of"):
        loyalty_dsl.evaluate(program, [], evaluator="fast")  # type: ignore[arg-type]
