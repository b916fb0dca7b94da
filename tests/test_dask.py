"""--engine dask on a LocalCluster with 2 workers: output identical, byte for byte, to the local engine."""

from __future__ import annotations

import random

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from loyalty_dsl import load, read_history
from loyalty_dsl.cli import main
from loyalty_dsl.io.history import Accounting
from tests.conftest import PROGRAMS
from tests.oracle.gen import random_history

BAD = [b'{"member": "x", "type": "bonus"', b"[1]", b'{"member": "y", "type": "bonus", "at": "2026-01-01"}', b""]


@pytest.fixture(scope="module")
def histories(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask")
    events = random_history(random.Random(11), members=40, events_per_member=25)
    half = len(events) // 2
    first, second = folder / "a.jsonl", folder / "b.jsonl"
    first.write_bytes(b"\n".join([*(orjson.dumps(e) for e in events[:half]), *BAD]) + b"\n")
    second.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events[half:]))
    parquet = folder / "c.parquet"
    columns = sorted({k for e in events for k in e})
    pq.write_table(pa.Table.from_pylist([{c: e.get(c) for c in columns} for e in events[:half]]), parquet)
    return first, second, parquet


@pytest.mark.parametrize("partitions", [1, 3, 7])
def test_partitions_account_every_line_once(programs, histories, partitions):
    program = programs["four_tier"]
    paths = [str(p) for p in histories]
    whole = read_history(paths, program)
    parts = [read_history(paths, program, partition=(k, partitions)) for k in range(partitions)]
    assert Accounting.merged(p.accounting for p in parts).to_json() == whole.accounting.to_json()
    assert sorted(m for p in parts for m in p.members) == sorted(whole.members)


@pytest.mark.parametrize("program", ["four_tier", "legacy"])
def test_dask_output_is_identical_to_local(histories, tmp_path, program):
    pytest.importorskip("dask.distributed")
    files = [str(p) for p in histories]
    runs = {}
    for engine in ("local", "dask"):
        out, summary, ledger = (tmp_path / f"{engine}.{x}" for x in ("jsonl", "json", "ledger.jsonl"))
        result = CliRunner().invoke(
            main,
            [
                "run",
                str(PROGRAMS[program]),
                *files,
                "--engine",
                engine,
                "-j",
                "2",
                "-o",
                str(out),
                "--summary",
                str(summary),
                "--ledger",
                str(ledger),
            ],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.stderr
        runs[engine] = (out.read_bytes(), summary.read_bytes(), ledger.read_bytes(), result.stderr)
    assert runs["dask"] == runs["local"]
    # Member "y" has one bonus without points: rejected by four_tier, an ignored type for legacy.
    assert len(runs["local"][0].splitlines()) == {"four_tier": 40, "legacy": 41}[program]


def test_dask_refuses_standard_input(histories):
    pytest.importorskip("dask.distributed")
    result = CliRunner().invoke(main, ["run", str(PROGRAMS["four_tier"]), "-", "--engine", "dask"], input=b"")
    assert result.exit_code == 2 and "standard input" in result.stderr


def test_compiled_programs_are_rebuilt_on_workers():
    from loyalty_dsl.engines.distributed import _program

    text = PROGRAMS["four_tier"].read_text()
    assert _program(text, "four_tier.loy") is _program(text, "four_tier.loy")
    assert load(PROGRAMS["four_tier"]).tiers == _program(text, "four_tier.loy").tiers


def _run(*args: str) -> tuple[int, bytes, str]:
    result = CliRunner().invoke(main, ["run", *args], catch_exceptions=False)
    return result.exit_code, result.stdout_bytes, result.stderr


@pytest.mark.parametrize("program", ["four_tier", "legacy"])
def test_dask_runs_the_columnar_evaluator_on_each_partition(histories, tmp_path, program):
    """`--evaluator columnar` on Dask (refused before issue 15): every partition evaluated in
    DuckDB, read in bulk where the files are clean (b.jsonl, c.parquet) and line by line where one
    has bad lines (a.jsonl, as the local engine does); output, summary and standard error are
    those of the local engine, byte for byte."""
    pytest.importorskip("dask.distributed")
    first, second, parquet = (str(p) for p in histories)
    for files in ([second, parquet], [first, second, parquet]):
        runs = {}
        for engine in ("local", "dask"):
            summary = tmp_path / f"{engine}.json"
            found = _run(
                str(PROGRAMS[program]),
                *files,
                *("--engine", engine, "--evaluator", "columnar", "-j", "2", "--partitions", "3"),
                *("--summary", str(summary)),
            )
            assert found[0] == 0, found[2]
            runs[engine] = (*found, summary.read_bytes())
        assert runs["dask"] == runs["local"]
        assert "gave way" not in runs["local"][2]


def test_dask_gives_way_to_the_per_member_evaluator_as_the_local_engine_does(tmp_path):
    """Points beyond the exact range are found only once DuckDB has summed them: on Dask as
    locally, the columnar evaluator says so and the per-member one runs (it withholds m1, whose
    1,025 bonuses of 2^53 - 1 points sum beyond 2^63, and exits 3); same output and messages."""
    pytest.importorskip("dask.distributed")
    most = 2**53 - 1
    lines = [{"member": "m1", "type": "bonus", "at": f"2026-01-{1 + i // 40:02d}", "points": most} for i in range(1025)]
    lines.append({"member": "m2", "type": "bonus", "at": "2026-01-05", "points": 5})
    history = tmp_path / "h.jsonl"
    history.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    runs = {
        engine: _run(str(PROGRAMS["four_tier"]), str(history), "--as-of", "2026-02-28", "--engine", engine, "-j", "2")
        for engine in ("local", "dask")
    }
    assert runs["dask"] == runs["local"]
    code, out, err = runs["dask"]
    assert code == 3 and "the columnar evaluator gave way to the per-member one" in err
    assert out.count(b'"member"') == 1 and b'"member":"m2"' in out
