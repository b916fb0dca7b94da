"""A deliberately simple, brute-force reading of /work/shared/DOMAIN.md.

This is a test oracle, independent of the interpreter in ``loyalty_dsl/``: it
hard-codes both shipped programs (DOMAIN.md sections 3 and 4) in plain Python so
that a differential test can compare the two. Speed is no goal: every status is
recomputed from scratch, from the raw events, each time it is needed.

Quotations in comments are from DOMAIN.md unless said otherwise.

Inputs are assumed valid (no field checks); only the duplicate rule of §1 is
applied. Decisions carry no ``reason`` here: compare benefit, order, granted.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

UTC = dt.UTC
ONE_DAY = dt.timedelta(days=1)


# ---------------------------------------------------------------------------
# Events and time (§1, §2)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    index: int  # position in the input, used to break ties of equal instants
    member: str
    type: str
    at: dt.datetime  # aware, UTC
    fields: dict[str, Any]

    @property
    def day(self) -> dt.date:
        # "Calendar days and months are UTC days and months"
        return self.at.date()

    @property
    def order(self) -> Any:
        return self.fields.get("order")

    def usd(self) -> Decimal:
        # Amounts are compared exactly as written (2.0 >= 2.00, 24.01 > 24).
        return Decimal(str(self.fields["amount"]))


def parse_instant(text: str) -> dt.datetime:
    # §1 `at`: "ISO-8601 instant. With an offset it is converted to UTC; without
    # one it is read as UTC; a bare date means 00:00 UTC of that day"
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def drop_duplicates(raw_events: list[dict]) -> list[Event]:
    # §1 `id`: "Two events of one member with the same id are one event: the
    # repeat is ignored" -- the first in input order wins, whatever the types.
    seen: set[tuple[str, Any]] = set()
    events = []
    for index, raw in enumerate(raw_events):
        if "id" in raw:
            key = (raw["member"], raw["id"])
            if key in seen:
                continue
            seen.add(key)
        fields = {k: v for k, v in raw.items() if k not in ("member", "type", "at")}
        events.append(Event(index, raw["member"], raw["type"], parse_instant(raw["at"]), fields))
    return events


# The fields of each type (§1), in name order. Events of one instant are taken by type, then
# id (none first), then these fields' values (a missing one first), as the README orders them;
# input order only between events equal in all of these.
FIELDS = {
    "profile_updated": ("birthday",),
    "order_confirmed": ("amount", "category", "order"),
    "order_returned": ("order",),
    "order_fraud": ("order",),
    "review": ("order",),
    "bonus": ("campaign", "points"),
    "feedback_left": ("order",),
    "feedback_received": ("order",),
    "refund_requested": ("amount", "closed_for_security", "order"),
    "claim_escalated": ("order",),
}
DEFAULTS = {("refund_requested", "closed_for_security"): False}


def _tie_key(e: Event) -> tuple[Any, ...]:
    ident = e.fields.get("id")
    values = tuple(
        (value is not None, value)
        for value in (e.fields.get(n, DEFAULTS.get((e.type, n))) for n in FIELDS.get(e.type, ()))
    )
    return (e.at, e.type, ident is not None, "" if ident is None else str(ident), values, e.index)


def in_time_order(events: list[Event]) -> list[Event]:
    return sorted(events, key=_tie_key)


def start_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=UTC)


def start_of_month(t: dt.datetime) -> dt.datetime:
    return dt.datetime(t.year, t.month, 1, tzinfo=UTC)


def months_before(t: dt.datetime, n: int) -> dt.datetime:
    """The first instant of the month n months before month-start t."""
    month_index = t.year * 12 + (t.month - 1) - n
    return dt.datetime(month_index // 12, month_index % 12 + 1, 1, tzinfo=UTC)


def is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def same_day_in_year(date: dt.date, year: int) -> dt.date:
    # "A 29 February birthday falls on 28 February in other years."
    if (date.month, date.day) == (2, 29) and not is_leap(year):
        return dt.date(year, 2, 28)
    return dt.date(year, date.month, date.day)


def days_from_to(first: dt.date, last: dt.date) -> list[dt.date]:
    days = []
    day = first
    while day <= last:
        days.append(day)
        day += ONE_DAY
    return days


def voided_orders(events_before: list[Event]) -> set[Any]:
    # §3: "an `order_returned` or `order_fraud` event for it, dated before that
    # instant, voids it"; §4: "not voided (returned or fraudulent)".
    return {e.order for e in events_before if e.type in ("order_returned", "order_fraud")}


def confirmed_orders(events_before: list[Event]) -> set[Any]:
    return {e.order for e in events_before if e.type == "order_confirmed"}


# ---------------------------------------------------------------------------
# The four-tier program (§3)
# ---------------------------------------------------------------------------

# "Tiers (by the window's points; thresholds are inclusive lower bounds)"
FOUR_TIER_THRESHOLDS = [
    (1501, "Diamond"),  # "Diamond: more than 1500 points"
    (800, "Platinum"),  # assumption in DOMAIN.md: 800 splits 101..1500 in two
    (101, "Gold"),
    (1, "Silver"),  # "Silver: between 1 and 100 points"; 0 points: no tier
]

FOUR_TIER_BENEFITS: dict[str, dict[str, dict[str, Any]]] = {
    "Silver": {
        "birthday_reward": {},
        "anniversary_reward": {},
        "level_up_discount": {"percent": 5},
        "top_weekly_brands": {},
    },
    "Gold": {
        "birthday_reward": {},
        "anniversary_reward": {},
        "level_up_discount": {"percent": 8},
        "top_weekly_brands": {},
        "exclusive_member_prices": {},
    },
    "Platinum": {
        "birthday_reward": {},
        "anniversary_reward": {},
        "level_up_discount": {"percent": 10},
        "top_weekly_brands": {},
        "exclusive_member_prices": {},
        "exclusive_event_benefits": {},
        "fast_refund": {"limit": 24},
    },
    "Diamond": {
        "birthday_reward": {},
        "anniversary_reward": {},
        "level_up_discount": {"percent": 15},
        "top_weekly_brands": {},
        "exclusive_member_prices": {},
        "exclusive_event_benefits": {},
        "fast_refund": {"limit": 100},
        "limited_daily_coupons": {},
    },
}


def four_tier_tier(points: int) -> str | None:
    for threshold, tier in FOUR_TIER_THRESHOLDS:
        if points >= threshold:
            return tier
    return None


def four_tier_benefits(tier: str | None) -> dict[str, dict[str, Any]]:
    if tier is None:
        return {}
    return {name: dict(params) for name, params in FOUR_TIER_BENEFITS[tier].items()}


def qualifying_orders(window: list[Event], voided: set[Any]) -> list[Event]:
    # "an `order_confirmed` of amount >= 2.00 that is not voided"
    return [e for e in window if e.type == "order_confirmed" and e.usd() >= Decimal("2.00") and e.order not in voided]


def shopping_points(orders: list[Event]) -> int:
    # "earns 5 points, at most 5 shopping points per calendar day"
    per_day: dict[dt.date, int] = {}
    for e in orders:
        per_day[e.day] = per_day.get(e.day, 0) + 5
    return sum(min(5, points) for points in per_day.values())


def category_bonus_points(orders: list[Event]) -> int:
    # "each distinct `category` among that day's qualifying orders, beyond the
    # first, earns 1 extra point. The daily cap of shopping points does not apply"
    categories_by_day: dict[dt.date, set[Any]] = {}
    for e in orders:
        categories_by_day.setdefault(e.day, set()).add(e.fields.get("category"))
    return sum(len(categories) - 1 for categories in categories_by_day.values())


def review_points(window_start: dt.datetime, events_before: list[Event]) -> int:
    # "the first `review` of each order earns 1 point, provided the order has an
    # `order_confirmed` event dated before the recalculation instant"; "later
    # reviews of the same order never earn, even after the first has left the
    # window"; "A review point stays when its order is later voided".
    confirmed = confirmed_orders(events_before)
    first_review: dict[Any, Event] = {}
    for e in in_time_order(events_before):
        if e.type == "review" and e.order not in first_review:
            first_review[e.order] = e
    points = 0
    for order, review in first_review.items():
        if order in confirmed and review.at >= window_start:
            points += 1
    return points


def visit_points(window: list[Event]) -> int:
    # "1 point per calendar day with at least one visit; at most 10 visit points
    # per calendar month"
    days_by_month: dict[tuple[int, int], set[dt.date]] = {}
    for e in window:
        if e.type == "visit":
            days_by_month.setdefault((e.day.year, e.day.month), set()).add(e.day)
    return sum(min(10, len(days)) for days in days_by_month.values())


def club_points(window: list[Event]) -> int:
    # "2 points per `club_post`; at most 10 club points per calendar month"
    points_by_month: dict[tuple[int, int], int] = {}
    for e in window:
        if e.type == "club_post":
            month = (e.day.year, e.day.month)
            points_by_month[month] = points_by_month.get(month, 0) + 2
    return sum(min(10, points) for points in points_by_month.values())


def bonus_points(window: list[Event]) -> int:
    # "the `points` of each `bonus` event"
    return sum(int(e.fields["points"]) for e in window if e.type == "bonus")


def four_tier_points_at_recalculation(events: list[Event], recalculation: dt.datetime) -> int:
    # "at the first instant of month M+1 it counts the points of the events
    # dated in months M-11 .. M"; void and confirmation facts are those "dated
    # before that instant", whether inside the window or not.
    window_start = months_before(recalculation, 12)
    events_before = [e for e in events if e.at < recalculation]
    window = [e for e in events_before if e.at >= window_start]
    orders = qualifying_orders(window, voided_orders(events_before))
    return (
        shopping_points(orders)
        + category_bonus_points(orders)
        + review_points(window_start, events_before)
        + visit_points(window)
        + club_points(window)
        + bonus_points(window)
    )


def four_tier_status(events: list[Event], t: dt.datetime) -> tuple[int, str | None]:
    # "The status at instant T (points and tier) is the one of the latest
    # recalculation at or before T"; recalculations happen at every month start.
    points = four_tier_points_at_recalculation(events, start_of_month(t))
    return points, four_tier_tier(points)


def four_tier_has(events: list[Event], t: dt.datetime, benefit: str) -> bool:
    _, tier = four_tier_status(events, t)
    return benefit in four_tier_benefits(tier)


def date_of_birth_in_force(events: list[Event], end_of_day: dt.date) -> dt.date | None:
    # "the date of birth in force at the end of day B-2, i.e. set by the latest
    # `profile_updated` dated B-2 or earlier"
    updates = [e for e in in_time_order(events) if e.type == "profile_updated" and e.day <= end_of_day]
    if not updates:
        return None
    return dt.date.fromisoformat(updates[-1].fields["birthday"])


def birthday_grants(events: list[Event], as_of: dt.date) -> list[dt.date]:
    updates = [e for e in events if e.type == "profile_updated"]
    if not updates:
        return []
    first_possible = min(e.day for e in updates) + 2 * ONE_DAY
    granted: list[dt.date] = []
    for day in days_from_to(first_possible, as_of):  # "on each day B up to the evaluation instant"
        birth = date_of_birth_in_force(events, day - 2 * ONE_DAY)
        if birth is None or same_day_in_year(birth, day.year) != day:
            continue
        # "At most one birthday reward a calendar year (the earliest)."
        if any(previous.year == day.year for previous in granted):
            continue
        # "if the tier at the first instant of B has the benefit"
        if four_tier_has(events, start_of_day(day), "birthday_reward"):
            granted.append(day)
    return granted


def anniversary_grants(events: list[Event], as_of: dt.date) -> list[dt.date]:
    # "on each anniversary of `registered` (the earliest, if several; 1st, 2nd, ...)"
    registrations = [e for e in in_time_order(events) if e.type == "registered"]
    if not registrations:
        return []
    registered_on = registrations[0].day
    granted = []
    year = registered_on.year + 1
    while True:
        day = same_day_in_year(registered_on, year)  # "29 February: as for birthdays"
        if day > as_of:  # "up to the evaluation instant"
            break
        if four_tier_has(events, start_of_day(day), "anniversary_reward"):
            granted.append(day)
        year += 1
    return granted


def four_tier_decisions(events: list[Event], end: dt.datetime) -> list[dict]:
    # "Each `refund_requested` gets a `fast_refund` decision: granted when the
    # member's tier at the request's instant has `fast_refund` and `amount` <=
    # its `limit`". (No closed_for_security rule in this program.)
    decisions = []
    for e in in_time_order(events):
        if e.type != "refund_requested" or e.at >= end:
            continue
        _, tier = four_tier_status(events, e.at)
        refund = four_tier_benefits(tier).get("fast_refund")
        granted = refund is not None and e.usd() <= Decimal(str(refund["limit"]))
        decisions.append({"benefit": "fast_refund", "order": e.order, "granted": granted})
    return decisions


def four_tier_outcome(member: str, events: list[Event], as_of: dt.date) -> dict:
    end = start_of_day(as_of + ONE_DAY)  # §2: "the instant D+1 00:00 UTC"
    points, tier = four_tier_status(events, end)
    grants = [{"benefit": "birthday_reward", "on": d} for d in birthday_grants(events, as_of)]
    grants += [{"benefit": "anniversary_reward", "on": d} for d in anniversary_grants(events, as_of)]
    grants.sort(key=lambda g: (g["on"], g["benefit"]))
    return {
        "member": member,
        "as_of": as_of.isoformat(),
        "points": points,
        "tier": tier,
        "benefits": four_tier_benefits(tier),
        "grants": [{"benefit": g["benefit"], "on": g["on"].isoformat()} for g in grants],
        "decisions": four_tier_decisions(events, end),
    }


# ---------------------------------------------------------------------------
# The legacy A0-A4 program (§4)
# ---------------------------------------------------------------------------

# "A0 at 0 points, A1 from 1, A2 from 100, A3 from 500, A4 from 2000."
LEGACY_THRESHOLDS = [(2000, "A4"), (500, "A3"), (100, "A2"), (1, "A1"), (0, "A0")]

LEGACY_PRIVILEGES: dict[str, dict[str, dict[str, Any]]] = {
    "A0": {},
    "A1": {"price_cut_notifications": {}},
    "A2": {"price_cut_notifications": {}},
    "A3": {"price_cut_notifications": {}, "fast_refund": {"limit": 25}},
    "A4": {
        "price_cut_notifications": {},
        "fast_refund": {"limit": 100},
        "fast_track_claims": {"days_saved": 5},
    },
}


def legacy_level(points: int) -> str:
    for threshold, level in LEGACY_THRESHOLDS:
        if points >= threshold:
            return level
    raise AssertionError("points are never negative")


def legacy_privileges(level: str) -> dict[str, dict[str, Any]]:
    return {name: dict(params) for name, params in LEGACY_PRIVILEGES[level].items()}


def legacy_points(events: list[Event], t: dt.datetime) -> int:
    # "points are lifetime and the level follows every event at once (status at
    # T counts every event before T)"
    events_before = [e for e in events if e.at < t]
    voided = voided_orders(events_before)
    confirmed = confirmed_orders(events_before)
    # "each `order_confirmed` that is not voided (returned or fraudulent): 10 points"
    counted = [e for e in events_before if e.type == "order_confirmed" and e.order not in voided]
    points = 10 * len(counted)
    # "each calendar day with at least one such order: 5 more points"
    points += 5 * len({e.day for e in counted})
    # "`feedback_left` on a confirmed order: 2 points, at most once per order";
    # the same for `feedback_received`.
    for feedback_type in ("feedback_left", "feedback_received"):
        orders = {e.order for e in events_before if e.type == feedback_type and e.order in confirmed}
        points += 2 * len(orders)
    return points


def legacy_decisions(events: list[Event], end: dt.datetime) -> list[dict]:
    decisions = []
    for e in in_time_order(events):
        if e.at >= end:
            continue
        if e.type == "refund_requested":
            # "granted when the level at that instant has it, `amount` <= `limit`,
            # and the order was not closed for security reasons"
            refund = legacy_privileges(legacy_level(legacy_points(events, e.at))).get("fast_refund")
            granted = (
                refund is not None
                and e.usd() <= Decimal(str(refund["limit"]))
                and not e.fields.get("closed_for_security", False)
            )
            decisions.append({"benefit": "fast_refund", "order": e.order, "granted": granted})
        elif e.type == "claim_escalated":
            # "granted when the level at that instant has it"
            level = legacy_level(legacy_points(events, e.at))
            granted = "fast_track_claims" in legacy_privileges(level)
            decisions.append({"benefit": "fast_track_claims", "order": e.order, "granted": granted})
    return decisions


def legacy_outcome(member: str, events: list[Event], as_of: dt.date) -> dict:
    end = start_of_day(as_of + ONE_DAY)
    points = legacy_points(events, end)
    level = legacy_level(points)
    return {
        "member": member,
        "as_of": as_of.isoformat(),
        "points": points,
        "tier": level,
        "benefits": legacy_privileges(level),
        "grants": [],  # the legacy program has no dated rewards
        "decisions": legacy_decisions(events, end),
    }


# ---------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------

OUTCOMES = {"four_tier": four_tier_outcome, "legacy": legacy_outcome}


def evaluate(program: str, events: list[dict], as_of: dt.date | None) -> list[dict]:
    """Outcomes of `program` ("four_tier" or "legacy") per member, by member id."""
    outcome = OUTCOMES[program]
    kept = drop_duplicates(events)
    if not kept:
        return []
    if as_of is None:
        # §2: "the UTC day of the latest event in the input that is neither
        # rejected nor a repeat"
        as_of = max(e.at for e in kept).date()
    by_member: dict[str, list[Event]] = {}
    for e in kept:
        by_member.setdefault(e.member, []).append(e)
    # §5: "one object for every member with at least one event that was not
    # rejected (events of ignored types included)"
    return [outcome(member, by_member[member], as_of) for member in sorted(by_member)]
