"""Hostile histories (issue 6): what exports really contain and attackers send.

The corpus is `tests/hostile/`: one file per case, byte for byte, and
`expected.toml`, the treatment of each (applied, ignored, or rejected with a
part of the reason). Each case is read between two files of good lines, for
both shipped programs, and must:

- get its expected treatment, with the file and line of a rejection;
- leave the good lines applied and the good member's outcome what it is alone;
- evaluate (at an explicit and at the default as-of) and write every output
  format without a traceback, within a deadline;
- not write control characters into the table for people.

Generated inputs (100 000 levels of nesting, multi-megabyte lines, Parquet
files) are built here; memory on a long line is measured in a child process.
A case that shows a bug is kept, marked xfail (strict) in KNOWN_BUGS.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import json
import re
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from loyalty_dsl import CompiledProgram, History, load, outcomes, read_history
from loyalty_dsl.cli import main
from loyalty_dsl.io.history import HistoryError

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = Path(__file__).resolve().parent / "hostile"
CASES: dict[str, dict[str, Any]] = tomllib.loads((HOSTILE / "expected.toml").read_text(encoding="utf-8"))
PROGRAM_FILES = {"four_tier": ROOT / "programs" / "four_tier.loy", "legacy": ROOT / "programs" / "legacy_a0_a4.loy"}
AS_OF = dt.date(2026, 12, 31)
MB = 2**20

# Good lines around every case: types both programs declare, another member.
GOOD_BEFORE = [
    {
        "member": "good",
        "type": "order_confirmed",
        "at": "2026-03-01T09:00:00Z",
        "order": "g1",
        "amount": 30,
        "category": "toys",
        "id": "g1",
    },
    {
        "member": "good",
        "type": "refund_requested",
        "at": "2026-03-05T09:00:00Z",
        "order": "g1",
        "amount": 20,
        "id": "g2",
    },
]
GOOD_AFTER = [
    {
        "member": "good",
        "type": "order_confirmed",
        "at": "2026-04-01T09:00:00Z",
        "order": "g2",
        "amount": 5,
        "category": "home",
        "id": "g3",
    },
    {"member": "good", "type": "order_returned", "at": "2026-04-02T09:00:00Z", "order": "g2", "id": "g4"},
]
GOOD_LINES = len(GOOD_BEFORE) + len(GOOD_AFTER)

# Cases that show a bug: case -> (reason, the programs it shows with). Remove an entry once fixed.
KNOWN_BUGS: dict[str, tuple[str, set[str]]] = {}


@functools.cache
def compiled(name: str) -> CompiledProgram:
    return load(PROGRAM_FILES[name])


def with_known_bugs(name: str, program: str) -> Any:
    bug = KNOWN_BUGS.get(name)
    marks = [pytest.mark.xfail(strict=True, reason=bug[0])] if bug and program in bug[1] else []
    return pytest.param(name, program, marks=marks, id=f"{name}-{program}")


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail (TimeoutError) instead of hanging, where the platform has SIGALRM.

    A signal cannot stop C code (the JSON parser) in the middle; the whole corpus
    also runs through the command in a child process with a timeout.
    """
    if not hasattr(signal, "setitimer"):
        yield
        return

    def on_alarm(signum: int, frame: Any) -> None:
        raise TimeoutError(f"did not finish within {seconds} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def jsonl(lines: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(x) + b"\n" for x in lines)


@pytest.fixture
def good_files(tmp_path: Path) -> tuple[Path, Path]:
    before, after = tmp_path / "before.jsonl", tmp_path / "after.jsonl"
    before.write_bytes(jsonl(GOOD_BEFORE))
    after.write_bytes(jsonl(GOOD_AFTER))
    return before, after


@functools.cache
def good_alone(program: str) -> dict[str, Any]:
    history = read_history(["-"], compiled(program), stdin=io.BytesIO(jsonl(GOOD_BEFORE + GOOD_AFTER)))
    (outcome,) = [o.to_json() for o in outcomes(compiled(program), history, AS_OF)]
    return outcome


def utc_text(instant: int) -> str:
    moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=instant)
    return moment.isoformat().replace("+00:00", "Z")


def treatments(case: dict[str, Any], program: str) -> list[tuple[str, str]]:
    """(treatment, part of the reason) of each counted line of a case, under a program."""
    count = case.get("count", 1)
    expect = case["expect"] if isinstance(case["expect"], list) else [case["expect"]] * count
    reason = case.get("reason", "")
    reasons = reason if isinstance(reason, list) else [reason] * count
    if program == "legacy" and "legacy" in case:
        expect = [case["legacy"]] * count
    assert len(expect) == len(reasons) == count, "expected.toml: expect, reason and count disagree"
    return list(zip(expect, reasons, strict=True))


CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")


def check_evaluation(program: str, paths: list[Path], history: History, member: str | None = None) -> None:
    """The rest is evaluated: the good member's outcome is what it is alone, and `loyalty run`
    writes every format (explicit and default as-of) with exit 0, no traceback, and no
    control characters, forged rows or markup in the table for people."""
    at_as_of = [o.to_json() for o in outcomes(compiled(program), history, AS_OF)]
    assert [o for o in at_as_of if o["member"] == "good"] == [good_alone(program)]
    if member is not None:
        assert member in {o["member"] for o in at_as_of}
    for fmt, as_of in (("jsonl", None), ("csv", None), ("table", None), ("table", AS_OF)):
        args = ["run", str(PROGRAM_FILES[program]), *map(str, paths), "--format", fmt]
        args += ["--as-of", as_of.isoformat()] if as_of else []
        result = CliRunner().invoke(main, args, catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
        out = result.stdout_bytes
        if fmt == "jsonl":
            assert "good" in {orjson.loads(line)["member"] for line in out.splitlines()}
        if fmt == "table" and as_of is not None:
            assert not CONTROL.search(out), "control characters written to the table"
            # A header and a row a member: a long id folds only onto lines marked as its continuation.
            rows = [line for line in out.splitlines() if not line.startswith("\u21b3".encode())]
            assert len(rows) == 1 + len(at_as_of), "a member id forged a row"
            for o in at_as_of:  # each member id is shown as it is, not read as markup
                if o["member"].isprintable() and o["member"].isascii() and len(o["member"]) < 20:
                    assert o["member"].encode() in out


def read_with_good_lines(program: str, case_paths: list[Path], good: tuple[Path, Path]) -> History:
    with deadline(30):
        return read_history([str(good[0]), *map(str, case_paths), str(good[1])], compiled(program))


def check_treatment(history: History, case_path: Path, expected: list[tuple[str, str]]) -> None:
    acc = history.accounting
    counts = acc.counts()
    assert counts["applied"] + counts["ignored"] + counts["duplicate"] + counts["rejected"] == counts["read"]
    assert counts["read"] == GOOD_LINES + len(expected)
    wanted = [t for t, _ in expected]
    assert counts == {
        "read": GOOD_LINES + len(expected),
        "applied": GOOD_LINES + wanted.count("applied"),
        "ignored": wanted.count("ignored"),
        "duplicate": 0,
        "rejected": wanted.count("rejected"),
    }
    assert all(r["file"] == str(case_path) for r in acc.rejections), acc.rejections
    rejected_reasons = [reason for t, reason in expected if t == "rejected"]
    for rejection, reason in zip(acc.rejections, rejected_reasons, strict=True):
        assert reason in rejection["reason"]
        assert rejection["line"] >= 1


# --- the corpus --------------------------------------------------------------------------------


REFUSED = {name for name, case in CASES.items() if case["expect"] == "refused"}  # the file as a whole
LINE_CASES = [name for name in CASES if name not in REFUSED]


@pytest.mark.parametrize(("name", "program"), [with_known_bugs(n, p) for n in LINE_CASES for p in PROGRAM_FILES])
def test_hostile_case(name, program, good_files):
    case = CASES[name]
    case_path = HOSTILE / case["file"]
    expected = treatments(case, program)
    history = read_with_good_lines(program, [case_path], good_files)
    check_treatment(history, case_path, expected)
    member = case.get("member", "h") if any(t != "rejected" for t, _ in expected) else None
    if member is not None:
        assert member in history.members
    if "at" in case and [t for t, _ in expected] == ["applied"]:
        (event,) = [e for e in history.members[member] if e.file == str(case_path)]
        assert utc_text(event.at) == case["at"]
    with deadline(30):
        check_evaluation(program, [good_files[0], case_path, good_files[1]], history, member)


@pytest.mark.parametrize("program", sorted(PROGRAM_FILES))
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_hostile_file_refused(name, program, good_files):
    """A file no line of which could be read is refused whole, before any outcome: exit 2 and
    one line naming the file, the line and the problem; no traceback."""
    case = CASES[name]
    case_path = HOSTILE / case["file"]
    with pytest.raises(HistoryError) as refused:
        read_with_good_lines(program, [case_path], good_files)
    assert str(refused.value).startswith(f"{case_path}:1: ")
    assert case["reason"] in str(refused.value)
    args = ["run", str(PROGRAM_FILES[program]), str(good_files[0]), str(case_path), str(good_files[1])]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == f"loyalty: {refused.value}\n"


def test_the_corpus_covers_the_issue():
    """Every kind of line issue 6 names has at least one case."""
    kinds = {
        "byte-order mark": "bom",
        "CRLF": "crlf",
        "last line without newline": "no_final_newline",
        "truncated line": "truncated",
        "non-UTF-8 bytes": "not_utf8_in_string",
        "NUL bytes": "nul_after_object",
        "JSON that is not an object": "not_objects",
        "deeply nested arrays": "nested_2000",
        "NaN and Infinity": "infinity",
        "1e308": "amount_1e308",
        "negative points": "points_negative",
        "fractional points": "points_fraction",
        "boolean points": "points_boolean",
        "negative amounts": "amount_negative",
        "empty member id": "member_empty",
        "non-string member id": "member_number",
        "2026-02-30": "at_feb_30",
        "year 0": "at_year_0",
        "year 9999": "at_year_9999",
        "leap seconds": "at_leap_second",
        "+14:00": "at_plus_14",
        "-12:00": "at_minus_12",
        "unknown fields": "unknown_fields",
    }
    assert {kind: case for kind, case in kinds.items() if case not in CASES} == {}
    for name, case in CASES.items():
        assert (HOSTILE / case["file"]).is_file(), name
        if name not in REFUSED:
            treatments(case, "four_tier")  # well-formed


# --- Parquet, built here -------------------------------------------------------------------------


def _row(**columns: pa.Array) -> pa.Table:
    base = {
        "member": pa.array(["h"]),
        "type": pa.array(["order_confirmed"]),
        "at": pa.array(["2026-03-02T10:00:00Z"]),
        "order": pa.array(["o1"]),
        "amount": pa.array([12.5]),
        "category": pa.array(["home"]),
    }
    return pa.table({**base, **columns})


PARQUET_CASES: dict[str, tuple[Any, str, str, str | None]] = {
    # name: (table, treatment, part of the reason, UTC instant)
    "timestamp_ns": (
        lambda: _row(at=pa.array([1772445600123456789], pa.timestamp("ns", tz="UTC"))),
        "applied",
        "",
        "2026-03-02T10:00:00.123456",
    ),
    "timestamp_ns_whole_us": (
        lambda: _row(at=pa.array([1772445600123456000], pa.timestamp("ns", tz="UTC"))),
        "applied",
        "",
        "2026-03-02T10:00:00.123456Z",
    ),
    "timestamp_tokyo": (
        lambda: _row(at=pa.array([dt.datetime(2026, 3, 2, 1, tzinfo=dt.UTC)], pa.timestamp("us", tz="Asia/Tokyo"))),
        "applied",
        "",
        "2026-03-02T01:00:00Z",
    ),
    "timestamp_naive_ms": (
        lambda: _row(at=pa.array([dt.datetime(2026, 3, 2, 10)], pa.timestamp("ms"))),
        "applied",
        "",
        "2026-03-02T10:00:00Z",
    ),
    "date32": (lambda: _row(at=pa.array([dt.date(2026, 3, 2)], pa.date32())), "applied", "", "2026-03-02T00:00:00Z"),
    "at_integer": (lambda: _row(at=pa.array([1772445600], pa.int64())), "rejected", "field 'at'", None),
    "at_null": (lambda: _row(at=pa.array([None], pa.string())), "rejected", "field 'at' is missing", None),
    "amount_nan": (lambda: _row(amount=pa.array([float("nan")])), "rejected", "finite", None),
    "amount_inf": (lambda: _row(amount=pa.array([float("inf")])), "rejected", "finite", None),
    "amount_decimal": (lambda: _row(amount=pa.array([Decimal("12.50")], pa.decimal128(10, 2))), "applied", "", None),
    "amount_text": (lambda: _row(amount=pa.array(["12.5"])), "rejected", "expected a number", None),
    "amount_list": (lambda: _row(amount=pa.array([[12.5]])), "rejected", "expected a number", None),
    "member_integer": (lambda: _row(member=pa.array([42])), "rejected", "field 'member': expected text", None),
    "member_binary": (lambda: _row(member=pa.array([b"h"], pa.binary())), "rejected", "field 'member'", None),
    "member_large_string": (lambda: _row(member=pa.array(["h"], pa.large_string())), "applied", "", None),
    "member_dictionary": (lambda: _row(member=pa.array(["h"]).dictionary_encode()), "applied", "", None),
    "unknown_struct_column": (lambda: _row(extra=pa.array([{"a": [1, 2]}])), "applied", "", None),
    # Issue 17 item 6: timestamps Python cannot hold are a rejected row, never a traceback.
    # 0001-01-01T00:00Z is -62135596800 s from 1970; 10000-01-01T00:00Z is 253402300800 s.
    "timestamp_year_0": (
        lambda: _row(at=pa.array([(-62135596800 - 1) * 10**6], pa.timestamp("us", tz="UTC"))),
        "rejected",
        "field 'at': a timestamp before 0001-01-01 in UTC, out of range",
        None,
    ),
    "timestamp_year_10000": (
        lambda: _row(at=pa.array([253402300800 * 10**6], pa.timestamp("us", tz="UTC"))),
        "rejected",
        "field 'at': a timestamp after 9999-12-31 in UTC, out of range",
        None,
    ),
    "timestamp_seconds_year_20000_naive": (
        lambda: _row(at=pa.array([20 * 253402300800], pa.timestamp("s"))),
        "rejected",
        "out of range (years 1 to 9999)",
        None,
    ),
    # The earliest nanosecond stamp is in range: -(2**63 - 1) ns cut towards zero is
    # -9223372036854775 µs, i.e. 9223372036.854775 s before 1970: 1677-09-21T00:12:43.145225Z.
    "timestamp_ns_earliest": (
        lambda: _row(at=pa.array([-(2**63) + 1], pa.timestamp("ns", tz="UTC"))),
        "applied",
        "",
        "1677-09-21T00:12:43.145225Z",
    ),
    "timestamp_unknown_zone": (
        lambda: _row(at=pa.array([1772445600 * 10**6], pa.timestamp("us", tz="Mars/Olympus"))),
        "rejected",
        "field 'at': a timestamp in time zone \"Mars/Olympus\", unknown to the reader",
        None,
    ),
    # 9999-12-31T23:00Z is in range although Tokyo's local time is already year 10000: the
    # stored value is the instant, the zone only says how to show it.
    "timestamp_tokyo_last_hour": (
        lambda: _row(at=pa.array([(253402300800 - 3600) * 10**6], pa.timestamp("us", tz="Asia/Tokyo"))),
        "applied",
        "",
        "9999-12-31T23:00:00Z",
    ),
    # date32 counts days from 1970: 3 000 000 days is about year 10183, -800 000 about year -221.
    "date32_after_9999": (
        lambda: _row(at=pa.array([3_000_000], pa.date32())),
        "rejected",
        "field 'at': a date after 9999-12-31, out of range",
        None,
    ),
    "date32_before_1": (
        lambda: _row(at=pa.array([-800_000], pa.date32())),
        "rejected",
        "field 'at': a date before 0001-01-01, out of range",
        None,
    ),
    "unknown_column_timestamp_year_10000": (  # not read: the row is applied
        lambda: _row(extra=pa.array([253402300800 * 10**6], pa.timestamp("us", tz="UTC"))),
        "applied",
        "",
        None,
    ),
    "unknown_struct_with_timestamp_year_10000": (
        lambda: _row(extra=pa.array([{"t": 253402300800 * 10**6}], pa.struct([("t", pa.timestamp("us"))]))),
        "applied",
        "",
        None,
    ),
    "unknown_column_unknown_zone": (
        lambda: _row(extra=pa.array([0], pa.timestamp("us", tz="Mars/Olympus"))),
        "applied",
        "",
        None,
    ),
}
PARQUET_BUGS: dict[str, str] = {}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=[pytest.mark.xfail(strict=True, reason=PARQUET_BUGS[n])] if n in PARQUET_BUGS else [])
        for n in PARQUET_CASES
    ],
)
@pytest.mark.parametrize("program", sorted(PROGRAM_FILES))
def test_hostile_parquet(name, program, good_files, tmp_path):
    make, treatment, reason, at = PARQUET_CASES[name]
    path = tmp_path / "case.parquet"
    pq.write_table(make(), path)
    history = read_with_good_lines(program, [path], good_files)
    check_treatment(history, path, [(treatment, reason)])
    if at is not None:
        (event,) = [e for e in history.members["h"] if e.file == str(path)]
        assert utc_text(event.at).startswith(at)
    with deadline(30):
        check_evaluation(
            program, [good_files[0], path, good_files[1]], history, "h" if treatment != "rejected" else None
        )


