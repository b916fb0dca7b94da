"""The bulk reader (loyalty_dsl/columnar/bulk_read.py) against the line reader (history.py).

Whatever the input, `read_bulk` gives None (the caller then reads line by line) or
exactly what `read_history` gives: the same accounting (duplicates and their
positions too), latest instant, members, and applied events with every field.
Clean histories must take the fast path; anything doubtful may not.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.util
import random
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from loyalty_dsl import CompiledProgram, History, load, read_history
from loyalty_dsl.columnar.bulk_read import COLUMN_TYPES, BulkHistory, _convert, _Doubt, _instants_of_text, read_bulk
from loyalty_dsl.evaluation.compile import compile_text
from loyalty_dsl.io.history import _instant, _to_date
from loyalty_dsl.io.rejections import Rejected
from tests.test_hostile import CASES, GOOD_AFTER, GOOD_BEFORE, HOSTILE, LINE_CASES, LONG_LINES, PARQUET_CASES

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = {"four_tier": ROOT / "programs" / "four_tier.loy", "legacy": ROOT / "programs" / "legacy_a0_a4.loy"}
EXAMPLE_PROGRAMS = sorted(p for p in (ROOT / "examples" / "programs").glob("*.loy") if not p.stem.endswith("_test"))
EXAMPLE_HISTORIES = sorted((ROOT / "examples").glob("*.jsonl"))
EVENTS = 20_000


@functools.cache
def compiled(path: Path) -> CompiledProgram:
    return load(path)


def names(program: CompiledProgram) -> list[str]:
    return sorted({spec.name for specs in program.schema.values() for spec in specs})


def python_rows(history: History, program: CompiledProgram) -> list[tuple[Any, ...]]:
    """The applied events as rows of the bulk table; amounts as doubles (a float64 column)."""
    kinds = {spec.name: spec.type for specs in program.schema.values() for spec in specs}

    def value(name: str, v: Any) -> Any:
        return float(v) if kinds[name] in ("number", "money") and isinstance(v, int) else v

    rows = [
        (member, e.type, e.at, e.seq, e.id, *(value(n, e.fields.get(n)) for n in sorted(kinds)))
        for member, events in history.members.items()
        for e in events
    ]
    return sorted(rows, key=lambda r: r[3])


def bulk_rows(bulk: BulkHistory) -> list[tuple[Any, ...]]:
    columns = [bulk.events.column(i).to_pylist() for i in range(bulk.events.num_columns)]
    return sorted(zip(*columns, strict=True), key=lambda r: r[3])


def compare(paths: list[Path], program: CompiledProgram) -> BulkHistory | None:
    """read_bulk's answer, checked equal to read_history's unless it is None."""
    given = [str(p) for p in paths]
    bulk = read_bulk(given, program)
    if bulk is None:
        return None
    history = read_history(given, program)
    assert bulk.accounting == history.accounting
    assert orjson.dumps(bulk.accounting.to_json()) == orjson.dumps(history.accounting.to_json())  # key order too
    assert bulk.latest == history.latest
    assert bulk.members == history.member_ids()
    kinds = {spec.name: spec.type for specs in program.schema.values() for spec in specs}
    assert bulk.events.schema == pa.schema(
        [("member", pa.string()), ("type", pa.string()), ("at", pa.int64()), ("seq", pa.int64()), ("id", pa.string())]
        + [(name, COLUMN_TYPES[kinds[name]]) for name in names(program)]
    )
    expected = python_rows(history, program)
    found = bulk_rows(bulk)
    assert found == expected
    # == takes 1 for 1.0 and a date for nothing else: the Python types must agree as well.
    assert [tuple(map(type, r)) for r in found] == [tuple(map(type, r)) for r in expected]
    return bulk


def write_lines(path: Path, lines: list[Any]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(x) + b"\n" for x in lines))
    return path


# --- generated histories ------------------------------------------------------------------------


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("generated")
    jsonl, parquet = folder / "history.jsonl", folder / "history.parquet"
    generator().generate(EVENTS, 7, jsonl, parquet)
    return {"jsonl": jsonl, "parquet": parquet}


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_a_generated_history_takes_the_fast_path_and_agrees(generated, fmt, program):
    bulk = compare([generated[fmt]], compiled(PROGRAMS[program]))
    assert bulk is not None, "a clean history must be read in bulk"
    acc = bulk.accounting
    assert acc.read == EVENTS and acc.duplicate > 0 and acc.ignored > 0 and acc.applied > 0


def test_without_scatter_the_repeats_are_dropped_alike(generated, monkeypatch):
    """Older pyarrow has no `scatter`: the mask of kept rows then comes from a hash of the
    repeats' rows, with the same accounting and events."""
    import pyarrow.compute as pc

    program = compiled(PROGRAMS["four_tier"])
    with_scatter = read_bulk([str(generated["jsonl"])], program)
    monkeypatch.delattr(pc, "scatter", raising=False)
    without = compare([generated["jsonl"]], program)
    assert with_scatter is not None and without is not None and without.accounting.duplicate > 0
    assert without.events.equals(with_scatter.events)
    assert attrs.asdict(without.accounting) == attrs.asdict(with_scatter.accounting)


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_the_same_file_twice_repeats_every_id(generated, program):
    for files in ([generated["jsonl"]] * 2, [generated["parquet"], generated["jsonl"]]):
        bulk = compare(files, compiled(PROGRAMS[program]))
        assert bulk is not None
        assert bulk.accounting.duplicate > EVENTS // 2
        assert {d["file"] for d in bulk.accounting.duplicates} == {str(f) for f in files}
        assert {d["first"]["file"] for d in bulk.accounting.duplicates} == {str(files[0])}


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_a_partition_read_in_bulk_is_the_line_readers_partition(generated, fmt, program, tmp_path):
    """Partition k of 3 (a Dask worker's share): the members, events and accounting of the line
    reader's partition k of 3, every repeat spooled, the files under the names given. The second
    file is the first again (as JSON Lines): its every line with an id repeats a line."""
    prog = compiled(PROGRAMS[program])
    files, given = [str(generated[fmt]), str(generated["jsonl"])], ["first.x", "second.jsonl"]
    members: list[str] = []
    read = 0
    for k in range(3):
        bulk = read_bulk(files, prog, partition=(k, 3), names=given, spool=str(tmp_path / f"bulk{k}."))
        history = read_history(files, prog, partition=(k, 3), names=given, spool=str(tmp_path / f"line{k}."))
        assert bulk is not None
        ours, theirs = bulk.accounting, history.accounting
        assert ours.spools and theirs.spools
        assert list(ours.entries("duplicates")) == list(theirs.entries("duplicates"))
        assert {d["file"] for d in ours.entries("duplicates")} == set(given)  # the file repeats itself too
        assert attrs.evolve(ours, spools=[]) == attrs.evolve(theirs, spools=[])
        assert bulk.latest == history.latest
        assert bulk.members == history.member_ids()
        assert bulk_rows(bulk) == python_rows(history, prog)
        members += bulk.members
        read += ours.read
    whole = read_bulk(files, prog)
    assert whole is not None and read == 2 * EVENTS
    assert sorted(members) == whole.members  # each member in exactly one partition


