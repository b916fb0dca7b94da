"""Spendable points: lots that expire, and redemptions that spend the oldest first.

examples/programs/spendable_points.loy over examples/spendable_history.jsonl (10 points an
order not returned; points expire 12 months after they were earned):

- orders on 2025-01-10 (o1), 2025-06-01 (o2), 2025-12-20 (o3), 2026-01-05 (o4, returned on
  2026-01-20: no lot); 15 points redeemed on 2025-07-01: o1's 10 and 5 of o2's.
- as of 2026-03-31: o1 expired on 2026-01-10 (and was spent anyway); o2 has 5 left until
  2026-06-01, o3 10 until 2026-12-20: balance 15. Tier points count every order: 30, Regular.
- as of 2026-06-30: o2's 5 expired: balance 10.
- as of 2026-08-31: 30 asked on 2026-07-15, o3's 10 spent (o2 had expired): balance 0.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from loyalty_dsl import ProgramError, compile_text, outcomes, read_history
from loyalty_dsl.evaluation.balance import expires_at
from loyalty_dsl.evaluation.calendar import instant_of

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "examples" / "programs" / "spendable_points.loy"
HISTORY = ROOT / "examples" / "spendable_history.jsonl"


def outcome(as_of: str, text: str | None = None) -> dict:
    program = compile_text(text or PROGRAM.read_text(), "spendable.loy")
    history = read_history([str(HISTORY)], program)
    (o,) = outcomes(program, history, dt.date.fromisoformat(as_of))
    return o.to_json()


@pytest.mark.parametrize(
    ("as_of", "balance", "expiring", "spent"),
    [
        ("2026-03-31", 15, [(5, "2026-06-01"), (10, "2026-12-20")], [15]),
        ("2026-06-30", 10, [(10, "2026-12-20")], [15]),
        ("2026-08-31", 0, [], [15, 10]),
    ],
)
def test_balance_expiring_and_redemptions(as_of, balance, expiring, spent):
    o = outcome(as_of)
    assert (o["points"], o["tier"]) == (30, "Regular")
    assert o["balance"] == balance
    assert [(e["points"], e["on"]) for e in o["expiring"]] == expiring
    assert [r["spent"] for r in o["redemptions"]] == spent


def test_expiry_at_the_end_of_the_period():
    text = PROGRAM.read_text().replace("points expire after 12 months", "points expire at the end of the year")
    o = outcome("2026-03-31", text)
    # o1, o2 (2025) expired at the end of 2025; o3 too (2025-12-20): all 2025 lots are gone.
    assert (o["balance"], o["expiring"]) == (0, [])


@pytest.mark.parametrize(
    ("earned", "rule", "expires"),
    [
        ("2025-01-31T10:00:00Z", "points expire after 1 months", "2025-02-28"),
        ("2025-01-31T10:00:00Z", "points expire after 30 days", "2025-03-02"),
        ("2025-05-20T10:00:00Z", "points expire at the end of the quarter", "2025-07-01"),
        ("2025-05-20T10:00:00Z", "points expire at the end of the month", "2025-06-01"),
    ],
)
def test_expiry_days(earned, rule, expires):
    program = compile_text(PROGRAM.read_text().replace("points expire after 12 months", rule), "p.loy")
    at = expires_at(program, instant_of(dt.datetime.fromisoformat(earned)))
    assert dt.datetime.fromtimestamp(at / 1e6, dt.UTC).date().isoformat() == expires


def test_programs_without_a_balance_keep_their_outcomes():
    from tests.conftest import PROGRAMS

    program = compile_text(PROGRAMS["four_tier"].read_text())
    history = read_history([str(HISTORY)], program)
    assert all("balance" not in o.to_json() for o in outcomes(program, history, dt.date(2026, 3, 31)))


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (("after 12 months", "after 12 weeks"), "E166"),
        (("by redeemed with points", "by redeemed with order"), "E104"),
        (("redeem points by redeemed", "redeem points by redeem_event"), "E101"),
    ],
)
def test_balance_statements_are_checked(change, code):
    with pytest.raises(ProgramError) as err:
        compile_text(PROGRAM.read_text().replace(*change), "p.loy")
    assert code in {d.code for d in err.value.diagnostics}


def test_explain_shows_each_lot():
    from loyalty_dsl.tools.explain import explain_member

    program = compile_text(PROGRAM.read_text(), "spendable.loy")
    history = read_history([str(HISTORY)], program)
    ex = explain_member(program, "s", history.members["s"], dt.date(2026, 3, 31)).to_json()
    assert ex["balance"] == 15
    assert [(lot["earned"][:10], lot["points"], lot["left"], lot["expires"][:10]) for lot in ex["lots"]] == [
        ("2025-01-10", 10, 0, "2026-01-10"),
        ("2025-06-01", 10, 5, "2026-06-01"),
        ("2025-12-20", 10, 10, "2026-12-20"),
    ]


@pytest.mark.parametrize("zone", ["UTC", "Europe/London", "Antarctica/Troll", "Australia/Lord_Howe", "America/Havana"])
def test_a_deadline_of_inactivity_is_more_than_26_days_a_month_away(zone):
    """The walk skips the calendar while less than 26 days a month have passed since the latest
    activity (balance._redeem): every deadline must lie beyond that, at month ends and clock changes."""
    import random

    from loyalty_dsl.evaluation.balance import months_after
    from loyalty_dsl.evaluation.calendar import US_PER_DAY, Calendar

    cal, rng = Calendar(zone), random.Random(zone)
    starts = [
        instant_of(dt.datetime(2025, m, d, 23, 59, tzinfo=dt.UTC)) for m in (1, 3, 5, 8, 10) for d in (28, 30, 31)
    ]
    low, high = (instant_of(dt.datetime(y, 1, 1, tzinfo=dt.UTC)) for y in (2000, 2100))
    starts += [rng.randrange(low, high) for _ in range(300)]
    for start in starts:
        for months in (1, 2, 3, 6, 12):
            assert months_after(cal, start, months) - start > months * 26 * US_PER_DAY


def test_a_balance_walked_without_records_pays_the_same_claims():
    """A balance read in the pass (a decision's) is walked without writing the claims down: the same
    lots are spent, and so the same balance and expiring points, with no record of the claims."""
    from loyalty_dsl.evaluation.balance import Lot, balance_of_lots
    from loyalty_dsl.evaluation.events import Event

    program = compile_text(PROGRAM.read_text(), "spendable.loy")

    def at(day: str) -> int:
        return instant_of(dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC))

    def lots() -> list[Lot]:
        return [Lot("orders", at(d), 0, 10, expires_at(program, at(d)), 10) for d in ("2025-01-10", "2025-06-01")]

    (kind,) = (r.event for r in program.redemptions)
    claims = [Event(at("2025-07-01"), 1, kind, {"points": 15}, "h.jsonl", 5, None)]
    end = at("2025-12-01")
    written = balance_of_lots(program, lots(), claims, end)
    walked = balance_of_lots(program, lots(), claims, end, records=False)
    assert (walked.balance, walked.expiring) == (written.balance, written.expiring) == (5, ((5, dt.date(2026, 6, 1)),))
    assert [r["spent"] for r in written.redemptions] == [15] and walked.redemptions == ()
