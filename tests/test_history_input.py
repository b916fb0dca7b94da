"""Histories in: formats, line numbers, rejections and the accounting."""

from __future__ import annotations

import datetime as dt
import io

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from loyalty_dsl import outcomes, read_history
from loyalty_dsl.io.history import HistoryError
from tests.helpers import history_of

EVENTS = [
    {
        "member": "m1",
        "type": "order_confirmed",
        "at": "2026-03-03T10:00:00+02:00",
        "order": "o1",
        "amount": 12.5,
        "category": "home",
        "id": "e1",
    },
    {"member": "m1", "type": "visit", "at": "2026-03-04", "id": "e2"},
    {"member": "m2", "type": "bonus", "at": "2026-03-05T00:00:00Z", "points": 7},
    {
        "member": "m2",
        "type": "refund_requested",
        "at": "2026-03-06T08:00:00Z",
        "order": "o9",
        "amount": 20,
        "closed_for_security": True,
    },
    {"member": "m2", "type": "profile_updated", "at": "2026-03-07T08:00:00Z", "birthday": "1990-04-01"},
    {"member": "m3", "type": "wishlist_added", "at": "2026-03-08T08:00:00Z"},
]


def outcome_lines(program, history, as_of="2026-04-30"):
    return [o.to_json() for o in outcomes(program, history, dt.date.fromisoformat(as_of))]


def test_jsonl_csv_and_parquet_give_the_same_outcomes(programs, tmp_path):
    program = programs["four_tier"]
    jsonl = tmp_path / "h.jsonl"
    jsonl.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in EVENTS))
    columns = sorted({k for e in EVENTS for k in e})
    csv_path = tmp_path / "h.csv"
    rows = [",".join(columns)] + [",".join(_cell(e.get(c)) for c in columns) for e in EVENTS]
    csv_path.write_text("\n".join(rows) + "\n")
    parquet = tmp_path / "h.parquet"
    pq.write_table(pa.Table.from_pylist([{c: e.get(c) for c in columns} for e in EVENTS]), parquet)

    results = {}
    for path in (jsonl, csv_path, parquet):
        history = read_history([str(path)], program)
        assert history.accounting.counts() == {"read": 6, "applied": 5, "ignored": 1, "duplicate": 0, "rejected": 0}
        results[path.suffix] = outcome_lines(program, history)
    assert results[".jsonl"] == results[".csv"] == results[".parquet"]
    assert [o["member"] for o in results[".jsonl"]] == ["m1", "m2", "m3"]


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def test_several_files_are_one_history(programs, tmp_path):
    program = programs["four_tier"]
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_bytes(orjson.dumps(EVENTS[0]) + b"\n")
    b.write_bytes(orjson.dumps({**EVENTS[0], "at": "2026-03-09T10:00:00Z"}) + b"\n")  # same id: a repeat
    history = read_history([str(a), str(b)], program)
    assert history.accounting.counts()["duplicate"] == 1
    assert history.accounting.duplicates == [
        {"file": str(b), "line": 1, "member": "m1", "id": "e1", "first": {"file": str(a), "line": 1}}
    ]


