"""Random activity histories (DOMAIN.md §1) for differential tests.

``random_history(rng)`` is deterministic given ``rng``: it only draws from it and
never iterates over sets. Each member gets ``events_per_member`` random events
plus a few scripted episodes aimed at the edges of DOMAIN.md (caps, category
bonus, window and month boundaries, birthdays set close to the day, 29 February,
refund limits, voids before and after their confirmation, repeated ids, ...).
Some episodes add events beyond ``events_per_member``; a "heavy shopper" adds
tens of orders so that the higher tiers and legacy levels A3/A4 are reached,
and about one member in seven is "quiet" (0-4 random events).

All events are valid; only repeated ids (duplicates) and unknown types are
"irregular". Order ids are unique per member among `order_confirmed` events
(a second confirmation of one order is left out on purpose: DOMAIN.md does not
say whether it counts again).

Run ``python -m tests.oracle.gen --seed 7`` to eyeball a history and the oracle's
outcomes for both programs.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

UTC = dt.UTC

RANGE_START = dt.datetime(2024, 1, 1, tzinfo=UTC)
RANGE_END = dt.datetime(2027, 1, 1, tzinfo=UTC)  # exclusive

CATEGORIES = ["home", "toys", "fashion", "beauty", "electronics"]
# Around the 2.00 threshold of shopping points, plus ordinary amounts.
ORDER_AMOUNTS = [1.99, 2.0, 2, 2.01, 1.5, 0.99, 2.5, 9, 10, 24, 30, 99.99, 150]
# Around the fast_refund limits: 24 (Platinum), 25 (A3), 100 (Diamond, A4).
REFUND_AMOUNTS = [
    5,
    10,
    23.99,
    24,
    24.0,
    24.01,
    25,
    25.0,
    25.01,
    99.99,
    100,
    100.01,
    250,
]
# Around the tier thresholds (1, 101, 800, 1501 / 100, 500, 2000).
BONUS_POINTS = [
    0,
    1,
    5,
    10,
    50,
    95,
    99,
    100,
    101,
    300,
    499,
    500,
    700,
    799,
    800,
    1000,
    1500,
    1501,
    2000,
]
CAMPAIGNS = ["11.11", "xmas", "summer"]
UNKNOWN_TYPES = ["wishlist_added", "coupon_viewed", "newsletter_opened"]
LEAP_BIRTH_YEARS = [1964, 1976, 1988, 1992, 1996, 2000, 2004]

# Relative weights of the event types drawn for the random part of a member.
TYPE_WEIGHTS = {
    "visit": 18,
    "order_confirmed": 20,
    "review": 8,
    "order_returned": 4,
    "order_fraud": 2,
    "club_post": 7,
    "bonus": 6,
    "profile_updated": 3,
    "feedback_left": 5,
    "feedback_received": 5,
    "refund_requested": 6,
    "claim_escalated": 3,
    "registered": 1,
    "unknown": 3,
}

# How a timestamp is written (the instant is the same, except for bare dates).
OFFSETS = {
    "Z": dt.UTC,
    "+09:00": dt.timezone(dt.timedelta(hours=9)),
    "-05:00": dt.timezone(dt.timedelta(hours=-5)),
    "+05:30": dt.timezone(dt.timedelta(hours=5, minutes=30)),
    "+00:00": dt.UTC,
}
FORMAT_WEIGHTS = {
    "Z": 35,
    "+09:00": 12,
    "-05:00": 12,
    "+05:30": 4,
    "+00:00": 4,
    "naive": 18,
    "date": 15,
}

# Shifts from a day or month boundary, to put events just before or after it.
BOUNDARY_SHIFTS = [
    dt.timedelta(seconds=-1),
    dt.timedelta(0),
    dt.timedelta(seconds=1),
    dt.timedelta(minutes=-30),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=-4),
    dt.timedelta(hours=4),
    dt.timedelta(hours=-10),
    dt.timedelta(hours=10),
]


def weighted_choice(rng: random.Random, weights: dict[str, int]) -> str:
    names = list(weights)
    return rng.choices(names, weights=[weights[n] for n in names])[0]


def month_start(year: int, month: int) -> dt.datetime:
    return dt.datetime(year, month, 1, tzinfo=UTC)


def random_instant(rng: random.Random, start: dt.datetime = RANGE_START, end: dt.datetime = RANGE_END) -> dt.datetime:
    """A UTC instant in [start, end), often close to a day or month boundary."""
    span = int((end - start).total_seconds())
    base = start + dt.timedelta(seconds=rng.randrange(span))
    roll = rng.random()
    if roll < 0.2:
        # near the start of a month: recalculation instants of the four-tier program
        boundary = month_start(base.year, base.month)
        if rng.random() < 0.5:
            boundary = month_start(base.year + base.month // 12, base.month % 12 + 1)
        return boundary + rng.choice(BOUNDARY_SHIFTS)
    if roll < 0.35:
        # near the start of a day: daily caps and the day of an event
        boundary = dt.datetime(base.year, base.month, base.day, tzinfo=UTC)
        return boundary + rng.choice(BOUNDARY_SHIFTS)
    return base


def format_instant(rng: random.Random, t: dt.datetime) -> str:
    style = weighted_choice(rng, FORMAT_WEIGHTS)
    if style == "date":
        return t.date().isoformat()  # a bare date: 00:00 UTC of that day
    if style == "naive":
        return t.strftime("%Y-%m-%dT%H:%M:%S")  # read as UTC
    local = t.astimezone(OFFSETS[style])
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    return text + ("Z" if style == "Z" else style)


def same_day_in_year(date: dt.date, year: int) -> dt.date:
    if (date.month, date.day) == (2, 29) and not (year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)):
        return dt.date(year, 2, 28)
    return dt.date(year, date.month, date.day)


def random_birthday(rng: random.Random) -> dt.date:
    if rng.random() < 0.2:
        return dt.date(rng.choice(LEAP_BIRTH_YEARS), 2, 29)
    year = rng.randint(1950, 2006)
    return dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))


class MemberHistory:
    """The events of one member, built step by step."""

    def __init__(self, rng: random.Random, member: str) -> None:
        self.rng = rng
        self.member = member
        self.events: list[dict[str, Any]] = []
        self.orders: list[tuple[str, dt.datetime]] = []  # confirmed orders and when
        self.touched_orders: list[str] = []  # orders named by reviews/feedback/...
        self.order_count = 0
        self.id_count = 0

    # -- helpers -----------------------------------------------------------

    def add(
        self,
        type_: str,
        at: dt.datetime,
        fields: dict[str, Any] | None = None,
        *,
        at_text: str | None = None,
    ) -> dict:
        event: dict[str, Any] = {
            "member": self.member,
            "type": type_,
            "at": at_text or format_instant(self.rng, at),
        }
        event.update(fields or {})
        if self.rng.random() < 0.75:
            self.id_count += 1
            event["id"] = f"e{self.id_count}"
        self.events.append(event)
        return event

    def new_order_id(self) -> str:
        self.order_count += 1
        return f"o{self.order_count}"

    def known_order(self) -> tuple[str, dt.datetime] | None:
        return self.rng.choice(self.orders) if self.orders else None

    def some_order_name(self) -> str:
        """An order for reviews, feedback, refunds: usually a confirmed one."""
        roll = self.rng.random()
        if roll < 0.65 and self.orders:
            name = self.rng.choice(self.orders)[0]
        elif roll < 0.8 and self.touched_orders:
            name = self.rng.choice(self.touched_orders)  # repeat (review twice, ...)
        elif roll < 0.9:
            name = f"ghost{self.rng.randint(1, 3)}"  # never confirmed
        else:
            # confirmed only later (or never, when the confirmation lands after as-of)
            name = self.new_order_id()
            self.confirm_order(random_instant(self.rng), name=name)
        self.touched_orders.append(name)
        return name

    def confirm_order(
        self,
        at: dt.datetime,
        *,
        name: str | None = None,
        amount: Any = None,
        category: str | None = None,
    ) -> str:
        name = name or self.new_order_id()
        self.add(
            "order_confirmed",
            at,
            {
                "order": name,
                "amount": amount if amount is not None else self.rng.choice(ORDER_AMOUNTS),
                "category": category or self.rng.choice(CATEGORIES),
            },
        )
        self.orders.append((name, at))
        return name

    # -- one random event --------------------------------------------------

    def random_event(self) -> None:
        rng = self.rng
        kind = weighted_choice(rng, TYPE_WEIGHTS)
        at = random_instant(rng)
        if kind == "visit":
            for _ in range(rng.choice([1, 1, 1, 2, 3])):  # sometimes several a day
                self.add("visit", at + dt.timedelta(minutes=rng.randint(0, 300)))
        elif kind == "order_confirmed":
            self.confirm_order(at)
        elif kind in ("order_returned", "order_fraud"):
            known = self.known_order()
            if known is None or rng.random() < 0.1:
                self.add(kind, at, {"order": f"ghost{rng.randint(1, 3)}"})
                return
            name, confirmed_at = known
            if rng.random() < 0.3:
                # dated before its confirmation (exports round times)
                when = confirmed_at - rng.choice(
                    [
                        dt.timedelta(minutes=5),
                        dt.timedelta(hours=2),
                        dt.timedelta(days=3),
                    ]
                )
            else:
                when = confirmed_at + rng.choice(
                    [
                        dt.timedelta(hours=1),
                        dt.timedelta(days=10),
                        dt.timedelta(days=40),
                        dt.timedelta(days=400),
                    ]
                )
            self.add(kind, when, {"order": name})
        elif kind == "review":
            self.add("review", at, {"order": self.some_order_name()})
        elif kind == "club_post":
            self.add("club_post", at)
        elif kind == "bonus":
            fields: dict[str, Any] = {"points": rng.choice(BONUS_POINTS)}
            if rng.random() < 0.5:
                fields["campaign"] = rng.choice(CAMPAIGNS)
            self.add("bonus", at, fields)
        elif kind == "profile_updated":
            self.add("profile_updated", at, {"birthday": random_birthday(rng).isoformat()})
        elif kind in ("feedback_left", "feedback_received"):
            self.add(kind, at, {"order": self.some_order_name()})
        elif kind == "refund_requested":
            self.refund(at)
        elif kind == "claim_escalated":
            self.add("claim_escalated", at, {"order": self.some_order_name()})
        elif kind == "registered":
            self.add("registered", at)
        else:
            self.add(rng.choice(UNKNOWN_TYPES), at, {"item": f"sku{rng.randint(1, 99)}"})

    def refund(self, at: dt.datetime) -> None:
        fields: dict[str, Any] = {
            "order": self.some_order_name(),
            "amount": self.rng.choice(REFUND_AMOUNTS),
        }
        roll = self.rng.random()
        if roll < 0.2:
            fields["closed_for_security"] = True
        elif roll < 0.4:
            fields["closed_for_security"] = False
        self.add("refund_requested", at, fields)

    # -- scripted episodes ---------------------------------------------------

    def registration(self) -> None:
        rng = self.rng
        roll = rng.random()
        if roll < 0.1:
            return  # never registered
        if roll < 0.2:
            at = dt.datetime(2024, 2, 29, rng.randint(0, 23), tzinfo=UTC)  # anniversaries on 28 Feb
        else:
            at = random_instant(rng, RANGE_START, dt.datetime(2025, 7, 1, tzinfo=UTC))
        self.add("registered", at)
        if rng.random() < 0.1:
            self.add("registered", at + dt.timedelta(days=rng.choice([-40, 3, 200])))  # the earliest counts

    def birthday_story(self) -> None:
        """A date of birth set (or changed) close to the birthday, and a tier then."""
        rng = self.rng
        birth = random_birthday(rng)
        year = rng.choice([2024, 2025, 2026])
        day = same_day_in_year(birth, year)
        start_of_day = dt.datetime(day.year, day.month, day.day, tzinfo=UTC)
        # points in the window of the recalculation at the start of B's month
        self.add(
            "bonus",
            start_of_day - dt.timedelta(days=rng.randint(35, 300)),
            {"points": rng.choice([1, 50, 150])},
        )
        # set 3, 2 (in time), 1 or 0 days before: "at least 2 days before"
        days_before = rng.choice([3, 2, 2, 1, 0])
        at = (
            start_of_day
            - dt.timedelta(days=days_before)
            + rng.choice(
                [
                    dt.timedelta(hours=1),
                    dt.timedelta(hours=23, minutes=59, seconds=59),
                    dt.timedelta(hours=12),
                ]
            )
        )
        self.add("profile_updated", at, {"birthday": birth.isoformat()})
        if rng.random() < 0.5:
            # a later change, close to the (old or new) birthday
            other = birth + dt.timedelta(days=rng.choice([-3, 1, 2, 5, 20]))
            self.add(
                "profile_updated",
                at + dt.timedelta(days=rng.choice([0, 1, 2]), hours=rng.randint(0, 20)),
                {"birthday": other.isoformat()},
            )
        if rng.random() < 0.3:
            # written with an offset whose local date is not the UTC date:
            # local B-1 05:00+09:00 is B-2 20:00 UTC (in time), local B-2
            # 22:00-05:00 is B-1 03:00 UTC (too late)
            at = start_of_day - rng.choice([dt.timedelta(hours=28), dt.timedelta(hours=21)])
            offset = "+09:00" if at.hour == 20 else "-05:00"
            text = at.astimezone(OFFSETS[offset]).strftime("%Y-%m-%dT%H:%M:%S") + offset
            self.add("profile_updated", at, {"birthday": birth.isoformat()}, at_text=text)

    def same_day_orders(self) -> None:
        """Several orders one UTC day: the 5-point daily cap and the category bonus."""
        rng = self.rng
        at = random_instant(rng)
        day = dt.datetime(at.year, at.month, at.day, tzinfo=UTC)
        for _ in range(rng.randint(2, 6)):
            self.confirm_order(
                day + dt.timedelta(seconds=rng.randrange(86400)),
                amount=rng.choice([1.99, 2.0, 2.01, 5, 40]),
            )

    def heavy_shopper(self) -> None:
        """Tens of orders on consecutive days: higher tiers and legacy A3/A4."""
        rng = self.rng
        at = random_instant(rng, RANGE_START, dt.datetime(2026, 6, 1, tzinfo=UTC))
        for _ in range(rng.randint(30, 160)):
            self.confirm_order(at, amount=rng.choice([2.0, 9, 30, 30, 1.5]))
            at += dt.timedelta(days=rng.choice([1, 1, 1, 2]), hours=rng.randint(-3, 3))

    def visit_streak(self) -> None:
        """Visits on many days of one month (10-point monthly cap), several a day."""
        rng = self.rng
        at = random_instant(rng)
        first = month_start(at.year, at.month)
        for day in rng.sample(range(28), rng.randint(8, 16)):
            for _ in range(rng.randint(1, 3)):
                self.add(
                    "visit",
                    first + dt.timedelta(days=day, seconds=rng.randrange(86400)),
                )

    def club_streak(self) -> None:
        """Club posts in one month (10-point monthly cap)."""
        rng = self.rng
        at = random_instant(rng)
        first = month_start(at.year, at.month)
        for _ in range(rng.randint(3, 8)):
            self.add("club_post", first + dt.timedelta(seconds=rng.randrange(27 * 86400)))

    def refunds_at_month_start(self) -> None:
        """Refunds and claims right at a recalculation instant."""
        rng = self.rng
        at = random_instant(rng)
        boundary = month_start(at.year, at.month)
        self.refund(boundary + rng.choice([dt.timedelta(0), dt.timedelta(seconds=-1), dt.timedelta(seconds=1)]))
        if rng.random() < 0.5:
            self.add("claim_escalated", boundary, {"order": self.some_order_name()})

    def repeats(self) -> None:
        """Repeated ids (duplicates) and identical events without an id."""
        rng = self.rng
        with_id = [e for e in self.events if "id" in e]
        for _ in range(rng.randint(0, 4)):
            if not with_id:
                break
            original = rng.choice(with_id)
            if rng.random() < 0.6:
                repeat = dict(original)  # the same event exported twice
            else:
                # another event reusing the id: only the first in input order counts
                repeat = {
                    "member": self.member,
                    "type": "bonus",
                    "at": original["at"],
                    "points": 999,
                    "id": original["id"],
                }
            self.events.insert(rng.randrange(len(self.events) + 1), repeat)
        # Identical events without an id are two events (not order
        # confirmations: a second confirmation of one order is left out).
        copyable = [e for e in self.events if e["type"] != "order_confirmed"]
        if copyable and rng.random() < 0.3:
            copy = {k: v for k, v in rng.choice(copyable).items() if k != "id"}
            self.events.append(copy)


def member_history(rng: random.Random, member: str, events_per_member: int) -> list[dict]:
    history = MemberHistory(rng, member)
    history.registration()
    count = events_per_member
    if rng.random() < 0.15:
        count = rng.randint(0, 4)  # a quiet member: legacy A0, no tier, ignored types only
    for _ in range(count):
        history.random_event()
    episodes = [
        (0.5, history.birthday_story),
        (0.5, history.same_day_orders),
        (0.25, history.heavy_shopper),
        (0.4, history.visit_streak),
        (0.3, history.club_streak),
        (0.3, history.refunds_at_month_start),
    ]
    for probability, episode in episodes:
        if rng.random() < probability:
            episode()
    history.repeats()
    return history.events


def random_history(rng: random.Random, members: int = 5, events_per_member: int = 40) -> list[dict]:
    """A mixed history of `members` members ("m000", ...), in input order."""
    events: list[dict] = []
    for number in range(members):
        events.extend(member_history(rng, f"m{number:03d}", events_per_member))
    if rng.random() < 0.7:
        rng.shuffle(events)  # "A file may hold the events of many members, in any order."
    return events


if __name__ == "__main__":
    import argparse
    import json

    from tests.oracle.domain_oracle import evaluate

    parser = argparse.ArgumentParser(description="Print a random history and the oracle's outcomes.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--members", type=int, default=3)
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None)
    args = parser.parse_args()

    history = random_history(random.Random(args.seed), args.members, args.events)
    print("# history")
    for event in history:
        print(json.dumps(event))
    for program in ("four_tier", "legacy"):
        print(f"# {program} outcomes")
        for outcome in evaluate(program, history, args.as_of):
            print(json.dumps(outcome, sort_keys=True))