def test_one_malformed_line_gives_none(generated, tmp_path):
    lines = generated["jsonl"].read_bytes().splitlines(keepends=True)
    lines[100] = lines[100][:-3] + b"\n"  # cut: not valid JSON
    path = tmp_path / "broken.jsonl"
    path.write_bytes(b"".join(lines))
    assert read_bulk([str(path)], compiled(PROGRAMS["four_tier"])) is None


# --- examples and the hostile corpus: None, or exactly equal --------------------------------------


@pytest.mark.parametrize("program", [*PROGRAMS.values(), *EXAMPLE_PROGRAMS], ids=lambda p: p.stem)
def test_examples(program):
    """Every example history the bulk reader takes is compared; a program it declines whole says why."""
    taken = [h.name for h in EXAMPLE_HISTORIES if compare([h], compiled(program)) is not None]
    if compiled(program).currency is not None:  # its history has an amount in JPY, which has no rate
        assert "currency_history.jsonl" not in taken
    assert taken, f"the bulk reader declined every example history for {program.name}: nothing was compared"


def test_the_good_files_around_hostile_cases_take_the_fast_path(good_files):
    """The hostile cases sit between these files: alone, they are read in bulk (so a None is the case's)."""
    for program in PROGRAMS.values():
        assert compare(list(good_files), compiled(program)) is not None


