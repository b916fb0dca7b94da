"""Tier retention: the tier in force at each status, from the tiers the points give.

A tier is kept in its grace months or its guarantee, then dropped (one level a
recalculation, if so written). The statuses are given in time order as they are
settled, so whatever reads a status while the events are applied (a multiplier by
tier) sees the tier in force, as grants and decisions do.
"""

from __future__ import annotations

from loyalty_dsl.evaluation.calendar import Calendar
from loyalty_dsl.evaluation.compile import Retention, Tier


class TierKeeper:
    def __init__(self, retention: Retention, tiers: tuple[Tier, ...], cal: Calendar) -> None:
        self.retention, self.tiers, self.cal = retention, tiers, cal
        self.rank = {t.name: i for i, t in enumerate(tiers)}
        self.kept = -1  # the rank of the tier in force (-1: none)
        self.below = 0  # statuses in a row below it, out of its guarantee
        self.until: int | None = None  # the end of the guarantee of the tier last reached

    def tier_at(self, instant: int, by_points: Tier | None) -> Tier | None:
        """The tier in force at the next status (instants given in increasing order)."""
        retention = self.retention
        rank = self.rank[by_points.name] if by_points else -1
        if rank > self.kept and retention.guarantee is not None:
            self.until = self._end_of_next(retention.guarantee, instant)
        if rank >= self.kept:
            self.kept, self.below = rank, 0
        elif self.until is None or instant >= self.until:
            self.below += 1
            if self.below > retention.grace_months:
                self.kept = max(rank, self.kept - 1) if retention.one_level else rank
        return self.tiers[self.kept] if self.kept >= 0 else None

    def _end_of_next(self, period: str, instant: int) -> int:
        """The first instant after the period following the one holding `instant`."""
        cal = self.cal
        index = cal.period(period, instant)
        size = {"month": 1, "quarter": 3, "year": 12}[period]
        offset = 0 if period == "month" else cal.year_start - 1
        return cal.month_start((index + 2) * size + offset)
