"""Tiers on any measure: `tier Gold from 40 nights or 30 stays or 75000 points:`.

`and` binds tighter than `or`; tiers that qualify on measures rank in the order written, the last
that holds wins. Every figure is worked out by hand from the program below (a lifetime window:
every event counts at once).
"""

from __future__ import annotations

import datetime as dt

import pytest

from loyalty_dsl import compile_text
from loyalty_dsl.columnar.plan import NotColumnar, plan
from loyalty_dsl.language.check import check
from loyalty_dsl.language.fmt import format_source
from loyalty_dsl.language.lint import lint
from loyalty_dsl.language.parse import parse
from loyalty_dsl.tools.explain import explain_member
from loyalty_dsl.tools.report import console_text, explanation_tables
from tests.helpers import history_of, run_json

HOTEL = """\
event stay with stay: text, nights: integer, amount: money
window lifetime, continuous
measure nights
measure stays
measure spend in money
tier Gold from 40 nights or 30 stays or 75000 points:
tier Platinum from 60000 points and 8000 spend:
rule night_count:
    on stay
    earn nights into nights
rule stay_count:
    on stay
    earn 1 per stay into stays
rule spending:
    on stay
    earn amount into spend
rule base:
    on stay
    earn 10 for every 1.00 of amount
"""


def stays(member: str, *specs: tuple[int, float]) -> list[dict]:
    """One stay a day from 2026-01-01, each (nights, amount)."""
    return [
        {
            "member": member,
            "type": "stay",
            "at": (dt.datetime(2026, 1, 1, 12) + dt.timedelta(days=i)).isoformat() + "Z",
            "stay": f"{member}-{i}",
            "nights": n,
            "amount": a,
        }
        for i, (n, a) in enumerate(specs)
    ]


def tiers(text: str, events: list[dict], as_of: str = "2026-12-31") -> dict[str, str | None]:
    return {o["member"]: o["tier"] for o in run_json(compile_text(text, "h.loy"), events, as_of)}


def test_any_one_qualification_holds():
    events = (
        stays("a", (40, 100))  # 40 nights (1000 points): Gold
        + stays("b", *[(1, 10)] * 30)  # 30 stays, 30 nights, 3000 points: Gold
        + stays("c", *[(1, 10)] * 29)  # 29 stays, 29 nights, 2900 points: none
        + stays("d", (1, 7500))  # 75000 points, spend 7500 < 8000: Gold, not Platinum
        + stays("e", (1, 8000))  # 80000 points >= 60000 and spend 8000: Platinum (written after Gold)
        + stays("f", (1, 6000))  # 60000 points but spend 6000 < 8000; 1 night, 1 stay: none
    )
    assert tiers(HOTEL, events) == {"a": "Gold", "b": "Gold", "c": None, "d": "Gold", "e": "Platinum", "f": None}


def test_and_binds_tighter_than_or():
    # `1 nights or 100 points and 5 stays` = 1 night, or (100 points and 5 stays): one stay of 1 night
    # with 0 points holds it; read as (1 nights or 100 points) and 5 stays it would not.
    text = HOTEL.replace(
        "tier Platinum from 60000 points and 8000 spend:\n", "tier Platinum from 1 nights or 100 points and 5 stays:\n"
    )
    assert tiers(text, stays("g", (1, 0))) == {"g": "Platinum"}
    # 4 stays with 400 points and 0 nights: neither way (5 stays are needed beside the points): no tier.
    assert tiers(text, stays("h", *[(0, 10)] * 4)) == {"h": None}


def test_written_order_is_the_rank():
    # Silver (10 nights) written after Gold (40 nights) outranks it: 45 nights give Silver.
    text = HOTEL.replace("tier Platinum from 60000 points and 8000 spend:\n", "tier Silver from 10 nights:\n")
    assert [d.code for d in check(parse(text, "h.loy"))] == []  # no E141: written order is the meaning
    assert tiers(text, stays("a", (45, 0))) == {"a": "Silver"}


