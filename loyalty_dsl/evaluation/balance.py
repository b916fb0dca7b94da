"""Spendable points: lots earned, spent oldest first, and expiring.

Beside the tier points of the window, a program may keep a balance: every
point kept by a rule is a lot, dated when it was earned; a redemption event
spends the oldest lots still valid; a lot expires a number of days or months
after it was earned, or at the end of the period it was earned in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import attrs

from loyalty_dsl.evaluation.calendar import LAST_DAY, LAST_MONTH, US_PER_DAY, Calendar, iso_instant, month_ordinal
from loyalty_dsl.evaluation.compile import CompiledProgram
from loyalty_dsl.evaluation.conditions import Facts
from loyalty_dsl.evaluation.events import Event
from loyalty_dsl.evaluation.rules import RuleState
from loyalty_dsl.language.vocabulary import NEVER

# The decision on a benefit made on an event, (granted, reason), or None when there is none.
Decided = Callable[[str, Event], tuple[bool, str] | None]


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
    redemptions: tuple[dict[str, Any], ...]  # with rules, each keeps the `lots` it spent (for explain)
    lots: tuple[Lot, ...]
    vouchers: tuple[dict[str, Any], ...] | None = None  # None: the program converts no points

    def to_json(self) -> dict[str, Any]:
        return {
            "balance": self.balance,
            "expiring": [{"points": p, "on": d.isoformat()} for p, d in self.expiring],
            "redemptions": [{k: v for k, v in r.items() if k != "lots"} for r in self.redemptions],
        } | ({"vouchers": list(self.vouchers)} if self.vouchers is not None else {})


def expires_at(program: CompiledProgram, earned: int) -> int:
    """The instant a lot earned at `earned` stops counting."""
    if program.expiry is None:
        return NEVER
    kind, amount, unit = program.expiry
    cal = program.calendar
    day = cal.day(earned)
    if kind == "inactive":  # set by the walk over the member's activity (see _redeem)
        return NEVER
    if kind == "after" and unit == "day":
        return cal.day_start(day + amount) if day + amount <= LAST_DAY else NEVER  # beyond year 9999: never
    month = cal.month(earned)
    if (kind == "after" and month + amount > LAST_MONTH) or (
        kind == "after_month_end" and month + amount >= LAST_MONTH
    ):
        return NEVER  # beyond year 9999: never
    if kind == "after_month_end":  # the whole month N months later still counts
        return cal.month_start(month + amount + 1)
    if kind == "after":
        return months_after(cal, earned, amount)
    return cal.month_start(_next_period_month(cal, month, unit))


def months_after(cal: Calendar, instant: int, amount: int) -> int:
    """The start of the same day of the month, `amount` months later (or that month's last day)."""
    date = dt.date.fromordinal(cal.day(instant))
    target = cal.month(instant) + amount
    first = dt.date.fromordinal(month_ordinal(target))
    last = (dt.date.fromordinal(month_ordinal(target + 1)) - dt.timedelta(days=1)).day
    return cal.day_start(first.replace(day=min(date.day, last)).toordinal())


def _next_period_month(cal: Calendar, month: int, unit: str) -> int:
    """The first month after the month, quarter or year (as the program counts them) holding `month`."""
    if unit == "month":
        return month + 1
    size = 3 if unit == "quarter" else 12
    shifted = month - (cal.year_start - 1)
    return (shifted // size + 1) * size + (cal.year_start - 1)


def member_balance(
    program: CompiledProgram,
    states: Sequence[RuleState],
    events: Sequence[Event],
    end: int,
    facts: Facts | None = None,
    decided: Decided | None = None,
    measures_at: Callable[[int], dict[str, Any]] | None = None,
    records: bool = True,
) -> Balance:
    """The balance at `end` from settled rule states holding every event before it (and the member's
    facts, with the instant each was established, for a redemption's `where`; and the decisions on
    the events, for `only when ... is granted`; and the measures at an instant, for a `where` that reads
    them)."""
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
    return balance_of_lots(program, lots, events, end, facts, decided, measures_at, records)


def balance_of_lots(
    program: CompiledProgram,
    lots: list[Lot],
    events: Sequence[Event],
    end: int,
    facts: Facts | None = None,
    decided: Decided | None = None,
    measures_at: Callable[[int], dict[str, Any]] | None = None,
    records: bool = True,
) -> Balance:
    """The balance at `end` from a member's lots (in the order earned) and the claims among `events`:
    member_balance's, and the columnar evaluator's for members with claims or vouchers. The lots'
    `left` is spent as the claims are paid. Without `records`, the claims are walked and paid but
    not written down (a balance read in the pass needs only its sum)."""
    decide = decided or _undecided
    redemptions, vouchers = _redeem(program, lots, events, end, facts or {}, decide, measures_at, records)
    valid = [lot for lot in lots if lot.left and lot.expires > end]
    by_day: dict[int, int] = {}
    for lot in valid:
        if lot.expires != NEVER:
            by_day[lot.expires] = by_day.get(lot.expires, 0) + lot.left
    cal = program.calendar
    expiring = tuple((by_day[t], dt.date.fromordinal(cal.day(t))) for t in sorted(by_day)[:3])
    shown = tuple(v.to_json(cal, end) for v in vouchers) if program.conversion is not None else None
    return Balance(sum(lot.left for lot in valid), expiring, tuple(redemptions), tuple(lots), shown)


def _undecided(benefit: str, event: Event) -> None:
    return None


@attrs.define
class Voucher:
    issued: int  # instant: the end of the period that converted it
    points: int
    value: Decimal
    expires: int  # instant (NEVER without `vouchers expire`)
    used: int | None = None  # instant of the `voucher used` event that spent it

    def to_json(self, cal: Calendar, end: int) -> dict[str, Any]:
        status = "used" if self.used is not None else "expired" if self.expires <= end else "valid"
        return {
            "issued": dt.date.fromordinal(cal.day(self.issued) - 1).isoformat(),  # the period's last day
            "points": self.points,
            "value": str(self.value),
            "expires": dt.date.fromordinal(cal.day(self.expires)).isoformat() if self.expires != NEVER else None,
            "status": status,
            **({"used": iso_instant(self.used)} if self.used is not None else {}),
        }


def conversion_instants(program: CompiledProgram, first: int, end: int) -> list[int]:
    """The ends of each conversion period after `first`, up to `end` (both as instants)."""
    if program.conversion is None or first >= end:
        return []
    cal = program.calendar
    month, out = cal.month(first), list[int]()
    while True:
        month = _next_period_month(cal, month, program.conversion[0])
        if cal.month_start(month) > end:
            return out
        out.append(cal.month_start(month))


def _redeem(
    program: CompiledProgram,
    lots: list[Lot],
    events: Sequence[Event],
    end: int,
    facts: Facts,
    decided: Decided,
    measures_at: Callable[[int], dict[str, Any]] | None = None,
    records: bool = True,
) -> tuple[list[dict[str, Any]], list[Voucher]]:
    """Every claim before `end`, in time order, judged by its rule and paid from the oldest valid lots;
    and the vouchers that conversions issued.

    A program whose one `redeem` is plain keeps today's keys (`points`, `spent`); any other
    lists `event`, `asked`, `spent`, `granted` and, when refused, `reason`.
    """
    rules = {r.event: r for r in program.redemptions}
    claims = [e for e in events if (e.type in rules or e.type == program.voucher_use) and e.at < end]
    inactive = program.expiry[1] if program.expiry is not None and program.expiry[0] == "inactive" else None
    # One walk in time order over earnings, claims and conversions: without activity for `inactive`
    # months, every lot alive dies at the deadline (the latest activity, plus those months).
    walk: list[tuple[int, int, Any]] = [(lot.earned, lot.seq, lot) for lot in lots] + [
        (e.at, e.rank, e) for e in claims
    ]
    walk += [(t, -1, None) for t in conversion_instants(program, lots[0].earned, end)] if lots else []
    walk.sort(key=_at)
    alive: list[Lot] = []
    vouchers: list[Voucher] = []
    latest: int | None = None
    out: list[dict[str, Any]] = []

    deadlines: dict[int, int] = {}  # latest activity -> its deadline (the walk asks at every item)
    # A deadline N months after an instant is more than 26 x N days after it (31 January 23:59 to the
    # start of 28 February is 27 days less a minute, less an hour or two where the clocks change):
    # short of that, nothing can have lapsed, and the calendar need not be asked.
    shortest = (inactive or 0) * 26 * US_PER_DAY

    def lapse(now: int) -> None:
        nonlocal alive
        if inactive is not None and latest is not None and now - latest >= shortest:
            deadline = deadlines.get(latest)
            if deadline is None:
                deadline = deadlines[latest] = months_after(program.calendar, latest, inactive)
            if deadline <= now:
                for lot in alive:
                    lot.expires = deadline
                alive = []

    def spend(usable: list[Lot], points: int) -> tuple[int, list[dict[str, Any]]]:
        taken, parts = 0, []
        for lot in usable:  # oldest first
            if taken == points:
                break
            part = min(lot.left, points - taken)
            lot.left -= part
            taken += part
            if records:
                parts.append({"rule": lot.rule, "earned": iso_instant(lot.earned), "points": part})
        return taken, parts

    for at, _, item in walk:
        lapse(at)
        if isinstance(item, Lot):
            alive.append(item)
            latest = at
            continue
        if item is None:  # a period's end: whole vouchers from the balance, the rest stays
            vouchers += _convert(program, [lot for lot in alive if lot.left and lot.expires > at], at, spend)
            continue
        event = item
        if event.type == program.voucher_use:
            usable_vouchers = [v for v in vouchers if v.used is None and v.expires > event.at]
            if usable_vouchers:
                usable_vouchers[0].used = event.at
            continue
        rule = rules[event.type]
        usable = [lot for lot in alive if lot.left and lot.expires > event.at]
        asked = rule.asked(event.fields)
        decision = decided(rule.decided, event) if rule.decided is not None else None
        measures = measures_at(event.at) if rule.reads_measures and measures_at is not None else None
        points, reason = rule.judge(event.fields, sum(lot.left for lot in usable), facts, event.at, decision, measures)
        taken, spent_lots = spend(usable, points)
        if taken:
            latest = event.at
        if not records:
            continue
        where = {"file": event.file, "line": event.line}
        if program.redemption is not None:
            out.append({"at": iso_instant(event.at), "points": asked, "spent": taken, **where})
            continue
        verdict: dict[str, Any] = {"granted": reason is None} | ({"reason": reason} if reason else {})
        claim = {"at": iso_instant(event.at), "event": event.type, "asked": asked, "spent": taken}
        out.append(claim | verdict | where | {"lots": spent_lots})
    lapse(end)
    if inactive is not None and latest is not None:
        for lot in alive:  # still alive at the end: they die at the next deadline, unless more activity
            lot.expires = months_after(program.calendar, latest, inactive)
    return out, vouchers


def _convert(program: CompiledProgram, usable: list[Lot], at: int, spend: Any) -> list[Voucher]:
    assert program.conversion is not None
    _, size, value = program.conversion
    count = sum(lot.left for lot in usable) // size
    expires = months_after(program.calendar, at, program.voucher_months) if program.voucher_months else NEVER
    issued = []
    for _ in range(count):
        spend(usable, size)
        issued.append(Voucher(at, size, value, expires))
    return issued


def _at(item: tuple[int, int, Any]) -> tuple[int, int, int]:
    """Walk order: by instant and sequence; a conversion at an instant comes before what happens then,
    and at one place a lot comes before a claim (as before)."""
    return item[0], item[1], 0 if isinstance(item[2], Lot) else 1
