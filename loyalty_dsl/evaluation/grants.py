"""Dated grants: the days a yearly grant could fall on, before any tier is asked.

A yearly grant takes its date from an event: a date field of the latest (or
first) event of a type, or that event's own day (an anniversary). A value is in
force for the days from its event's day plus the notice, until the next value
comes into force. Only years after the date's own year count (the 1st, 2nd, ...
anniversary), and 29 February falls on 28 February (or 1 March) in other years.
"""

from __future__ import annotations

import calendar as _cal
import datetime as dt
from collections.abc import Sequence

from loyalty_dsl.evaluation.calendar import Calendar
from loyalty_dsl.evaluation.compile import CompiledGrant
from loyalty_dsl.evaluation.events import Event


def yearly(date: dt.date, year: int, leap_to_march: bool) -> dt.date:
    """The day in `year` that stands for `date` (its month and day)."""
    if date.month == 2 and date.day == 29 and not _cal.isleap(year):
        return dt.date(year, 3, 1) if leap_to_march else dt.date(year, 2, 28)
    return dt.date(year, date.month, date.day)


def candidate_days(grant: CompiledGrant, events: Sequence[Event], cal: Calendar, last_day: int) -> list[int]:
    """Days (ordinals, up to `last_day` included) on which the grant falls, tiers aside."""
    sources = [
        e for e in events if e.type == grant.event and (grant.field is None or e.fields.get(grant.field) is not None)
    ]
    if not grant.latest:
        sources = sources[:1]
    versions: list[tuple[int, dt.date]] = []
    for e in sources:
        day = cal.day(e.at)
        value = e.fields[grant.field] if grant.field is not None else dt.date.fromordinal(day)
        versions.append((day + grant.notice_days, value))
    days = []
    for i, (start, value) in enumerate(versions):
        end = versions[i + 1][0] if i + 1 < len(versions) else last_day + 1
        if start >= end:
            continue
        first_year = max(dt.date.fromordinal(start).year, value.year + 1)
        last_year = dt.date.fromordinal(end - 1).year
        for year in range(first_year, last_year + 1):
            day = yearly(value, year, grant.leap_to_march).toordinal()
            if start <= day < end:
                days.append(day)
    return days
