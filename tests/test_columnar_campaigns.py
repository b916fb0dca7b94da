"""Campaigns (`during` on rules) on the columnar path: both evaluators agree.

A rule with `during` applies only to events whose local day is in the
campaign; the plan tests the local day of each event in SQL. Events here sit
on the campaign's first and last local microseconds, on DST days (London's
dated campaign opens and closes on them), on 29 February and on month ends.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loyalty_dsl import compile_text, load
from loyalty_dsl.columnar.plan import plan
from tests.test_columnar_zones import both_ways

ROOT = Path(__file__).parent.parent
PROGRAM = ROOT / "tests" / "columnar" / "campaigns_zoned.loy"
ZONES = ["Europe/London", "America/New_York", "Asia/Shanghai", "UTC"]
DAYS = [
    dt.date(2024, 2, 28),
    dt.date(2024, 2, 29),
    dt.date(2024, 3, 1),
    dt.date(2025, 2, 28),
    dt.date(2025, 3, 1),
    dt.date(2025, 3, 29),
    dt.date(2025, 3, 30),
    dt.date(2025, 3, 31),
    dt.date(2025, 10, 26),
    dt.date(2025, 10, 27),
    dt.date(2025, 11, 10),
    dt.date(2025, 11, 11),
    dt.date(2025, 11, 12),
]
TIMES = [dt.time(0, 0), dt.time(0, 0, 0, 1), dt.time(1, 30), dt.time(12, 0), dt.time(23, 59, 59, 999_999)]
# the edges of the times of day (16:00 to 18:00, 22:00 to 02:00): first minute in, first minute out
TIMES += [dt.time(15, 59, 59), dt.time(16, 0), dt.time(17, 59, 59), dt.time(18, 0), dt.time(21, 59), dt.time(22, 0)]
TIMES += [dt.time(1, 59, 59), dt.time(2, 0)]


def program_in(zone: str):
    source = PROGRAM.read_text(encoding="utf-8").replace('timezone "Europe/London"', f'timezone "{zone}"')
    return compile_text(source)


PROGRAMS = {zone: program_in(zone) for zone in ZONES}


def test_the_plan_takes_campaigns():
    plan(PROGRAMS["Europe/London"])
    plan(load(ROOT / "examples" / "programs" / "campaigns.loy"))


@st.composite
def campaign_histories(draw):
    zone = draw(st.sampled_from(ZONES))
    tz = zoneinfo.ZoneInfo(zone)
    events = []
    for i in range(draw(st.integers(1, 20))):
        day, time = draw(st.sampled_from(DAYS)), draw(st.sampled_from(TIMES))
        local = dt.datetime.combine(day, time, tzinfo=tz).replace(fold=draw(st.sampled_from([0, 1])))
        kind = draw(st.sampled_from(["visit", "order_confirmed", "order_confirmed", "order_returned"]))
        event: dict = {"member": draw(st.sampled_from("ab")), "type": kind, "at": local.isoformat(), "id": f"x{i}"}
        if kind != "visit":
            event["order"] = draw(st.sampled_from(["o1", "o2", "o3"]))
        if kind == "order_confirmed":
            event |= {"amount": draw(st.sampled_from([1, 2, 30])), "category": draw(st.sampled_from("xyz"))}
        events.append(event)
    day = draw(st.sampled_from([None, *DAYS]))
    return zone, events, day


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(campaign_histories())
def test_campaigns_agree_on_random_histories_at_their_edges(case):
    zone, events, day = case
    got, want = both_ways(PROGRAMS[zone], events, day)
    assert got == want


def test_a_campaign_day_is_the_local_day():
    # In Shanghai (UTC+8), 11 November runs from 2026-11-10T16:00Z to 2026-11-11T16:00Z.
    # Orders of 30 (each earns shopping 5) at 15:59:59Z on the 10th (10 Nov local), 16:00Z on the
    # 10th and 15:59:59Z on the 11th (both 11 Nov local): singles_day earns 5 + 5 capped at 8 a
    # day -> 8; shopping earns 5 on 10 Nov and 5 + 5 capped at 5 on 11 Nov -> 10. Total 18.
    program = PROGRAMS["Asia/Shanghai"]
    events = [
        {"member": "a", "type": "order_confirmed", "at": at, "order": f"o{i}", "amount": 30, "category": "x"}
        for i, at in enumerate(["2026-11-10T15:59:59Z", "2026-11-10T16:00:00Z", "2026-11-11T15:59:59Z"])
    ]
    got, want = both_ways(program, events, dt.date(2026, 11, 30))
    assert got == want
    assert got[0]["points_by_rule"]["singles_day"] == 8
    assert got[0]["points"] == 18


def test_a_weekday_and_a_time_of_day_are_local():
    # Shanghai is UTC+8; 2025-11-11 is a Tuesday. Visits at local Tue 16:30 and 17:59 (happy_hour
    # 2 + 2, cap 4 a day; tuesdays 1 per day), Tue 18:00 (outside 16:00 to 18:00), Mon 22:30 and
    # Wed 01:59 (late, 22:00 to 02:00 overnight: 1 + 1). tuesdays 1 + happy_hour 4 + late 2 = 7.
    program = PROGRAMS["Asia/Shanghai"]
    ats = ["2025-11-11T08:30:00Z", "2025-11-11T09:59:00Z", "2025-11-11T10:00:00Z"]
    ats += ["2025-11-10T14:30:00Z", "2025-11-11T17:59:00Z"]
    events = [{"member": "a", "type": "visit", "at": at, "id": f"v{i}"} for i, at in enumerate(ats)]
    got, want = both_ways(program, events, dt.date(2025, 11, 30))
    assert got == want
    by_rule = got[0]["points_by_rule"]
    assert (by_rule["tuesdays"], by_rule["happy_hour"], by_rule["late"]) == (1, 4, 2)
    assert got[0]["points"] == 7
