"""Spendable points: lots earned, spent oldest first, and expiring.

Beside the tier points of the window, a program may keep a balance: every
point kept by a rule is a lot, dated when it was earned; a redemption event
spends the oldest lots still valid; a lot expires a number of days or months
after it was earned, or at the end of the period it was earned in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import attrs

from loyalty_dsl.evaluation.calendar import Calendar, iso_instant, month_ordinal
from loyalty_dsl.evaluation.compile import CompiledProgram
from loyalty_dsl.evaluation.events import Event
from loyalty_dsl.evaluation.rules import RuleState
from loyalty_dsl.language.vocabulary import NEVER

_LAST_DAY, _LAST_MONTH = dt.date.max.toordinal(), 9999 * 12 + 11  # the calendar's last day and month


@attrs.define
class Lot:
    rule: str
    earned: int  # instant
    seq: int  # the earning event's rank (Event.rank): orders lots of one instant
    points: int
    expires: int  # instant (NEVER without expiry)
    left: int


@attrs.frozen
class Balance:
    balance: int
    expiring: tuple[tuple[int, dt.date], ...]  # (points, day), the next three days
    redemptions: tuple[dict[str, Any], ...]
    lots: tuple[Lot, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "balance": self.balance,
            "expiring": [{"points": p, "on": d.isoformat()} for p, d in self.expiring],
            "redemptions": list(self.redemptions),
        }


def expires_at(program: CompiledProgram, earned: int) -> int:
    """The instant a lot earned at `earned` stops counting."""
    if program.expiry is None:
        return NEVER
    kind, amount, unit = program.expiry
    cal = program.calendar
    day = cal.day(earned)
    if kind == "after" and unit == "day":
        return cal.day_start(day + amount) if day + amount <= _LAST_DAY else NEVER  # beyond year 9999: never
    month = cal.month(earned)
    if kind == "after" and month + amount > _LAST_MONTH:
        return NEVER
    if kind == "after":  # the same day of the month, N months later (or that month's last day)
        date = dt.date.fromordinal(day)
        target = month + amount
        first = dt.date.fromordinal(month_ordinal(target))
        last = (dt.date.fromordinal(month_ordinal(target + 1)) - dt.timedelta(days=1)).day
        return cal.day_start(first.replace(day=min(date.day, last)).toordinal())
    return cal.month_start(_next_period_month(cal, month, unit))


def _next_period_month(cal: Calendar, month: int, unit: str) -> int:
    """The first month after the month, quarter or year (as the program counts them) holding `month`."""
    if unit == "month":
        return month + 1
    size = 3 if unit == "quarter" else 12
    shifted = month - (cal.year_start - 1)
    return (shifted // size + 1) * size + (cal.year_start - 1)


def member_balance(program: CompiledProgram, states: Sequence[RuleState], events: Sequence[Event], end: int) -> Balance:
    """The balance at `end` from settled rule states holding every event before it."""
    lots = sorted(
        (
            Lot(st.rule.name, u.time[0], u.time[1], int(u.kept), expires_at(program, u.time[0]), int(u.kept))
            for st in states
            if st.rule.into is None  # only points make lots: a measure is not spent
            for u in st.units.values()
            if u.first is not None and u.kept > 0
        ),
        key=lambda lot: (lot.earned, lot.seq),
    )
    redemptions = []
    if program.redemption is not None:
        kind, field = program.redemption
        for event in (e for e in events if e.type == kind and e.at < end):
            asked = int(event.fields.get(field) or 0)
            taken = 0
            for lot in lots:  # oldest first
                if taken == asked:
                    break
                if lot.left and (lot.earned, lot.seq) < (event.at, event.rank) and lot.expires > event.at:
                    spent = min(lot.left, asked - taken)
                    lot.left -= spent
                    taken += spent
            redemptions.append(
                {"at": iso_instant(event.at), "points": asked, "spent": taken, "file": event.file, "line": event.line}
            )
    valid = [lot for lot in lots if lot.left and lot.expires > end]
    by_day: dict[int, int] = {}
    for lot in valid:
        if lot.expires != NEVER:
            by_day[lot.expires] = by_day.get(lot.expires, 0) + lot.left
    cal = program.calendar
    expiring = tuple((by_day[t], dt.date.fromordinal(cal.day(t))) for t in sorted(by_day)[:3])
    return Balance(sum(lot.left for lot in valid), expiring, tuple(redemptions), tuple(lots))
