"""Calendars: the program's time zone, weeks from a named day, a year from a named month.

examples/programs/fiscal_calendar.loy over examples/fiscal_history.jsonl, as of
2026-05-31 (the status is the recalculation at 2026-06-01 00:00 London time):

- q: purchases of 25 on 10, 20 and 25 March and 30 April (23:30 in London), 25
  on 15 May, 19.99 on 16 May. The year starts in February, so Feb-Apr is one
  quarter: four purchases, 40 points, capped at 30; May-Jul: one, 10 points;
  19.99 is under 20. 40 points. With calendar quarters (Jan-Mar, Apr-Jun) it
  would be 30 + 20 = 50.
- w: visits on Saturday 2 May, Sunday 3 May, and 9 May 23:30 UTC, which is
  Sunday 10 May 00:30 in London. Weeks from Sunday: 26 Apr, 3 May, 10 May, so
  3 points. In UTC the last visit is Saturday 9 May (week of 3 May): 2 points;
  with weeks from Monday, 2 and 3 May share a week: 2 points.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from loyalty_dsl import compile_text, outcomes, read_history
from loyalty_dsl.tools.explain import explain_member

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "examples" / "programs" / "fiscal_calendar.loy"
HISTORY = ROOT / "examples" / "fiscal_history.jsonl"
AS_OF = dt.date(2026, 5, 31)


def points(text: str) -> dict[str, int]:
    program = compile_text(text, "fiscal.loy")
    history = read_history([str(HISTORY)], program)
    return {o.member: o.points for o in outcomes(program, history, AS_OF)}


def test_the_example_program():
    assert points(PROGRAM.read_text()) == {"q": 40, "w": 3}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("year starts in February\n", ""), {"q": 50, "w": 3}),
        (('timezone "Europe/London"\n', ""), {"q": 40, "w": 2}),
        (("week starts on Sunday\n", "week starts on Monday\n"), {"q": 40, "w": 2}),
        (("week starts on Sunday\n", ""), {"q": 40, "w": 2}),
    ],
)
def test_each_setting_changes_what_it_should(change, expected):
    text = PROGRAM.read_text()
    assert change[0] in text
    assert points(text.replace(*change)) == expected


def test_explain_names_the_week_and_the_quarter():
    program = compile_text(PROGRAM.read_text(), "fiscal.loy")
    history = read_history([str(HISTORY)], program)
    q = explain_member(program, "q", history.members["q"], AS_OF).to_json()
    assert [n["reason"] for n in q["not_rewarded"] if n["kind"] == "capped"] == [
        "quarterly purchases cap 30 reached: 0 of 10 kept"
    ]
    w = explain_member(program, "w", history.members["w"], AS_OF).to_json()
    assert [e["day"] for e in w["ledger"]] == ["2026-05-02", "2026-05-03", "2026-05-10"]


@pytest.mark.parametrize(("line", "code"), [("week starts on Sundy", "E118"), ("year starts in Febuary", "E119")])
def test_misspelt_days_and_months(line, code):
    text = PROGRAM.read_text().replace("week starts on Sunday", line).replace("year starts in February", line)
    from loyalty_dsl import ProgramError

    with pytest.raises(ProgramError) as err:
        compile_text(text, "fiscal.loy")
    assert code in {d.code for d in err.value.diagnostics}
    assert any(d.hint and "did you mean" in d.hint for d in err.value.diagnostics)


def test_quarters_and_years_follow_the_start_month():
    from loyalty_dsl.evaluation.calendar import Calendar, instant_of

    cal = Calendar("UTC", year_start=2)
    at = lambda text: instant_of(dt.datetime.fromisoformat(text))  # noqa: E731
    assert cal.period("quarter", at("2026-02-01")) == cal.period("quarter", at("2026-04-30"))
    assert cal.period("quarter", at("2026-04-30")) != cal.period("quarter", at("2026-05-01"))
    assert cal.period("year", at("2026-01-31")) != cal.period("year", at("2026-02-01"))
    assert cal.period("year", at("2026-02-01")) == cal.period("year", at("2027-01-31"))


def test_fmt_keeps_the_calendar_settings():
    from loyalty_dsl.language.fmt import format_source

    text = PROGRAM.read_text()
    assert format_source(text, "fiscal.loy") == text  # the example is formatted
    squashed = text.replace("week starts on Sunday\n", "week   starts on Sunday ").replace("\n\nevent", "\nevent")
    assert "week starts on Sunday" in format_source(squashed, "fiscal.loy")
    assert "year starts in February" in format_source(squashed, "fiscal.loy")
