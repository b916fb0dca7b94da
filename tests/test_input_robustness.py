"""History input robustness (issue 17): CSV headers and separators, the names of files
in the ledger under Dask, a bad scheduler address, and memory bounded whatever is rejected.

Hostile files themselves are in `tests/hostile/` (see `expected.toml`); here, what the
corpus cannot say: line numbers, every path of the command, and the accounting's bounds.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from loyalty_dsl import load, read_history
from loyalty_dsl.cli import main
from loyalty_dsl.history import HistoryError

ROOT = Path(__file__).resolve().parent.parent
FOUR_TIER = ROOT / "programs" / "four_tier.loy"
LEGACY = ROOT / "programs" / "legacy_a0_a4.loy"


def invoke(*args: str) -> object:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


# --- CSV: the header names the columns and the separator (item 14) ------------------------------


def test_a_semicolon_file_keeps_its_line_numbers_after_blank_rows(tmp_path):
    """Blank rows before the header count as lines: the bad row below is line 5
    (1 blank, 2 cells all empty, 3 header, 4 good row, 5 bad row)."""
    path = tmp_path / "h.csv"
    path.write_text(
        "\n;;;\nmember;type;at;points\nm;bonus;2026-01-01;12\nm;bonus;2026-01-02;twelve\nm;bonus;2026-01-03;1\n"
    )
    history = read_history([str(path)], load(FOUR_TIER))
    assert history.accounting.rejections == [
        {"file": str(path), "line": 5, "reason": "field 'points': expected a number, got \"twelve\""}
    ]
    assert history.accounting.counts() == {"read": 3, "applied": 2, "ignored": 0, "duplicate": 0, "rejected": 1}


def test_a_tab_separated_file_reads_as_the_comma_separated_one(tmp_path):
    rows = [["member", "type", "at", "points"], ["m", "bonus", "2026-01-01", "12"], ["n", "bonus", "2026-01-02", "3"]]
    comma, tab = tmp_path / "comma.csv", tmp_path / "tab.csv"
    comma.write_text("".join(",".join(r) + "\n" for r in rows))
    tab.write_text("".join("\t".join(r) + "\n" for r in rows))
    a, b = (invoke("run", str(FOUR_TIER), str(p), "-j", "1") for p in (comma, tab))
    assert a.exit_code == b.exit_code == 0
    assert a.stdout == b.stdout and a.stdout.count("\n") == 2


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("program", [FOUR_TIER, LEGACY])
def test_a_file_without_header_is_refused_on_every_path(program, jobs, tmp_path):
    """Per member on one or two processes, and the columnar path's fallback (four_tier
    takes it): exit 2, one line, nothing on standard output."""
    path = tmp_path / "h.csv"
    path.write_text("m,bonus,2026-01-01,12\nm,bonus,2026-01-02,3\n")
    result = invoke("run", str(program), str(path), "-j", jobs)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert f"{path}:1: the CSV header lacks the column(s) member, type, at" in result.stderr


def test_the_hint_names_the_close_column(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("member,Typ,at\nm,bonus,2026-01-01\n")
    with pytest.raises(HistoryError, match=r'lacks the column\(s\) type .*did you mean "Typ" -> "type"\?'):
        read_history([str(path)], load(FOUR_TIER))


def test_a_file_of_blank_rows_or_only_a_header_is_no_error(tmp_path):
    for text in ("", "\n\n", ",,\n", "member,type,at\n"):
        path = tmp_path / "h.csv"
        path.write_text(text)
        assert read_history([str(path)], load(FOUR_TIER)).accounting.read == 0


# --- Dask: the files named as given (item 15), a bad scheduler (item 20) -----------------------

DASK_LINES = (
    '{"member": "m", "type": "bonus", "at": "2026-01-01", "points": 3, "id": "b1"}\n'
    '{"member": "m", "type": "bonus", "at": "2026-01-02", "points": 4, "id": "b1"}\n'
    '{"member": "n", "type": "bonus", "at": "2026-01-03"}\n'
    '{"member": "n", "type": "bonus", "at": "2026-01-04", "points": 5}\n'
)


def test_dask_names_the_files_as_the_local_engine_does(tmp_path, monkeypatch):
    """A history named by a relative path: the ledger's `event_file`, the summary's
    rejections and repeats name it so under both engines, byte for byte."""
    pytest.importorskip("dask.distributed")
    monkeypatch.chdir(tmp_path)
    Path("h.jsonl").write_text(DASK_LINES)
    runs = {}
    for engine in ("local", "dask"):
        args = ["run", str(FOUR_TIER), "h.jsonl", "--engine", engine, "-j", "2", "--as-of", "2026-12-31"]
        args += ["-o", f"{engine}.out", "--summary", f"{engine}.json", "--ledger", f"{engine}.ledger.jsonl"]
        result = invoke(*args)
        assert result.exit_code == 0, result.stderr
        runs[engine] = [Path(f"{engine}.{x}").read_bytes() for x in ("out", "json", "ledger.jsonl")]
    assert runs["dask"] == runs["local"]
    ledger = runs["local"][2].decode()
    # Lines 1 and 4 earn points (line 2 repeats id b1, line 3 lacks points): two rows, both of h.jsonl.
    assert ledger.count('"event_file":"h.jsonl"') == 2 and str(tmp_path) not in ledger


@pytest.mark.parametrize("address", ["notaurl", "tcp://"])
def test_a_scheduler_address_that_is_not_one_is_a_bad_command_line(address, tmp_path):
    pytest.importorskip("dask.distributed")
    path = tmp_path / "h.jsonl"
    path.write_text(DASK_LINES)
    result = invoke("run", str(FOUR_TIER), str(path), "--engine", "dask", "--scheduler", address)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"loyalty: --scheduler {address}: ") and result.stderr.count("\n") == 1


def test_a_file_refused_on_a_dask_worker_is_refused_by_the_command(tmp_path):
    pytest.importorskip("dask.distributed")
    path = tmp_path / "h.csv"
    path.write_text("m,bonus,2026-01-01,12\n")
    result = invoke("run", str(FOUR_TIER), str(path), "--engine", "dask", "-j", "1", "--partitions", "2")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"loyalty: {path}:1: ")
    assert "lacks the column(s) member, type, at" in result.stderr and result.stderr.count("\n") == 1