@pytest.fixture
def good_files(tmp_path: Path) -> tuple[Path, Path]:
    return write_lines(tmp_path / "before.jsonl", GOOD_BEFORE), write_lines(tmp_path / "after.jsonl", GOOD_AFTER)


@pytest.mark.parametrize("program", sorted(PROGRAMS))
@pytest.mark.parametrize("name", sorted(LINE_CASES))
def test_hostile_case(name, program, good_files):
    case = HOSTILE / CASES[name]["file"]
    around = compare([good_files[0], case, good_files[1]], compiled(PROGRAMS[program]))
    alone = compare([case], compiled(PROGRAMS[program]))
    assert (around is None) == (alone is None), "the good files around a case do not change the bulk reader's answer"


@pytest.mark.parametrize("program", sorted(PROGRAMS))
@pytest.mark.parametrize("name", sorted(PARQUET_CASES))
def test_hostile_parquet(name, program, good_files, tmp_path):
    path = tmp_path / "case.parquet"
    pq.write_table(PARQUET_CASES[name][0](), path)
    bulk = compare([good_files[0], path, good_files[1]], compiled(PROGRAMS[program]))
    if bulk is not None:  # taken in bulk: the good files' events are there beside the case's
        assert "good" in bulk.members


@pytest.mark.parametrize("name", ["unknown_field", "garbage", "small_numbers", "long_integer"])
def test_hostile_long_line(name, good_files, tmp_path):
    path = tmp_path / "long.jsonl"
    path.write_bytes(LONG_LINES[name][0] + b"\n")
    bulk = compare([good_files[0], path, good_files[1]], compiled(PROGRAMS["four_tier"]))
    if bulk is not None:
        assert "good" in bulk.members


# --- forms: each taken in bulk (True), left to the line reader (False), or either (None) ------------

HEAD = b'{"member":"h","type":"order_confirmed","order":"o1","amount":12.5,"category":"home"'


def line(at: str = "2026-03-02T10:00:00Z", **more: Any) -> bytes:
    return (
        HEAD
        + b',"at":'
        + orjson.dumps(at)
        + b"".join(b"," + orjson.dumps(k) + b":" + orjson.dumps(v) for k, v in more.items())
        + b"}"
    )