def test_byte_order_mark_crlf_blank_lines_and_no_final_newline(programs):
    program = programs["four_tier"]
    data = (
        b"\xef\xbb\xbf"
        + orjson.dumps(EVENTS[1])
        + b"\r\n\r\n   \n"
        + orjson.dumps({**EVENTS[1], "id": "e3", "at": "2026-03-05"})
    )
    history = read_history(["-"], program, stdin=io.BytesIO(data))
    assert history.accounting.counts() == {"read": 2, "applied": 2, "ignored": 0, "duplicate": 0, "rejected": 0}


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"member": "m", "type": "visit"', "not valid JSON"),
        (b"[1, 2]", "expected a JSON object, got an array"),
        (b'"visit"', "expected a JSON object, got a string"),
        (b'{"type": "visit", "at": "2026-01-01"}', "field 'member' is missing"),
        (b'{"member": "", "type": "visit", "at": "2026-01-01"}', "field 'member' is empty"),
        (b'{"member": 7, "type": "visit", "at": "2026-01-01"}', "field 'member': expected text, got 7"),
        (b'{"member": "m", "type": "visit"}', "field 'at' is missing"),
        (b'{"member": "m", "type": "visit", "at": "yesterday"}', "field 'at': expected an ISO-8601 instant"),
        (b'{"member": "m", "type": "visit", "at": "2026-02-30"}', "field 'at': impossible date"),
        (b'{"member": "m", "type": "visit", "at": "2026-06-30T23:59:60Z"}', "field 'at': impossible date"),
        (b'{"member": "m", "type": "visit", "at": "2026-01-01", "id": true}', "field 'id'"),
        (b'{"member": "m", "type": "bonus", "at": "2026-01-01", "points": -5}', "must be at least 0"),
        (b'{"member": "m", "type": "bonus", "at": "2026-01-01", "points": true}', "expected a number"),
        (b'{"member": "m", "type": "bonus", "at": "2026-01-01", "points": 1.5}', "expected a whole number"),
        (
            b'{"member": "m", "type": "order_confirmed", "at": "2026-01-01", "order": "o", "category": "c",'
            b' "amount": "five"}',
            "field 'amount': expected a number, got \"five\"",
        ),
        (
            b'{"member": "m", "type": "order_confirmed", "at": "2026-01-01", "order": 5, "category": "c", "amount": 5}',
            "field 'order': expected text, got 5",
        ),
        (
            b'{"member": "m", "type": "profile_updated", "at": "2026-01-01", "birthday": "1990-02-30"}',
            "field 'birthday': impossible date",
        ),
        (
            b'{"member": "m", "type": "refund_requested", "at": "2026-01-01", "order": "o", "amount": 5,'
            b' "closed_for_security": "yes"}',
            "field 'closed_for_security': expected true or false",
        ),
        (b'{"member": "m", "type": "bonus", "at": "2026-01-01", "points": NaN}', "not valid JSON"),
        (b'\xff\xfe{"member": "m"}', "not valid JSON"),
    ],
)
def test_rejections_name_the_line_and_the_reason(programs, line, reason):
    good = orjson.dumps(EVENTS[1])
    history = read_history(["-"], programs["four_tier"], stdin=io.BytesIO(good + b"\n" + line + b"\n" + good))
    acc = history.accounting
    assert (acc.applied, acc.rejected, acc.duplicate) == (1, 1, 1)  # the third line repeats id e2
    (rejection,) = acc.rejections
    assert rejection["line"] == 2 and rejection["file"] == "<stdin>"
    assert reason in rejection["reason"]


def test_a_member_with_only_rejected_lines_has_no_outcome_but_ignored_types_do(programs):
    lines = [
        {"member": "bad", "type": "bonus", "at": "2026-01-01"},
        {"member": "other", "type": "newsletter_opened", "at": "2026-01-01"},
    ]
    history = history_of(programs["four_tier"], lines)
    assert [o["member"] for o in outcome_lines(programs["four_tier"], history)] == ["other"]


def test_a_rejected_line_does_not_claim_its_id(programs):
    lines = [
        {"member": "m", "type": "bonus", "at": "2026-01-01", "id": "x"},  # no points: rejected
        {"member": "m", "type": "bonus", "at": "2026-01-02", "points": 3, "id": "x"},
    ]
    history = history_of(programs["four_tier"], lines)
    assert history.accounting.counts()["applied"] == 1


def test_default_as_of_is_the_day_of_the_latest_accepted_event(programs):
    from loyalty_dsl.evaluation.run import default_as_of

    lines = [
        {"member": "m", "type": "visit", "at": "2026-01-05T23:30:00-05:00"},  # 2026-01-06 UTC
        {"member": "m", "type": "bonus", "at": "2027-01-01"},
    ]  # rejected: no points
    program = programs["four_tier"]
    assert default_as_of(history_of(program, lines), program.calendar) == dt.date(2026, 1, 6)


def test_csv_cells_are_read_by_the_program_types(programs, tmp_path):
    path = tmp_path / "h.csv"
    path.write_text(
        "member,type,at,points,id\nm,bonus,2026-01-01,12,\nm,bonus,2026-01-02,twelve,\nm,bonus,2026-01-03,1,2\n"
    )
    history = read_history([str(path)], programs["four_tier"])
    assert history.accounting.rejections == [
        {"file": str(path), "line": 3, "code": "H202", "reason": "field 'points': expected a number, got \"twelve\""}
    ]
    assert history.accounting.counts()["applied"] == 2


def test_unknown_format_and_missing_file_are_errors(programs, tmp_path):
    with pytest.raises(HistoryError, match="cannot tell the format"):
        read_history([str(tmp_path / "h.xlsx")], programs["four_tier"])
    with pytest.raises(HistoryError):
        read_history([str(tmp_path / "missing.jsonl")], programs["four_tier"])
