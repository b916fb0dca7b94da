"""Programs off the columnar plan, evaluated per member from a bulk read (columnar/bulk_history.py,
engines/bulk_members.py), against the same evaluator over the line reader's history.

The bulk table holds amounts as doubles where the line reader keeps `5` as an integer: the
events may differ in that type only, and no outcome may differ at all.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from loyalty_dsl import CompiledProgram, History, load, read_history
from loyalty_dsl.columnar.bulk_history import history_of
from loyalty_dsl.columnar.bulk_read import read_bulk
from loyalty_dsl.engines.bulk_members import bulk_readable, run_bulk
from loyalty_dsl.evaluation.compile import compile_text
from loyalty_dsl.evaluation.run import results

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PAIRS = [
    (program, EXAMPLES / f"{history}_history.jsonl")
    for program, history in [
        ("spendable_points", "spendable"),
        ("supermarket_vouchers", "supermarket"),
        ("tier_retention", "retention"),
        ("cafe_rewards", "cafe"),
        ("coffee_stars", "coffee"),
        ("stamp_card", "stamp"),
        ("beauty_spend", "beauty"),
        ("hotel_nights", "hotel"),
        ("airline_dollars", "airline"),
        ("pending_points", "pending"),
        ("monthly_challenge", "challenge"),
        ("fiscal_calendar", "fiscal"),
    ]
]


def program_of(name: str) -> CompiledProgram:
    return load(EXAMPLES / "programs" / f"{name}.loy")


def events_of(history: History) -> dict[str, list[tuple[Any, ...]]]:
    """Every event as the evaluator reads it; amounts by value (5 == 5.0)."""
    return {
        member: [(e.at, e.seq, e.rank, e.type, e.fields, e.file, e.line, e.id) for e in events]
        for member, events in history.members.items()
    }


def outcomes(program: CompiledProgram, history: History, day: dt.date | None) -> bytes:
    return orjson.dumps(list(results(program, history, day)))


@pytest.mark.parametrize(("name", "path"), PAIRS, ids=[p for p, _ in PAIRS])
def test_a_bulk_read_gives_the_line_readers_history_and_outcomes(name, path):
    program = program_of(name)  # off the columnar plan, or on it under `--evaluator per-member`
    bulk = read_bulk([str(path)], program)
    assert bulk is not None, "an example history is clean: the bulk reader must be sure of it"
    line, converted = read_history([str(path)], program), history_of(bulk, program)
    assert events_of(converted) == events_of(line)
    assert converted.accounting == line.accounting and converted.latest == line.latest
    assert outcomes(program, converted, None) == outcomes(program, line, None)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The bench's history of 20,000 lines (repeats, ignored types, offsets), in both formats."""
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    folder = tmp_path_factory.mktemp("generated")
    jsonl, parquet = folder / "history.jsonl", folder / "history.parquet"
    module.generate(20_000, 11, jsonl, parquet)
    return {"jsonl": jsonl, "parquet": parquet}


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
@pytest.mark.parametrize(
    "program", ["programs/four_tier.loy", "programs/legacy_a0_a4.loy", "bench/programs/four_tier_zoned_full.loy"]
)
def test_a_generated_history_converts_to_the_line_readers(generated, fmt, program):
    compiled = load(ROOT / program)
    path = str(generated[fmt])
    bulk = read_bulk([path], compiled)
    assert bulk is not None
    line, converted = read_history([path], compiled), history_of(bulk, compiled)
    assert converted.accounting.duplicate > 0 and converted.accounting.ignored > 0
    assert events_of(converted) == events_of(line)
    day = dt.date(2026, 11, 30)
    assert outcomes(compiled, converted, day) == outcomes(compiled, line, day)
    shares = [history_of(bulk, compiled, bulk.members[k::3]) for k in range(3)]
    assert sorted(m for share in shares for m in share.members) == bulk.members
    whole = events_of(line)
    for share in shares:
        assert events_of(share) == {m: whole[m] for m in share.members}


def test_places_count_blank_lines_and_files(tmp_path):
    """Redemptions name the file and line of their event: those of the line reader, across two
    files and blank lines."""
    program = program_of("cafe_rewards")
    lines = (EXAMPLES / "cafe_history.jsonl").read_bytes().splitlines(keepends=True)
    half = len(lines) // 2
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_bytes(b"\n".join(lines[:half]) + b"\n")  # a blank line after each line
    second.write_bytes(b"\r\n" + b"".join(lines[half:]))
    paths = [str(first), str(second)]
    bulk = read_bulk(paths, program)
    assert bulk is not None
    line, converted = read_history(paths, program), history_of(bulk, program)
    assert {e.file for es in converted.members.values() for e in es} == set(paths)
    assert events_of(converted) == events_of(line)
    text = outcomes(program, converted, None)
    assert b'"line"' in text and text == outcomes(program, line, None)


def test_a_numeric_decision_key_stays_with_the_line_reader(tmp_path):
    """`5` is an integer to the line reader and a double in the table; a decision's key is shown
    as read, so a program keyed on an amount is not read in bulk."""
    source = """program "keyed"
event buy with amount: money
event ask with amount: money
window lifetime, continuous
rule buying:
    on buy
    earn 1
benefit quick
tier One from 1 point:
    quick
decide quick on ask for its amount
"""
    program = compile_text(source)
    assert not bulk_readable(program)
    history = tmp_path / "h.jsonl"
    history.write_text(
        '{"member": "m", "type": "buy", "at": "2026-01-01", "amount": 5}\n'
        '{"member": "m", "type": "ask", "at": "2026-01-02", "amount": 5}\n'
    )
    assert run_bulk(program, [str(history)], None, 1) is None
    assert bulk_readable(program_of("spendable_points"))


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_command_writes_what_the_line_reader_gives(tmp_path, jobs):
    """`loyalty run` of a program off the plan: the same bytes from a file (bulk) as from standard
    input (always read line by line), on one process and on two."""
    program, path = EXAMPLES / "programs" / "supermarket_vouchers.loy", EXAMPLES / "supermarket_history.jsonl"
    command = [sys.executable, "-m", "loyalty_dsl.cli", "run", str(program), "--as-of", "2026-11-30", "--quiet"]
    from_file = subprocess.run([*command, str(path), "-j", jobs], capture_output=True, check=True)
    from_stdin = subprocess.run([*command, "-"], input=path.read_bytes(), capture_output=True, check=True)
    assert from_file.stdout and from_file.stdout == from_stdin.stdout
    assert from_file.stderr == from_stdin.stderr  # the same accounting line
