"""A zoned Calendar reads local days and minutes from the offset of the instant's UTC day, where it
holds all day; on a day with a transition, from the instant itself. Both must be what zoneinfo
says for the instant: checked at every transition (and a microsecond either side) of zones with
odd offsets and half-hour DST, and on random instants across every zone."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo

import pytest

from loyalty_dsl.evaluation.calendar import US_PER_DAY, Calendar, datetime_of

HOUR = 3_600_000_000
STEP = 3 * HOUR  # transitions are months apart: one in 3 hours is found by bisection
ZONES = ["Europe/London", "America/New_York", "Australia/Lord_Howe", "Pacific/Chatham", "Asia/Kathmandu"]
ZONES += ["America/St_Johns", "Africa/Casablanca", "Pacific/Apia", "Asia/Shanghai"]


def reference(cal: Calendar, instant: int) -> tuple[int, int]:
    local = datetime_of(instant).astimezone(zoneinfo.ZoneInfo(cal.name))
    return local.date().toordinal(), local.hour * 60 + local.minute


def transitions(zone: str, first: int, last: int) -> list[int]:
    """Instants (µs) where the zone's offset changes between two years, found 3 hours at a time, then
    to the microsecond by bisection."""
    cal, found = Calendar(zone), []
    start = dt.datetime(first, 1, 1, tzinfo=dt.UTC).timestamp() * 1_000_000
    end = dt.datetime(last, 1, 1, tzinfo=dt.UTC).timestamp() * 1_000_000
    t = int(start)
    while t < end:
        if cal.utc_offset(t) != cal.utc_offset(t + STEP):
            lo, hi = t, t + STEP  # the offset at lo differs from the one at hi
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if cal.utc_offset(mid) == cal.utc_offset(t) else (lo, mid)
            found.append(hi)
        t += STEP
    return found


@pytest.mark.parametrize("zone", ZONES)
def test_days_and_minutes_around_every_transition(zone):
    cal = Calendar(zone)
    edges = transitions(zone, 1980, 2031)
    assert edges, "the zone changes its offset in these years"
    for edge in edges:
        for instant in (edge - US_PER_DAY, edge - 1, edge, edge + 1, edge + HOUR, edge + US_PER_DAY // 2):
            assert (cal.day(instant), cal.minute_of_day(instant)) == reference(cal, instant), (zone, instant)


def test_random_instants_in_every_zone():
    rng = random.Random(7)
    low = int(dt.datetime(1900, 1, 1, tzinfo=dt.UTC).timestamp()) * 1_000_000
    high = int(dt.datetime(2100, 1, 1, tzinfo=dt.UTC).timestamp()) * 1_000_000
    for zone in sorted(zoneinfo.available_timezones()):
        cal = Calendar(zone)
        for _ in range(40):
            instant = rng.randrange(low, high)
            assert (cal.day(instant), cal.minute_of_day(instant)) == reference(cal, instant), (zone, instant)
