"""Redemptions and vouchers on the columnar path: both evaluators agree.

SQL gives each lot as its unit stands at the end (caps shared out unit after
unit, `beyond the first`, multipliers), and the per-member part walks a member's
lots and claims in time order with the reference's own function. So what is
tested is the part that is new: lots one by one, a claim between two units of
one day, claims at the instant of an earning, expiry, vouchers, refusals and
`only when ... is granted`. The programs are tests/columnar/lots_zoned.loy
(every form of cap, ranking and multiplier the plan takes) and the shipped
four-tier program, each with claims added.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty_dsl import compile_text
from loyalty_dsl.columnar.plan import NotColumnar, plan
from tests.oracle.gen import random_history
from tests.test_columnar_lots import DAYS, TIMES, ZONES
from tests.test_columnar_zones import both_ways

ROOT = Path(__file__).parent.parent
LOTS_ZONED = (ROOT / "tests" / "columnar" / "lots_zoned.loy").read_text(encoding="utf-8")
FOUR_TIER = (ROOT / "programs" / "four_tier.loy").read_text(encoding="utf-8")
CLAIM_EVENTS = "event redeemed with points: integer at least 1\nevent voucher_used\n"
CLAIMS = [
    "redeem points by redeemed with points",
    "redeem points by redeemed with points, all or nothing",
    "redeem points by redeemed with points, in sizes 5, 10, 25",
    "redeem points by redeemed with points, at least 4, at most 30, in multiples of 2",
    "redeem points by redeemed with points where balance >= 20",
    "redeem 9 points by redeemed",
    "convert points every month into vouchers of 15 points worth 1.50\nvouchers are used by voucher_used",
    "convert points every quarter into vouchers of 10 points worth 1.00\nvouchers expire after 2 months\n"
    "vouchers are used by voucher_used\nredeem points by redeemed with points",
]
EXPIRIES = ["", "points expire after 40 days", "points expire at the end of the month"]
EXPIRIES += ["points expire after 2 months without activity"]


def zoned(zone: str, claim: str, expiry: str) -> str:
    source = LOTS_ZONED.replace('timezone "Europe/London"', f'timezone "{zone}"')
    source = source.replace("event visit\n", "event visit\n" + CLAIM_EVENTS)
    return source + expiry + "\n" + claim + "\n"


PROGRAMS = {
    (zone, claim, expiry): compile_text(zoned(zone, claim, expiry))
    for zone in ZONES
    for claim in CLAIMS
    for expiry in EXPIRIES
}


def test_the_plan_takes_every_program_here():
    for program in PROGRAMS.values():
        assert plan(program).spends


@st.composite
def histories(draw):
    """Earnings and claims on the same few days and times: claims fall between a day's units, at
    the instant of an earning, and on the edges of expiry and conversion periods."""
    tz = zoneinfo.ZoneInfo(draw(st.sampled_from(ZONES)))
    events = []
    kinds = ["visit", "order_confirmed", "order_returned", "bonus", "redeemed", "redeemed", "voucher_used"]
    for i in range(draw(st.integers(1, 30))):
        day, time = draw(st.sampled_from(DAYS)), draw(st.sampled_from(TIMES))
        local = dt.datetime.combine(day, time, tzinfo=tz).replace(fold=draw(st.sampled_from([0, 1])))
        kind = draw(st.sampled_from(kinds))
        event: dict = {"member": draw(st.sampled_from("ab")), "type": kind, "at": local.isoformat(), "id": f"x{i}"}
        if kind in ("order_confirmed", "order_returned"):
            event["order"] = draw(st.sampled_from(["o1", "o2", "o3"]))
        if kind == "order_confirmed":
            event |= {"amount": draw(st.sampled_from([1, 2, 30, 45])), "category": draw(st.sampled_from("xyz"))}
        if kind == "bonus":
            event["points"] = draw(st.sampled_from([-3, 4, 12, 40]))
        if kind == "redeemed":
            event["points"] = draw(st.sampled_from([1, 5, 6, 10, 25, 60]))
        events.append(event)
    return events


AS_OF = [None, dt.date(2024, 3, 31), dt.date(2024, 12, 31), dt.date(2025, 4, 1), dt.date(2025, 12, 31)]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(PROGRAMS)), histories(), st.sampled_from(AS_OF))
def test_claims_agree_on_random_histories(key, events, day):
    got, want = both_ways(PROGRAMS[key], events, day)
    assert got == want


def test_a_claim_between_two_capped_units_of_a_day_sees_only_the_first():
    """Worked by hand (UTC, lifetime window, no expiry), rule nested: 2 points a visit, at most 3 a
    day. Visits at 10:00 and 11:00 on Tuesday 4 March 2025 (happy_hour adds 3 each; daily adds 1, x2
    in March; visit_days and four_visits earn nothing): the 10:00 visit's units keep 2 + 3 + 2 = 7,
    the 11:00 one's 1 (the day's cap left) + 3 = 4. A claim of 10 at 10:30 finds a balance of 7 and
    spends it, the plain form paying what there is; one of 4 at 12:00 finds the 4 earned at 11:00.
    As of 1 April (the window is recalculated monthly) the points are 11, the balance 0."""
    program = PROGRAMS[("UTC", CLAIMS[0], "")]
    events = [
        {"member": "a", "type": "visit", "at": "2025-03-04T10:00:00Z", "id": "v1"},
        {"member": "a", "type": "redeemed", "at": "2025-03-04T10:30:00Z", "points": 10, "id": "r1"},
        {"member": "a", "type": "visit", "at": "2025-03-04T11:00:00Z", "id": "v2"},
        {"member": "a", "type": "redeemed", "at": "2025-03-04T12:00:00Z", "points": 4, "id": "r2"},
    ]
    got, want = both_ways(program, events, dt.date(2025, 4, 1))
    assert got == want
    (o,) = got
    assert o["points"] == 11
    assert [(r["points"], r["spent"]) for r in o["redemptions"]] == [(10, 7), (4, 4)]
    assert o["balance"] == 0


def test_a_claim_at_the_instant_of_an_earning_follows_the_type_order():
    """At one instant events are taken by type: `bonus` before `redeemed`, `visit` after it. A
    bonus of 12 (x 1.4: 16) and a claim of 10 at 09:00: the claim pays 10. On the next day a visit
    and a second claim of 10 at 09:00: the claim finds the 6 left (the visit's points come after
    it) and spends 6."""
    program = PROGRAMS[("UTC", CLAIMS[0], "")]
    events = [
        {"member": "a", "type": "redeemed", "at": "2025-03-04T09:00:00Z", "points": 10, "id": "r1"},
        {"member": "a", "type": "bonus", "at": "2025-03-04T09:00:00Z", "points": 12, "id": "b1"},
        {"member": "a", "type": "visit", "at": "2025-03-05T09:00:00Z", "id": "v1"},
        {"member": "a", "type": "redeemed", "at": "2025-03-05T09:00:00Z", "points": 10, "id": "r2"},
    ]
    got, want = both_ways(program, events, dt.date(2025, 3, 6))
    assert got == want
    assert [(r["points"], r["spent"]) for r in got[0]["redemptions"]] == [(10, 10), (10, 6)]


def with_claims(events: list[dict], rng: random.Random) -> list[dict]:
    """Claims added to a random history: some at the instant of a member's event, some between."""
    out = list(events)
    for i, event in enumerate(events):
        if rng.random() < 0.15:
            at = event["at"] if rng.random() < 0.5 else event["at"][:10] + "T23:59:00Z"
            out.append({"member": event["member"], "type": "redeemed", "at": at, "id": f"claim{i}"})
            out[-1]["points"] = rng.choice([1, 5, 10, 20, 50])
    return out