# --- deep nesting, long lines, memory ---------------------------------------------------------------

DEPTH = 100_000
EVENT_HEAD = (
    b'{"member": "h", "type": "order_confirmed", "at": "2026-03-02T10:00:00Z", "order": "o1", "category": "home"'
)


@pytest.mark.parametrize(
    "line",
    [
        pytest.param(b"[" * DEPTH + b"]" * DEPTH, id="arrays"),
        pytest.param(b'{"a": ' * DEPTH + b"1" + b"}" * DEPTH, id="objects"),
        pytest.param(b"[" * DEPTH, id="unclosed"),
        pytest.param(EVENT_HEAD + b', "amount": ' + b"[" * DEPTH + b"]" * DEPTH + b"}", id="in_a_field"),
    ],
)
def test_deep_nesting_is_rejected_fast(line, good_files, tmp_path):
    """100 000 levels of nesting: rejected as not valid JSON at once, the rest read."""
    path = tmp_path / "nested.jsonl"
    path.write_bytes(line + b"\n")
    start = time.perf_counter()
    history = read_with_good_lines("four_tier", [path], good_files)
    assert time.perf_counter() - start < 5
    check_treatment(history, path, [("rejected", "not valid JSON")])
    check_evaluation("four_tier", [good_files[0], path, good_files[1]], history)