FORMS: dict[str, tuple[bytes, bool | None]] = {
    "instants": (
        b"\n".join(
            line(at, id=f"i{i}")
            for i, at in enumerate(
                [
                    "2023-12-01",
                    "2023-12-01T00:30:33",
                    "2023-12-01T17:20:35Z",
                    "2023-12-01T17:20:35+09:00",
                    "2023-12-01T17:20:35-05:30",
                    "2023-12-01T17:20:35.123Z",
                    "2023-12-01T17:20:35.1",
                    "2023-12-01T17:20",
                    "2023-12-01T17:20+14:00",
                    "0001-01-01",
                    "9999-12-31T23:59:59.999999Z",
                ]
            )
        )
        + b"\n",
        True,
    ),
    "crlf": (line(id="a") + b"\r\n" + line(id="a") + b"\r\n", True),
    "bom": (b"\xef\xbb\xbf" + line(id="a") + b"\n" + line(id="a") + b"\n", True),
    "blank_lines": (b"\n\r\n" + line(id="a") + b"\n\n\n" + line(id="b") + b"\r\n\r\n" + line(id="a") + b"\n\n", True),
    "no_final_newline": (line(id="a") + b"\n" + line(id="a"), True),
    "integer_ids": (line(id=1) + b"\n" + line(id=-0) + b"\n" + line(id=1) + b"\n" + line(id=0) + b"\n", True),
    "empty_id": (line(id="") + b"\n" + line(id="") + b"\n", True),
    "nested_unknown_fields": (line(meta={"a": [1, {"b": [2, 3]}]}, x=[[[]]]) + b"\n", True),
    # orjson reads 1024 levels (the object and 1023 arrays here), not 1025.
    "nested_1024": (HEAD + b',"at":"2026-03-02","deep":' + b"[" * 1023 + b"]" * 1023 + b"}\n", True),
    "nested_1025": (HEAD + b',"at":"2026-03-02","deep":' + b"[" * 1024 + b"]" * 1024 + b"}\n", False),
    "unicode": (
        (HEAD.replace(b'"h"', orjson.dumps("Zoë 田中 😀")) + b',"at":"2026-03-02","id":"\xc3\xa9"}\n') * 2,
        True,
    ),
    "escapes": (HEAD + b',"at":"2026-03-02","\\u006demo":"\\u00e9\\ud83d\\ude00"}\n', None),
    "blank_member": (HEAD.replace(b'"h"', orjson.dumps("\u3000")) + b',"at":"2026-03-02"}\n', False),
    "control_member": (HEAD.replace(b'"h"', orjson.dumps("\x1c")) + b',"at":"2026-03-02"}\n', False),
    "nan_unknown": (HEAD + b',"at":"2026-03-02","x":NaN}\n', False),
    "infinity_unknown": (HEAD + b',"at":"2026-03-02","x":-Infinity}\n', False),
    "huge_integer_unknown": (HEAD + b',"at":"2026-03-02","x":1' + b"0" * 400 + b"}\n", False),
    "overflow_unknown": (HEAD + b',"at":"2026-03-02","x":2e308}\n', False),
    "not_utf8_unknown": (HEAD + b',"at":"2026-03-02","x":"\xff"}\n', False),
    "surrogate_unknown": (HEAD + b',"at":"2026-03-02","x":"\\udc00"}\n', False),
    "two_objects": (line() + b" " + line() + b"\n", False),
    "two_lines_one_object": (HEAD + b",\n" + b'"at":"2026-03-02"}\n' + line() + b"\n", False),
    "object_then_blank_then_two": (line() + b"\n\n" + line() + line() + b"\n", False),
    "space_before": (b" " + line() + b"\n", False),
    "tab_line": (line() + b"\n\t\n", False),
    "member_twice": (HEAD + b',"at":"2026-03-02","member":"x"}\n', False),
    "unknown_twice": (HEAD + b',"at":"2026-03-02","x":1,"x":2}\n', True),
    "amount_integer_big": (HEAD.replace(b"12.5", b"9007199254740993") + b',"at":"2026-03-02"}\n', False),
    "amount_integer": (HEAD.replace(b"12.5", b"30") + b',"at":"2026-03-02"}\n', True),
    "amount_minus_zero": (HEAD.replace(b"12.5", b"-0.0") + b',"at":"2026-03-02"}\n', True),
    "amount_exponent": (HEAD.replace(b"12.5", b"1.25e1") + b',"at":"2026-03-02"}\n', True),
    "amount_on_other_type_text": (b'{"member":"h","type":"visit","at":"2026-03-02","amount":"x"}\n', None),
    "order_on_ignored_type_number": (b'{"member":"h","type":"nope","at":"2026-03-02","order":5}\n', None),
    "at_lowercase": (line("2026-03-02t10:00:00z") + b"\n", False),
    "at_space": (line("2026-03-02 10:00:00") + b"\n", False),
    "at_nanoseconds": (line("2026-03-02T10:00:00.123456789Z") + b"\n", False),
    "at_year_0": (line("0000-03-02") + b"\n", False),
    "at_feb_29": (line("2023-02-29") + b"\n", False),
    "at_before_year_1": (line("0001-01-01T00:00:00+01:00") + b"\n", False),
    "at_offset_minutes_60": (line("2026-03-02T10:00:00+00:60") + b"\n", False),
    "empty_file": (b"", True),
    "blank_file": (b"\n\r\n\n", True),
    "bom_only": (b"\xef\xbb\xbf", True),
}
BONUS = b'{"member":"h","type":"bonus","at":"2026-03-02"'
REFUND = b'{"member":"h","type":"refund_requested","at":"2026-03-02","order":"o1","amount":3'
PROFILE = b'{"member":"h","type":"profile_updated","at":"2026-03-02"'
FORMS |= {
    "points_whole_float": (BONUS + b',"points":5.0}\n' + BONUS + b',"points":1e2,"campaign":"x"}\n', True),
    "points_fraction": (BONUS + b',"points":5.5}\n', False),
    "points_negative": (BONUS + b',"points":-1}\n', False),
    "points_beyond": (BONUS + b',"points":9007199254740992}\n', False),
    "points_missing": (BONUS + b"}\n", False),
    "points_null": (BONUS + b',"points":null}\n', False),
    "refund_default": (REFUND + b"}\n" + REFUND + b',"closed_for_security":true}\n', True),
    "refund_boolean_null": (REFUND + b',"closed_for_security":null}\n', True),
    "birthday": (PROFILE + b',"birthday":"1990-02-28"}\n' + PROFILE + b',"birthday":"2000-02-29"}\n', True),
    "birthday_impossible": (PROFILE + b',"birthday":"1990-02-29"}\n', False),
    "birthday_spaces": (PROFILE + b',"birthday":" 1990-02-28"}\n', False),
}


