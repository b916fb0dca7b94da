"""Tier retention on the columnar path: both evaluators agree.

The per-member part feeds the per-member evaluator's TierKeeper the statuses
MemberRun settles, in time order: every recalculation from the first event's
month on, those of the end, of decisions and of grant days, none after the
quiet instant. The four-tier program (grants, decisions, a rolling window) with
each form of retention, on random histories at several days; and a history
worked by hand.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from loyalty_dsl import compile_text
from loyalty_dsl.columnar.plan import NotColumnar, plan
from tests.oracle.gen import random_history
from tests.test_columnar_zones import both_ways

ROOT = Path(__file__).parent.parent
FOUR_TIER = (ROOT / "programs" / "four_tier.loy").read_text(encoding="utf-8")
RETENTIONS = [
    "keep tiers for 2 months below their threshold",
    "drop tiers one level at a time",
    "keep tiers for 1 months below their threshold\ndrop tiers one level at a time",
    "keep a tier reached until the end of the next year",
    "keep a tier reached until 31 January after the next year",
    "keep a tier reached for 12 months",
]
DAYS = [None, dt.date(2024, 7, 15), dt.date(2025, 2, 28), dt.date(2026, 3, 31), dt.date(2026, 12, 31)]


def program_with(retention: str, zone: str = "UTC"):
    source = FOUR_TIER.replace('timezone "UTC"', f'timezone "{zone}"')
    return compile_text(source + "\n" + retention + "\n")


@pytest.mark.parametrize("retention", RETENTIONS)
@pytest.mark.parametrize("seed", range(6))
def test_retention_agrees_on_random_histories(retention, seed):
    program = program_with(retention, "Asia/Shanghai" if seed % 2 else "UTC")
    rng = random.Random(seed)
    events = random_history(rng, members=5, events_per_member=rng.choice([10, 60, 150]))
    for day in (DAYS[seed % len(DAYS)], DAYS[(seed + 2) % len(DAYS)]):
        got, want = both_ways(program, events, day)
        assert got == want


def test_the_comparison_sees_tiers_kept_beyond_their_points():
    kept = 0
    for retention in RETENTIONS:
        program = program_with(retention)
        for seed in range(6):
            events = random_history(random.Random(seed), members=5, events_per_member=60)
            got, _ = both_ways(program, events, dt.date(2026, 12, 31))
            kept += sum(o["tier"] != o["tier_by_points"] for o in got)
    assert kept >= 5


def test_a_grace_month_keeps_gold_then_drops_one_level():
    """Worked by hand. programs/four_tier.loy: Silver from 1 point, Gold from 101; window last 12
    months, recalculated monthly. With one grace month and one level a recalculation: a bonus of
    250 points on 15 January 2025 counts at the recalculations of 1 February 2025 to 1 January
    2026 (Gold). From 1 February 2026 the points are 0 (no tier by points): that first
    recalculation below is the grace month (Gold kept), on 1 March 2026 the tier drops one level
    (Silver), on 1 April one more (none). As of day D is at the end of D: as of 30 January 2026
    reads the recalculation of 1 January."""
    program = program_with("keep tiers for 1 months below their threshold\ndrop tiers one level at a time")
    events = [{"member": "a", "type": "bonus", "at": "2025-01-15T10:00:00Z", "points": 250, "id": "b1"}]
    seen = []
    for day in (dt.date(2026, 1, 30), dt.date(2026, 2, 15), dt.date(2026, 3, 15), dt.date(2026, 4, 15)):
        got, want = both_ways(program, events, day)
        assert got == want
        seen.append((got[0]["points"], got[0]["tier"], got[0]["tier_by_points"]))
    assert seen == [(250, "Gold", "Gold"), (0, "Gold", None), (0, "Silver", None), (0, None, None)]


def test_retention_in_a_calendar_year_runs_per_member():
    source = FOUR_TIER.replace("window last 12 months, recalculated monthly", "window calendar year, continuous")
    with pytest.raises(NotColumnar, match="calendar-year"):
        plan(compile_text(source + "\nkeep a tier reached until the end of the next year\n"))
