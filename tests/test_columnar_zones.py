"""Time zones on the columnar path: both evaluators agree on zoned programs.

The columnar plan computes its calendar units (days, weeks, months, quarters,
years) on each event's local wall-clock time, the as-of cut at the end of the
local day. These tests put events where the two could part: local midnights,
month, quarter and week ends, the hours around DST gaps and folds (New York,
London, Lord Howe's half hour, Santiago's at midnight), and as-of days on the
transitions.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty_dsl import CompiledProgram, compile_text
from loyalty_dsl.columnar.local_time import local_instants
from loyalty_dsl.columnar.plan import plan
from loyalty_dsl.evaluation.calendar import Calendar, instant_of
from tests.oracle.gen import random_history
from tests.test_columnar import both_ways

ROOT = Path(__file__).parent.parent
SOURCES = {
    "four_tier": ROOT / "programs" / "four_tier.loy",
    "windowed_variants": ROOT / "tests" / "columnar" / "windowed_variants.loy",
    "chained_caps_lifetime": ROOT / "tests" / "columnar" / "chained_caps_lifetime.loy",
    "zoned_units": ROOT / "tests" / "columnar" / "zoned_units.loy",
}
# Santiago changes its clocks at local midnight: there a wrong offset moves events to another day.
ZONES = ["America/New_York", "Europe/London", "Asia/Shanghai", "Australia/Lord_Howe", "America/Santiago"]


def zoned(name: str, zone: str) -> CompiledProgram:
    source = SOURCES[name].read_text(encoding="utf-8")
    lines = [f'timezone "{zone}"' if line.startswith("timezone ") else line for line in source.splitlines()]
    return compile_text("\n".join(lines) + "\n")


def transition_days(zone: str) -> list[dt.date]:
    """The local days of 2024-2026 on which the zone's offset changes (its DST days)."""
    tz = zoneinfo.ZoneInfo(zone)
    days = []
    day = dt.date(2024, 1, 1)
    while day < dt.date(2027, 1, 1):
        before = dt.datetime.combine(day, dt.time(0), tzinfo=tz).utcoffset()
        after = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz).utcoffset()
        if before != after:
            days += [day, day + dt.timedelta(days=1)]
        day += dt.timedelta(days=1)
    return days


def edge_days(zone: str) -> list[dt.date]:
    """Days worth an event or an as-of: DST days, month and quarter ends, a week's end and start."""
    days = transition_days(zone)
    days += [dt.date(2025, m, 1) - dt.timedelta(days=1) for m in (1, 3, 4, 7, 10, 11)]
    days += [dt.date(2025, 3, 1), dt.date(2025, 4, 1), dt.date(2024, 2, 29), dt.date(2025, 6, 14), dt.date(2025, 6, 15)]
    return sorted(set(days))


LOCAL_TIMES = [
    (dt.time(0, 0), 0),
    (dt.time(23, 59, 59, 999_999), 0),
    (dt.time(1, 30), 0),
    (dt.time(1, 30), 1),  # the second 01:30 of a fold
    (dt.time(2, 0), 0),
    (dt.time(2, 30), 0),  # inside a gap where there is one
    (dt.time(3, 0), 0),
    (dt.time(12, 0), 0),
    (dt.time(23, 30), 0),
    (dt.time(23, 30), 1),  # the second 23:30 where clocks go back at midnight
    (dt.time(0, 30), 0),
]


