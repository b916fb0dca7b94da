"""Realistic synthetic activity histories (DOMAIN.md §1) for the benchmark, deterministic by seed.

    python bench/generate.py --events 1000000 --seed 1 --out /tmp/h1m.jsonl [--parquet /tmp/h1m.parquet]
                             [--per-member 50]

Exactly `--events` lines are written. One member per `--per-member` events on
average (50 by default), with a skewed (log-normal) activity: a few busy members with thousands of events,
many idle ones with a handful, some who stopped long before the end. Each
member's events tell a story: a registration, a date of birth, visits and
orders (several on one day now and then, in different categories), returns
and frauds of their orders, reviews (some of orders never confirmed, some
dated before the confirmation), club posts, bonuses, refunds around the
fast-refund limits, legacy feedback and claims, a few events of types no
program uses, and a few repeated ids (mostly identical re-sends, sometimes a
different event reusing an id, which may come first in the file).

Timestamps span the three years ending 2026-11-30, written with `Z`, with an
offset (+09:00, -05:00, ...), without offset, with fractions of a second, or
as bare dates. Lines come roughly in time order (as an export would), days
interleaving members, a few exported late. All lines are valid for both
programs: nothing is rejected.

The Parquet file, if asked for, holds the same lines as columns (nulls where a
field is absent, `at` as the same strings), converted from the JSON Lines file.
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import gc
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.json as pajson
import pyarrow.parquet as pq

EVENTS_PER_MEMBER = 50
START = calendar.timegm((2023, 12, 1, 0, 0, 0))  # seconds since the epoch, UTC
END = calendar.timegm((2026, 12, 1, 0, 0, 0))  # exclusive: the last day is 2026-11-30
DAY = 86_400
N_DAYS = (END - START) // DAY

# What is left of a member's budget after the registration and the date of birth.
KIND_WEIGHTS: dict[str, float] = {
    "visit": 41.0,
    "order_confirmed": 22.0,
    "review": 7.0,
    "club_post": 5.0,
    "feedback_left": 5.0,
    "feedback_received": 5.0,
    "bonus": 3.0,
    "order_returned": 3.0,
    "refund_requested": 2.5,
    "repeat": 2.5,  # a line reusing an id already used by the member
    "unknown": 2.0,  # a type no program declares
    "order_fraud": 0.5,
    "claim_escalated": 0.5,
}
KINDS = list(KIND_WEIGHTS)
KIND_CUM_WEIGHTS = [sum(list(KIND_WEIGHTS.values())[: i + 1]) for i in range(len(KINDS))]

CATEGORIES = ["home", "toys", "fashion", "beauty", "electronics", "sports", "books", "garden"]
UNKNOWN_TYPES = ["wishlist_added", "coupon_viewed", "newsletter_opened"]
CAMPAIGNS = ["11.11", "xmas", "summer", "618"]
BONUS_POINTS = [0, 5, 10, 20, 50, 100, 200, 500]
BONUS_WEIGHTS = [2, 30, 30, 15, 12, 6, 4, 1]
REFUND_NEAR_LIMITS = [23.99, 24.0, 24.01, 25.0, 25.01, 99.99, 100.0, 100.01]
SMALL_AMOUNTS = [0.5, 0.99, 1.5, 1.99, 2.0, 2.01]
OFFSETS = [9 * 3600, -5 * 3600, 5 * 3600 + 1800, -8 * 3600, 3600, 2 * 3600]

# The Parquet columns: every field a line may carry.
SCHEMA = pa.schema(
    [
        ("member", pa.string()),
        ("type", pa.string()),
        ("at", pa.string()),
        ("id", pa.string()),
        ("order", pa.string()),
        ("amount", pa.float64()),
        ("category", pa.string()),
        ("birthday", pa.string()),
        ("points", pa.int64()),
        ("campaign", pa.string()),
        ("closed_for_security", pa.bool_()),
        ("page", pa.string()),
    ]
)

Event = dict[str, Any]
# A generated line: the second it is exported (file order), its true second (UTC), the event.
Line = tuple[int, int, Event]


# --- timestamps ------------------------------------------------------------------------------

_DAY0 = dt.date(1970, 1, 1)
_DAY_TEXT: dict[int, str] = {}


def _day_text(day: int) -> str:
    text = _DAY_TEXT.get(day)
    if text is None:
        text = _DAY_TEXT[day] = (_DAY0 + dt.timedelta(days=day)).isoformat()
    return text


def _clock(seconds: int) -> str:
    s = seconds % DAY
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


def _offset_text(offset: int) -> str:
    sign = "+" if offset >= 0 else "-"
    minutes = abs(offset) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def format_instant(rng: random.Random, t: int) -> str:
    """The instant `t` (UTC seconds) as an export might write it; a bare date truncates it to 00:00 UTC."""
    style = rng.random()
    if style < 0.45:
        return f"{_day_text(t // DAY)}T{_clock(t)}Z"
    if style < 0.65:
        offset = rng.choice(OFFSETS)
        local = t + offset
        return f"{_day_text(local // DAY)}T{_clock(local)}{_offset_text(offset)}"
    if style < 0.85:
        return f"{_day_text(t // DAY)}T{_clock(t)}"
    if style < 0.95:
        return _day_text(t // DAY)
    return f"{_day_text(t // DAY)}T{_clock(t)}.{rng.randrange(1000):03d}Z"


# --- one member's story ------------------------------------------------------------------------


class Member:
    """Draws one member's events: `story()` returns exactly `budget` lines."""

    def __init__(self, rng: random.Random, name: str, budget: int) -> None:
        self.rng = rng
        self.name = name
        self.budget = budget
        self.begin = START + int(rng.random() * (END - START - 7 * DAY))
        idle = rng.random() < 0.3  # stopped at some point, maybe long ago (`emit` folds a day beyond END back)
        self.end = self.begin + int(rng.random() * (END - self.begin)) + DAY if idle else END
        self.next_id = 0
        self.orders: list[tuple[str, int, float]] = []  # (order id, second confirmed, amount)
        self.lines: list[Line] = []

    def when(self) -> int:
        return self.begin + int(self.rng.random() * (self.end - self.begin))

    def new_id(self) -> str:
        self.next_id += 1
        return f"e{self.next_id}"

    def emit(self, t: int, type_: str, fields: Event, with_id: bool = True) -> None:
        if t >= END:  # a follow-up beyond the export: folded back into its last ten days
            t = END - 1 - (t - END) % (10 * DAY)
        t = max(t, START)
        event: Event = {"member": self.name, "type": type_, "at": format_instant(self.rng, t)}
        if with_id:
            event["id"] = self.new_id()
        event.update(fields)
        late = self.rng.random() < 0.05  # exported a few days late
        self.lines.append((t + (int(self.rng.random() * 3 * DAY) if late else 0), t, event))

    def story(self) -> list[Line]:
        rng = self.rng
        left = self.budget
        if left and rng.random() < 0.92:
            self.emit(self.begin, "registered", {}, with_id=rng.random() < 0.5)
            left -= 1
        if left and rng.random() < 0.55:
            self.profile(first=True)
            left -= 1
            if left and rng.random() < 0.1:  # a changed date of birth
                self.profile(first=False)
                left -= 1
        kinds = rng.choices(KINDS, cum_weights=KIND_CUM_WEIGHTS, k=left)
        counts = {kind: kinds.count(kind) for kind in KINDS}
        self.confirm_orders(counts.pop("order_confirmed"))
        repeats = counts.pop("repeat")
        makers = self.makers()
        for kind, count in counts.items():
            make = makers[kind]
            for _ in range(count):
                make()
        for _ in range(repeats):
            self.repeat()
        return self.lines

    def makers(self) -> dict[str, Callable[[], None]]:
        return {
            "visit": lambda: self.emit(self.when(), "visit", {}),
            "club_post": lambda: self.emit(self.when(), "club_post", {}),
            "review": lambda: self.about_order("review", -DAY, 60 * DAY, unconfirmed=0.15),
            "feedback_left": lambda: self.about_order("feedback_left", 0, 30 * DAY, unconfirmed=0.1),
            "feedback_received": lambda: self.about_order("feedback_received", 0, 30 * DAY, unconfirmed=0.1),
            "order_returned": lambda: self.about_order("order_returned", -DAY, 40 * DAY, unconfirmed=0.0),
            "order_fraud": lambda: self.about_order("order_fraud", 0, 20 * DAY, unconfirmed=0.0),
            "claim_escalated": lambda: self.about_order("claim_escalated", 0, 30 * DAY, unconfirmed=0.0),
            "refund_requested": self.refund,
            "bonus": self.bonus,
            "unknown": self.unknown,
        }

    def confirm_orders(self, count: int) -> None:
        rng = self.rng
        times = sorted(self.when() for _ in range(count))
        for i, t in enumerate(times):
            if i and rng.random() < 0.3:  # a spree: another order the same day, often another category
                t = min(times[i - 1] + int(rng.random() * 3 * 3600), END - 1)
                times[i] = t
            roll = rng.random()
            amount = rng.choice(SMALL_AMOUNTS) if roll < 0.1 else round(rng.lognormvariate(2.7, 0.9), 2)
            order = f"o{len(self.orders) + 1}"
            self.orders.append((order, t, amount))
            self.emit(t, "order_confirmed", {"order": order, "amount": amount, "category": rng.choice(CATEGORIES)})

    def pick_order(self, unconfirmed: float) -> tuple[str, int]:
        if not self.orders or self.rng.random() < unconfirmed:
            return f"u{self.rng.randrange(1, 50)}", self.when()
        order, t, _ = self.rng.choice(self.orders)
        return order, t

    def about_order(self, type_: str, earliest: int, latest: int, unconfirmed: float) -> None:
        order, t = self.pick_order(unconfirmed)
        self.emit(t + earliest + int(self.rng.random() * (latest - earliest)), type_, {"order": order})

    def refund(self) -> None:
        rng = self.rng
        if self.orders and rng.random() < 0.5:
            order, t, amount = rng.choice(self.orders)
        else:
            (order, t), amount = self.pick_order(0.0), rng.choice(REFUND_NEAR_LIMITS)
        fields: Event = {"order": order, "amount": amount}
        roll = rng.random()
        if roll < 0.4:
            fields["closed_for_security"] = roll < 0.1
        self.emit(t + int(rng.random() * 20 * DAY), "refund_requested", fields)

    def bonus(self) -> None:
        fields: Event = {"points": self.rng.choices(BONUS_POINTS, weights=BONUS_WEIGHTS)[0]}
        if self.rng.random() < 0.5:
            fields["campaign"] = self.rng.choice(CAMPAIGNS)
        self.emit(self.when(), "bonus", fields)

    def unknown(self) -> None:
        self.emit(self.when(), self.rng.choice(UNKNOWN_TYPES), {"page": f"p{self.rng.randrange(100)}"})

    def profile(self, first: bool) -> None:
        rng = self.rng
        year = rng.randrange(1950, 2008)
        birthday = dt.date(year, 2, 29) if year % 4 == 0 and rng.random() < 0.02 else dt.date(year, 1, 1)
        if birthday.month == 1:
            birthday += dt.timedelta(days=rng.randrange(365))
        t = self.begin + int(rng.random() * DAY) if first else self.when()
        self.emit(t, "profile_updated", {"birthday": birthday.isoformat()}, with_id=rng.random() < 0.7)

    def repeat(self) -> None:
        """Mostly the same line sent again later; sometimes another event reusing the id."""
        rng = self.rng
        picked = [rng.choice(self.lines) for _ in range(8)] if self.lines else []
        with_id = [line for line in picked if "id" in line[2]]
        if not with_id:
            self.emit(self.when(), "visit", {})
            return
        exported, t, event = with_id[0]
        if rng.random() < 0.8:
            self.lines.append((exported + int(rng.random() * 7 * DAY), t, event))
            return
        moved = min(max(t + int((rng.random() - 0.5) * 4 * DAY), START), END - 1)
        other = dict(event, at=format_instant(rng, moved))
        if rng.random() < 0.5:
            other = {"member": self.name, "type": "visit", "at": other["at"], "id": event["id"]}
        self.lines.append((moved, moved, other))


