"""History input robustness (issue 17): CSV headers and separators, the names of files
in the ledger under Dask, a bad scheduler address, and memory bounded whatever is rejected.

Hostile files themselves are in `tests/hostile/` (see `expected.toml`); here, what the
corpus cannot say: line numbers, every path of the command, and the accounting's bounds.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from loyalty_dsl import load, read_history
from loyalty_dsl.cli import main
from loyalty_dsl.columnar.bulk_read import read_bulk
from loyalty_dsl.io.history import HistoryError
from loyalty_dsl.io.spool import KEPT, spooling

ROOT = Path(__file__).resolve().parent.parent
FOUR_TIER = ROOT / "programs" / "four_tier.loy"
LEGACY = ROOT / "programs" / "legacy_a0_a4.loy"


BAD_JSON = "unexpected character, expected a JSON value"


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
        {"file": str(path), "line": 5, "code": "H202", "reason": "field 'points': expected a number, got \"twelve\""}
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


# --- rejections without limit, in bounded memory (item 18) -------------------------------------

GARBAGE = 2 * KEPT + 500  # well past what is kept in memory


def garbage_history(path: Path, lines: int = GARBAGE) -> Path:
    """Line i (1-based) is garbage, but every 5th line is a bonus of member m<i % 3> with
    id "x": the first of each member is applied, the later ones repeat it."""
    with path.open("w") as out:
        for i in range(1, lines + 1):
            if i % 5:
                out.write(f"garbage {i}\n")
            else:
                out.write(f'{{"member": "m{i % 3}", "type": "bonus", "at": "2026-01-01", "points": 1, "id": "x"}}\n')
    return path


def expected_entries(path: Path, lines: int = GARBAGE) -> tuple[list[dict], list[dict]]:
    """The rejections and repeats garbage_history must give, in line order, derived from its rule."""
    rejections = [
        {"file": str(path), "line": i, "code": "H002", "reason": f"not valid JSON: {BAD_JSON}"}
        for i in range(1, lines + 1)
        if i % 5
    ]
    first: dict[str, int] = {}
    repeats = []
    for i in range(5, lines + 1, 5):
        member = f"m{i % 3}"
        if member in first:
            repeats.append(
                {
                    "file": str(path),
                    "line": i,
                    "member": member,
                    "id": "x",
                    "first": {"file": str(path), "line": first[member]},
                }
            )
        first.setdefault(member, i)
    return rejections, repeats


def test_memory_holds_the_first_rejections_and_the_counts_hold_all(tmp_path):
    """The in-memory lists stop growing at KEPT; the counts are every line's."""
    path = garbage_history(tmp_path / "g.jsonl")
    acc = read_history([str(path)], load(FOUR_TIER)).accounting
    rejections, repeats = expected_entries(path)
    assert acc.rejected == len(rejections) == GARBAGE * 4 // 5
    assert acc.duplicate == len(repeats) == GARBAGE // 5 - 3  # three members, one first line each
    assert acc.rejections == rejections[:KEPT] and acc.duplicates == repeats[:KEPT]
    assert acc.read == GARBAGE and acc.applied == 3


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_the_summary_holds_every_rejection_in_order(jobs, tmp_path):
    """Read by one process or by partitions merged back: the summary lists every rejection
    and repeat in line order, with the counts; no spool file is left beside it."""
    path = garbage_history(tmp_path / "g.jsonl")
    summary = tmp_path / "out" / "summary.json"
    summary.parent.mkdir()
    result = invoke("run", str(FOUR_TIER), str(path), "-j", jobs, "--summary", str(summary), "--as-of", "2026-12-31")
    assert result.exit_code == 0, result.stderr
    data = orjson.loads(summary.read_bytes())
    rejections, repeats = expected_entries(path)
    assert data["rejections"] == rejections and data["duplicates"] == repeats
    assert data["events"]["rejected"] == len(rejections) and data["events"]["duplicate"] == len(repeats)
    assert list(summary.parent.iterdir()) == [summary]
    assert f"... and {len(rejections) - 10} more rejected line(s)" in result.stderr


