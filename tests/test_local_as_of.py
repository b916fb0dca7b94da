"""`--as-of D` is the end of day D in the program's time zone (DOMAIN.md section 2).

Every figure here is worked out by hand from the offsets: New York is UTC-5 in
November (EST), London UTC+1 in May (BST). "The end of 30 November" in New York
is 1 December 00:00 EST = 05:00Z; the old reading (UTC) ended it at 00:00Z,
that is 19:00 on 30 November in New York.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

import loyalty_dsl
from loyalty_dsl import compile_text
from loyalty_dsl.cli import main
from loyalty_dsl.columnar.plan import plan
from loyalty_dsl.columnar.run import events_table, outcomes
from loyalty_dsl.evaluation.calendar import Calendar, instant_of
from loyalty_dsl.io.history import read_records
from tests.helpers import run_json

NEW_YORK = """program "zoned"
timezone "America/New_York"
event visit
window lifetime, continuous
rule visits:
    on visit
    earn 1
tier Member from 1 point:
"""

# One month of points counts, recalculated at each local month start.
MONTHLY = NEW_YORK.replace("window lifetime, continuous", "window last 1 months, recalculated monthly")

LATE_VISIT = {"member": "m", "type": "visit", "at": "2026-11-30T21:00:00-05:00"}  # 2026-12-01T02:00Z


def test_an_evening_event_is_inside_its_local_day():
    # 21:00 on 30 November in New York is before the end of that local day (05:00Z on 1 December).
    (o,) = run_json(compile_text(NEW_YORK), [LATE_VISIT], "2026-11-30")
    assert (o["as_of"], o["points"], o["tier"]) == ("2026-11-30", 1, "Member")
    # ...and after the end of 29 November there (05:00Z on 30 November).
    (o,) = run_json(compile_text(NEW_YORK), [LATE_VISIT], "2026-11-29")
    assert o["points"] == 0


def test_the_default_as_of_is_the_local_day_of_the_latest_event():
    # 02:00Z on 1 December is 21:00 on 30 November in New York.
    (o,) = run_json(compile_text(NEW_YORK), [LATE_VISIT])
    assert (o["as_of"], o["points"]) == ("2026-11-30", 1)


@pytest.mark.parametrize(
    ("zone", "at"),
    [("America/New_York", "0001-01-01T00:00:00Z"), ("Asia/Tokyo", "9999-12-31T20:00:00Z")],
)
def test_an_instant_outside_the_years_of_the_local_calendar_is_rejected(tmp_path, zone, at):
    """0001-01-01T00:00Z is 31 December of year 0 in New York, 9999-12-31T20:00Z 1 January of
    year 10000 in Tokyo: days no date holds (grants, campaigns and expiry raised on them). Both
    readers reject the line (H112) on both evaluators; in UTC it is an event like any other."""
    event = {"member": "m", "type": "visit", "at": at}
    program, history = tmp_path / "p.loy", tmp_path / "h.jsonl"
    history.write_bytes(orjson.dumps(event) + b"\n" + orjson.dumps({**event, "at": "2026-01-01"}) + b"\n")
    for source, rejected in (
        (NEW_YORK.replace("America/New_York", zone), 1),
        (NEW_YORK.replace("America/New_York", "UTC"), 0),
    ):
        program.write_text(source)
        for evaluator in ("columnar", "per-member"):
            result = CliRunner().invoke(main, ["run", str(program), str(history), "--evaluator", evaluator, "-j", "1"])
            assert result.exit_code == 0, result.output
            assert f"{rejected} rejected" in result.stderr
            assert ("rejected[H112]" in result.stderr) == bool(rejected)
            assert orjson.loads(result.stdout.splitlines()[0])["points"] == 2 - rejected
    records = read_records([event], compile_text(NEW_YORK.replace("America/New_York", zone)))
    assert records.accounting.rejected == 1 and records.accounting.rejections[0]["code"] == "H112"


def test_an_early_utc_event_east_of_utc_is_outside_the_local_day():
    # 23:30Z on 31 May is 00:30 on 1 June in London (BST): after the end of 31 May there (23:00Z).
    program = compile_text(NEW_YORK.replace("America/New_York", "Europe/London"))
    events = [
        {"member": "m", "type": "visit", "at": "2026-05-31T12:00:00Z"},
        {"member": "m", "type": "visit", "at": "2026-05-31T23:30:00Z"},
    ]
    (o,) = run_json(program, events, "2026-05-31")
    assert o["points"] == 1
    (o,) = run_json(program, events)  # the default day is 1 June, London's day of the latest event
    assert (o["as_of"], o["points"]) == ("2026-06-01", 2)


def test_a_month_end_shows_that_months_recalculation():
    # Five visits in November (New York). The end of 30 November local is the recalculation of
    # 1 December local, whose one-month window is November: 5 points. Read in UTC it would be
    # 30 November 19:00 local, still under the recalculation of 1 November (October: 0 points).
    visits = [{"member": "m", "type": "visit", "at": f"2026-11-{d:02d}T12:00:00-05:00"} for d in range(10, 15)]
    (o,) = run_json(compile_text(MONTHLY), visits, "2026-11-30")
    assert (o["points"], o["tier"]) == (5, "Member")


def test_the_end_of_a_day_is_the_next_local_midnight():
    # 1 December 00:00 EST is 05:00Z; 00:00 UTC is 00:00Z; 1 June 00:00 BST is 31 May 23:00Z.
    day = dt.date(2026, 11, 30)
    assert Calendar("America/New_York").end_of_day(day) == instant_of(dt.datetime(2026, 12, 1, 5, tzinfo=dt.UTC))
    assert Calendar("UTC").end_of_day(day) == instant_of(dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
    assert Calendar("Europe/London").end_of_day(dt.date(2026, 5, 31)) == instant_of(
        dt.datetime(2026, 5, 31, 23, tzinfo=dt.UTC)
    )
    # The last day there is: its end is past year 9999 and still an instant.
    assert Calendar("America/New_York").end_of_day(dt.date.max) > Calendar("UTC").end_of_day(dt.date.max)


def test_the_columnar_path_ends_a_utc_day_where_the_per_member_one_does():
    # UTC program: 23:59:59Z on 30 November is in, 00:00Z on 1 December is out, both ways.
    program = compile_text(NEW_YORK.replace("America/New_York", "UTC"))
    events = [
        {"member": "m", "type": "visit", "at": "2026-11-30T23:59:59Z"},
        {"member": "m", "type": "visit", "at": "2026-12-01T00:00:00Z"},
    ]
    history = read_records(events, program)
    day = dt.date(2026, 11, 30)
    (fast,) = outcomes(plan(program), events_table(history, program), history.member_ids(), day)
    (slow,) = run_json(program, events, day)
    assert fast.points == slow["points"] == 1


def test_the_python_api_reads_the_local_day():
    program = compile_text(NEW_YORK)
    result = loyalty_dsl.evaluate(program, [LATE_VISIT], as_of=dt.date(2026, 11, 30))
    assert [o.points for o in result.outcomes] == [1]
    default = loyalty_dsl.evaluate(program, [LATE_VISIT])
    assert default.as_of == dt.date(2026, 11, 30) and default.outcomes[0].points == 1


def _files(tmp_path: Path) -> tuple[str, str]:
    program, history = tmp_path / "zoned.loy", tmp_path / "h.jsonl"
    program.write_text(NEW_YORK)
    history.write_bytes(orjson.dumps(LATE_VISIT) + b"\n")
    return str(program), str(history)


def test_every_command_reads_the_local_day(tmp_path):
    program, history = _files(tmp_path)
    runner = CliRunner()
    for as_of in (["--as-of", "2026-11-30"], []):
        for jobs in ("1", "2"):  # one process, and forked workers (whose parent fixes the default day)
            run = runner.invoke(main, ["run", program, history, *as_of, "--evaluator", "per-member", "--jobs", jobs])
            assert run.exit_code == 0, run.stderr
            o = orjson.loads(run.stdout)
            assert (o["as_of"], o["points"]) == ("2026-11-30", 1)
        explain = runner.invoke(main, ["explain", program, history, "--member", "m", "--format", "json", *as_of])
        assert explain.exit_code == 0, explain.stderr
        ex = orjson.loads(explain.stdout)
        assert (ex["as_of"], ex["points"]) == ("2026-11-30", 1)
        diff = runner.invoke(main, ["diff", program, program, history, "--format", "json", *as_of])
        assert diff.exit_code == 0, diff.stderr
        d = orjson.loads(diff.stdout)
        assert (d["as_of"], d["points"]["a"]["total"]) == ("2026-11-30", 1)


def test_examples_read_as_of_as_the_local_day(tmp_path):
    program, _ = _files(tmp_path)
    Path(program).with_name("zoned_test.loy").write_text(
        'test "an evening visit counts on its local day":\n'
        "    given visit at 2026-11-30T21:00:00-05:00\n"
        "    as of 2026-11-30\n"
        "    expect points 1\n"
    )
    result = CliRunner().invoke(main, ["test", program])
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "1 of 1 examples pass" in result.stdout
