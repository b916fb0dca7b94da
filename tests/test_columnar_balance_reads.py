"""Decisions on the balance (and on the points) on the columnar path: both evaluators agree.

A decision that reads the balance reads it at its event's instant: the lots earned and the claims
made before it, as MemberRun walks them in its pass. The columnar path walks the member's lots from
SQL up to that instant with the same function, which is right only while a lot, once earned, never
changes: so the plan takes such programs only where no rule reads facts, waits for a threshold or
vests. The program is tests/columnar/balance_decisions.loy (caps shared in time order, `beyond the
first`, units per day and per order, multipliers), with claims, expiry and windows varied.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty_dsl import compile_text
from loyalty_dsl.columnar.plan import NotColumnar, plan
from tests.test_columnar_lots import DAYS, TIMES, ZONES
from tests.test_columnar_zones import both_ways

ROOT = Path(__file__).parent.parent
SOURCE = (ROOT / "tests" / "columnar" / "balance_decisions.loy").read_text(encoding="utf-8")
CLAIMS = [
    "",
    "redeem 5 points by treat_claimed, only when treat is granted",
    "convert points every month into vouchers of 15 points worth 1.50",
]
EXPIRIES = ["", "points expire after 40 days", "points expire at the end of the month"]
EXPIRIES += ["points expire after 2 months without activity"]
WINDOWS = ["window last 12 months, recalculated monthly", "window lifetime, continuous"]


def variant(zone: str, claim: str, expiry: str, window: str) -> str:
    source = SOURCE.replace('timezone "Europe/London"', f'timezone "{zone}"')
    source = source.replace("window last 12 months, recalculated monthly", window)
    return source + expiry + "\n" + claim + "\n"


PROGRAMS = {
    key: compile_text(variant(*key))
    for key in [(z, c, e, w) for z in ZONES for c in CLAIMS for e in EXPIRIES for w in WINDOWS]
}
# Tiers on the balance (and on points or the balance): every status reads the balance at its instant.
PLAIN_TIERS = "tier Member from 0 points:\n    coffee\n    treat\ntier Plus from 20 points:\n"
BALANCE_TIERS = "tier Member from 0 points:\n    coffee\n    treat\ntier Plus from 25 balance or 40 points:\n"
ON_BALANCE = {
    key: compile_text(
        variant(*key).replace(
            "tier Member from 0 points:\n    coffee\n    treat\ntier Plus from 20 points:\n", BALANCE_TIERS
        )
    )
    for key in [(z, c, e, w) for z in ZONES[:2] for c in CLAIMS[:2] for e in EXPIRIES for w in WINDOWS]
}


def test_the_plan_takes_every_program_here():
    for program in PROGRAMS.values():
        assert program.decision_balance
        assert plan(program).spends
    for program in ON_BALANCE.values():
        assert program.status_balance
        assert plan(program).walks_all


@st.composite
def histories(draw):
    """Earnings, requests and claims on the same few days and times: requests fall between a
    day's units, at the instant of an earning, and on the edges of expiry and conversion periods."""
    tz = zoneinfo.ZoneInfo(draw(st.sampled_from(ZONES)))
    events = []
    kinds = ["visit", "order_confirmed", "bonus", "ask", "ask", "redeemed", "treat_claimed"]
    for i in range(draw(st.integers(1, 30))):
        day, time = draw(st.sampled_from(DAYS)), draw(st.sampled_from(TIMES))
        local = dt.datetime.combine(day, time, tzinfo=tz).replace(fold=draw(st.sampled_from([0, 1])))
        kind = draw(st.sampled_from(kinds))
        event: dict = {"member": draw(st.sampled_from("ab")), "type": kind, "at": local.isoformat(), "id": f"x{i}"}
        if kind == "order_confirmed":
            event["order"] = draw(st.sampled_from(["o1", "o2", "o3"]))
            event |= {"amount": draw(st.sampled_from([1, 2, 30, 45])), "category": draw(st.sampled_from("xyz"))}
        if kind == "bonus":
            event["points"] = draw(st.sampled_from([-3, 4, 12, 40]))
        if kind == "redeemed":
            event["points"] = draw(st.sampled_from([1, 5, 6, 10, 25]))
        if kind == "ask":
            event["reward"] = draw(st.sampled_from(["r1", "r2"]))
        events.append(event)
    return events


