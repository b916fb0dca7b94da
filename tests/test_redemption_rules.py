"""Redemption rules: all or nothing, sizes, bounds and multiples, a fixed claim, a `where`,
several redeeming event types.

The program earns 10 stars per `visit` (kept forever); claims come from `reward_claimed`
(field `stars`), `cash_out` (field `amount`) and `free_drink_claimed` (a fixed 9). Every figure
below is the visits before the claim times 10, minus what earlier granted claims spent.
"""

from __future__ import annotations

import datetime as dt
import io

import orjson
import pytest

from loyalty_dsl import ProgramError, compile_text, outcomes, read_history

BASE = """
program "stars"
event visit
event reward_claimed with stars: integer
event cash_out with amount: integer
event free_drink_claimed
window lifetime, continuous
rule visits:
    on visit
    earn 10
tier Member from 0 points:
"""


def claims(redeem: str, records: list[tuple[str, str, dict]]) -> list[dict]:
    return claims_of(BASE, redeem, records)


def claims_of(base: str, redeem: str, records: list[tuple[str, str, dict]]) -> list[dict]:
    program = compile_text(base + redeem + "\n", "stars.loy")
    lines = [orjson.dumps({"member": "m", "type": t, "at": at, **f}) + b"\n" for t, at, f in records]
    history = read_history(["-"], program, stdin=io.BytesIO(b"".join(lines)))
    (o,) = outcomes(program, history, dt.date(2026, 12, 31))
    return o.to_json()["redemptions"]


def visits(n: int) -> list[tuple[str, str, dict]]:
    return [("visit", f"2026-01-{day:02d}T10:00:00Z", {}) for day in range(1, n + 1)]


def summary(rs: list[dict]) -> list[tuple]:
    return [(r["asked"], r["spent"], r["granted"], r.get("reason")) for r in rs]


def test_all_or_nothing_refuses_a_claim_over_the_balance():
    # 9 visits: 90 stars. Asked 100 > 90: refused, nothing spent; then 90 is granted whole.
    rs = claims(
        "redeem points by reward_claimed with stars, all or nothing",
        [
            *visits(9),
            ("reward_claimed", "2026-02-01T10:00:00Z", {"stars": 100}),
            ("reward_claimed", "2026-02-02T10:00:00Z", {"stars": 90}),
        ],
    )
    assert summary(rs) == [(100, 0, False, "asked 100, balance 90: all or nothing"), (90, 90, True, None)]
    assert rs[0]["event"] == "reward_claimed"


def test_sizes_refuse_another_size_and_imply_all_or_nothing():
    # 30 stars (3 visits): 30 is no size; 25 is granted (5 left); 100 > 5 is refused.
    rs = claims(
        "redeem points by reward_claimed with stars, in sizes 25, 100, 200, 300, 400",
        [
            *visits(3),
            ("reward_claimed", "2026-02-01T10:00:00Z", {"stars": 30}),
            ("reward_claimed", "2026-02-02T10:00:00Z", {"stars": 25}),
            ("reward_claimed", "2026-02-03T10:00:00Z", {"stars": 100}),
        ],
    )
    assert summary(rs) == [
        (30, 0, False, "asked 30: sizes are 25, 100, 200, 300, 400"),
        (25, 25, True, None),
        (100, 0, False, "asked 100, balance 5: all or nothing"),
    ]


def test_bounds_and_multiples():
    # 31 visits: 310 stars... the bounds are scaled to the test: at least 50, at most 250, multiples of 50.
    rs = claims(
        "redeem points by cash_out with amount, at least 50, at most 250, in multiples of 50",
        [
            *visits(31),
            ("cash_out", "2026-02-01T10:00:00Z", {"amount": 40}),
            ("cash_out", "2026-02-02T10:00:00Z", {"amount": 300}),
            ("cash_out", "2026-02-03T10:00:00Z", {"amount": 120}),
            ("cash_out", "2026-02-04T10:00:00Z", {"amount": 250}),
            ("cash_out", "2026-02-05T10:00:00Z", {"amount": 100}),
        ],
    )
    # 310 - 250 = 60 left when 100 is asked: all or nothing (bounds imply it).
    assert summary(rs) == [
        (40, 0, False, "asked 40: at least 50"),
        (300, 0, False, "asked 300: at most 250"),
        (120, 0, False, "asked 120: in multiples of 50"),
        (250, 250, True, None),
        (100, 0, False, "asked 100, balance 60: all or nothing"),
    ]