LONG = 8 * MB
LONG_LINES = {
    # name: (line, treatment, part of the reason)
    "unknown_field": (EVENT_HEAD + b', "amount": 5, "blob": "' + b"x" * LONG + b'"}', "applied", ""),
    "member_id": (b'{"member": "' + b"h" * LONG + b'", "type": "visit", "at": "2026-03-02"}', "applied", ""),
    "garbage": (b"x" * LONG, "rejected", "not valid JSON"),
    "unterminated_string": (EVENT_HEAD + b', "amount": 5, "blob": "' + b"x" * LONG, "rejected", "not valid JSON"),
    "small_numbers": (EVENT_HEAD + b', "amount": 5, "blob": [' + b"1," * (LONG // 2) + b"1]}", "applied", ""),
    "long_at": (EVENT_HEAD + b', "amount": 5, "at": "2026-03-02' + b"0" * LONG + b'"}', "rejected", "field 'at'"),
    "long_amount_text": (EVENT_HEAD + b', "amount": "' + b"9" * LONG + b'"}', "rejected", "field 'amount'"),
    "long_integer": (EVENT_HEAD + b', "amount": ' + b"9" * LONG + b"}", "rejected", "not valid JSON"),
}


@pytest.mark.parametrize("newline", [b"\n", b""], ids=["newline", "last_line_without_newline"])
@pytest.mark.parametrize("name", sorted(LONG_LINES))
def test_a_multi_megabyte_line_does_not_stop_the_others(name, newline, good_files, tmp_path):
    line, treatment, reason = LONG_LINES[name]
    path = tmp_path / "long.jsonl"
    path.write_bytes(line + newline)
    start = time.perf_counter()
    history = read_with_good_lines("four_tier", [path], good_files)
    assert time.perf_counter() - start < 15
    check_treatment(history, path, [(treatment, reason)])
    with deadline(30):
        check_evaluation("four_tier", [good_files[0], path, good_files[1]], history)
    for rejection in history.accounting.rejections:
        assert len(rejection["reason"]) < 300  # the reason quotes a bounded part of the line


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        pytest.param(b'h,visit,2026-03-02,"' + b"x" * LONG + b'"', "field larger than field limit", id="long_cell"),
        pytest.param(b"h,visit,2026-03-02," + b"x" * LONG, "field larger than field limit", id="long_unquoted_cell"),
        pytest.param(b"1," * (LONG // 2) + b"1", "expected 4 columns", id="many_cells"),
    ],
)
def test_a_multi_megabyte_csv_row_does_not_stop_the_others(row, reason, good_files, tmp_path):
    path = tmp_path / "long.csv"
    path.write_bytes(b"member,type,at,note\n" + row + b"\nh,visit,2026-03-03,ok\n")
    history = read_with_good_lines("four_tier", [path], good_files)
    acc = history.accounting
    assert acc.counts() == {"read": 6, "applied": 5, "ignored": 0, "duplicate": 0, "rejected": 1}
    assert reason in acc.rejections[0]["reason"]
    check_evaluation("four_tier", [good_files[0], path, good_files[1]], history)


# The child reads its own peak resident memory (VmHWM, in kB) from /proc: getrusage's
# ru_maxrss would carry the parent's peak over fork and exec.
MEMORY_CHILD = """
import json, re, sys
from loyalty_dsl import load, read_history

def peak():
    with open("/proc/self/status") as status:
        return int(re.search(r"VmHWM:\\s*(\\d+) kB", status.read()).group(1)) * 1024

program = load(sys.argv[1])
base = peak()
history = read_history(sys.argv[2:], program)
print(json.dumps({"base": base, "peak": peak(), "counts": history.accounting.counts()}))
"""
LINE_MB = 20


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="peak memory from /proc/self/status (Linux)")
@pytest.mark.parametrize(
    "kind",
    [
        "string_field",
        "garbage",
        "nested",
        "small_numbers",
    ],
)
def test_memory_stays_bounded_on_a_long_line(kind, tmp_path):
    """Reading a history with one 20 MB line peaks below 10 times the line
    (resident memory of a child process, above what it held before reading).
    A line longer than the reader's limit (16 MiB) is rejected without being
    held whole, so each kind stays far below the bound."""
    size = LINE_MB * MB
    line = {
        "string_field": EVENT_HEAD + b', "amount": 5, "blob": "' + b"x" * size + b'"}',
        "garbage": b"x" * size,
        "nested": b"[" * size,
        "small_numbers": EVENT_HEAD + b', "amount": 5, "blob": [' + b"1," * (size // 2) + b"1]}",
    }[kind]
    path = tmp_path / "long.jsonl"
    path.write_bytes(jsonl(GOOD_BEFORE) + line + b"\n" + jsonl(GOOD_AFTER))
    del line
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_CHILD, str(PROGRAM_FILES["four_tier"]), str(path)],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    report = json.loads(done.stdout)
    grown = report["peak"] - report["base"]
    assert report["counts"]["read"] == GOOD_LINES + 1
    assert grown < 10 * size, f"reading a {LINE_MB} MB line took {grown / MB:.0f} MB ({grown / size:.1f}x)"


# --- the whole corpus through the command, in a child process (a hang is a timeout) ------------------


@pytest.mark.parametrize("program", sorted(PROGRAM_FILES))
def test_the_whole_corpus_through_the_command(program, good_files, tmp_path):
    """`loyalty run` over every case at once (known bugs aside), plus generated
    deep and long lines: exit 0, no traceback, every line accounted for; with
    --strict: exit 1 and one line of explanation."""
    names = [n for n in LINE_CASES if not (n in KNOWN_BUGS and program in KNOWN_BUGS[n][1])]
    nested = tmp_path / "nested.jsonl"
    nested.write_bytes(b"[" * DEPTH + b"]" * DEPTH + b"\n")
    long = tmp_path / "long.jsonl"
    long.write_bytes(LONG_LINES["unknown_field"][0] + b"\n" + LONG_LINES["garbage"][0] + b"\n")
    files = [str(good_files[0]), *(str(HOSTILE / CASES[n]["file"]) for n in names), str(nested), str(long)]
    files.append(str(good_files[1]))
    expected = [t for n in names for t, _ in treatments(CASES[n], program)] + ["rejected", "applied", "rejected"]
    cmd = [sys.executable, "-m", "loyalty_dsl.cli", "run", str(PROGRAM_FILES[program]), *files]
    for extra in (["--as-of", AS_OF.isoformat()], [], ["--format", "table", "--as-of", AS_OF.isoformat()]):
        summary = tmp_path / "summary.json"
        done = subprocess.run([*cmd, *extra, "--summary", str(summary)], capture_output=True, timeout=120, check=False)
        assert b"Traceback" not in done.stderr, done.stderr.decode()[-3000:]
        assert done.returncode == 0, done.stderr.decode()[-3000:]
        counts = json.loads(summary.read_bytes())["events"]
        assert counts["read"] == GOOD_LINES + len(expected)
        assert counts["rejected"] == expected.count("rejected")
        # many cases reuse the id c1 of member h: the first accepted one wins, the others are repeats
        accepted = counts["applied"] + counts["ignored"] + counts["duplicate"]
        assert accepted == GOOD_LINES + expected.count("applied") + expected.count("ignored")
    strict = subprocess.run([*cmd, "--strict"], capture_output=True, timeout=120, check=False)
    assert strict.returncode == 1 and strict.stdout == b""
    assert b"Traceback" not in strict.stderr
