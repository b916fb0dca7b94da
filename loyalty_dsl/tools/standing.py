"""The standing of a member whose program keeps tiers beyond their points (retention).

The tier in force may be one the points no longer give, so "N more points reach a
tier" must be told from the tier in force, and the standing says how long that
tier lasts: the member's own events are evaluated on, recalculation by
recalculation, as if nothing more happened. The first recalculation whose tier
differs ends the tier in force; the points that would have to count there keep it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from loyalty_dsl.evaluation.calendar import LAST_MONTH, month_date, month_ordinal
from loyalty_dsl.evaluation.compile import Retention, Tier
from loyalty_dsl.evaluation.evaluate import MemberRun, Status


def retained_standing(run: MemberRun, status: Status) -> dict[str, Any]:
    """Next tier above the tier in force; how long it is kept; what keeps it after that."""
    program = run.program
    retention = program.retention
    assert retention is not None and program.window_months is not None  # a check guarantees both
    tiers = program.tiers
    tier = status.tier
    above = [t for t in tiers if tier is None or t.threshold > tier.threshold]
    standing: dict[str, Any] = {
        "next_tier": above[0].name if above else None,
        "points_to_next_tier": max(0, above[0].threshold - status.points) if above else None,
        "tier_by_points": status.points_tier.name if status.points_tier else None,
    }
    changes = _changes(run, status.instant, tier, retention)
    cal = program.calendar
    standing.update(kept_until=None, points_to_keep_tier=None, keep_window=None)  # None: no change comes
    if changes:
        first, after = changes[0]
        standing["kept_until"] = dt.date.fromordinal(cal.day(first.instant) - 1).isoformat()
        if tier is not None and (after is None or after.threshold < tier.threshold):  # a drop: what prevents it
            month = cal.month(first.instant)
            standing["points_to_keep_tier"] = max(0, tier.threshold - first.points)
            standing["keep_window"] = [_month(month - program.window_months), _month(month - 1)]
    standing["without_new_points"] = [
        {"from": dt.date.fromordinal(cal.day(s.instant)).isoformat(), "tier": t.name if t else None} for s, t in changes
    ]
    return standing


def _changes(run: MemberRun, after: int, tier: Tier | None, retention: Retention) -> list[tuple[Status, Tier | None]]:
    """Each later recalculation that changes the tier in force, with no event beyond the as-of day.

    The member's points have all left the window `window_months` after the as-of month;
    past that, a guarantee lasts at most two more years, a grace its months, and a
    one-level drop one recalculation a tier: the horizon covers them all.
    """
    program = run.program
    cal = program.calendar
    assert program.window_months is not None
    horizon = cal.month(run.end) + program.window_months + 27 + retention.grace_months + len(program.tiers)
    # No as-of day lies beyond December 9999.
    last_day = dt.date.fromordinal(month_ordinal(horizon) - 1) if horizon <= LAST_MONTH else dt.date.max
    future = MemberRun(program, run.member, run.events, last_day)  # the same events: all before run.end
    future.run()
    out: list[tuple[Status, Tier | None]] = []
    last = cal.end_of_day(dt.date.max)  # a change past the last date cannot be named
    for instant in sorted(t for t in future.statuses if after < t < last):
        status = future.statuses[instant]
        if status.tier != tier:
            out.append((status, status.tier))
            tier = status.tier
    return out


def _month(index: int) -> str:
    return month_date(index).strftime("%Y-%m")