def test_the_issues_cash_out_line_is_accepted():
    rs = claims(
        "redeem points by cash_out with amount, at least 500, at most 2500, in multiples of 500",
        [*visits(5), ("cash_out", "2026-02-01T10:00:00Z", {"amount": 500})],
    )
    assert summary(rs) == [(500, 0, False, "asked 500, balance 50: all or nothing")]


def test_a_fixed_claim_asks_exactly_that_many():
    # 1 visit (10): 9 spent, 1 left; the next claim of 9 > 1 is refused.
    rs = claims(
        "redeem 9 points by free_drink_claimed",
        [
            *visits(1),
            ("free_drink_claimed", "2026-02-01T10:00:00Z", {}),
            ("free_drink_claimed", "2026-02-02T10:00:00Z", {}),
        ],
    )
    assert summary(rs) == [(9, 9, True, None), (9, 0, False, "asked 9, balance 1: all or nothing")]


def test_where_sees_the_balance_and_otherwise_spends_what_there_is():
    # 14 visits: 140 < 150 refused; a 15th visit: 150, asked 200 spends what there is (150).
    rs = claims(
        "redeem points by reward_claimed with stars where balance >= 150",
        [
            *visits(14),
            ("reward_claimed", "2026-02-01T10:00:00Z", {"stars": 20}),
            ("visit", "2026-02-02T10:00:00Z", {}),
            ("reward_claimed", "2026-02-03T10:00:00Z", {"stars": 200}),
        ],
    )
    assert summary(rs) == [(20, 0, False, "asked 20: balance 140 < 150"), (200, 150, True, None)]


def test_where_sees_points_and_the_events_fields():
    rs = claims(
        "redeem points by reward_claimed with stars where points <= 50 and stars != 30",
        [
            *visits(10),
            ("reward_claimed", "2026-02-01T10:00:00Z", {"stars": 60}),
            ("reward_claimed", "2026-02-02T10:00:00Z", {"stars": 30}),
            ("reward_claimed", "2026-02-03T10:00:00Z", {"stars": 40}),
        ],
    )
    assert [r["spent"] for r in rs] == [0, 0, 40]
    assert [r["granted"] for r in rs] == [False, False, True]


def test_where_sees_the_facts_established_before_the_claim():
    # A `where` testing a fact reads it as a decision does: established before the claim's instant.
    # 3 visits: 30 stars. Claim 10 on 1 Feb before the coupon is activated (2 Feb): refused; the
    # same claim on 3 Feb, after it: granted, 10 spent.
    program = BASE.replace("event visit\n", "event visit\nevent activated with coupon: text\n")
    program = program.replace("reward_claimed with stars: integer", "reward_claimed with stars: integer, coupon: text")
    program += "a coupon is active by activated\n"
    rs = claims_of(
        program,
        "redeem points by reward_claimed with stars where coupon is active",
        [
            *visits(3),
            ("reward_claimed", "2026-02-01T10:00:00Z", {"stars": 10, "coupon": "c1"}),
            ("activated", "2026-02-02T10:00:00Z", {"coupon": "c1"}),
            ("reward_claimed", "2026-02-03T10:00:00Z", {"stars": 10, "coupon": "c1"}),
        ],
    )
    assert summary(rs) == [(10, 0, False, 'asked 10: coupon "c1" is not active'), (10, 10, True, None)]


def test_several_redeem_statements_share_one_balance_in_time_order():
    # 30 stars; reward 25 (5 left); a free drink of 9 > 5 refused; cash_out 5 spends 5.
    rs = claims(
        "redeem points by reward_claimed with stars, in sizes 25\n"
        "redeem 9 points by free_drink_claimed\n"
        "redeem points by cash_out with amount",
        [
            *visits(3),
            ("free_drink_claimed", "2026-02-02T10:00:00Z", {}),
            ("reward_claimed", "2026-02-01T10:00:00Z", {"stars": 25}),
            ("cash_out", "2026-02-03T10:00:00Z", {"amount": 7}),
        ],
    )
    assert [(r["event"], r["spent"], r["granted"]) for r in rs] == [
        ("reward_claimed", 25, True),
        ("free_drink_claimed", 0, False),
        ("cash_out", 5, True),
    ]


