"""Explanations: the ledger adds up, why-not speaks the rule's terms, what-if compares."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from pathlib import Path

import orjson
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from loyalty_dsl import outcomes, read_history
from loyalty_dsl.cli import main
from loyalty_dsl.tools.explain import explain_member
from tests.conftest import PROGRAMS, SHARED
from tests.helpers import history_of
from tests.oracle.gen import random_history

REFERENCE = SHARED / "reference" / "edge_cases.jsonl"
needs_reference = pytest.mark.skipif(not REFERENCE.is_file(), reason="shared/reference is not beside this checkout")


@pytest.mark.parametrize("program", ["four_tier", "legacy"])
@pytest.mark.parametrize("seed", range(6))
def test_ledger_adds_up_for_every_member(programs, program, seed):
    compiled = programs[program]
    history = history_of(compiled, random_history(random.Random(seed), members=5, events_per_member=40))
    as_of = dt.date(2026, 6, 30) if seed % 2 else dt.date(2026, 12, 31)
    for outcome in outcomes(compiled, history, as_of):
        ex = explain_member(compiled, outcome.member, history.members[outcome.member], as_of).to_json()
        assert sum(e["points"] for e in ex["ledger"]) == outcome.status.points == ex["points"]
        by_rule: dict[str, int] = defaultdict(int)
        for e in ex["ledger"]:
            by_rule[e["rule"]] += e["points"]
        assert {r: p for r, p in outcome.status.by_rule.items() if p} == {r: p for r, p in by_rule.items() if p}


@pytest.fixture(scope="module")
def member_b(programs):
    if not REFERENCE.is_file():
        pytest.skip("shared/reference is not beside this checkout")
    history = read_history([str(REFERENCE)], programs["four_tier"])
    return explain_member(programs["four_tier"], "b", history.members["b"], dt.date(2026, 11, 30)).to_json()


def test_explain_json_shape(member_b):
    assert {"member", "points", "tier", "ledger", "not_rewarded", "timeline", "grants", "decisions"} <= set(member_b)
    entry = member_b["ledger"][0]
    assert {"rule", "line", "points", "event"} <= set(entry)
    assert {"type", "at", "file", "line", "id"} <= set(entry["event"])


def test_why_not_in_the_rules_terms(member_b):
    reasons = {(n["rule"], n["event"].get("id")): n["reason"] for n in member_b["not_rewarded"]}
    assert reasons[("review", "br3")] == 'order "ghost" is not confirmed'
    assert reasons[("review", "br1")].startswith('already counted once per order (order "o1")')
    assert reasons[("visit", "bv11")] == "monthly visit cap 10 reached: 0 of 1 kept"
    assert reasons[("shopping", "b2")] == "daily shopping cap 5 reached: 0 of 5 kept"
    assert reasons[("shopping", "b3")] == "amount 1.99 < 2.00"
    assert reasons[("shopping", "b4")].startswith('order "o4" is voided (order_returned at 2026-11-30T23:00:00Z')
    assert reasons[("category_bonus", "b1")] == "the first category of the day earns nothing (beyond the first)"


def test_timeline_and_standing(member_b):
    assert member_b["timeline"][-1] == {"at": "2026-12-01T00:00:00Z", "points": 39, "tier": "Silver"}
    assert member_b["timeline"][0]["at"] == "2026-04-01T00:00:00Z"  # the first recalculation after March
    assert member_b["standing"]["next_tier"] == "Gold"
    assert member_b["standing"]["points_to_next_tier"] == 101 - 39


def test_continuous_timeline_lists_changes_of_level(programs):
    lines = [
        {
            "member": "m",
            "type": "order_confirmed",
            "at": f"2026-01-0{d}",
            "order": f"o{d}",
            "amount": 5,
            "category": "x",
        }
        for d in range(1, 8)
    ]
    history = history_of(programs["legacy"], lines)
    ex = explain_member(programs["legacy"], "m", history.members["m"], dt.date(2026, 1, 31)).to_json()
    # 15 points a day: A1 after the first order, A2 once 100 is passed (the seventh day: 105).
    assert [(t["points"], t["tier"]) for t in ex["timeline"]] == [(0, "A0"), (15, "A1"), (105, "A2")]


def test_run_writes_every_ledger(tmp_path):
    history = tmp_path / "h.jsonl"
    history.write_bytes(
        b"".join(orjson.dumps(e) + b"\n" for e in random_history(random.Random(3), members=4, events_per_member=30))
    )
    runner = CliRunner()
    for suffix in ("jsonl", "parquet"):
        ledger, out = tmp_path / f"ledger.{suffix}", tmp_path / "out.jsonl"
        result = runner.invoke(
            main,
            [
                "run",
                str(PROGRAMS["four_tier"]),
                str(history),
                "--as-of",
                "2026-12-31",
                "-o",
                str(out),
                "--ledger",
                str(ledger),
            ],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.stderr
        rows = (
            pq.read_table(ledger).to_pylist()
            if suffix == "parquet"
            else [orjson.loads(x) for x in ledger.read_bytes().splitlines()]
        )
        totals: dict[str, int] = defaultdict(int)
        for r in rows:
            totals[r["member"]] += r["points"]
        for o in map(orjson.loads, out.read_bytes().splitlines()):
            assert totals.get(o["member"], 0) == o["points"]


def test_explain_command(tmp_path):
    history = tmp_path / "h.jsonl"
    history.write_text('{"member": "m", "type": "visit", "at": "2026-01-05"}\n')
    runner = CliRunner()
    table = runner.invoke(
        main, ["explain", str(PROGRAMS["four_tier"]), str(history), "--member", "m", "--as-of", "2026-02-28"]
    )
    assert table.exit_code == 0 and "m: 1 points, Silver" in table.stdout and "Ledger" in table.stdout
    missing = runner.invoke(main, ["explain", str(PROGRAMS["four_tier"]), str(history), "--member", "n"])
    assert missing.exit_code == 2 and "no member 'n'" in missing.stderr


def _diff(*args: str):
    return CliRunner().invoke(main, ["diff", *args], catch_exceptions=False)


def test_a_program_compared_with_itself_changes_nothing(tmp_path):
    history = tmp_path / "h.jsonl"
    history.write_bytes(
        b"".join(orjson.dumps(e) + b"\n" for e in random_history(random.Random(5), members=6, events_per_member=30))
    )
    result = _diff(str(PROGRAMS["four_tier"]), str(PROGRAMS["four_tier"]), str(history), "--format", "json")
    data = orjson.loads(result.stdout)
    assert data["changed"] == 0 and data["members"] == 6
    assert all(set(row) == {a} for a, row in data["transitions"].items())
    assert data["points"]["a"] == data["points"]["b"]


def test_what_if_gold_started_at_200(tmp_path):
    gold200 = tmp_path / "gold200.loy"
    gold200.write_text(
        Path(PROGRAMS["four_tier"]).read_text().replace("tier Gold from 101 points", "tier Gold from 200 points")
    )
    history = tmp_path / "h.jsonl"
    history.write_text(
        "".join(
            orjson.dumps({"member": m, "type": "bonus", "at": "2026-01-05", "points": p}).decode() + "\n"
            for m, p in (("a", 150), ("b", 250), ("c", 50))
        )
    )
    changed = tmp_path / "changed.jsonl"
    result = _diff(
        str(PROGRAMS["four_tier"]),
        str(gold200),
        str(history),
        "--as-of",
        "2026-02-28",
        "--format",
        "json",
        "-o",
        str(changed),
    )
    data = orjson.loads(result.stdout)
    assert data["transitions"] == {"Gold": {"Gold": 1, "Silver": 1}, "Silver": {"Silver": 1}}
    assert data["changed"] == 1
    (line,) = changed.read_bytes().splitlines()
    assert orjson.loads(line)["member"] == "a"


def test_programs_with_different_tier_names(tmp_path):
    history = tmp_path / "h.jsonl"
    history.write_text(
        '{"member": "m", "type": "order_confirmed", "at": "2026-01-05", "order": "o", "amount": 10, "category": "x"}\n'
    )
    result = _diff(
        str(PROGRAMS["four_tier"]), str(PROGRAMS["legacy"]), str(history), "--as-of", "2026-02-28", "--format", "json"
    )
    assert orjson.loads(result.stdout)["transitions"] == {"Silver": {"A1": 1}}
    assert "Tier under A" in _diff(str(PROGRAMS["four_tier"]), str(PROGRAMS["legacy"]), str(history)).stdout
