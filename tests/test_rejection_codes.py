"""Every rejected history line carries a stable code beside its reason (loyalty_dsl/io/rejections.py).

Each code of the registry has a line here that must be rejected with it, in the format that
produces it; and every code the reader raises is registered. The reasons' words may change,
the codes may not: scripts and tests match on them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from loyalty_dsl import compile_text, read_history
from loyalty_dsl.io.history import MAX_LINE, read_records
from loyalty_dsl.io.rejections import REJECTIONS

PROGRAM = compile_text(
    """program "codes"
currency USD
rate EUR 1.08
event stay with nights: integer at least 1
event order with amount: money in currency, currency: text default "USD"
window lifetime, continuous
rule stays:
    on stay
    earn 1
tier Member from 0 points:
"""
)

GOOD = b'{"member": "m", "type": "stay", "at": "2026-01-01T10:00:00Z", "nights": 2}'

# code -> a JSON Lines line rejected with it (lines for the formats JSON Lines cannot show are below)
JSONL: dict[str, bytes] = {
    "H001": b'{"member": "m", "type": "stay", "pad": "' + b"x" * MAX_LINE + b'"}',
    "H002": b'{"member": "m", ',
    "H003": b"[1, 2]",
    "H101": b'{"member": "m", "at": "2026-01-01T10:00:00Z", "nights": 2}',
    "H102": b'{"member": 7, "type": "stay", "at": "2026-01-01T10:00:00Z", "nights": 2}',
    "H103": b'{"member": "  ", "type": "stay", "at": "2026-01-01T10:00:00Z", "nights": 2}',
    "H104": b'{"member": "m", "type": "stay", "id": 1.5, "at": "2026-01-01T10:00:00Z", "nights": 2}',
    "H110": b'{"member": "m", "type": "stay", "at": "yesterday", "nights": 2}',
    "H111": b'{"member": "m", "type": "stay", "at": "2026-02-30T10:00:00Z", "nights": 2}',
    "H112": b'{"member": "m", "type": "stay", "at": "9999-12-31T23:00:00-12:00", "nights": 2}',
    "H201": b'{"member": "m", "type": "stay", "at": "2026-01-01T10:00:00Z"}',
    "H202": b'{"member": "m", "type": "stay", "at": "2026-01-01T10:00:00Z", "nights": "two"}',
    "H203": b'{"member": "m", "type": "stay", "at": "2026-01-01T10:00:00Z", "nights": 0}',
    "H204": b'{"member": "m", "type": "order", "at": "2026-01-01T10:00:00Z", "amount": 5, "currency": "JPY"}',
}
CSV_HEADER = b"member,type,at,nights\n"
CSV: dict[str, bytes] = {
    "H004": b'm,stay,2026-01-01T10:00:00Z,"2\n',  # a quote never closed
    "H005": b"m\xff,stay,2026-01-01T10:00:00Z,2\n",  # JSON Lines call such bytes not valid JSON (H002)
    "H006": b"m,stay,2026-01-01T10:00:00Z\n",  # three cells under four columns
}


def _rejections(tmp_path: Path, data: bytes, suffix: str) -> list[dict[str, object]]:
    # The bad line sits between two good ones, so its line number is 2 (3 in CSV, after the header).
    path = tmp_path / f"h.{suffix}"
    path.write_bytes(data)
    return read_history([str(path)], PROGRAM).accounting.rejections


@pytest.mark.parametrize("code", sorted(JSONL))
def test_a_json_lines_line_is_rejected_with_its_code(tmp_path: Path, code: str) -> None:
    rejected = _rejections(tmp_path, GOOD + b"\n" + JSONL[code] + b"\n" + GOOD + b"\n", "jsonl")
    assert [(r["line"], r["code"]) for r in rejected] == [(2, code)], rejected


@pytest.mark.parametrize("code", sorted(CSV))
def test_a_csv_row_is_rejected_with_its_code(tmp_path: Path, code: str) -> None:
    good = b"m,stay,2026-01-01T10:00:00Z,2\n"
    rejected = _rejections(tmp_path, CSV_HEADER + good + CSV[code], "csv")
    assert [(r["line"], r["code"]) for r in rejected] == [(3, code)], rejected


def test_a_parquet_instant_beyond_the_calendar_has_its_code(tmp_path: Path) -> None:
    # Parquet stores microseconds since 1970: 2^62 of them lie far beyond year 9999.
    path = tmp_path / "h.parquet"
    at = pa.array([0, 2**62], pa.timestamp("us", tz="UTC"))
    table = pa.table({"member": ["m", "m"], "type": ["stay", "stay"], "at": at, "nights": [2, 2]})
    pq.write_table(table, path)
    rejected = read_history([str(path)], PROGRAM).accounting.rejections
    assert [(r["line"], r["code"]) for r in rejected] == [(2, "H113")], rejected


def test_an_api_record_that_is_not_an_object_has_its_code() -> None:
    rejected = read_records([{"member": "m", "type": "stay", "at": "2026-01-01", "nights": 1}, 5], PROGRAM)
    assert [(r["line"], r["code"]) for r in rejected.accounting.rejections] == [(2, "H003")]


def test_every_code_has_a_case_and_every_raised_code_is_registered() -> None:
    cases = set(JSONL) | set(CSV) | {"H113"}
    assert cases == set(REJECTIONS), "a registered code without a case here, or a case without a code"
    source = (Path(__file__).parents[1] / "loyalty_dsl" / "io" / "history.py").read_text()
    raised = set(re.findall(r'Rejected\(\s*"(H\d{3})"', source))
    assert raised == set(REJECTIONS), f"raised but unregistered: {raised - set(REJECTIONS)}"


def test_the_command_prints_the_code_beside_the_reason(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from loyalty_dsl.cli import main

    program = Path(__file__).parents[1] / "programs" / "four_tier.loy"
    history = tmp_path / "h.jsonl"
    history.write_bytes(b'{"member": "m", "type": "visit", "at": "2026-02-30T10:00:00Z"}\n')
    result = CliRunner().invoke(main, ["run", str(program), str(history)])
    assert f"{history}:1: rejected[H111]: field 'at': impossible date" in result.stderr


def test_the_readme_lists_every_code() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert set(re.findall(r"\| (H\d{3}) \|", readme)) == set(REJECTIONS)