@pytest.mark.parametrize(
    ("redeem", "code"),
    [
        ("redeem points by reward_claimed with stars\nredeem points by reward_claimed with stars", "E272"),
        ("redeem points by reward_claimed with stars, in sizes 100, 25", "E264"),
        ("redeem points by reward_claimed with stars, in sizes 0, 25", "E262"),
        ("redeem points by cash_out with amount, at least 600, at most 500", "E265"),
        ("redeem points by reward_claimed with stars, in sizes 25, 75, in multiples of 50", "E266"),
        ("redeem points by cash_out with amount, at least 510, at most 590, in multiples of 100", "E266"),
        ("redeem points by free_drink_claimed", "E261"),
        ("redeem 9 points by reward_claimed with stars", "E260"),
        ("redeem points by cash_out with amount, at least 5, 10", "E263"),
        ("redeem points by reward_claimed with stars where balanse >= 3", "E104"),
    ],
)
def test_check_refuses_rules_no_claim_can_meet(redeem, code):
    with pytest.raises(ProgramError) as err:
        compile_text(BASE + redeem + "\n", "stars.loy")
    problems = err.value.diagnostics
    assert code in [p.code for p in problems]
    assert all(p.line > 0 and p.hint for p in problems if p.code == code)


def test_explain_lists_the_lots_each_claim_spent_and_the_refusals():
    from loyalty_dsl.tools.explain import explain_member
    from loyalty_dsl.tools.report import console_text, explanation_tables

    program = compile_text(BASE + "redeem points by reward_claimed with stars, in sizes 15\n", "stars.loy")
    records = [
        *visits(2),
        ("reward_claimed", "2026-02-01T10:00:00Z", {"stars": 15}),
        ("reward_claimed", "2026-02-02T10:00:00Z", {"stars": 20}),
    ]
    lines = [orjson.dumps({"member": "m", "type": t, "at": at, **f}) + b"\n" for t, at, f in records]
    history = read_history(["-"], program, stdin=io.BytesIO(b"".join(lines)))
    ex = explain_member(program, "m", history.members["m"], dt.date(2026, 12, 31)).to_json()
    first, second = ex["redemptions"]
    # 15 = the first visit's 10 (oldest first) and 5 of the second's.
    assert [(x["earned"][:10], x["points"]) for x in first["lots"]] == [("2026-01-01", 10), ("2026-01-02", 5)]
    assert (second["lots"], second["reason"]) == ([], "asked 20: sizes are 15")
    assert ex["balance"] == 5
    text = console_text(explanation_tables(ex), width=160)
    assert "asked 20: sizes are 15" in text and "10 of 2026-01-01, 5 of 2026-01-02" in text


def example_failures(redeem: str, examples: str) -> list[tuple[str, tuple[str, ...]]]:
    from loyalty_dsl.language.parse import parse
    from loyalty_dsl.tools.testing import check_examples, run_examples

    program = compile_text(BASE + redeem + "\n", "stars.loy")
    tests = parse(examples, "stars_test.loy")
    assert check_examples(tests, program) == []
    return [(str(r.test.name.value), r.failures) for r in run_examples(program, tests.tests)]


EXAMPLES = """
test "a claim of 30 is no size":
    given 3 times visit at 2026-01-05T10:00:00Z
          reward_claimed at 2026-02-01T10:00:00Z with stars 30
    as of 2026-02-28
    expect redemption reward_claimed refused
    expect redemption reward_claimed spent 0
test "a claim of 25 spends 25":
    given 3 times visit at 2026-01-05T10:00:00Z
          reward_claimed at 2026-02-01T10:00:00Z with stars 25
    as of 2026-02-28
    expect redemption reward_claimed granted
    expect redemption reward_claimed spent 25
test "wrong on purpose":
    given 3 times visit at 2026-01-05T10:00:00Z
          reward_claimed at 2026-02-01T10:00:00Z with stars 30
    as of 2026-02-28
    expect redemption reward_claimed granted
    expect redemption reward_claimed spent 25
"""