@pytest.mark.parametrize("program", sorted(PROGRAMS))
@pytest.mark.parametrize("name", sorted(FORMS))
def test_forms(name, program, good_files, tmp_path):
    data, fast = FORMS[name]
    path = tmp_path / "case.jsonl"
    path.write_bytes(data)
    for paths in ([path], [good_files[0], path, good_files[1], path]):
        bulk = compare(paths, compiled(PROGRAMS[program]))
        if fast is not None and not (program == "legacy" and name.startswith(("points", "birthday"))):
            assert (bulk is not None) == fast, "taken in bulk" if bulk is not None else "left to the line reader"


def test_line_numbers_of_repeats_count_blank_lines(tmp_path):
    path = tmp_path / "blank.jsonl"
    path.write_bytes(FORMS["blank_lines"][0])
    bulk = compare([path, path], compiled(PROGRAMS["four_tier"]))
    assert bulk is not None
    assert [(d["line"], d["first"]["line"]) for d in bulk.accounting.duplicates] == [(8, 3), (3, 3), (6, 6), (8, 3)]


# --- Parquet columns of other types ------------------------------------------------------------------------


def parquet_table(**columns: pa.Array) -> pa.Table:
    base = {
        "member": pa.array(["h", "h", "k"]),
        "type": pa.array(["order_confirmed", "bonus", "profile_updated"]),
        "at": pa.array(["2026-03-02T10:00:00Z", "2026-03-03", "2026-03-04T01:00:00+09:00"]),
        "id": pa.array(["a", "b", "a"]),
        "order": pa.array(["o1", None, None]),
        "amount": pa.array([12.5, None, None]),
        "category": pa.array(["home", None, None]),
        "points": pa.array([None, 5, None], pa.int64()),
        "birthday": pa.array([None, None, "1990-01-02"]),
    }
    return pa.table({**base, **columns})


