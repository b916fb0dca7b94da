"""Instants, calendar days and months in a program's time zone.

An instant is an int: microseconds since 1970-01-01T00:00Z. Days are proleptic
Gregorian ordinals (`date.toordinal()`), months are `year * 12 + month - 1`.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import lru_cache

US_PER_DAY = 86_400_000_000
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_UTC = dt.UTC


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=_UTC)
_NAIVE_EPOCH = dt.datetime(1970, 1, 1)
_ONE_US = dt.timedelta(microseconds=1)


def instant_of(value: dt.datetime) -> int:
    """A datetime as an instant; one without an offset is read as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=_UTC)
    return (value - _EPOCH) // _ONE_US  # exact: timedelta division stays in integers


def datetime_of(instant: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=instant)


def iso_instant(instant: int) -> str:
    if instant >= END_INSTANT:  # the end of 9999-12-31: written through the 400-year cycle
        earlier = iso_instant(instant - _CYCLE_DAYS * US_PER_DAY)
        return str(int(earlier[:4]) + 400) + earlier[4:]
    # A naive datetime writes the same digits, faster than an aware one and its offset.
    return (_NAIVE_EPOCH + dt.timedelta(microseconds=instant)).isoformat() + "Z"


# The Gregorian calendar repeats every 400 years (146,097 days). Shifting by a cycle
# names days just past 9999-12-31, such as the end of an as-of day 9999-12-31.
_CYCLE_DAYS, _CYCLE_MONTHS = 146_097, 4_800
_MAX_DAY = dt.date.max.toordinal()
LAST_DAY, LAST_MONTH = _MAX_DAY, 9999 * 12 + 11  # the calendar's last day (ordinal) and month (index)


def month_index(d: dt.date) -> int:
    return d.year * 12 + d.month - 1


def month_of_ordinal(day: int) -> int:
    if day > _MAX_DAY:
        return month_index(dt.date.fromordinal(day - _CYCLE_DAYS)) + _CYCLE_MONTHS
    return month_index(dt.date.fromordinal(day))


