"""Expiry at the end of the month N months on, and expiry after N months without activity.

Each `visit` earns 10 points (one lot); `claim` spends its `points`. Figures are the lots'
dates counted by hand on the calendar (UTC). An outcome "as of" a day is taken at the end of that
day, the first instant of the next: a lot that expires on 1 August is gone as of 31 July.
"""

from __future__ import annotations

import datetime as dt
import io

import orjson
import pytest

from loyalty_dsl import ProgramError, compile_text, outcomes, read_history

BASE = """
program "expiry"
event visit
event claim with points: integer
window lifetime, continuous
rule visits:
    on visit
    earn 10
tier Member from 0 points:
"""


def run(lines: str, records: list[tuple[str, str, dict]], as_of: str) -> dict:
    program = compile_text(BASE + lines + "\n", "expiry.loy")
    data = [orjson.dumps({"member": "m", "type": t, "at": at, **f}) + b"\n" for t, at, f in records]
    history = read_history(["-"], program, stdin=io.BytesIO(b"".join(data)))
    (o,) = outcomes(program, history, dt.date.fromisoformat(as_of))
    return o.to_json()


MONTH_END = "points expire after 6 months, at the end of that month"


@pytest.mark.parametrize(
    ("earned", "as_of", "balance", "expiring"),
    [
        # 15 January + 6 months is July: the whole of July counts, gone from 1 August.
        ("2026-01-15T10:00:00Z", "2026-07-30", 10, [(10, "2026-08-01")]),
        ("2026-01-15T10:00:00Z", "2026-07-31", 0, []),
        # 31 January: the same month, July, whatever the day.
        ("2026-01-31T23:00:00Z", "2026-07-30", 10, [(10, "2026-08-01")]),
        # 1 August 2026 + 6 months is February 2027: gone from 1 March 2027.
        ("2026-08-01T00:00:00Z", "2027-02-27", 10, [(10, "2027-03-01")]),
    ],
)
def test_expire_at_the_end_of_that_month(earned, as_of, balance, expiring):
    o = run(MONTH_END, [("visit", earned, {})], as_of)
    assert o["balance"] == balance
    assert [(e["points"], e["on"]) for e in o["expiring"]] == expiring


INACTIVE = "points expire after 18 months without activity"


def test_every_lot_lives_until_18_months_after_the_latest_earning():
    # Latest earning 2025-06-01: every lot (the 2025-01-10 one too) expires on 2026-12-01.
    visits = [("visit", "2025-01-10T10:00:00Z", {}), ("visit", "2025-06-01T10:00:00Z", {})]
    o = run(INACTIVE, visits, "2026-11-29")
    assert (o["balance"], [(e["points"], e["on"]) for e in o["expiring"]]) == (20, [(20, "2026-12-01")])
    assert run(INACTIVE, visits, "2026-11-30")["balance"] == 0


def test_a_redemption_is_activity_and_a_refused_one_is_not():
    visits = [("visit", "2025-01-10T10:00:00Z", {}), ("visit", "2025-06-01T10:00:00Z", {})]
    spend = [*visits, ("claim", "2026-11-15T10:00:00Z", {"points": 5})]
    # 5 spent on 2026-11-15 (the oldest lot): 15 left, now until 2028-05-15.
    o = run(INACTIVE + "\nredeem points by claim with points", spend, "2027-06-30")
    assert (o["balance"], [(e["points"], e["on"]) for e in o["expiring"]]) == (15, [(15, "2028-05-15")])
    # All or nothing: 100 > 20 is refused, spends nothing, and the deadline stays 2026-12-01.
    refused = [*visits, ("claim", "2026-11-15T10:00:00Z", {"points": 100})]
    o = run(INACTIVE + "\nredeem points by claim with points, all or nothing", refused, "2026-11-30")
    assert (o["balance"], o["redemptions"][0]["granted"]) == (0, False)


def test_a_gap_of_18_months_loses_what_was_there():
    # 2024-01-10, then nothing until 2025-08-01: the first lot died on 2025-07-10.
    visits = [("visit", "2024-01-10T10:00:00Z", {}), ("visit", "2025-08-01T10:00:00Z", {})]
    o = run(INACTIVE, visits, "2025-12-31")
    assert (o["balance"], [(e["points"], e["on"]) for e in o["expiring"]]) == (10, [(10, "2027-02-01")])
    # A claim after the gap cannot spend the dead lot: asked 20, 10 there, all or nothing.
    claim = [*visits, ("claim", "2025-09-01T10:00:00Z", {"points": 20})]
    o = run(INACTIVE + "\nredeem points by claim with points, all or nothing", claim, "2025-12-31")
    assert o["redemptions"][0]["reason"] == "asked 20, balance 10: all or nothing"


@pytest.mark.parametrize(
    "line", ["points expire after 6 days, at the end of that month", "points expire after 30 days without activity"]
)
def test_these_forms_count_months(line):
    with pytest.raises(ProgramError) as err:
        compile_text(BASE + line + "\n", "expiry.loy")
    assert [d.code for d in err.value.diagnostics] == ["E268"]


def test_examples_pin_what_expires_on_a_day():
    from loyalty_dsl.language.parse import parse
    from loyalty_dsl.tools.testing import run_examples

    program = compile_text(BASE + MONTH_END + "\n", "expiry.loy")
    tests = parse(
        """
test "January's points last through July":
    given 4 times visit at 2026-01-15T10:00:00Z
    as of 2026-03-31
    expect expiring 40 on 2026-08-01
test "not on another day":
    given 4 times visit at 2026-01-15T10:00:00Z
    as of 2026-03-31
    expect expiring 40 on 2026-07-15
""",
        "expiry_test.loy",
    )
    # 4 visits on 15 January: 40 points, all expiring on 1 August (6 months on, end of July).
    first, second = run_examples(program, tests.tests)
    assert first.failures == ()
    assert second.failures == ("line 9: expected 40 expiring on 2026-07-15, got 0 (40 on 2026-08-01)",)
