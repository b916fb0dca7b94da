"""Tier retention: the tier in force at each status, from the tiers the points give.

A tier is kept in its grace months or its guarantee (to the end of the next period, to a day
after it, or for some months from when it was reached), then dropped (one level a
recalculation, if so written). The statuses are given in time order as they are
settled, so whatever reads a status while the events are applied (a multiplier by
tier) sees the tier in force, as grants and decisions do.
"""

from __future__ import annotations

from loyalty_dsl.evaluation.calendar import Calendar, month_of_ordinal, month_ordinal
from loyalty_dsl.evaluation.compile import Retention, Tier


class TierKeeper:
    def __init__(
        self, retention: Retention, tiers: tuple[Tier, ...], cal: Calendar, calendar_year: bool = False
    ) -> None:
        self.retention, self.tiers, self.cal = retention, tiers, cal
        # A calendar-year status counts the instants before its own: a tier is reached in their year.
        self.calendar_year = calendar_year
        self.rank = {t.name: i for i, t in enumerate(tiers)}
        self.kept = -1  # the rank of the tier in force (-1: none)
        self.below = 0  # statuses in a row below it, out of its guarantee
        self.until: int | None = None  # the end of the guarantee of the tier last reached

    def tier_at(self, instant: int, by_points: Tier | None) -> Tier | None:
        """The tier in force at the next status (instants given in increasing order)."""
        retention = self.retention
        rank = self.rank[by_points.name] if by_points else -1
        if rank > self.kept and retention.guaranteed:
            self.until = self._guaranteed_until(instant)
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

    def _guaranteed_until(self, instant: int) -> int:
        """The first instant a tier reached at the status of `instant` is no longer guaranteed."""
        cal, retention = self.cal, self.retention
        reached = instant - 1 if self.calendar_year else instant
        if retention.guarantee_months:  # the same day of the month (or its last), the same time of day
            day = cal.day(reached)
            month = month_of_ordinal(day)
            target = month + retention.guarantee_months
            length = month_ordinal(target + 1) - month_ordinal(target)
            moved = month_ordinal(target) + min(day - month_ordinal(month), length - 1)
            return cal.day_start(moved) + (instant - cal.day_start(day))
        assert retention.guarantee is not None
        end = self._end_of_next(retention.guarantee, reached)
        if retention.guarantee_day is None:
            return end
        day_of, month_of = retention.guarantee_day
        last_day = cal.day(end - 1)  # the last day of the next period
        last_month = month_of_ordinal(last_day)
        target = last_month // 12 * 12 + month_of - 1  # that month in the year of the last day
        if target < last_month or (target == last_month and day_of - 1 < last_day - month_ordinal(last_month)):
            target += 12  # the first such day on or after the last day of the next period
        length = month_ordinal(target + 1) - month_ordinal(target)
        return cal.day_start(month_ordinal(target) + min(day_of, length))  # to the end of that day