AS_OF = [None, dt.date(2024, 3, 31), dt.date(2024, 12, 31), dt.date(2025, 4, 1), dt.date(2025, 12, 31)]


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(PROGRAMS)), histories(), st.sampled_from(AS_OF))
def test_decisions_on_the_balance_agree_on_random_histories(key, events, day):
    got, want = both_ways(PROGRAMS[key], events, day)
    assert got == want


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(ON_BALANCE)), histories(), st.sampled_from(AS_OF))
def test_tiers_on_the_balance_agree_on_random_histories(key, events, day):
    got, want = both_ways(ON_BALANCE[key], events, day)
    assert got == want


def test_the_comparison_sees_requests_granted_and_refused_on_the_balance():
    """Worth something only if the random histories give decisions both ways on the balance and on
    the points, and gated claims both paid and refused."""
    seen: set[str] = set()
    program = PROGRAMS[("UTC", CLAIMS[1], "points expire after 40 days", WINDOWS[1])]
    for seed in range(40):
        events = _seeded_history(seed)
        got, want = both_ways(program, events, None)
        assert got == want
        for o in got:
            for d in o["decisions"]:
                reason = d["reason"]
                seen |= {
                    f"{d['benefit']} {'granted' if d['granted'] else 'refused'} on {w}"
                    for w in ("balance", "points")
                    if w in reason
                }
            seen |= {("paid" if r["spent"] else "unpaid") for r in o["redemptions"] if r["event"] == "treat_claimed"}
    assert {"coffee granted on balance", "coffee refused on balance", "treat granted on balance"} <= seen
    assert {"treat refused on balance", "cake refused on points", "paid", "unpaid"} <= seen


def _seeded_history(seed: int) -> list[dict]:
    """A plain random history (no hypothesis draw outside a test): the same kinds as `histories`."""
    import random

    rng = random.Random(seed)
    events = []
    for i in range(rng.randint(10, 40)):
        day, time = rng.choice(DAYS), rng.choice(TIMES)
        kind = rng.choice(["visit", "order_confirmed", "bonus", "bonus", "ask", "ask", "redeemed", "treat_claimed"])
        at = dt.datetime.combine(day, time, tzinfo=dt.UTC).isoformat()
        event: dict = {"member": rng.choice("ab"), "type": kind, "at": at, "id": f"x{i}"}
        if kind == "order_confirmed":
            event |= {"order": rng.choice(["o1", "o2"]), "amount": rng.choice([2, 45]), "category": rng.choice("xy")}
        if kind == "bonus":
            event["points"] = rng.choice([4, 12, 40])
        if kind == "redeemed":
            event["points"] = rng.choice([5, 10, 25])
        if kind == "ask":
            event["reward"] = rng.choice(["r1", "r2"])
        events.append(event)
    return events


def test_a_request_sees_the_lots_and_claims_before_its_instant():
    """Worked by hand (UTC, a window of 12 months recalculated monthly, no expiry; treats are
    claimed for 5 points, only when treat is granted). On 4 March 2025 a bonus of 12 at 10:00 (x 1.4:
    a lot of 16) and a request at the same instant: the balance it reads has only what came before
    10:00, 0, so coffee is refused; a request at 11:00 reads 16 and gets it. The status of both is the
    recalculation of 1 March (0 points: Member, which has no cake). A claim of 10 on 5 March leaves 6;
    a treat claimed at 12:00 reads 6 >= 6, is granted and pays 5, leaving 1; the next, on 6 March,
    reads 1 and is refused, so that claim pays nothing. As of 31 March: 16 points, balance 1."""
    program = PROGRAMS[("UTC", CLAIMS[1], "", WINDOWS[0])]
    events = [
        {"member": "a", "type": "bonus", "at": "2025-03-04T10:00:00Z", "points": 12, "id": "b1"},
        {"member": "a", "type": "ask", "at": "2025-03-04T10:00:00Z", "reward": "r1", "id": "a1"},
        {"member": "a", "type": "ask", "at": "2025-03-04T11:00:00Z", "reward": "r2", "id": "a2"},
        {"member": "a", "type": "redeemed", "at": "2025-03-05T09:00:00Z", "points": 10, "id": "r1"},
        {"member": "a", "type": "treat_claimed", "at": "2025-03-05T12:00:00Z", "id": "t1"},
        {"member": "a", "type": "treat_claimed", "at": "2025-03-06T09:00:00Z", "id": "t2"},
    ]
    got, want = both_ways(program, events, dt.date(2025, 3, 31))
    assert got == want
    (o,) = got
    assert (o["points"], o["balance"]) == (16, 1)
    decided = [(d["benefit"], d["granted"], d["reason"]) for d in o["decisions"]]
    assert decided == [
        ("coffee", False, "Member: balance 0 < 10"),
        ("cake", False, "Member has no cake"),
        ("coffee", True, "Member: balance 16 >= 10"),
        ("cake", False, "Member has no cake"),
        ("treat", True, "Member: balance 6 >= 6"),
        ("treat", False, "Member: balance 1 < 6"),
    ]
    assert [(r["event"], r["spent"], r["granted"]) for r in o["redemptions"]] == [
        ("redeemed", 10, True),
        ("treat_claimed", 5, True),
        ("treat_claimed", 0, False),
    ]