def test_the_summary_is_written_as_before(tmp_path):
    """Streamed or not, the summary is the JSON it always was (indented by 2), byte for byte."""
    path = garbage_history(tmp_path / "g.jsonl", 40)
    summary = tmp_path / "summary.json"
    assert invoke("run", str(FOUR_TIER), str(path), "--summary", str(summary), "-j", "1").exit_code == 0
    acc = read_history([str(path)], load(FOUR_TIER)).accounting
    assert summary.read_bytes() == orjson.dumps(acc.to_json(), option=orjson.OPT_INDENT_2) + b"\n"


def test_dask_summary_holds_every_rejection_in_order(tmp_path):
    pytest.importorskip("dask.distributed")
    path = garbage_history(tmp_path / "g.jsonl")
    summaries = {}
    for engine in ("local", "dask"):
        summaries[engine] = tmp_path / f"{engine}.json"
        args = ["run", str(FOUR_TIER), str(path), "--engine", engine, "-j", "2", "--summary", str(summaries[engine])]
        assert invoke(*args, "--partitions", "3").exit_code == 0
    assert summaries["dask"].read_bytes() == summaries["local"].read_bytes()
    assert len(orjson.loads(summaries["dask"].read_bytes())["rejections"]) == GARBAGE * 4 // 5


def test_the_bulk_reader_keeps_the_first_repeats_and_spools_them_all(tmp_path):
    """KEPT + 1 repeats of line 1 (clean lines: the bulk reader answers): the first KEPT
    in memory, the counts and the spool hold all, as the line reader's."""
    line = '{"member": "m", "type": "bonus", "at": "2026-01-01", "points": 1, "id": "x"}\n'
    program = load(FOUR_TIER)
    path = tmp_path / "r.jsonl"
    path.write_text(line * (KEPT + 2))
    everything = [
        {"file": str(path), "line": n, "member": "m", "id": "x", "first": {"file": str(path), "line": 1}}
        for n in range(2, KEPT + 3)
    ]
    with spooling(str(tmp_path / "summary.json")):
        bulk, lines = read_bulk([str(path)], program), read_history([str(path)], program)
        assert bulk is not None
        for acc in (bulk.accounting, lines.accounting):
            assert acc.duplicate == KEPT + 1 and acc.duplicates == everything[:KEPT]
            assert list(acc.entries("duplicates")) == everything
    bulk = read_bulk([str(path)], program)  # not spooling: the first only
    assert bulk is not None and bulk.accounting.duplicates == everything[:KEPT] and not bulk.accounting.spools


# --- Parquet values Python cannot hold (item 6; the `at` cases are in test_hostile) -------------


@pytest.mark.parametrize("evaluator", ["per-member", "auto"])
def test_a_declared_date_beyond_9999_is_a_rejected_row(evaluator, tmp_path):
    """date32 counts days from 1970: 3 000 000 days is in year 10183. Four_tier declares
    `birthday: date` for profile_updated: that row is rejected, naming the field; the
    other row is applied, on either evaluator."""
    path = tmp_path / "h.parquet"
    table = pa.table(
        {
            "member": ["m", "m"],
            "type": ["profile_updated", "profile_updated"],
            "at": ["2026-01-01", "2026-01-02"],
            "birthday": pa.array([3_000_000, 7_000], pa.date32()),
        }
    )
    pq.write_table(table, path)
    result = invoke("run", str(FOUR_TIER), str(path), "--evaluator", evaluator, "-j", "1")
    assert result.exit_code == 0, result.stderr
    assert f"{path}:1: rejected[H202]: field 'birthday': expected a date" in result.stderr
    assert "after 9999-12-31" in result.stderr
    assert "events: 2 read, 1 applied, 0 ignored, 0 duplicate, 1 rejected" in result.stderr