def test_the_old_points_tiers_keep_their_meaning():
    # Points-only tiers still rank by threshold and E141 still refuses them out of order.
    text = "event v\nwindow lifetime, continuous\ntier Gold from 100 points:\ntier Silver from 50 points:\n"
    text += "rule v:\n    on v\n    earn 1\n"
    assert "E141" in {d.code for d in check(parse(text, "p.loy"))}


BALANCE = """\
event order with amount: money
event redeemed with points: integer at least 1
window lifetime, continuous
redeem points by redeemed with points
tier Member from 0 points:
tier Silver from 100 balance:
rule shopping:
    on order
    earn 1 for every 1.00 of amount
"""


def test_a_tier_on_the_balance():
    events = [
        {"member": "m", "type": "order", "at": "2026-01-05T10:00:00Z", "amount": 150},
        {"member": "m", "type": "redeemed", "at": "2026-02-05T10:00:00Z", "points": 60},
    ]
    program = compile_text(BALANCE, "b.loy")
    # 2026-01-31: 150 points, all spendable: Silver (100 balance).
    (o,) = run_json(program, events, "2026-01-31")
    assert (o["points"], o["balance"], o["tier"]) == (150, 150, "Silver")
    # 2026-02-28: 60 spent, 90 left: below 100 balance, Member (0 points) holds; points stay 150.
    (o,) = run_json(program, events, "2026-02-28")
    assert (o["points"], o["balance"], o["tier"]) == (150, 90, "Member")


@pytest.mark.parametrize(
    ("change", "code", "hint"),
    [
        (("40 nights or", "40 night or"), "E208", "`nights`"),
        (("or 30 stays", "or 30 visits"), "E208", "measure visits"),
        (("and 8000 spend", "and 8000 balance"), "E209", "redeem points"),
        (("40 nights", "4.5 nights"), "E140", None),
    ],
)
def test_check_knows_qualifications(change, code, hint):
    assert change[0] in HOTEL
    found = [d for d in check(parse(HOTEL.replace(*change), "h.loy")) if d.code == code]
    assert found
    if hint is not None:
        assert found[0].hint is not None and hint in found[0].hint


def test_fmt_lays_out_qualifications():
    messy = HOTEL.replace("40 nights or 30 stays", "40   nights  or 30 stays")
    out = format_source(messy, "h.loy")
    assert "tier Gold from 40 nights or 30 stays or 75000 points:\n" in out
    assert "tier Platinum from 60000 points and 8000 spend:\n" in out
    assert format_source(out, "h.loy") == out


def test_lint_reads_written_order():
    text = HOTEL.replace("tier Platinum from 60000 points and 8000 spend:\n", "tier Silver from 10 nights:\n")
    assert not {d.code for d in lint(parse(text, "h.loy"))} & {"L101", "L102", "L103"}


def test_explain_standing_names_each_way_in():
    # 21 stays: one of 8 nights for 1000.00, twenty of 1 night for 0: 28 nights, 21 stays, 10000 points.
    # Gold needs 40 nights (12 more), or 30 stays (9 more), or 75000 points (65000 more).
    events = stays("m", (8, 1000), *[(1, 0)] * 20)
    program = compile_text(HOTEL, "h.loy")
    history = history_of(program, events)
    ex = explain_member(program, "m", history.members["m"], dt.date(2026, 12, 31)).to_json()
    assert ex["standing"]["next_tier"] == "Gold"
    assert ex["standing"]["to_next_tier"] == [{"nights": 12}, {"stays": 9}, {"points": 65000}]
    text = console_text(explanation_tables(ex), width=200)
    assert "12 more nights or 9 more stays or 65000 more points reach Gold." in text


def test_columnar_declines_tiers_on_measures():
    text = "event v\nwindow lifetime, continuous\nmeasure visits\ntier Gold from 3 visits:\n"
    text += "rule v:\n    on v\n    earn 1 into visits\n"
    with pytest.raises(NotColumnar, match="measure"):
        plan(compile_text(text, "p.loy"))