# --- the whole history ---------------------------------------------------------------------


def budgets(rng: random.Random, events: int, per_member: int = EVENTS_PER_MEMBER) -> list[int]:
    """Events per member: log-normal shares of `events`, at least 1 each, summing to `events`."""
    members = max(1, events // per_member)
    weights = [rng.lognormvariate(0.0, 1.3) for _ in range(members)]
    total = sum(weights)
    counts = [max(1, int(w / total * events)) for w in weights]
    diff = events - sum(counts)
    if diff > 0:
        for i in rng.choices(range(members), weights=weights, k=diff):
            counts[i] += 1
    while diff < 0:
        i = rng.randrange(members)
        if counts[i] > 1:
            counts[i] -= 1
            diff += 1
    return counts


def generate_lines(events: int, seed: int, per_member: int = EVENTS_PER_MEMBER) -> list[bytearray]:
    """The serialised lines, one buffer per export day (the file order)."""
    gc.disable()  # millions of small objects and no cycles: the collector would take half the time
    try:
        return _lines(events, seed, per_member)
    finally:
        gc.enable()


def _lines(events: int, seed: int, per_member: int) -> list[bytearray]:
    rng = random.Random(seed)
    counts = budgets(rng, events, per_member)
    width = len(str(len(counts)))
    days = [bytearray() for _ in range(N_DAYS + 3)]
    for i, budget in enumerate(counts):
        for exported, _, event in Member(rng, f"m{i:0{width}d}", budget).story():
            days[min((exported - START) // DAY, N_DAYS + 2)] += orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE)
    return days


def write_jsonl(events: int, seed: int, out: Path, per_member: int = EVENTS_PER_MEMBER) -> None:
    with out.open("wb") as f:
        for day in generate_lines(events, seed, per_member):
            f.write(day)


def jsonl_to_parquet(jsonl: Path, parquet: Path) -> None:
    """The same lines as Parquet columns, streamed (nulls where a field is absent)."""
    parse = pajson.ParseOptions(explicit_schema=SCHEMA, unexpected_field_behavior="error")
    reader = pajson.open_json(jsonl, read_options=pajson.ReadOptions(block_size=16 << 20), parse_options=parse)
    with pq.ParquetWriter(parquet, SCHEMA) as writer:
        for batch in reader:
            writer.write_batch(batch)


def generate(
    events: int, seed: int, out: Path, parquet: Path | None = None, per_member: int = EVENTS_PER_MEMBER
) -> None:
    write_jsonl(events, seed, out, per_member)
    if parquet is not None:
        jsonl_to_parquet(out, parquet)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, required=True, help="number of lines to write")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="the JSON Lines file")
    parser.add_argument("--parquet", type=Path, help="also write the same events as Parquet here")
    parser.add_argument(
        "--per-member",
        type=int,
        default=EVENTS_PER_MEMBER,
        help=f"lines a member on average: the history's shape (default {EVENTS_PER_MEMBER})",
    )
    args = parser.parse_args()
    if args.per_member < 1:
        parser.error("--per-member must be at least 1")
    started = time.perf_counter()
    generate(args.events, args.seed, args.out, args.parquet, args.per_member)
    took = time.perf_counter() - started
    print(f"{args.events} events (seed {args.seed}, {args.per_member} a member) in {took:.1f} s: {args.out}")


if __name__ == "__main__":
    main()