NS = pa.timestamp("ns", "UTC")
PARQUET_FORMS: dict[str, tuple[pa.Table, bool]] = {
    "strings": (parquet_table(), True),
    "timestamp_ns": (parquet_table(at=pa.array([1772445600123456789, -1, 0], NS)), True),
    "timestamp_ms_naive": (parquet_table(at=pa.array([1772445600123, 5, 0], pa.timestamp("ms"))), True),
    "timestamp_tokyo": (parquet_table(at=pa.array([1772445600, 1, 2], pa.timestamp("s", "Asia/Tokyo"))), True),
    "date32": (parquet_table(at=pa.array([dt.date(2026, 3, 2)] * 3, pa.date32())), True),
    "integer_ids": (parquet_table(id=pa.array([1, 2, 1], pa.int64())), True),
    "dictionary_member": (parquet_table(member=pa.array(["h", "h", "k"]).dictionary_encode()), True),
    "large_strings": (parquet_table(member=pa.array(["h", "h", "k"], pa.large_string())), True),
    "integer_amount": (parquet_table(amount=pa.array([12, None, None], pa.int32())), True),
    "float_points": (parquet_table(points=pa.array([None, 5.0, None])), True),
    "date32_birthday": (parquet_table(birthday=pa.array([None, None, dt.date(1990, 1, 2)])), True),
    "no_optional_columns": (parquet_table().drop_columns(["id"]), True),
    "float_points_fraction": (parquet_table(points=pa.array([None, 5.5, None])), False),
    "decimal_amount": (parquet_table(amount=pa.array([Decimal("1.00"), None, None], pa.decimal128(5, 2))), False),
    "binary_member": (parquet_table(member=pa.array([b"h", b"h", b"k"])), False),
    "integer_at": (parquet_table(at=pa.array([1, 2, 3], pa.int64())), False),
    "timestamp_birthday": (parquet_table(birthday=pa.array([None, None, 0], NS)), False),
    "struct_column": (parquet_table(extra=pa.array([{"a": [1]}, None, {"a": None}])), True),
    "timestamp_column_unused": (parquet_table(extra=pa.array([0, 1, 2], NS)), False),
    "timestamp_unknown_zone": (parquet_table(at=pa.array([0, 1, 2], pa.timestamp("s", "Mars/Base"))), False),
    "timestamp_year_10000": (parquet_table(at=pa.array([253402300800, 1, 2], pa.timestamp("s"))), False),
}


@pytest.mark.parametrize("program", sorted(PROGRAMS))
@pytest.mark.parametrize("name", sorted(PARQUET_FORMS))
def test_parquet_forms(name, program, good_files, tmp_path):
    table, fast = PARQUET_FORMS[name]
    path = tmp_path / "case.parquet"
    pq.write_table(table, path)
    bulk = compare([good_files[0], path, good_files[1], path], compiled(PROGRAMS[program]))
    if program == "four_tier":  # the other reads fewer columns: more is taken in bulk
        assert (bulk is not None) == fast


# --- instants and dates, one text at a time against the line reader's functions -----------------------


def near_instants(rng: random.Random, count: int) -> list[str]:
    """Texts close to ISO-8601 instants: valid, impossible, or of neighbouring forms."""

    def two(top: int) -> str:
        return f"{rng.randrange(top):02d}"

    out = []
    for _ in range(count):
        year = rng.choice(["0000", "0001", "1969", "2024", "2023", "9999", f"{rng.randrange(10000):04d}", "202"])
        text = f"{year}-{two(14)}-{two(33)}"
        if rng.random() < 0.8:
            text += rng.choice("TTTTt ") + f"{two(26)}:{two(62)}"
            if rng.random() < 0.8:
                text += f":{two(62)}"
                if rng.random() < 0.5:
                    text += rng.choice("..,") + "".join(rng.choice("0123456789") for _ in range(rng.randrange(11)))
            if rng.random() < 0.7:
                text += rng.choice(["Z", "Z", "z", "+", "-", "+0", "-"]) + rng.choice(
                    ["", f"{two(26)}", f"{two(26)}:{two(62)}"]
                )
        out.append(text)
    return out


def python_instant(text: str) -> int | None:
    try:
        return _instant(text)
    except Rejected:
        return None


def test_instants_agree_with_the_line_reader():
    rng = random.Random(5)
    texts = near_instants(rng, 3000)
    taken = []
    for text in texts:
        try:
            bulk = _instants_of_text(pa.chunked_array([pa.array([text])])).to_pylist()[0]
        except (_Doubt, pa.ArrowInvalid):
            continue
        assert bulk == python_instant(text), text
        taken.append(text)
    assert len(taken) > 500
    # All at once (mixed forms, with and without offsets), as a file's column is read.
    assert _instants_of_text(pa.chunked_array([pa.array(taken)])).to_pylist() == [python_instant(t) for t in taken]