def month_date(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


def month_ordinal(index: int) -> int:
    """The ordinal of a month's first day, past year 9999 too."""
    if index // 12 > 9999:
        return month_date(index - _CYCLE_MONTHS).toordinal() + _CYCLE_DAYS
    return month_date(index).toordinal()


_LAST_INSTANT = (_MAX_DAY - _EPOCH_ORDINAL) * US_PER_DAY  # 9999-12-31T00:00Z: local days near it need care
FIRST_INSTANT = (1 - _EPOCH_ORDINAL) * US_PER_DAY  # 0001-01-01T00:00Z
END_INSTANT = (_MAX_DAY + 1 - _EPOCH_ORDINAL) * US_PER_DAY  # 10000-01-01T00:00Z, excluded


class Calendar:
    """Days and months as a program's time zone sees them (UTC by default)."""

    def __init__(self, timezone: str = "UTC", week_start: int = 0, year_start: int = 1) -> None:
        """`week_start`: 0 for Monday (ISO weeks) to 6 for Sunday; `year_start`: the month a year opens."""
        self.name = timezone
        self.week_start = week_start
        self.year_start = year_start
        self._utc = timezone in ("UTC", "Etc/UTC")
        self._tz = _UTC if self._utc else zoneinfo.ZoneInfo(timezone)
        # Caches are per calendar, so a calendar never shares state with another.
        self.month_of_day = lru_cache(maxsize=65_536)(self._month_of_day)
        self.month_start = lru_cache(maxsize=65_536)(self._month_start)  # statuses ask for few months, often
        self.steady_offset = lru_cache(maxsize=65_536)(self._steady_offset)

    def day(self, instant: int) -> int:
        """The calendar day (ordinal) an instant falls on."""
        if self._utc:
            return instant // US_PER_DAY + _EPOCH_ORDINAL
        if instant >= _LAST_INSTANT:  # past year 9999 (an end of day): 400 years earlier, shifted back
            return self.day(instant - _CYCLE_DAYS * US_PER_DAY) + _CYCLE_DAYS
        if instant < FIRST_INSTANT + US_PER_DAY:  # the first day, seen from west of UTC: year 0
            return self.day(instant + _CYCLE_DAYS * US_PER_DAY) - _CYCLE_DAYS
        return (instant + self._offset(instant)) // US_PER_DAY + _EPOCH_ORDINAL

    def minute_of_day(self, instant: int) -> int:
        """The local wall-clock minute of an instant (16:30 -> 990), for times of day."""
        if self._utc:
            return (instant % US_PER_DAY) // 60_000_000
        if not FIRST_INSTANT + US_PER_DAY <= instant < _LAST_INSTANT:
            local = datetime_of(instant).astimezone(self._tz)
            return local.hour * 60 + local.minute
        return ((instant + self._offset(instant)) % US_PER_DAY) // 60_000_000

    def _offset(self, instant: int) -> int:
        """utc_offset, from the offset of the instant's UTC day where it holds all day."""
        steady = self.steady_offset(instant // US_PER_DAY)
        return steady if steady is not None else self.utc_offset(instant)

    def _steady_offset(self, utc_day: int) -> int | None:
        """The zone's offset all through a UTC day (days since the epoch), or None on a day with a
        transition. Read at the day's first and last microsecond. Assumed: no UTC day holds two
        transitions that cancel out (none in the tz database)."""
        start = utc_day * US_PER_DAY
        first, last = self.utc_offset(start), self.utc_offset(start + US_PER_DAY - 1)
        return first if first == last else None

    def utc_offset(self, instant: int) -> int:
        """The zone's offset from UTC at an instant, in microseconds: local wall-clock time minus UTC."""
        if self._utc:
            return 0
        if instant >= _LAST_INSTANT:  # as in day(): the offset of 400 years earlier
            return self.utc_offset(instant - _CYCLE_DAYS * US_PER_DAY)
        if instant < FIRST_INSTANT + US_PER_DAY:
            return self.utc_offset(instant + _CYCLE_DAYS * US_PER_DAY)
        offset = datetime_of(instant).astimezone(self._tz).utcoffset()
        return 0 if offset is None else offset // _ONE_US

    @staticmethod
    def _month_of_day(day: int) -> int:
        return month_of_ordinal(day)

    def month(self, instant: int) -> int:
        return self.month_of_day(self.day(instant))

    def period(self, name: str, instant: int) -> int:
        """The index of the day, week, month, quarter or year of an instant.

        Weeks start on the program's first day of the week (Monday unless declared);
        quarters and years start in the program's first month (January unless declared).
        """
        day = self.day(instant)
        if name == "day":
            return day
        if name == "week":
            return (day - 1 - self.week_start) // 7  # ordinal 1 (0001-01-01) is a Monday
        month = self.month_of_day(day)
        if name == "month":
            return month
        shifted = month - (self.year_start - 1)  # months counted from the program's year start
        return shifted // 3 if name == "quarter" else shifted // 12

    def day_start(self, day: int) -> int:
        """The first instant of a calendar day."""
        if self._utc:
            return (day - _EPOCH_ORDINAL) * US_PER_DAY
        if day > _MAX_DAY:  # past year 9999: the same local time 400 years earlier, shifted back
            return self.day_start(day - _CYCLE_DAYS) + _CYCLE_DAYS * US_PER_DAY
        local = dt.datetime.combine(dt.date.fromordinal(day), dt.time(0), tzinfo=self._tz)
        return instant_of(local)

    def iso(self, instant: int) -> str:
        """An instant in ISO-8601 as people of the program read it: local time with its offset.

        UTC programs (and instants at the edges of the calendar) keep the UTC form, `...Z`.
        """
        if self._utc or not FIRST_INSTANT + US_PER_DAY <= instant < _LAST_INSTANT:
            return iso_instant(instant)
        return datetime_of(instant).astimezone(self._tz).isoformat()

    def end_of_day(self, day: dt.date) -> int:
        """The instant a local day ends (the next local day's first instant): what `--as-of D` means."""
        return self.day_start(day.toordinal() + 1)

    def holds(self, instant: int) -> bool:
        """Whether the instant's local day lies in years 1 to 9999 (an instant of those years in
        UTC may not: 0001-01-01T00:00Z is still year 0 west of UTC)."""
        if FIRST_INSTANT + US_PER_DAY <= instant < _LAST_INSTANT:
            return True
        return 1 <= self.day(instant) <= _MAX_DAY

    def date_of(self, instant: int) -> dt.date:
        """The local day of an instant, as a date (the last date there is, for an instant past it)."""
        return dt.date.fromordinal(min(self.day(instant), _MAX_DAY))

    def _month_start(self, month: int) -> int:
        return self.day_start(month_ordinal(month))

    def recalculations(self, first: int, until: int) -> list[int]:
        """The month boundaries after the month of `first`, up to the last one at or before `until`."""
        return [self.month_start(m) for m in range(self.month(first) + 1, self.month(until) + 1)]

    def recalculation(self, instant: int) -> int:
        """The latest month boundary at or before an instant."""
        return self.month_start(self.month(instant))