def edge_instants(zone: str) -> list[str]:
    tz = zoneinfo.ZoneInfo(zone)
    out = []
    for day in edge_days(zone):
        for time, fold in LOCAL_TIMES:
            local = dt.datetime.combine(day, time, tzinfo=tz).replace(fold=fold)
            out.append(local.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"))
    return out


def edge_events(rng: random.Random, zone: str, members: int) -> list[dict]:
    """Events of every rule's kinds at the edge instants, over a few members and orders."""
    events = []
    for i, at in enumerate(edge_instants(zone)):
        member = f"m{rng.randrange(members)}"
        kind = rng.choice(["visit", "visit", "order_confirmed", "order_returned", "club_post", "review"])
        event: dict = {"member": member, "type": kind, "at": at, "id": f"edge{i}"}
        if kind == "order_confirmed":
            event |= {"order": f"e{rng.randrange(6)}", "amount": rng.choice([1.5, 2, 30]), "category": "toys"}
        elif kind in ("order_returned", "review"):
            event["order"] = f"e{rng.randrange(6)}"
        events.append(event)
    return events


@pytest.mark.parametrize("zone", ZONES)
@pytest.mark.parametrize("name", sorted(SOURCES))
@pytest.mark.parametrize("seed", range(2))
def test_zoned_programs_agree_at_the_edges(zone, name, seed):
    rng = random.Random(seed)
    program = zoned(name, zone)
    events = random_history(rng, members=3, events_per_member=40) + edge_events(rng, zone, 3)
    days = edge_days(zone)
    for day in [None, *rng.sample(days, 3)]:
        got, want = both_ways(program, events, day)
        assert got == want, (zone, name, seed, day)


_ZONED_UNITS = {zone: zoned("zoned_units", zone) for zone in ZONES}


@st.composite
def zoned_histories(draw):
    zone = draw(st.sampled_from(ZONES))
    instants = edge_instants(zone)
    events = []
    for i in range(draw(st.integers(1, 25))):
        base = instant_of(dt.datetime.fromisoformat(draw(st.sampled_from(instants))))
        at = base + draw(st.sampled_from([0, -1, 1, -3_600_000_000, 1_800_000_000, 86_400_000_000]))
        kind = draw(st.sampled_from(["visit", "order_confirmed", "order_returned", "club_post"]))
        when = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=at)
        event: dict = {"member": draw(st.sampled_from("ab")), "type": kind, "at": when.isoformat(), "id": f"x{i}"}
        if kind == "order_confirmed":
            event |= {
                "order": draw(st.sampled_from(["o1", "o2"])),
                "amount": draw(st.sampled_from([1, 2])),
                "category": "c",
            }
        elif kind == "order_returned":
            event["order"] = draw(st.sampled_from(["o1", "o2"]))
        events.append(event)
    day = draw(st.sampled_from([None, *edge_days(zone)]))
    return zone, events, day


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(zoned_histories())
def test_zoned_units_agree_on_random_histories_near_transitions(case):
    zone, events, day = case
    got, want = both_ways(_ZONED_UNITS[zone], events, day)
    assert got == want


def test_local_instants_follow_the_offset_in_force():
    # By hand: New York is UTC-5 (EST) until 2025-03-09 07:00Z, then UTC-4 (EDT), until
    # 2025-11-02 06:00Z; Shanghai is UTC+8 throughout.
    hour = 3_600_000_000
    cases = {
        "America/New_York": [
            ("2025-03-09T06:59:59Z", -5),  # 01:59:59 EST
            ("2025-03-09T07:00:00Z", -4),  # 03:00 EDT: 02:00-03:00 local does not exist
            ("2025-11-02T05:30:00Z", -4),  # the first 01:30 (EDT)
            ("2025-11-02T06:30:00Z", -5),  # the second 01:30 (EST)
            ("2025-07-01T03:59:59Z", -4),  # 23:59:59 on 30 June, local
        ],
        "Asia/Shanghai": [("2026-11-30T15:59:59Z", 8), ("2026-11-30T16:00:00Z", 8)],
        "UTC": [("2026-11-30T16:00:00Z", 0)],
    }
    for zone, pairs in cases.items():
        import pyarrow as pa

        instants = [instant_of(dt.datetime.fromisoformat(text)) for text, _ in pairs]
        got = local_instants(pa.array(instants, pa.int64()), Calendar(zone)).to_pylist()
        assert got == [i + hours * hour for i, (_, hours) in zip(instants, pairs, strict=True)], zone


VISITS = """\
program "visits in Shanghai"
timezone "Asia/Shanghai"
event visit
window lifetime, continuous
rule visits:
    on visit
    earn 1 per day
    cap 5 per month
tier Member from 1 point:
"""


def test_local_days_and_the_end_of_the_local_day_on_the_columnar_path():
    program = compile_text(VISITS)
    plan(program)  # the columnar path takes the zone
    events = [
        {"member": "a", "type": "visit", "at": "2026-11-30T15:59:59Z"},  # 23:59:59 on 30 Nov in Shanghai
        {"member": "a", "type": "visit", "at": "2026-11-30T16:00:00Z"},  # 00:00 on 1 Dec: another day, month
        {"member": "a", "type": "visit", "at": "2026-11-30T17:00:00Z"},  # 01:00 on 1 Dec: the same day
    ]
    # As of 30 Nov the day ends at 16:00Z: only the first visit counts (1 point). As of 1 Dec the
    # three visits fall on two local days (in UTC they would be one): 2 points.
    for day, points in [(dt.date(2026, 11, 30), 1), (dt.date(2026, 12, 1), 2)]:
        got, want = both_ways(program, events, day)
        assert got == want
        assert got[0]["points"] == points, day
