"""Invariants of reading and evaluating histories, as hypothesis properties (issue 6).

Every property runs for both shipped programs over random histories of several
members from `tests/oracle/gen.py` (all event types, offsets, month and day
boundaries, repeated ids, unknown types), with an explicit as-of unless the
default as-of is what is tested. Each test's docstring states the property
exactly, with the conditions under which it must hold.

Example counts are small so the file runs in seconds; HYPOTHESIS_PROFILE=long
(registered below) multiplies them by 20.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import os
import random
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from loyalty_dsl import CompiledProgram, load, outcomes, read_history
from loyalty_dsl.cli import main
from tests.oracle.gen import random_history

ROOT = Path(__file__).resolve().parent.parent
PROGRAM_FILES = {"four_tier": ROOT / "programs" / "four_tier.loy", "legacy": ROOT / "programs" / "legacy_a0_a4.loy"}
UTC = dt.UTC


# HYPOTHESIS_PROFILE=long: 20 times more examples for every property below (and 2000 for
# other hypothesis tests that do not set their own count).
settings.register_profile("long", max_examples=2000, deadline=None)
if os.environ.get("HYPOTHESIS_PROFILE") == "long":
    settings.load_profile("long")


@functools.cache
def compiled(name: str) -> CompiledProgram:
    """The shipped program (not the `programs` fixture: hypothesis would print it with every failure)."""
    return load(PROGRAM_FILES[name])


def examples(n: int) -> settings:
    """`n` examples by default; the active profile scales it (HYPOTHESIS_PROFILE=long: 20 times more)."""
    scale = max(1, settings.default.max_examples // 100)
    return settings(
        max_examples=n * scale,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# --- generated inputs ----------------------------------------------------------------------

program_names = st.sampled_from(sorted(PROGRAM_FILES))
# As-of days across the generator's range (2024-2026), and a little beyond.
as_of_days = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2027, 1, 31))


class History(list):
    """The lines of a generated history; shown as the call that makes it (failures stay readable)."""

    def __init__(self, seed: int, members: int, events: int) -> None:
        super().__init__(random_history(random.Random(seed), members=members, events_per_member=events))
        self.call = f"random_history(random.Random({seed}), members={members}, events_per_member={events})"

    def __repr__(self) -> str:
        return self.call


@st.composite
def histories(draw: st.DrawFn, max_members: int = 4, max_events: int = 20) -> History:
    """A mixed history of 1..max_members members, as the lines of a JSON Lines file, in input order."""
    seed = draw(st.integers(0, 2**32 - 1))
    return History(seed, draw(st.integers(1, max_members)), draw(st.integers(0, max_events)))


def utc_instant(text: str) -> dt.datetime:
    """An `at` as DOMAIN.md §1 reads it (independently of the reader): UTC, naive = UTC, bare date = 00:00."""
    value = dt.datetime.fromisoformat(text)
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


def end_of(day: dt.date) -> dt.datetime:
    """`--as-of D`: the instant D+1 00:00 UTC."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=UTC)


