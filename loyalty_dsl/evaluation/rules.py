"""One rule's points for one member, kept up to date as events arrive.

The steps a ledger must show are kept apart:

- a *candidate* is an event of the rule's type, with whether its condition holds
  (re-tested only when a fact it looks up becomes true, e.g. its basket is cancelled);
- a *unit* is what earns: one event, or one distinct `per` key (a day, an order,
  a category of a day); it earns from its earliest passing event, which also
  dates it, so a later event of the same key never earns again;
- `beyond the first` ranks the units of a group and leaves the first unpaid;
- caps allocate points to units in time order, per period;
- kept points are summed per month, so a window is a sum of a few months.

Work is proportional to the events: adding an event touches one unit, a new
fact re-tests only the candidates waiting on it, and `settle` recomputes only
the groups that changed since the last status.
"""

from __future__ import annotations

import datetime as dt
import decimal
import heapq
import math
from collections import defaultdict
from collections.abc import Iterator, Mapping
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any

import attrs

from loyalty_dsl.evaluation.calendar import Calendar
from loyalty_dsl.evaluation.compile import CompiledRule
from loyalty_dsl.evaluation.conditions import Facts
from loyalty_dsl.evaluation.events import Event
from loyalty_dsl.evaluation.exact import decimal_of, multiplied
from loyalty_dsl.language.vocabulary import NEVER, PERIODS

# Rules test facts as they stand. That is right because MemberRun settles every status
# before it applies the events at or after it: each fact known so far is older.
_ONE_GROUP = "one group"
CENT = decimal.Decimal("0.01")
Amount = int | decimal.Decimal  # points and whole measures are ints; a money measure is exact decimals


class Candidate:
    __slots__ = ("event", "factor", "passing", "unit")

    def __init__(self, event: Event, passing: bool, unit: Unit, factor: Fraction | None = None) -> None:
        self.event, self.passing, self.unit = event, passing, unit
        self.factor = factor  # the multipliers of its points, given with the event (None: the rule has none)


class Unit:
    """What earns once: an event, or a distinct key such as a day or an order."""

    __slots__ = (
        "base",
        "candidates",
        "cap_key",
        "cut_by",
        "dirty",
        "factor",
        "first",
        "kept",
        "key",
        "month",
        "outer_key",
        "time",
        "value",
    )

    def __init__(self, key: Any) -> None:
        self.key = key
        self.candidates: list[Candidate] = []
        self.first: Event | None = None  # the earliest passing event: it earns and dates the unit
        self.factor: Fraction | None = None  # the multipliers of the points it earns: its first's
        self.time: tuple[int, int] = (0, 0)
        self.month = 0
        self.base: Amount = 0  # points before `beyond the first` and caps
        self.value: Amount = 0  # points before caps
        self.kept: Amount = 0  # points after caps
        self.cut_by: str | None = None  # the period of the cap that cut it, if any
        self.outer_key: Any = None
        self.cap_key: Any = None
        self.dirty = False


@attrs.frozen
class UnitView:
    """One unit as a reader sees it (see Unit): never changed by the state it was read from."""

    key: Any
    month: int
    time: tuple[int, int]
    first: Event | None
    candidates: tuple[tuple[Event, bool], ...]  # every event of the unit, in time order, and whether it passes
    base: Amount
    value: Amount
    kept: Amount
    cut_by: str | None


@attrs.frozen
class RuleView:
    """A rule's state, read-only: its units and the points it keeps by month."""

    rule: CompiledRule
    cal: Calendar
    units: tuple[UnitView, ...]
    month_kept: Mapping[int, Amount]