def test_examples_pin_redemptions():
    results = example_failures("redeem points by reward_claimed with stars, in sizes 25, 100", EXAMPLES)
    assert results[:2] == [("a claim of 30 is no size", ()), ("a claim of 25 spends 25", ())]
    # 3 visits = 30 stars; a claim of 30 is refused (no size), so nothing is spent.
    assert results[2][1] == (
        "line 18: expected reward_claimed granted, got 0 granted, 1 refused: asked 30: sizes are 25, 100",
        "line 19: expected reward_claimed to spend 25, it spent 0",
    )


def test_examples_name_a_redeeming_event():
    from loyalty_dsl.language.parse import parse
    from loyalty_dsl.tools.testing import check_examples

    program = compile_text(BASE + "redeem 9 points by free_drink_claimed\n", "stars.loy")
    tests = parse(EXAMPLES, "stars_test.loy")
    assert {d.code for d in check_examples(tests, program)} == {"E192"}


def bundled(program: str, history: str, as_of: str) -> dict[str, dict]:
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "examples"
    compiled = compile_text((root / "programs" / program).read_text(), program)
    found = outcomes(compiled, read_history([str(root / history)], compiled), dt.date.fromisoformat(as_of))
    return {o.member: o.to_json() for o in found}


def test_the_cafe_rewards_history():
    # ana: 120 stars on 15 January; 100 claimed (20 left); 30 refused (no size); 10 more on
    # 5 March. January's 20 are gone from 1 August; March's 10 last until 1 October.
    # ben: 24 stars; a claim of 25 is refused whole. February's stars last until 1 September.
    o = bundled("cafe_rewards.loy", "cafe_history.jsonl", "2026-08-30")
    assert (o["ana"]["points"], o["ana"]["balance"], o["ana"]["expiring"]) == (
        130,
        10,
        [{"points": 10, "on": "2026-10-01"}],
    )
    assert summary(o["ana"]["redemptions"]) == [
        (100, 100, True, None),
        (30, 0, False, "asked 30: sizes are 25, 100, 200, 300, 400"),
    ]
    assert (o["ben"]["balance"], o["ben"]["expiring"]) == (24, [{"points": 24, "on": "2026-09-01"}])
    assert summary(o["ben"]["redemptions"]) == [(25, 0, False, "asked 25, balance 24: all or nothing")]


def test_the_stamp_card_history():
    # eli: 10 drinks, a free drink (9 stamps, 1 left), a second refused (asked 9, balance 1).
    o = bundled("stamp_card.loy", "stamp_history.jsonl", "2026-03-31")["eli"]
    assert (o["points"], o["balance"]) == (10, 1)
    assert summary(o["redemptions"]) == [(9, 9, True, None), (9, 0, False, "asked 9, balance 1: all or nothing")]


MESSY = """program "x"
event reward_claimed with stars: integer
event free_drink_claimed
event voucher_used
window lifetime, continuous
rule r:
    on reward_claimed
    earn 1
redeem points by reward_claimed with stars,   in sizes 25, 100,200  where balance>=150 # the menu
redeem   9 points by free_drink_claimed
points expire after 6 months ,at the end of that month
convert points every quarter into vouchers of 150 points worth 1.50
vouchers expire after 24 months
vouchers are used by   voucher_used
tier Member from 0 points:
"""


def test_fmt_lays_out_every_new_line_and_is_idempotent():
    from loyalty_dsl.language.fmt import format_source

    out = format_source(MESSY)
    lines = out.splitlines()
    assert "redeem points by reward_claimed with stars, in sizes 25, 100, 200 where balance >= 150  # the menu" in lines
    assert "redeem 9 points by free_drink_claimed" in lines
    assert "points expire after 6 months, at the end of that month" in lines
    i = lines.index("convert points every quarter into vouchers of 150 points worth 1.50")
    # The voucher statements read as one group, as written.
    assert lines[i + 1 : i + 3] == ["vouchers expire after 24 months", "vouchers are used by voucher_used"]
    assert format_source(out) == out