def test_dates_agree_with_the_line_reader():
    rng = random.Random(6)
    for _ in range(2000):
        text = f"{rng.choice(['0000', '0001', '2024', '2023', '9999'])}-{rng.randrange(14):02d}-{rng.randrange(33):02d}"
        try:
            bulk = _convert("date", pa.chunked_array([pa.array([text])])).to_pylist()[0]
        except (_Doubt, pa.ArrowInvalid):
            continue
        assert bulk == _to_date(text, False), text


# --- programs ---------------------------------------------------------------------------------------


def with_fields(declaration: str) -> CompiledProgram:
    """four_tier with other fields on profile_updated."""
    source = PROGRAMS["four_tier"].read_text(encoding="utf-8")
    old = "event profile_updated with birthday: date"
    assert old in source
    return compile_text(source.replace(old, f"event profile_updated with {declaration}"))


def test_defaults_are_filled_as_the_line_reader_fills_them(tmp_path):
    program = with_fields('birthday: date, note: text default "x", n: integer default 3, m: money default 2.5')
    path = tmp_path / "defaults.jsonl"
    path.write_bytes(PROFILE + b',"birthday":"1990-02-28"}\n' + PROFILE + b',"birthday":"1990-02-28","n":4,"m":1}\n')
    bulk = compare([path], program)
    assert bulk is not None
    assert sorted(bulk.events.column("n").to_pylist()) == [3, 4]


def test_a_date_default_is_a_date_for_both_readers(tmp_path):
    # The line reader once kept a date field's default as the text written in the program.
    program = with_fields('birthday: date default "2000-01-01"')
    path = tmp_path / "defaults.jsonl"
    path.write_bytes(PROFILE + b"}\n")
    assert read_history([str(path)], program).members["h"][0].fields == {"birthday": dt.date(2000, 1, 1)}
    bulk = compare([path], program)
    assert bulk is not None and bulk.events.column("birthday").to_pylist() == [dt.date(2000, 1, 1)]


CURRENCIES = ROOT / "examples" / "programs" / "currencies.loy"


def test_an_amount_in_a_currency_without_a_rate_is_left_to_the_line_reader():
    """The line reader rejects the line (H204): the bulk reader is not sure, and says None."""
    assert read_bulk([str(ROOT / "examples" / "currency_history.jsonl")], compiled(CURRENCIES)) is None


def test_amounts_in_currencies_are_converted_as_the_line_reader_converts_them(tmp_path):
    """With a rate for JPY (as `--rates` gives), the example history is read in bulk: 19 EUR at 1.08 is
    20.52 exactly (not 20.520000000000003), 80 GBP at 1.27 is 101.6, 10 JPY at 0.0067 is 0.067,
    19 USD and 25 with the default currency stay as they are."""
    program = attrs.evolve(compiled(CURRENCIES), rates={**compiled(CURRENCIES).rates, "JPY": Decimal("0.0067")})
    bulk = compare([ROOT / "examples" / "currency_history.jsonl"], program)
    assert bulk is not None
    assert bulk.events.column("amount").to_pylist() == [20.52, 19.0, 101.6, 0.067, 25.0]
    # Random amounts and currencies, Parquet too: the same doubles as the line reader's, every one.
    rng = random.Random(5)
    lines = [
        {"member": f"m{i % 7}", "type": "order_confirmed", "at": f"2026-02-{1 + i % 28:02d}", "order": f"o{i}"}
        | {"amount": rng.choice([rng.randrange(0, 10**6) / 100, rng.randrange(0, 500), rng.random() * 1e4])}
        | ({"currency": rng.choice(["EUR", "GBP", "JPY", "USD"])} if i % 5 else {})
        for i in range(3000)
    ]
    path = write_lines(tmp_path / "priced.jsonl", lines)
    assert compare([path], program) is not None
    parquet = tmp_path / "priced.parquet"
    pq.write_table(pa.Table.from_pylist([line | {"amount": float(line["amount"])} for line in lines]), parquet)
    assert compare([parquet], program) is not None


def test_standard_input_and_csv_are_left_to_the_line_reader():
    program = compiled(PROGRAMS["four_tier"])
    assert read_bulk(["-"], program) is None
    assert read_bulk([str(HOSTILE / "csv" / "quoted_quotes.csv")], program) is None