class RuleState:
    def __init__(self, rule: CompiledRule, calendar: Calendar) -> None:
        self.rule = rule
        self.cal = calendar
        self.units: dict[Any, Unit] = {}
        self.waiting: dict[tuple[str, Any], list[Candidate]] = {}
        self.dirty: list[Unit] = []
        self.outer: dict[Any, list[Unit]] = defaultdict(list)
        self.groups: dict[Any, list[Unit]] = defaultdict(list)
        self.month_kept: dict[int, Amount] = defaultdict(int)
        self.total: Amount = 0
        self.now = NEVER  # the instant of the status being settled (vesting reads it)
        self.pending: list[tuple[int, int, Unit]] = []  # (vests at, seq, unit): a heap
        self._coarsest = rule.caps[-1][1] if rule.caps else None
        if any(period not in PERIODS for _, period in rule.caps):
            self._coarsest = _ONE_GROUP  # a cap per field spans periods: the rule's units are one group
        self._period_keys = tuple((k, k in PERIODS) for k in rule.per)

    # --- events in --------------------------------------------------------------------

    def add(self, event: Event, facts: Facts, factor: Fraction | None = None) -> None:
        """One event of the rule's type in; `factor` is the product of the multipliers of the points
        it would earn, which the caller knows (they read statuses and other events) and this state
        never asks for: rule state is told, it does not call back."""
        rule = self.rule
        if rule.during is not None and not rule.during(
            dt.date.fromordinal(self.cal.day(event.at)), self.cal.minute_of_day(event.at)
        ):
            return  # outside the campaign: the rule does not apply to it
        key = self._unit_key(event)
        unit = self.units.get(key)
        if unit is None:
            unit = self.units[key] = Unit(key)
        cand = Candidate(event, rule.predicate(event.fields, facts, self._until(event)), unit, factor)
        unit.candidates.append(cand)
        for fact, field in rule.fact_refs:
            value = event.fields.get(field)
            if value not in facts.get(fact, ()):
                self.waiting.setdefault((fact, value), []).append(cand)
        if rule.vesting:
            heapq.heappush(self.pending, (event.at + rule.vesting, event.rank, unit))
        if cand.passing:
            self._touch(unit)

    def fact_established(self, fact: str, value: Any, facts: Facts) -> None:
        for cand in self.waiting.pop((fact, value), ()):
            now = self.rule.predicate(cand.event.fields, facts, self._until(cand.event))
            if now != cand.passing:
                cand.passing = now
                self._touch(cand.unit)

    def earning_event(self, unit: Unit) -> Event | None:
        """The event that makes a unit earn: its first passing one, or the one that reaches the threshold."""
        earning = self._earning(unit)
        return earning.event if earning is not None else None

    def _earning(self, unit: Unit) -> Candidate | None:
        threshold = self.rule.threshold
        vesting, now = self.rule.vesting, self.now
        earning = [c for c in unit.candidates if c.passing and (not vesting or c.event.at + vesting <= now)]
        if threshold is None:  # only points vested by now earn
            return earning[0] if earning else None
        kind, need, key = threshold.kind, threshold.need, threshold.key
        goal = decimal_of(need) if kind == "sum" else need  # compared with a decimal sum: as written
        seen: set[Any] = set()
        total: int | Decimal = 0  # a sum of amounts, added as the decimals they are
        for cand in earning:  # in time order
            event = cand.event
            if kind == "count":
                total += 1
            elif kind == "distinct":
                assert key is not None
                seen.add(self.cal.period(key, event.at) if key in PERIODS else event.fields.get(key))
                total = len(seen)
            else:
                total += decimal_of(event.fields.get(key or "") or 0)
            if total >= goal:
                return cand
        return None

    def _unit_key(self, event: Event) -> Any:
        if not self._period_keys:
            return event.rank
        return tuple(
            self.cal.period(k, event.at) if is_period else event.fields.get(k) for k, is_period in self._period_keys
        )

    def _touch(self, unit: Unit) -> None:
        if not unit.dirty:
            unit.dirty = True
            self.dirty.append(unit)

    # --- settling: bring units, ranks and caps up to date ------------------------------------

    def _until(self, event: Event) -> int:
        """Facts count for a candidate until its points vest (a later return does not take them back)."""
        return event.at + self.rule.vesting if self.rule.vesting else NEVER

    def settle(self, now: int = NEVER) -> None:
        """Bring units, ranks and caps up to date with the events applied, as at instant `now`."""
        self.now = now
        while self.pending and self.pending[0][0] <= now:  # points vested since the last status
            self._touch(heapq.heappop(self.pending)[2])
        if not self.dirty:
            return
        dirty, self.dirty = self.dirty, []
        outer_touched: set[Any] = set()
        groups_touched: set[Any] = set()
        for unit in dirty:
            unit.dirty = False
            earning = self._earning(unit)
            first = earning.event if earning is not None else None
            if first is unit.first:
                continue
            if unit.first is not None:
                self._detach(unit, outer_touched, groups_touched)
            unit.first = first
            unit.factor = earning.factor if earning is not None else None
            if first is not None:
                self._attach(unit, first, outer_touched, groups_touched)
        for key in outer_touched:
            self._rank(key, groups_touched)
        for key in groups_touched:
            self._allocate(key)

    def _attach(self, unit: Unit, first: Event, outer_touched: set[Any], groups_touched: set[Any]) -> None:
        rule = self.rule
        unit.time = (first.at + rule.vesting, first.rank)  # vested points count from when they vest
        unit.month = self.cal.month(unit.time[0])
        unit.base = rule.points_of(first.fields)
        unit.value = 0 if rule.beyond_first else unit.base
        if rule.beyond_first:
            unit.outer_key = unit.key[1:]
            self.outer[unit.outer_key].append(unit)
            outer_touched.add(unit.outer_key)
        if self._coarsest is not None:
            unit.cap_key = 0 if self._coarsest == _ONE_GROUP else self.cal.period(self._coarsest, first.at)
            self.groups[unit.cap_key].append(unit)
            groups_touched.add(unit.cap_key)
        else:
            self._keep(unit, unit.value)

    def _detach(self, unit: Unit, outer_touched: set[Any], groups_touched: set[Any]) -> None:
        self._keep(unit, 0)
        unit.cut_by = None
        if self.rule.beyond_first:
            self.outer[unit.outer_key].remove(unit)
            outer_touched.add(unit.outer_key)
        if self._coarsest is not None:
            self.groups[unit.cap_key].remove(unit)
            groups_touched.add(unit.cap_key)

    def _rank(self, key: Any, groups_touched: set[Any]) -> None:
        """`beyond the first`: the earliest unit of the group earns nothing."""
        for i, unit in enumerate(sorted(self.outer[key], key=lambda u: u.time)):
            unit.value = 0 if i == 0 else unit.base
            if self._coarsest is not None:
                groups_touched.add(unit.cap_key)
            else:
                self._keep(unit, unit.value)

    def _allocate(self, key: Any) -> None:
        """Caps: units take points in time order until their periods' caps are spent."""
        left: dict[tuple[str, int], Amount] = {}
        for unit in sorted(self.groups[key], key=lambda u: u.time):
            assert unit.first is not None
            kept, cut_by = unit.value, None
            if self.rule.caps_after_multipliers:  # the caps count multiplied points
                kept = self._multiplied(unit, kept)
            periods = []
            for cap, period in self.rule.caps:
                key = self.cal.period(period, unit.first.at) if period in PERIODS else unit.first.fields.get(period)
                pk = (period, key)
                room = left.get(pk, cap)
                if room < kept:
                    kept, cut_by = room, period
                periods.append(pk)
            for pk, (cap, _) in zip(periods, self.rule.caps, strict=True):
                left[pk] = left.get(pk, cap) - kept
            unit.cut_by = cut_by
            self._keep(unit, kept, multiplied=self.rule.caps_after_multipliers)

    def _multiplied(self, unit: Unit, kept: Any) -> Any:
        """A unit's amount times the multipliers of the instant it was earned (not the one it vests),
        exactly, rounded down once: to a whole point, or to the cent for a money measure."""
        factor = unit.factor
        if factor is None or not kept or unit.first is None:
            return kept
        if isinstance(kept, decimal.Decimal):
            if factor == 1:
                return kept
            cents = math.floor(Fraction(kept) * factor * 100)
            return (decimal.Decimal(cents) * CENT).quantize(CENT)
        return multiplied(kept, factor)

    def _keep(self, unit: Unit, kept: Any, multiplied: bool = False) -> None:
        if not multiplied:  # multipliers act on points kept after the caps
            kept = self._multiplied(unit, kept)
        delta = kept - unit.kept
        if delta:
            self.month_kept[unit.month] += delta
            self.total += delta
            unit.kept = kept

    # --- reading the state -----------------------------------------------------------------------

    def view(self) -> RuleView:
        """The state as it stands, read-only: what explain reads, without reaching into the units."""
        units = tuple(
            UnitView(
                u.key,
                u.month,
                u.time,
                u.first,
                tuple((c.event, c.passing) for c in u.candidates),
                u.base,
                u.value,
                u.kept,
                u.cut_by,
            )
            for u in self.units.values()
        )
        return RuleView(self.rule, self.cal, units, MappingProxyType(dict(self.month_kept)))

    def points(self, months: range | None) -> Amount:
        """Kept points of the months in the window (all of them for a lifetime window)."""
        pts = self.total if months is None else sum(self.month_kept.get(m, 0) for m in months)
        cap = self.rule.window_cap
        return pts if cap is None else min(pts, cap)

    def earning_units(self, months: range | None) -> Iterator[Unit]:
        """Units dated in the window that earn or were cut, in time order (for a ledger)."""
        live = (u for u in self.units.values() if u.first is not None and u.base > 0)
        chosen = live if months is None else (u for u in live if u.month in months)
        yield from sorted(chosen, key=lambda u: u.time)