def test_a_decision_on_the_points_runs_on_the_columnar_path():
    """`grant when points >= 2` reads the status's points, which the columnar path has: both agree."""
    text = (
        "event v\nevent ask\nwindow lifetime, continuous\nbenefit b\ntier T from 0 points:\n    b\n"
        "rule v:\n    on v\n    earn 1\ndecide b on ask:\n    grant when points >= 2\n"
    )
    program = compile_text(text)
    events = [
        {"member": "a", "type": "v", "at": "2025-01-01T10:00:00Z", "id": "1"},
        {"member": "a", "type": "ask", "at": "2025-01-01T11:00:00Z", "id": "2"},
        {"member": "a", "type": "v", "at": "2025-01-02T10:00:00Z", "id": "3"},
        {"member": "a", "type": "ask", "at": "2025-01-02T11:00:00Z", "id": "4"},
    ]
    got, want = both_ways(program, events, None)
    assert got == want
    assert [d["granted"] for d in got[0]["decisions"]] == [False, True]


FACT = "event voided with order: text\nan order is voided by voided\n"


@pytest.mark.parametrize(
    ("old", "new", "why"),
    [
        (
            "    on order_confirmed\n    earn 2 per order",
            "    on order_confirmed where order is not voided\n    earn 2 per order",
            "rule orders: a decision reads the balance, and a fact can take out its points",
        ),
        (
            "    earn 1 per day\n    cap 4 per month",
            "    earn 4 per month with at least 3",
            "rule daily: .* a threshold",
        ),
        (
            "    on bonus\n    earn points",
            "    on bonus\n    earn points\n    vesting after 7 days",
            "rule bonus: .* vest",
        ),
    ],
)
def test_the_plan_says_which_decisions_on_the_balance_it_leaves_per_member(old, new, why):
    source = variant("UTC", "", "points expire after 40 days", WINDOWS[0])
    assert old in source
    source = source.replace("event treat_claimed\n", "event treat_claimed\n" + FACT)
    assert plan(compile_text(source)).spends  # the fact alone, read by no rule, is no obstacle
    with pytest.raises(NotColumnar, match=why):
        plan(compile_text(source.replace(old, new)))


def test_the_comparison_sees_tiers_reached_by_the_balance_and_lost_with_it():
    """Worth something only if tiers come from the balance: Plus below 40 points (by a balance of 25
    or more), and Member at 40 points or less once claims or expiry took the balance down."""
    seen = set()
    # Lots outlive a 12-month window where points never expire: there the balance can pass the points.
    for key in [("UTC", CLAIMS[1], "", WINDOWS[0]), ("UTC", CLAIMS[1], "points expire after 40 days", WINDOWS[1])]:
        program = compile_text(variant(*key).replace(PLAIN_TIERS, BALANCE_TIERS))
        for seed in range(30):
            got, want = both_ways(program, _seeded_history(seed), None)
            assert got == want
            for o in got:
                if o["tier"] == "Plus" and o["points"] < 40:
                    seen.add("plus by balance")
                if o["tier"] == "Member" and o["points"] >= 25:
                    seen.add("member with the points but not the balance")
                seen |= {f"cake {d['granted']}" for d in o["decisions"] if d["benefit"] == "cake"}
    assert seen >= {"plus by balance", "member with the points but not the balance", "cake True", "cake False"}
