"""`explain` in a zoned program prints local times and says so; the table lists redemptions.

examples/programs/spendable_points.loy (10 points an order not returned; lots expire after
12 months; a redemption spends the oldest valid lots) over examples/spendable_history.jsonl,
member s, as of 2026-07-31. By hand:
- the redemption of 15 on 2025-07-01 takes 10 from o1 (2025-01-10) and 5 from o2 (2025-06-01);
- the redemption of 30 on 2026-07-15 finds o2's 5 expired (2026-06-01), o4 returned (no lot),
  and o3's 10 (2025-12-20, valid to 2026-12-20): it spends 10.
Zoned, in America/New_York: 10:00Z is 05:00 in winter (EST) and 06:00 in summer (EDT).
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from loyalty_dsl.cli import main

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "examples" / "programs" / "spendable_points.loy"
HISTORY = "examples/spendable_history.jsonl"  # relative (tests run from ROOT): the table shows it whole


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def _explain(program: Path, *more: str) -> str:
    args = ["explain", str(program), str(HISTORY), "--member", "s", "--as-of", "2026-07-31", *more]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def _zoned(tmp_path: Path) -> Path:
    text = PROGRAM.read_text().replace(
        'program "spendable points"\n', 'program "spendable points"\ntimezone "America/New_York"\n'
    )
    assert "timezone" in text
    path = tmp_path / "zoned.loy"
    path.write_text(text)
    return path


def _rows(table: str, title: str) -> list[list[str]]:
    """The rows of one table of the output, as their cells (split on runs of spaces)."""
    lines = table.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    rows = []
    for line in lines[start + 4 :]:  # title, blank, header, rule
        if not line.strip():
            break
        rows.append([c for c in line.strip().split("  ") if c.strip()])
    return [[c.strip() for c in r] for r in rows]


def test_the_table_lists_redemptions():
    rows = _rows(_explain(PROGRAM), "Redemptions")
    assert rows == [
        ["2025-07-01 10:00", "15", "15", "examples/spendable_history.jsonl:3"],
        ["2026-07-15 10:00", "30", "10", "examples/spendable_history.jsonl:7"],
    ]


def test_a_zoned_program_prints_local_times_and_names_the_zone(tmp_path):
    table = _explain(_zoned(tmp_path))
    assert "Times are local to America/New_York." in table.splitlines()[1]
    # o1 at 2025-01-10T10:00Z: 05:00 EST; o2 at 2025-06-01T10:00Z: 06:00 EDT.
    assert "order_confirmed 2025-01-10 05:00" in table and "order_confirmed 2025-06-01 06:00" in table
    assert [r[0] for r in _rows(table, "Redemptions")] == ["2025-07-01 06:00", "2026-07-15 06:00"]
    # The return of o4 at 2026-01-20T10:00Z, named in the reason: 05:00 EST, with its offset.
    assert "2026-01-20T05:00:00-05:00" in table.replace("\n", "").replace(" ", "")


def test_a_utc_program_says_nothing_of_a_zone():
    assert "Times are local" not in _explain(PROGRAM)


def test_json_writes_local_instants_with_their_offset(tmp_path):
    data = orjson.loads(_explain(_zoned(tmp_path), "--format", "json"))
    assert data["timezone"] == "America/New_York"
    assert data["ledger"][0]["event"]["at"] == "2025-01-10T05:00:00-05:00"
    # o1 earned 2025-01-10 05:00 EST, expires 12 months on: 2026-01-10 00:00 EST.
    assert (data["lots"][0]["earned"], data["lots"][0]["expires"]) == (
        "2025-01-10T05:00:00-05:00",
        "2026-01-10T00:00:00-05:00",
    )
    assert [(r["at"], r["spent"]) for r in data["redemptions"]] == [
        ("2025-07-01T06:00:00-04:00", 15),
        ("2026-07-15T06:00:00-04:00", 10),
    ]
    utc = orjson.loads(_explain(PROGRAM, "--format", "json"))
    assert utc["timezone"] == "UTC" and utc["ledger"][0]["event"]["at"] == "2025-01-10T10:00:00Z"


def test_decisions_are_shown_at_their_local_time(tmp_path):
    program, history = tmp_path / "d.loy", tmp_path / "h.jsonl"
    program.write_text(
        'program "d"\ntimezone "America/New_York"\nevent order with amount: money\n'
        "window lifetime, continuous\nbenefit refund\ntier Member from 0 points:\n    refund\n"
        "rule r:\n    on order\n    earn 1\ndecide refund on order\n"
    )
    history.write_bytes(orjson.dumps({"member": "m", "type": "order", "at": "2026-12-01T02:00:00Z", "amount": 5}))
    runner = CliRunner()
    args = ["explain", str(program), str(history), "--member", "m"]
    table = runner.invoke(main, args).stdout
    assert "2026-11-30 21:00   refund" in table  # 02:00Z on 1 December is 21:00 EST on 30 November
    data = orjson.loads(runner.invoke(main, [*args, "--format", "json"]).stdout)
    assert data["decisions"][0]["at"] == "2026-11-30T21:00:00-05:00"


def test_the_ledger_of_a_run_writes_the_same_local_instants(tmp_path):
    ledger, out = tmp_path / "ledger.jsonl", tmp_path / "out.jsonl"
    args = ["run", str(_zoned(tmp_path)), HISTORY, "--as-of", "2026-07-31", "--ledger", str(ledger), "-o", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.stderr
    first = orjson.loads(ledger.read_bytes().splitlines()[0])
    # o1 at 2025-01-10T10:00Z: 05:00 EST, the same instant, beside its local day.
    assert (first["event_at"], first["day"]) == ("2025-01-10T05:00:00-05:00", "2025-01-10")
