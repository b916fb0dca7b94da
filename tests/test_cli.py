"""The `loyalty` command: outputs, accounting, exit statuses, no tracebacks."""

from __future__ import annotations

import csv
import io
import os
import threading
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from loyalty_dsl.cli import main

ROOT = Path(__file__).resolve().parent.parent
FOUR = str(ROOT / "programs" / "four_tier.loy")
LEGACY = str(ROOT / "programs" / "legacy_a0_a4.loy")
GOOD = [
    {"member": "b", "type": "bonus", "at": "2026-01-10", "points": 900, "id": "1"},
    {"member": "a", "type": "visit", "at": "2026-02-01", "id": "2"},
    {"member": "b", "type": "refund_requested", "at": "2026-03-02", "order": "o1", "amount": 20, "id": "3"},
]


@pytest.fixture
def history(tmp_path) -> Path:
    path = tmp_path / "h.jsonl"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in GOOD) + b'{"member": "c"}\n')
    return path


def invoke(*args: str, input: bytes | None = None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def test_run_writes_jsonl_ordered_by_member_and_counts_on_stderr(history):
    result = invoke("run", FOUR, str(history), "--as-of", "2026-03-31")
    assert result.exit_code == 0
    lines = [orjson.loads(x) for x in result.stdout.splitlines()]
    assert [o["member"] for o in lines] == ["a", "b"]
    b = lines[1]
    assert (b["points"], b["tier"]) == (900, "Platinum")
    assert b["decisions"][0] | {"reason": None} == {
        "benefit": "fast_refund",
        "order": "o1",
        "granted": True,
        "reason": None,
        "at": "2026-03-02T00:00:00Z",
    }
    assert b["decisions"][0]["reason"] == "Platinum: 20.00 <= limit 24"
    assert f"{history}:4: rejected[H101]: field 'type' is missing" in result.stderr
    assert "events: 4 read, 3 applied, 0 ignored, 0 duplicate, 1 rejected" in result.stderr


def test_summary_file(history, tmp_path):
    summary = tmp_path / "summary.json"
    result = invoke("run", FOUR, str(history), "--summary", str(summary), "-o", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 0
    data = orjson.loads(summary.read_bytes())
    assert data["events"] == {"read": 4, "applied": 3, "ignored": 0, "duplicate": 0, "rejected": 1}
    rejection = {"file": str(history), "line": 4, "code": "H101", "reason": "field 'type' is missing"}
    assert data["rejections"] == [rejection]


def test_strict_exits_1_and_writes_no_outcomes(history, tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")
    result = invoke("run", FOUR, str(history), "--strict", "-o", str(out))
    assert result.exit_code == 1
    assert "--strict" in result.stderr
    assert out.read_text() == "previous\n"


def test_output_file_is_replaced_whole(history, tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")
    assert invoke("run", FOUR, str(history), "-o", str(out)).exit_code == 0
    assert [orjson.loads(x)["member"] for x in out.read_text().splitlines()] == ["a", "b"]
    assert list(tmp_path.glob(".out.jsonl.*")) == []


def test_csv_and_table_formats(history):
    result = invoke("run", LEGACY, str(history), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["member"], r["points"], r["tier"]) for r in rows] == [("a", "0", "A0"), ("b", "0", "A0")]
    assert orjson.loads(rows[1]["decisions"])[0]["reason"] == "A0 has no fast_refund"
    table = invoke("run", FOUR, str(history), "--format", "table").stdout
    assert "Platinum" in table and "1 of 1" in table


def test_standard_input(history):
    result = invoke("run", FOUR, "-", input=history.read_bytes())
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 2
    assert "<stdin>:4: rejected" in result.stderr


def test_bad_program_exits_2_with_placed_errors(tmp_path, history):
    bad = tmp_path / "bad.loy"
    bad.write_text("window lifetime, continuous\ntier T from 0 points: prek\n")
    for args in (("check", str(bad)), ("run", str(bad), str(history))):
        result = invoke(*args)
        assert result.exit_code == 2
        assert f"{bad}:2:23: error[E103]: unknown benefit `prek`" in result.stderr
        assert "Traceback" not in result.stderr + result.stdout


def test_usage_errors_exit_2(history, tmp_path):
    assert invoke("run", FOUR).exit_code == 2
    assert invoke("run", FOUR, str(tmp_path / "nope.jsonl")).exit_code == 2
    assert invoke("run", FOUR, str(history), "--as-of", "2026-13-01").exit_code == 2
    wrong = tmp_path / "h.txt"
    wrong.write_text("x")
    result = invoke("run", FOUR, str(wrong))
    assert result.exit_code == 2 and "cannot tell the format" in result.stderr


def test_check_ok_and_assumptions():
    result = invoke("check", FOUR, LEGACY, "--assumptions")
    assert result.exit_code == 0
    assert "four_tier.loy: ok (10 events, 6 rules, 4 tiers, 3 assumptions)" in result.stdout
    assert "assumption (tier Platinum): Platinum starts at 800 points" in result.stdout
    assert result.stdout.count(": assumption (") == 7


def test_help_documents_exit_statuses():
    for args in ((), ("run",)):
        text = invoke(*args, "--help").stdout
        assert "Exit status:" in text and "--strict" in text
    for args in (("check",), ("explain",), ("diff",)):  # they have no --strict (see test_front_end_fixes.py)
        assert "Exit status:" in invoke(*args, "--help").stdout


def test_unwritable_output_is_one_line_and_status_2(history, tmp_path):
    result = invoke("run", FOUR, str(history), "-o", str(tmp_path / "missing" / "out.jsonl"))
    assert result.exit_code == 2
    assert f"cannot write: {tmp_path / 'missing' / 'out.jsonl'}" in result.stderr
    assert "Traceback" not in result.stderr


def test_jobs_give_the_same_output_as_one_process(tmp_path):
    import random

    from tests.oracle.gen import random_history

    history = tmp_path / "h.jsonl"
    events = random_history(random.Random(9), members=1200, events_per_member=5)  # more than one chunk
    history.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    one = invoke("run", FOUR, str(history), "--as-of", "2026-12-31", "-j", "1")
    two = invoke("run", FOUR, str(history), "--as-of", "2026-12-31", "-j", "2")
    assert one.exit_code == two.exit_code == 0
    assert one.stdout == two.stdout and len(one.stdout.splitlines()) == 1200


def test_fmt_check_lists_files_and_fmt_rewrites_them(tmp_path):
    messy = tmp_path / "p.loy"
    messy.write_text(
        "window lifetime, continuous\nevent visit   tier T from 1 point:  # top\nrule v: on visit earn 1\n"
    )
    check = invoke("fmt", "--check", str(messy))
    assert check.exit_code == 1 and f"would reformat {messy}" in check.stdout
    assert invoke("fmt", str(messy)).exit_code == 0
    once = messy.read_text()
    assert "# top" in once
    assert invoke("fmt", "--check", str(messy)).exit_code == 0
    assert invoke("fmt", str(messy)).exit_code == 0 and messy.read_text() == once


def test_shipped_programs_are_formatted():
    assert invoke("fmt", "--check", FOUR, LEGACY).exit_code == 0


def test_lint_exit_statuses(tmp_path):
    assert invoke("lint", FOUR, LEGACY).exit_code == 0
    odd = tmp_path / "odd.loy"
    odd.write_text(
        "window lifetime, continuous\nevent visit\ntier T from 1 point:\nrule v: on visit earn 5 cap 3 per day\n"
    )
    result = invoke("lint", str(odd))
    assert result.exit_code == 1 and f"{odd}:4:" in result.stdout and "warning[L104]" in result.stdout
    broken = tmp_path / "broken.loy"
    broken.write_text("window lifetime, continuous\ntier T from 1 point: nope\n")
    assert invoke("lint", str(broken)).exit_code == 2


def test_output_to_a_device_is_written_not_replaced(history, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    assert invoke("run", FOUR, str(history), "-o", str(fifo)).exit_code == 0
    reader.join(timeout=30)
    assert fifo.is_fifo() and len(got[0].splitlines()) == 2


def test_parallel_run_reports_a_bad_file_in_one_line(tmp_path, history):
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet at all")
    result = invoke("run", FOUR, str(history), str(broken), "-j", "2")
    assert result.exit_code == 2 and "not a readable Parquet file" in result.stderr
    assert "Traceback" not in result.stderr


def test_parallel_run_with_ledger_and_summary_matches_one_process(tmp_path):
    import random

    from tests.oracle.gen import random_history

    history = tmp_path / "h.jsonl"
    events = random_history(random.Random(4), members=30, events_per_member=20)
    history.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events) + b'{"bad": \n')
    outs = {}
    for jobs in ("1", "2"):
        files = [tmp_path / f"{jobs}-{name}" for name in ("out.jsonl", "ledger.jsonl", "summary.json")]
        result = invoke(
            "run",
            LEGACY,
            str(history),
            "-j",
            jobs,
            "-o",
            str(files[0]),
            "--ledger",
            str(files[1]),
            "--summary",
            str(files[2]),
        )
        assert result.exit_code == 0
        outs[jobs] = ([f.read_bytes() for f in files], result.stderr)
    assert outs["1"] == outs["2"]