FOUR_TIER_CLAIMS = [
    "redeem points by redeemed with points",
    "redeem points by redeemed with points, in sizes 10, 20, 50",
    "redeem 20 points by refund_requested, only when fast_refund is granted",
    "convert points every quarter into vouchers of 10 points worth 1.00\nvouchers are used by redeemed",
]


def four_tier_run(claim: str, expiry: str, seed: int) -> tuple[list, list]:
    source = FOUR_TIER.replace("event visit\n", "event visit\nevent redeemed with points: integer at least 1\n")
    program = compile_text(source + "\n" + expiry + "\n" + claim + "\n")
    assert plan(program).spends
    rng = random.Random(seed)
    events = with_claims(random_history(rng, members=4, events_per_member=rng.choice([20, 80])), rng)
    return both_ways(program, events, None)


@pytest.mark.parametrize("claim", FOUR_TIER_CLAIMS)
@pytest.mark.parametrize(
    "expiry", ["", "points expire after 12 months", "points expire after 3 months without activity"]
)
@pytest.mark.parametrize("seed", range(4))
def test_the_four_tier_program_with_claims_agrees(claim, expiry, seed):
    got, want = four_tier_run(claim, expiry, seed)
    assert got == want


def test_the_comparison_sees_claims_paid_and_refused_and_vouchers_used():
    """Worth something only if the histories pay claims, refuse some (the gate of `only when`
    among them), and convert points into vouchers that are then used."""
    seen: dict[str, set] = {claim: set() for claim in FOUR_TIER_CLAIMS}
    for claim in FOUR_TIER_CLAIMS:
        for seed in range(4):
            got, _ = four_tier_run(claim, "points expire after 12 months", seed)
            for o in got:
                seen[claim] |= {("paid" if r["spent"] else "unpaid") for r in o["redemptions"]}
                seen[claim] |= {r.get("reason", "").split(":")[-1].strip() for r in o["redemptions"]} - {""}
                seen[claim] |= {v["status"] for v in o.get("vouchers", ())}
    assert {"paid", "unpaid"} <= seen[FOUR_TIER_CLAIMS[0]]
    assert {"paid", "unpaid", "sizes are 10, 20, 50"} <= seen[FOUR_TIER_CLAIMS[1]]
    assert {"paid", "unpaid"} <= seen[FOUR_TIER_CLAIMS[2]]
    assert any("fast_refund" in reason for reason in seen[FOUR_TIER_CLAIMS[2]])
    assert {"used", "valid"} <= seen[FOUR_TIER_CLAIMS[3]]


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("redeem points by bonus with points", "bonus both earns and spends"),
        ("convert points every month into vouchers of 15 points worth 1.50\nvouchers are used by visit", "visit"),
    ],
)
def test_the_plan_says_which_claims_it_leaves_per_member(line, why):
    source = zoned("UTC", "", "").replace("event redeemed with points", "event redeemed with order: text, points")
    with pytest.raises(NotColumnar, match=why):
        plan(compile_text(source + line + "\n"))


