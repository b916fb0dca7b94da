"""The language's constructs, each in a small program written inline.

These programs are not the shipped ones: they show that the interpreter knows
the language, not the business (time zones, week and year caps, window caps,
membership, `or`/`not`, grants on 1 March, decisions without a condition).
"""

from __future__ import annotations

from loyalty_dsl import compile_text
from tests.helpers import run_json

BASE = """
window lifetime, continuous
event visit
event purchase with basket: text, amount: money, shop: text, stars: integer optional
event gift with points: integer at least 0
event joined
event claim with ticket: text
event cancelled with basket: text
a basket is cancelled by cancelled
benefit perk
benefit help with hours: integer
tier None from 0 points:
tier Bronze from 10 points: perk
tier Gold from 50 points: perk help (hours 4)
"""


def program(rules: str, head: str = BASE):
    return compile_text(head + rules, "inline.loy")


def ev(member, type_, at, **fields):
    return {"member": member, "type": type_, "at": at, **fields}


def points(rules: str, events, as_of="2026-12-31", head: str = BASE) -> int:
    (outcome,) = run_json(program(rules, head), events, as_of)
    return outcome["points"]


def test_earn_per_event_with_a_cap_per_week():
    rules = "rule p: on purchase earn 3 cap 7 per week"
    # Monday 2026-03-02 .. Sunday 2026-03-08 is one ISO week; 2026-03-09 starts the next.
    days = ["2026-03-02", "2026-03-04", "2026-03-08", "2026-03-09"]
    events = [ev("m", "purchase", d, basket=f"b{i}", amount=1, shop="s") for i, d in enumerate(days)]
    assert points(rules, events) == 7 + 3


def test_caps_per_day_and_per_year_together():
    rules = "rule v: on visit earn 1 per day cap 1 per day cap 3 per year"
    events = [ev("m", "visit", f"2025-0{i}-01") for i in range(1, 6)] + [ev("m", "visit", "2026-01-01")]
    assert points(rules, events) == 3 + 1


def test_cap_per_window():
    rules = "rule g: on gift earn points cap 25 per window"
    events = [ev("m", "gift", "2026-01-01", points=20), ev("m", "gift", "2026-02-01", points=20)]
    assert points(rules, events) == 25


def test_membership_or_and_not():
    rules = 'rule p: on purchase where shop in ["north", "south"] or not (amount < 100) earn 1'
    events = [
        ev("m", "purchase", "2026-01-01", basket="a", amount=5, shop="north"),
        ev("m", "purchase", "2026-01-02", basket="b", amount=5, shop="east"),
        ev("m", "purchase", "2026-01-03", basket="c", amount=150, shop="east"),
    ]
    assert points(rules, events) == 2


def test_optional_field_absent_makes_a_comparison_false():
    rules = "rule p: on purchase where stars >= 4 earn 1"
    events = [
        ev("m", "purchase", "2026-01-01", basket="a", amount=5, shop="n", stars=5),
        ev("m", "purchase", "2026-01-02", basket="b", amount=5, shop="n"),
    ]
    assert points(rules, events) == 1


def test_once_per_key_counts_the_first_passing_event_only():
    rules = "rule p: on purchase where stars >= 4 earn 1 once per basket"
    events = [
        ev("m", "purchase", "2026-01-01", basket="a", amount=5, shop="n", stars=2),
        ev("m", "purchase", "2026-01-02", basket="a", amount=5, shop="n", stars=5),
        ev("m", "purchase", "2026-01-03", basket="a", amount=5, shop="n", stars=5),
    ]
    assert points(rules, events) == 1


def test_beyond_the_first_over_one_key():
    rules = "rule p: on purchase earn 2 per shop beyond the first"
    events = [
        ev("m", "purchase", f"2026-01-0{i}", basket=str(i), amount=1, shop=s)
        for i, s in enumerate(["a", "b", "a", "c"], start=1)
    ]
    assert points(rules, events) == 4


def test_a_fact_voids_only_from_its_instant():
    rules = "rule p: on purchase where basket is not cancelled earn 5"
    events = [
        ev("m", "purchase", "2026-01-01", basket="a", amount=1, shop="n"),
        ev("m", "cancelled", "2026-02-01", basket="a"),
    ]
    assert points(rules, events, as_of="2026-01-31") == 5
    assert points(rules, events, as_of="2026-02-01") == 0


def test_the_program_time_zone_decides_the_day():
    head = 'timezone "Asia/Tokyo"\n' + BASE
    rules = "rule v: on visit earn 1 per day"
    # 14:30Z and 15:30Z on 1 January: one UTC day, but 23:30 on the 1st and 00:30 on the 2nd in Tokyo.
    events = [ev("m", "visit", "2026-01-01T14:30:00Z"), ev("m", "visit", "2026-01-01T15:30:00Z")]
    assert points(rules, events, head=head) == 2
    assert points(rules, events, head=BASE) == 1


def test_rolling_window_counts_whole_months_before_the_recalculation():
    head = BASE.replace("window lifetime, continuous", "window last 2 months, recalculated monthly")
    rules = "rule g: on gift earn points"
    events = [
        ev("m", "gift", "2026-01-31T23:59:59Z", points=1),
        ev("m", "gift", "2026-02-01", points=2),
        ev("m", "gift", "2026-03-15", points=4),
    ]
    assert points(rules, events, as_of="2026-03-20", head=head) == 3  # January and February
    assert points(rules, events, as_of="2026-03-31", head=head) == 6  # February and March


def test_grant_on_1_march_and_first_event():
    rules = (
        "grant perk every year on the anniversary of the first joined, 29 February falls on 1 March\n"
        "rule g: on gift earn points"
    )
    events = [
        ev("m", "joined", "2024-02-29"),
        ev("m", "joined", "2024-06-01"),
        ev("m", "gift", "2024-01-01", points=10),
    ]
    (o,) = run_json(program(rules), events, "2026-03-31")
    assert o["grants"] == [{"benefit": "perk", "on": "2025-03-01"}, {"benefit": "perk", "on": "2026-03-01"}]


def test_decision_without_condition_and_without_key():
    rules = "decide help on claim\nrule g: on gift earn points"
    events = [
        ev("m", "claim", "2026-01-01", ticket="t1"),
        ev("m", "gift", "2026-01-02", points=60),
        ev("m", "claim", "2026-01-03", ticket="t2"),
    ]
    (o,) = run_json(program(rules), events, "2026-01-31")
    assert [(d["granted"], d["reason"]) for d in o["decisions"]] == [
        (False, "None has no help"),
        (True, "Gold has help (hours 4)"),
    ]
    assert "ticket" not in o["decisions"][0]


def test_decision_reason_names_the_figures():
    rules = 'decide help on claim for its ticket: grant when hours >= 5 or ticket = "vip"\nrule g: on gift earn points'
    events = [
        ev("m", "gift", "2026-01-01", points=60),
        ev("m", "claim", "2026-01-02", ticket="t1"),
        ev("m", "claim", "2026-01-03", ticket="vip"),
    ]
    (o,) = run_json(program(rules), events)
    assert [(d["ticket"], d["granted"], d["reason"]) for d in o["decisions"]] == [
        ("t1", False, 'Gold: hours 4 < 5 and "t1" != "vip"'),
        ("vip", True, 'Gold: "vip" == "vip"'),
    ]