def order_free(lines: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The history made free of the two legitimate sources of order dependence.

    1. Every line repeating a (member, id) becomes an exact copy of the first line
       with that (member, id): which copy is first then does not matter.
    2. Of several distinct events of one member at one instant (whose relative
       order is the input order), only the first is kept.
    """
    first_of_id: dict[tuple[str, str], dict[str, Any]] = {}
    taken: set[tuple[str, dt.datetime]] = set()
    out = []
    for line in lines:
        key = (line["member"], str(line["id"])) if "id" in line else None
        if key is not None and key in first_of_id:
            out.append(dict(first_of_id[key]))  # a repeat: identical to the first
            continue
        slot = (line["member"], utc_instant(line["at"]))
        if slot in taken:
            continue  # another event of this member at this instant
        taken.add(slot)
        if key is not None:
            first_of_id[key] = line
        out.append(line)
    return out


# --- histories in every format -------------------------------------------------------------


def jsonl(lines: Sequence[dict[str, Any] | bytes]) -> bytes:
    return b"".join((x if isinstance(x, bytes) else orjson.dumps(x)) + b"\n" for x in lines)


def columns_of(lines: Sequence[dict[str, Any]]) -> list[str]:
    return sorted({key for line in lines for key in line})


def csv_bytes(lines: Sequence[dict[str, Any]], columns: list[str] | None = None) -> bytes:
    """A header of every field; an empty cell for an absent field; booleans as true/false."""
    columns = columns or columns_of(lines)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for line in lines:
        writer.writerow([_cell(line.get(c)) for c in columns])
    return out.getvalue().encode()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_history(path: Path, lines: Sequence[dict[str, Any]], columns: list[str] | None = None) -> Path:
    """`lines` written in the format the file name says (.jsonl, .csv or .parquet)."""
    if path.suffix == ".csv":
        path.write_bytes(csv_bytes(lines, columns))
    elif path.suffix == ".parquet":
        columns = columns or columns_of(lines)
        table = pa.Table.from_pylist([{c: line.get(c) for c in columns} for line in lines])
        pq.write_table(table, path)
    else:
        path.write_bytes(jsonl(lines))
    return path


def result(program: CompiledProgram, history: Any, as_of: dt.date | None) -> tuple[list[dict[str, Any]], dict]:
    """The outcomes (as JSON) and the counts of a history already read."""
    return [o.to_json() for o in outcomes(program, history, as_of)], history.accounting.counts()


def run_bytes(program: CompiledProgram, data: bytes, as_of: dt.date | None) -> tuple[list[dict[str, Any]], dict]:
    return result(program, read_history(["-"], program, stdin=io.BytesIO(data)), as_of)


def run_paths(program: CompiledProgram, paths: Sequence[Path], as_of: dt.date | None):
    return result(program, read_history([str(p) for p in paths], program), as_of)


# --- lines that must be rejected ----------------------------------------------------------


BAD_KINDS = [
    "not_json",
    "truncated",
    "not_object",
    "nul",
    "not_utf8",
    "nested",
    "no_member",
    "empty_member",
    "number_member",
    "no_type",
    "number_type",
    "no_at",
    "impossible_at",
    "not_iso_at",
    "bad_id",
    "wrong_field",
]


@st.composite
def bad_lines(draw: st.DrawFn, program: CompiledProgram, good: Sequence[dict[str, Any]]) -> bytes:
    """A line both the format and the program must reject, often a good line (with its id) spoilt."""
    base = dict(draw(st.sampled_from(good))) if good else {"member": "x", "type": "visit", "at": "2026-01-01"}
    kind = draw(st.sampled_from(BAD_KINDS))
    if kind == "not_json":
        return draw(st.sampled_from([b"not json", b"{member: m}", b"{'member': 'm'}", b'{"member": "m",}']))
    if kind == "truncated":
        whole = orjson.dumps(base)
        return whole[: draw(st.integers(1, len(whole) - 1))]
    if kind == "not_object":
        return draw(st.sampled_from([b"[1, 2]", b"42", b"null", b'"visit"', b"true", b"[]"]))
    if kind == "nul":
        return orjson.dumps(base) + b"\x00"
    if kind == "not_utf8":
        return orjson.dumps({**base, "member": "MEMBER"}).replace(b"MEMBER", b"m\xff")
    if kind == "nested":
        return b"[" * 5000 + b"]" * 5000
    if kind == "no_member":
        base.pop("member")
    elif kind == "empty_member":
        base["member"] = draw(st.sampled_from(["", "   "]))
    elif kind == "number_member":
        base["member"] = 7
    elif kind == "no_type":
        base.pop("type")
    elif kind == "number_type":
        base["type"] = 5
    elif kind == "no_at":
        base.pop("at")
    elif kind == "impossible_at":
        base["at"] = draw(st.sampled_from(["2026-02-30", "2025-02-29T10:00:00Z", "2026-06-30T23:59:60Z", "0000-01-01"]))
    elif kind == "not_iso_at":
        base["at"] = draw(st.sampled_from(["yesterday", "01/02/2026", "", 20260101]))
    elif kind == "bad_id":
        base["id"] = draw(st.sampled_from([True, 1.5, {"a": 1}, [1]]))
    else:  # a declared field of a declared type, of a type no field accepts
        fields = [spec.name for spec in program.schema.get(base["type"], ())]
        if not fields:
            base.pop("member")
        else:
            base[draw(st.sampled_from(fields))] = [1]
    return orjson.dumps(base)


def accounting_model(program: CompiledProgram, lines: Sequence[dict[str, Any] | bytes | str]) -> dict[str, Any]:
    """What DOMAIN.md §1 and §6 say becomes of every line, independently of the reader.

    A line is bytes (known bad: rejected), a str (blank: not counted) or an event.
    Events: a (member, id) already used by an accepted line is a duplicate; else a
    declared type is applied and any other type ignored. Rejected lines claim no id.
    """
    counts = dict.fromkeys(("read", "applied", "ignored", "duplicate", "rejected"), 0)
    seen: set[tuple[str, str]] = set()
    rejected_at, duplicate_at = [], []
    for number, line in enumerate(lines, start=1):
        if isinstance(line, str):
            continue
        counts["read"] += 1
        if isinstance(line, bytes):
            counts["rejected"] += 1
            rejected_at.append(number)
            continue
        key = (line["member"], str(line["id"])) if "id" in line else None
        if key is not None and key in seen:
            counts["duplicate"] += 1
            duplicate_at.append(number)
            continue
        if key is not None:
            seen.add(key)
        counts["applied" if line["type"] in program.schema else "ignored"] += 1
    return {"counts": counts, "rejected_at": rejected_at, "duplicate_at": duplicate_at}


def encode(lines: Sequence[dict[str, Any] | bytes | str]) -> bytes:
    return b"".join(
        (x.encode() if isinstance(x, str) else x if isinstance(x, bytes) else orjson.dumps(x)) + b"\n" for x in lines
    )


def with_bad_and_blank_lines(data: st.DataObject, program: CompiledProgram, lines: list[dict[str, Any]]) -> list:
    mixed: list[Any] = list(lines)
    for _ in range(data.draw(st.integers(0, 8), label="bad lines")):
        mixed.insert(data.draw(st.integers(0, len(mixed))), data.draw(bad_lines(program, lines)))
    for _ in range(data.draw(st.integers(0, 3), label="blank lines")):
        mixed.insert(data.draw(st.integers(0, len(mixed))), data.draw(st.sampled_from(["", "   ", "\t", "\r"])))
    return mixed


# --- the properties --------------------------------------------------------------------------


@examples(100)
@given(history=histories(), name=program_names, as_of=as_of_days, rnd=st.randoms(use_true_random=False))
def test_the_order_of_the_lines_does_not_matter(history, name, as_of, rnd):
    """For a history in which (a) every line repeating a (member, id) is identical to
    the first line with that (member, id) and (b) no member has two distinct events
    at one instant, every permutation of the lines gives the same outcomes and the
    same counts. (Without (a) the first line of an id wins; without (b) events of one
    instant keep their input order: both may legitimately change the outcome.)
    """
    program = compiled(name)
    lines = order_free(history)
    shuffled = list(lines)
    rnd.shuffle(shuffled)
    assert run_bytes(program, jsonl(shuffled), as_of) == run_bytes(program, jsonl(lines), as_of)


@examples(60)
@given(history=histories(), name=program_names, rnd=st.randoms(use_true_random=False))
def test_any_order_of_any_history_gives_the_same_counts_and_members(history, name, rnd):
    """For any valid history (repeated ids with other content, same-instant events
    included), every permutation of the lines gives the same `read`, `duplicate`,
    `rejected` and `applied + ignored`, and the same members in the outcome. (Which
    line of an id wins may change, and with it whether the event is applied or
    ignored: a repeat may carry another type.)"""
    program = compiled(name)
    shuffled = list(history)
    rnd.shuffle(shuffled)
    as_of = dt.date(2026, 12, 31)
    (before, counts_before), (after, counts_after) = (
        run_bytes(program, jsonl(lines), as_of) for lines in (history, shuffled)
    )

    def invariant(c: dict[str, int]) -> tuple[int, ...]:
        return c["read"], c["duplicate"], c["rejected"], c["applied"] + c["ignored"]

    assert invariant(counts_after) == invariant(counts_before)
    assert [o["member"] for o in after] == [o["member"] for o in before]


@examples(80)
@given(history=histories(), name=program_names, as_of=as_of_days, data=st.data())
def test_splitting_a_history_into_files_in_order_changes_nothing(history, name, as_of, data):
    """Any history (bad and blank lines included) cut into consecutive pieces, one
    file each, given in order: the same outcomes, the same counts, and each
    rejection and repeat names the file and line where that line now is."""
    program = compiled(name)
    lines = with_bad_and_blank_lines(data, program, history)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(lines)), max_size=4), label="cuts"))
    pieces = [lines[a:b] for a, b in zip([0, *cuts], [*cuts, len(lines)], strict=True)]
    with tempfile.TemporaryDirectory() as tmp:
        whole = Path(tmp, "whole.jsonl")
        whole.write_bytes(encode(lines))
        paths = []
        for i, piece in enumerate(pieces):
            paths.append(Path(tmp, f"part{i}.jsonl"))
            paths[-1].write_bytes(encode(piece))
        one = read_history([str(whole)], program)
        split = read_history([str(p) for p in paths], program)
        assert result(program, split, as_of) == result(program, one, as_of)

        # (file, line) in the pieces -> line in the whole history
        origin = {}
        for path, start, piece in zip(paths, [0, *cuts], pieces, strict=True):
            for i in range(len(piece)):
                origin[(str(path), i + 1)] = start + i + 1
        assert [(origin[(r["file"], r["line"])], r["reason"]) for r in split.accounting.rejections] == [
            (r["line"], r["reason"]) for r in one.accounting.rejections
        ]
        assert [
            (origin[(d["file"], d["line"])], origin[(d["first"]["file"], d["first"]["line"])])
            for d in split.accounting.duplicates
        ] == [(d["line"], d["first"]["line"]) for d in one.accounting.duplicates]


@examples(60)
@given(history=histories(), name=program_names, as_of=as_of_days, rnd=st.randoms(use_true_random=False))
def test_the_order_of_the_files_does_not_matter(history, name, as_of, rnd):
    """An order-free history (see the first test) dealt into up to 4 files, given in
    any order: the same outcomes and counts as the one file."""
    program = compiled(name)
    lines = order_free(history)
    files: list[list[dict[str, Any]]] = [[] for _ in range(rnd.randint(1, 4))]
    for line in lines:
        rnd.choice(files).append(line)
    rnd.shuffle(files)
    with tempfile.TemporaryDirectory() as tmp:
        paths = [write_history(Path(tmp, f"f{i}.jsonl"), part) for i, part in enumerate(files)]
        one = write_history(Path(tmp, "one.jsonl"), lines)
        assert run_paths(program, paths, as_of) == run_paths(program, [one], as_of)


@examples(80)
@given(history=histories(), name=program_names, as_of=as_of_days, data=st.data())
def test_repeating_events_that_carry_an_id_changes_nothing(history, name, as_of, data):
    """Copies of lines that carry an id, each inserted anywhere after the first line
    with its (member, id): the same outcomes; `read` and `duplicate` grow by the
    number of copies, the other counts stay."""
    program = compiled(name)
    lines = list(history)
    with_id = [line for line in history if "id" in line]
    copies = data.draw(st.lists(st.sampled_from(with_id), max_size=10), label="copied lines") if with_id else []
    for line in copies:
        key = (line["member"], line["id"])
        first = next(i for i, x in enumerate(lines) if "id" in x and (x["member"], x["id"]) == key)
        lines.insert(data.draw(st.integers(first + 1, len(lines)), label="at"), dict(line))
    before, counts = run_bytes(program, jsonl(history), as_of)
    after, counts_after = run_bytes(program, jsonl(lines), as_of)
    assert after == before
    k = len(copies)
    assert counts_after == {**counts, "read": counts["read"] + k, "duplicate": counts["duplicate"] + k}


@examples(50)
@given(history=histories(max_members=3), name=program_names, as_of=as_of_days, data=st.data())
def test_jsonl_csv_and_parquet_give_identical_outcomes(history, name, as_of, data):
    """One valid history written as JSON Lines, as CSV (a header of every field,
    empty cells for absent fields, booleans as true/false), as Parquet, and cut
    into consecutive pieces each in a random format: identical outcomes and counts."""
    program = compiled(name)
    columns = columns_of(history)
    with tempfile.TemporaryDirectory() as tmp:
        runs = {
            fmt: run_paths(program, [write_history(Path(tmp, f"h.{fmt}"), history, columns)], as_of)
            for fmt in ("jsonl", "csv", "parquet")
        }
        assert runs["csv"] == runs["jsonl"]
        assert runs["parquet"] == runs["jsonl"]

        cuts = sorted(data.draw(st.lists(st.integers(0, len(history)), max_size=3), label="cuts"))
        paths = []
        for i, (a, b) in enumerate(zip([0, *cuts], [*cuts, len(history)], strict=True)):
            fmt = data.draw(st.sampled_from(["jsonl", "csv", "parquet"]), label="format")
            if a < b or fmt == "jsonl":  # an empty piece: an empty JSON Lines file
                paths.append(write_history(Path(tmp, f"part{i}.{fmt}"), history[a:b], columns))
        assert run_paths(program, paths, as_of) == runs["jsonl"]


@examples(80)
@given(history=histories(), name=program_names, as_of=as_of_days, data=st.data())
def test_events_at_or_after_the_evaluation_instant_change_nothing(history, name, as_of, data):
    """Causality. With `as_of` D (the instant T = D+1 00:00 UTC): adding, anywhere
    in the input, events dated at or after T (of the members present and of new
    ones, with ids no line of the history uses) changes nothing of the outcome
    of any member present before. New members may appear (any accepted event
    lists its member)."""
    program = compiled(name)
    instant = end_of(as_of)
    members = sorted({line["member"] for line in history})
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed of the late events")
    source = random_history(random.Random(seed), members=3, events_per_member=15)
    late = [line for line in source if utc_instant(line["at"]) >= instant]
    # events exactly at T, written in three ways
    t_texts = [(as_of + dt.timedelta(days=1)).isoformat(), instant.strftime("%Y-%m-%dT%H:%M:%SZ")]
    t_texts.append(instant.astimezone(dt.timezone(dt.timedelta(hours=-5))).strftime("%Y-%m-%dT%H:%M:%S-05:00"))
    late += [{**line, "at": data.draw(st.sampled_from(t_texts), label="at T")} for line in source[:5]]
    lines = list(history)
    for number, line in enumerate(late):
        moved = {**line, "member": data.draw(st.sampled_from([*members, "late-only"]), label="member")}
        if "id" in moved:
            moved["id"] = f"late{number}"
        lines.insert(data.draw(st.integers(0, len(lines)), label="at"), moved)
    before, _ = run_bytes(program, jsonl(history), as_of)
    after, _ = run_bytes(program, jsonl(lines), as_of)
    assert [o for o in after if o["member"] in members] == before


@examples(50)
@given(history=histories(), name=program_names, as_of=as_of_days)
def test_a_member_outcome_depends_only_on_that_member_lines(history, name, as_of):
    """Each member's outcome in the mixed history equals its outcome from its own lines alone."""
    program = compiled(name)
    mixed, _ = run_bytes(program, jsonl(history), as_of)
    alone = []
    for member in sorted({line["member"] for line in history}):
        alone += run_bytes(program, jsonl([x for x in history if x["member"] == member]), as_of)[0]
    assert mixed == alone


@examples(120)
@given(history=histories(), name=program_names, as_of=as_of_days, data=st.data())
def test_accounting_of_every_line_with_bad_and_blank_lines(history, name, as_of, data):
    """With bad lines (broken JSON, non-objects, NUL, non-UTF-8, deep nesting,
    missing or wrong member/type/at/id, a declared field of the wrong type; often a
    good line spoilt, id included) and blank lines injected anywhere:
    applied + ignored + duplicate + rejected = read = the non-blank lines; every
    count, the line of every rejection and of every repeat is what DOMAIN.md says
    (rejected lines claim no id); the good lines give the outcome they give alone."""
    program = compiled(name)
    lines = with_bad_and_blank_lines(data, program, history)
    history_read = read_history(["-"], program, stdin=io.BytesIO(encode(lines)))
    acc = history_read.accounting
    counts = acc.counts()
    assert counts["applied"] + counts["ignored"] + counts["duplicate"] + counts["rejected"] == counts["read"]
    model = accounting_model(program, lines)
    assert counts == model["counts"]
    assert [r["line"] for r in acc.rejections] == model["rejected_at"]
    assert all(r["file"] == "<stdin>" and r["reason"] for r in acc.rejections)
    assert [d["line"] for d in acc.duplicates] == model["duplicate_at"]
    assert result(program, history_read, as_of)[0] == run_bytes(program, jsonl(history), as_of)[0]


@examples(60)
@given(history=histories(), name=program_names, data=st.data())
def test_the_default_as_of_is_the_day_of_the_latest_accepted_event(history, name, data):
    """Without an as-of, the evaluation is at the end of the UTC day of the latest
    line that is neither rejected nor a repeat: later-dated repeats of an id and
    later-dated rejected lines do not move it; ignored types do."""
    program = compiled(name)
    assume(len(history) > 0)
    lines: list[Any] = list(history)
    latest = max(utc_instant(line["at"]) for line in history)
    with_id = [line for line in history if "id" in line]
    later = (latest + dt.timedelta(days=data.draw(st.integers(1, 400), label="days later"))).isoformat()
    if with_id:  # a repeat of an id, dated later, after its first line
        repeat = {**data.draw(st.sampled_from(with_id), label="repeated"), "at": later}
        lines.append(repeat)
    rejected = {"member": "m000", "type": "order_confirmed", "at": later, "order": "o", "amount": "five"}
    lines.insert(data.draw(st.integers(0, len(lines)), label="at"), orjson.dumps(rejected))
    got, counts = run_bytes(program, encode(lines), None)
    expected_day = latest.date()
    assert counts["rejected"] == 1
    assert {o["as_of"] for o in got} == {expected_day.isoformat()}
    assert got == run_bytes(program, encode(lines), expected_day)[0]


# --- the same inputs, the same bytes ------------------------------------------------------------


def cli_run(*args: str) -> tuple[int, bytes, bytes]:
    result = CliRunner().invoke(main, ["run", *args], catch_exceptions=False)
    return result.exit_code, result.stdout_bytes, result.stderr_bytes


@examples(25)
@given(history=histories(), name=program_names, fmt=st.sampled_from(["jsonl", "csv", "table"]), data=st.data())
def test_the_same_inputs_give_byte_identical_output(history, name, fmt, data):
    """`loyalty run` twice on the same files (bad lines included), with and without
    --as-of: byte-identical standard output, standard error and --summary file."""
    lines = with_bad_and_blank_lines(data, compiled(name), history)
    as_of = data.draw(st.one_of(st.none(), as_of_days), label="as_of")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp, "h.jsonl")
        path.write_bytes(encode(lines))
        outs = []
        for i in range(2):
            summary = Path(tmp, f"summary{i}.json")
            args = [str(PROGRAM_FILES[name]), str(path), "--format", fmt, "--summary", str(summary)]
            if as_of is not None:
                args += ["--as-of", as_of.isoformat()]
            code, out, err = cli_run(*args)
            outs.append((code, out, err, summary.read_bytes()))
        assert outs[0] == outs[1]
        assert outs[0][0] == 0


@pytest.mark.parametrize("name", sorted(PROGRAM_FILES))
def test_output_does_not_depend_on_the_hash_seed(name, tmp_path):
    """Two processes with different PYTHONHASHSEED (set and dict-of-str order):
    byte-identical outcomes and summary for a large mixed history."""
    history = random_history(random.Random(2026), members=12, events_per_member=40)
    path = tmp_path / "h.jsonl"
    path.write_bytes(jsonl(history))
    outs = []
    for seed in ("1", "2"):
        summary = tmp_path / f"summary{seed}.json"
        cmd = [sys.executable, "-m", "loyalty_dsl.cli", "run", str(PROGRAM_FILES[name]), str(path)]
        done = subprocess.run(
            [*cmd, "--summary", str(summary)],
            capture_output=True,
            timeout=120,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode()
        outs.append((done.stdout, summary.read_bytes()))
    assert outs[0] == outs[1]
    assert outs[0][0].count(b"\n") == 12
