"""`window calendar year, continuous|recalculated monthly` and status that lasts to a date.

Program: 1 point for every 1.00 spent; Silver from 0 points, Gold from 100. Figures by hand.
"""

from __future__ import annotations

import pytest

from loyalty_dsl import compile_text
from loyalty_dsl.columnar.plan import NotColumnar, plan
from loyalty_dsl.language.check import check
from loyalty_dsl.language.fmt import format_source
from loyalty_dsl.language.parse import parse
from tests.helpers import run_json

HEAD = """\
event order with amount: money
{window}
tier Silver from 0 points:
tier Gold from 100 points:
rule shopping:
    on order
    earn 1 for every 1.00 of amount
"""
CONTINUOUS = HEAD.format(window="window calendar year, continuous")
MONTHLY = HEAD.format(window="window calendar year, recalculated monthly")


def order(at: str, amount: float) -> dict:
    return {"member": "m", "type": "order", "at": at, "amount": amount}


def status(text: str, events: list[dict], as_of: str) -> tuple[int, str | None]:
    (o,) = run_json(compile_text(text, "y.loy"), events, as_of)
    return o["points"], o["tier"]


TWO_ORDERS = [order("2026-03-01T10:00:00Z", 60), order("2026-12-15T10:00:00Z", 50)]


def test_continuous_counts_this_years_events_and_resets():
    # 60 + 50 in 2026: 110, Gold at once (the day of the second order); 2027 starts at 0.
    assert status(CONTINUOUS, TWO_ORDERS, "2026-12-15") == (110, "Gold")
    assert status(CONTINUOUS, TWO_ORDERS, "2026-12-14") == (60, "Silver")
    assert status(CONTINUOUS, TWO_ORDERS, "2026-12-31") == (110, "Gold")  # at 2027-01-01T00:00: all of 2026
    assert status(CONTINUOUS, [*TWO_ORDERS, order("2027-01-01T00:00:00Z", 30)], "2027-01-01") == (30, "Silver")


def test_a_fiscal_year():
    # The year starts in April: 2026-03-15 is in the year ending March 2026, 2026-04-10 in the next: 50 alone.
    text = "year starts in April\n" + CONTINUOUS
    events = [order("2026-03-15T10:00:00Z", 60), order("2026-04-10T10:00:00Z", 50)]
    assert status(text, events, "2026-03-31") == (60, "Silver")  # evaluated at 1 April 00:00: the year just ended
    assert status(text, events, "2026-04-30") == (50, "Silver")


def test_recalculated_monthly():
    # The status of 1 December counts January to November (60); that of 1 January 2027 the whole of 2026 (110);
    # that of 1 February 2027 January 2027 alone (0).
    assert status(MONTHLY, TWO_ORDERS, "2026-12-30") == (60, "Silver")
    assert status(MONTHLY, TWO_ORDERS, "2026-12-31") == (110, "Gold")
    assert status(MONTHLY, TWO_ORDERS, "2027-01-31") == (0, "Silver")


def test_kept_until_31_january_after_the_next_year():
    # Gold is reached by 2026's points (the status of 1 January 2027): kept until the end of 31 January 2028.
    text = MONTHLY + "keep a tier reached until 31 January after the next year\n"
    assert status(text, TWO_ORDERS, "2027-06-30") == (0, "Gold")
    assert status(text, TWO_ORDERS, "2028-01-30") == (0, "Gold")  # the status of 1 January 2028
    assert status(text, TWO_ORDERS, "2028-01-31") == (0, "Silver")  # 1 February 2028: the guarantee is over
    (o,) = run_json(compile_text(text, "y.loy"), TWO_ORDERS, "2027-06-30")
    assert o["tier_by_points"] == "Silver"


def test_kept_until_a_day_with_a_continuous_window():
    # Reached on 2026-12-15 (year 2026): kept to the end of 31 January 2028, the instant an outcome
    # "as of 2028-01-31" is evaluated at: Gold as of 30 January, no longer as of 31 January.
    text = CONTINUOUS + "keep a tier reached until 31 January after the next year\n"
    assert status(text, TWO_ORDERS, "2028-01-30") == (0, "Gold")
    assert status(text, TWO_ORDERS, "2028-01-31") == (0, "Silver")


def test_the_end_of_the_next_year_with_a_calendar_window():
    # `until the end of the next year`: reached in 2026, kept until 1 January 2028.
    text = MONTHLY + "keep a tier reached until the end of the next year\n"
    assert status(text, TWO_ORDERS, "2027-12-30") == (0, "Gold")
    assert status(text, TWO_ORDERS, "2027-12-31") == (0, "Silver")


def test_kept_for_12_months():
    # Reached at 2026-12-15T10:00 (continuous): kept until 2027-12-15T10:00, then re-qualified (0 points: Silver).
    text = CONTINUOUS + "keep a tier reached for 12 months\n"
    assert status(text, TWO_ORDERS, "2027-12-14") == (0, "Gold")
    assert status(text, TWO_ORDERS, "2027-12-15") == (0, "Silver")


def test_a_tier_multiplier_with_a_calendar_year():
    # Gold from the status of 1 January 2027 (2026's 110 points): an order of 30 on 2027-01-10 earns 30 x 2.
    text = MONTHLY + "multiply shopping by 2 for Gold\n"
    events = [*TWO_ORDERS, order("2027-01-10T10:00:00Z", 30)]
    assert status(text, events, "2027-01-31") == (60, "Silver")
    assert status(MONTHLY, events, "2027-01-31") == (30, "Silver")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (HEAD.format(window="window calendar year, recalculated weekly"), "E115"),
        (CONTINUOUS + "keep tiers for 3 months below their threshold\n", "E175"),
        (MONTHLY + "keep a tier reached until 30 February after the next year\n", "E168"),
        (MONTHLY + "keep a tier reached until 31 Januray after the next year\n", "E119"),
        (MONTHLY + "keep a tier reached for 0 months\n", "E213"),
        (HEAD.format(window="window lifetime, continuous") + "keep a tier reached for 12 months\n", "E175"),
    ],
)
def test_check(text, code):
    assert code in {d.code for d in check(parse(text, "y.loy"))}


def test_retention_is_allowed_with_a_calendar_year():
    for text in (MONTHLY, CONTINUOUS):
        assert check(parse(text + "keep a tier reached until 31 January after the next year\n", "y.loy")) == []
    assert check(parse(MONTHLY + "keep tiers for 3 months below their threshold\n", "y.loy")) == []
    assert check(parse(MONTHLY + "multiply shopping by 2 for Gold\n", "y.loy")) == []


def test_fmt():
    out = format_source(CONTINUOUS.replace("calendar year, continuous", "calendar   year ,  continuous"), "y.loy")
    assert "window calendar year, continuous\n" in out
    again = format_source(MONTHLY, "y.loy")
    assert "window calendar year, recalculated monthly\n" in again and format_source(again, "y.loy") == again


def test_columnar_declines():
    with pytest.raises(NotColumnar, match="calendar-year window"):
        plan(compile_text(MONTHLY.replace("earn 1 for every 1.00 of amount", "earn 1"), "y.loy"))