def test_a_claim_is_activity_that_keeps_lots_from_lapsing():
    """Worked by hand (UTC; points expire after 2 months without activity). A bonus of 12 (x 1.4:
    16) on 1 January 2025 at 10:00. Without more activity its lot lapses as 1 March begins (the
    same day two months on): as of 27 February the balance is 16, expiring on 1 March; as of 2 March
    it is 0. A claim of 5 on 15 February at 09:00 spends points, which is activity: the lot's 11
    left now lapse as 15 April begins, so as of 2 March the balance is 11."""
    program = PROGRAMS[("UTC", CLAIMS[0], "points expire after 2 months without activity")]
    bonus = {"member": "a", "type": "bonus", "at": "2025-01-01T10:00:00Z", "points": 12, "id": "b1"}
    claim = {"member": "a", "type": "redeemed", "at": "2025-02-15T09:00:00Z", "points": 5, "id": "r1"}
    seen = []
    for events, day in (([bonus], (2025, 2, 27)), ([bonus], (2025, 3, 2)), ([bonus, claim], (2025, 3, 2))):
        got, want = both_ways(program, events, dt.date(*day))
        assert got == want
        seen.append((got[0]["balance"], [e["on"] for e in got[0]["expiring"]]))
    assert seen == [(16, ["2025-03-01"]), (0, []), (11, ["2025-04-15"])]


FACT_CLAIMS = [
    "redeem points by redeemed with points where order is not voided",
    "redeem points by redeemed with points where order is voided or points <= 5",
    "redeem points by redeemed with points where not (order is voided) and balance >= 10",
]
WITH_FACTS = {
    (zone, claim, expiry): compile_text(
        zoned(zone, "", expiry).replace("event redeemed with points", "event redeemed with order: text, points")
        + claim
        + "\n"
    )
    for zone in ZONES[1:]  # Shanghai and UTC
    for claim in FACT_CLAIMS
    for expiry in EXPIRIES[:2]
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(WITH_FACTS)), histories(), st.sampled_from(AS_OF), st.randoms(use_true_random=False))
def test_claims_whose_where_reads_facts_agree(key, events, day, rng):
    """A claim reads the facts established before its instant: an order voided before it, or after."""
    for event in events:
        if event["type"] == "redeemed":
            event["order"] = rng.choice(["o1", "o2", "o3"])
    assert plan(WITH_FACTS[key]).claim_facts
    got, want = both_ways(WITH_FACTS[key], events, day)
    assert got == want


def test_a_claim_sees_a_fact_only_once_established():
    """Worked by hand (UTC, no expiry): a bonus of 12 (x 1.4: 16) on 1 March 2025; claims of 5 for
    order o1 on 2 March and on 4 March, o1 returned on 3 March between them: the first is paid,
    the second refused (o1 is voided by then), so the balance is 11."""
    program = WITH_FACTS[("UTC", FACT_CLAIMS[0], "")]
    events = [
        {"member": "a", "type": "bonus", "at": "2025-03-01T10:00:00Z", "points": 12, "id": "b1"},
        {"member": "a", "type": "redeemed", "at": "2025-03-02T10:00:00Z", "points": 5, "order": "o1", "id": "r1"},
        {"member": "a", "type": "order_returned", "at": "2025-03-03T10:00:00Z", "order": "o1", "id": "x1"},
        {"member": "a", "type": "redeemed", "at": "2025-03-04T10:00:00Z", "points": 5, "order": "o1", "id": "r2"},
    ]
    got, want = both_ways(program, events, dt.date(2025, 3, 31))
    assert got == want
    (o,) = got
    assert [(r["spent"], r["granted"]) for r in o["redemptions"]] == [(5, True), (0, False)]
    assert o["balance"] == 11
