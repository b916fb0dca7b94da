"""Regressions found in review: each test names the mistake it guards against."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from click.testing import CliRunner

from loyalty_dsl import ProgramError, compile_text
from loyalty_dsl.cli import main
from loyalty_dsl.tools.explain import explain_member
from tests.conftest import PROGRAMS
from tests.helpers import history_of, run_json


def invoke(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_the_same_file_given_twice_repeats_every_id(tmp_path):
    path = tmp_path / "b.jsonl"
    path.write_text('{"member":"m1","type":"bonus","at":"2026-01-10T10:00:00Z","id":"b1","points":60}\n')
    result = invoke("run", str(PROGRAMS["four_tier"]), str(path), str(path), "--as-of", "2026-01-31")
    (outcome,) = [orjson.loads(x) for x in result.stdout.splitlines()]
    assert (outcome["points"], outcome["tier"]) == (60, "Silver")
    assert "1 applied, 0 ignored, 1 duplicate" in result.stderr


def test_a_reason_never_rounds_the_figure_compared(programs):
    lines = [
        {"member": "m", "type": "bonus", "at": "2026-01-02", "points": 900},
        {"member": "m", "type": "refund_requested", "at": "2026-02-03", "order": "o1", "amount": 24.001},
    ]
    (o,) = run_json(programs["four_tier"], lines, "2026-02-28")
    assert o["decisions"][0]["reason"] == "Platinum: 24.001 > limit 24"


@pytest.mark.parametrize(
    ("at", "utc"),
    [
        ("2026-01-31T23:59:59.123456789Z", "2026-01-31T23:59:59.123456Z"),
        ("2026-01-31t10:00:00z", "2026-01-31T10:00:00Z"),
        ("2026-01-31T10:00:00+05", "2026-01-31T05:00:00Z"),
        ("2026-01-31T10:00:00,5Z", "2026-01-31T10:00:00.500000Z"),
        ("2026-01-31 10:00:00+0530", "2026-01-31T04:30:00Z"),
    ],
)
def test_iso_8601_instants_as_exports_write_them(programs, at, utc):
    history = history_of(programs["four_tier"], [{"member": "m", "type": "visit", "at": at}])
    (event,) = history.members["m"]
    assert history.accounting.rejected == 0
    from loyalty_dsl.evaluation.calendar import iso_instant

    assert iso_instant(event.at) == utc


def test_as_of_is_the_local_day_of_the_program():
    # DOMAIN.md section 2 (reworded): the as-of day is the program's local day. 11:00Z is
    # 01:00 on 2 January in Kiritimati (UTC+14): the default day is the 2nd, and the 1st
    # ends at 10:00Z, before the event.
    program = compile_text(
        'timezone "Pacific/Kiritimati"\nevent e\nwindow lifetime, continuous\n'
        "tier T from 1 point:\nrule r: on e earn 1\n"
    )
    (o,) = run_json(program, [{"member": "m", "type": "e", "at": "2026-01-01T11:00:00Z"}])
    assert (o["as_of"], o["points"]) == ("2026-01-02", 1)
    (o,) = run_json(program, [{"member": "m", "type": "e", "at": "2026-01-01T11:00:00Z"}], "2026-01-01")
    assert (o["as_of"], o["points"]) == ("2026-01-01", 0)


DATES = """window lifetime, continuous
event e with d: date, n: integer
benefit b with since: date
tier T from 0 points: b (since "2026-01-01")
rule late: on e where d >= "2026-06-01" earn 1
rule listed: on e where d in ["2026-02-01"] earn 10
decide b on e: grant when d >= since
"""


def test_dates_compare_in_rules_lists_ledgers_and_decisions():
    program = compile_text(DATES)
    lines = [
        {"member": "m", "type": "e", "at": "2026-07-01", "d": "2026-07-01", "n": 1},
        {"member": "m", "type": "e", "at": "2026-07-02", "d": "2026-02-01", "n": 1},
        {"member": "m", "type": "e", "at": "2026-07-03", "d": "2025-12-31", "n": 1},
    ]
    (o,) = run_json(program, lines, "2026-07-31")
    assert o["points"] == 1 + 10
    assert [d["granted"] for d in o["decisions"]] == [True, True, False]
    assert o["decisions"][2]["reason"] == "T: 2025-12-31 < since 2026-01-01"
    history = history_of(program, lines)
    ex = explain_member(program, "m", history.members["m"], dt.date(2026, 7, 31)).to_json()
    assert sum(e["points"] for e in ex["ledger"]) == 11
    assert any(n["reason"] == 'd 2025-12-31 < "2026-06-01"' for n in ex["not_rewarded"])


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (DATES.replace('"2026-06-01"', '"2026-13-01"'), "E185"),
        (DATES.replace('"2026-06-01"', '"soon"'), "E185"),
        (DATES.replace('(since "2026-01-01")', '(since "someday")'), "E143"),
        (DATES.replace("earn 10", "earn 99999999999999999999"), "E186"),
        ('timezone "UTC"\ntimezone "Asia/Tokyo"\n' + DATES, "E117"),
    ],
)
def test_check_catches_what_would_break_a_run(text, code):
    with pytest.raises(ProgramError) as err:
        compile_text(text)
    assert code in {d.code for d in err.value.diagnostics}


def test_the_last_day_of_year_9999(tmp_path):
    path = tmp_path / "h.jsonl"
    path.write_text('{"member":"m","type":"visit","at":"9999-12-31T12:00:00Z"}\n')
    for args in (
        ("run", str(PROGRAMS["four_tier"]), str(path)),
        ("run", str(PROGRAMS["legacy"]), str(path), "--as-of", "9999-12-31"),
        ("explain", str(PROGRAMS["four_tier"]), str(path), "--member", "m", "--format", "json"),
    ):
        result = invoke(*args)
        assert result.exit_code == 0, result.stderr
    data = orjson.loads(invoke(*args).stdout)
    # The recalculation at 10000-01-01 counts the visit of 9999-12-31; there is none after it.
    assert data["points"] == 1 and data["standing"]["next_recalculation"] is None
    assert data["timeline"][-1]["at"] == "10000-01-01T00:00:00Z"


def test_the_counts_close_the_run(tmp_path):
    path = tmp_path / "h.jsonl"
    path.write_text('{"member":"m","type":"visit","at":"2026-01-05"}\n{"bad"}\n')
    result = invoke("run", str(PROGRAMS["four_tier"]), str(path))
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"{path}:2: rejected")
    assert lines[-1] == "loyalty: events: 2 read, 1 applied, 0 ignored, 0 duplicate, 1 rejected"
