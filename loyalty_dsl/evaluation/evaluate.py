"""A compiled program over one member's time-ordered events -> that member's outcome.

One pass over the events. Before the events of an instant are applied, every
status the outcome needs at that instant (a recalculation, a decision's
moment, a grant day) is settled and kept, so each status counts exactly the
events before it. Grants and decisions then read those statuses.
"""

from __future__ import annotations

import bisect
import datetime as dt
import decimal
import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import attrs

from loyalty_dsl.evaluation.balance import Balance, Decided, member_balance
from loyalty_dsl.evaluation.calendar import Calendar, iso_instant
from loyalty_dsl.evaluation.compile import CompiledGrant, CompiledMultiplier, CompiledProgram, Tier
from loyalty_dsl.evaluation.conditions import Facts, render_value
from loyalty_dsl.evaluation.events import Event
from loyalty_dsl.evaluation.exact import multiplied
from loyalty_dsl.evaluation.grants import candidate_days
from loyalty_dsl.evaluation.retention import TierKeeper
from loyalty_dsl.evaluation.rules import RuleState
from loyalty_dsl.language.vocabulary import MAX_EXACT


class PointsOutOfRange(Exception):
    """A member's points beyond MAX_EXACT: the outcome is withheld, with the event it went past at."""

    def __init__(self, member: str, event: Event | None) -> None:
        place = f" ({event.file}:{event.line})" if event is not None else ""
        super().__init__(f"member {member}: points exceed {MAX_EXACT}{place}")
        self.member = member


CENTS = decimal.Decimal("0.00")  # a money measure's zero, so that it sums exactly


@attrs.frozen
class Status:
    """The points and tier in force from a recalculation (or, continuous, an instant)."""

    instant: int
    points: int
    by_rule: dict[str, int]
    tier: Tier | None
    points_tier: Tier | None = None  # the tier the points alone give, where retention kept another
    measures: dict[str, Any] = attrs.field(factory=dict)  # each measure's count beside points, by name
    balance: int | None = None  # the spendable points at the instant, where a tier or a decision reads it


@attrs.frozen
class Grant:
    benefit: str
    on: dt.date


@attrs.frozen
class GrantVerdict:
    benefit: str
    line: int
    on: dt.date
    granted: bool
    reason: str


@attrs.frozen
class Decision:
    benefit: str
    key: str | None
    key_value: Any
    granted: bool
    reason: str
    event: Event


@attrs.frozen
class Outcome:
    member: str
    as_of: dt.date
    status: Status
    grants: tuple[Grant, ...]
    decisions: tuple[Decision, ...]
    balance: Balance | None = None  # when the program keeps spendable points
    retained: bool = False  # the program keeps tiers beyond their points (tier_by_points is shown)
    pending: int | None = None  # points earned and not vested yet, when the program has vesting rules

    @property
    def tier(self) -> str | None:
        return self.status.tier.name if self.status.tier else None

    @property
    def points(self) -> int:
        return self.status.points

    @property
    def benefits(self) -> dict[str, dict[str, Any]]:
        """Each benefit in force with its parameters."""
        return dict(self.status.tier.benefits) if self.status.tier else {}

    def to_json(self) -> dict[str, Any]:
        tier = self.status.tier
        decisions = []
        for d in self.decisions:
            item: dict[str, Any] = {"benefit": d.benefit}
            if d.key is not None and d.key_value is not None:
                item[d.key] = d.key_value
            item.update(granted=d.granted, reason=d.reason, at=iso_instant(d.event.at))
            decisions.append(item)
        return {
            "member": self.member,
            "as_of": self.as_of.isoformat(),
            "points": self.status.points,
            "tier": tier.name if tier else None,
            "benefits": dict(tier.benefits) if tier else {},
            "grants": [{"benefit": g.benefit, "on": g.on.isoformat()} for g in self.grants],
            "decisions": decisions,
            "points_by_rule": self.status.by_rule,
            **(self.balance.to_json() if self.balance is not None else {}),
            **(
                {"tier_by_points": self.status.points_tier.name if self.status.points_tier else None}
                if self.retained
                else {}
            ),
            **({"pending_points": self.pending} if self.pending is not None else {}),
            **({"measures": measures_json(self.status.measures)} if self.status.measures else {}),
        }


def measures_json(measures: dict[str, Any]) -> dict[str, int | float]:
    """Measures for JSON: whole counts as integers, money as the number of its cents (350.0, 7.99)."""
    return {k: v if isinstance(v, int) else float(v) for k, v in measures.items()}


class MemberRun:
    """The evaluation state of one member; `run()` gives the outcome."""

    def __init__(
        self,
        program: CompiledProgram,
        member: str,
        events: Sequence[Event],
        as_of: dt.date,
        extra_instants: Sequence[int] = (),
    ) -> None:
        self.program = program
        self.member = member
        self.cal: Calendar = program.calendar
        self.as_of = as_of
        self.end = self.cal.end_of_day(as_of)  # "--as-of D": the start of local day D+1 (DOMAIN.md §2)
        # Only what happened before the evaluation instant counts.
        self.events = [e for e in events if e.at < self.end]
        self.facts: Facts = {fact: {} for facts in program.facts_by_type.values() for fact, _ in facts}
        self.states = [RuleState(r, self.cal) for r in program.rules]
        self.by_type: dict[str, list[RuleState]] = {}
        for st in self.states:
            self.by_type.setdefault(st.rule.on, []).append(st)
        self.statuses: dict[int, Status] = {}
        # The tier in force at each status as it is settled (multipliers by tier read it then).
        self.keeper = (
            TierKeeper(program.retention, program.tiers, self.cal, program.calendar_year is not None)
            if program.retention
            else None
        )
        self._dates: dict[tuple[str, str], tuple[list[int], list[Any]]] = {}  # see _member_date
        # The multipliers of each rule, by its state: the factor of an event's points is given to the
        # state with the event (see apply), so rule state never reads this run's statuses itself.
        self.multipliers: dict[str, list[CompiledMultiplier]] = {}  # rule name -> its multipliers
        for m in program.multipliers:
            self.multipliers.setdefault(m.rule, []).append(m)
        self.witnesses: dict[tuple[str, Any], Event] = {}  # (fact, value) -> the event that made it true
        self.extra_instants = extra_instants  # more statuses to keep (a timeline)
        self.grant_days: dict[CompiledGrant, list[int]] = {}  # filled by run(): the days each grant may fall on
        self.applied: Event | None = None  # the latest event applied (named if the points leave the range)
        self.quiet: int | None = None  # set by run(): see _quiet_instant
        self.balance_instants: list[int] = []  # where a decision reads the balance: at its event's instant
        self.balances: dict[int, int] = {}

    def run(self) -> Outcome:
        p = self.program
        # From `quiet` on, every status is the one at it: no status after it is settled, and a grant
        # day after it is looked at only if that status grants it (work grows with events, not days).
        self.quiet = self._quiet_instant() if not self.extra_instants else None
        as_of_day = self.as_of.toordinal()
        last_day = as_of_day if self.quiet is None else min(as_of_day, self.cal.day(self.quiet))
        self.grant_days = {g: candidate_days(g, self.events, self.cal, last_day) for g in p.grants}
        decided_types = {d.on for d in p.decisions}
        wanted = {self._key(self.end)}
        wanted.update(self._key(e.at) for e in self.events if e.type in decided_types)
        measured_claims = {r.event for r in p.redemptions if r.reads_measures}  # their `where` reads the status
        wanted.update(self._key(e.at) for e in self.events if e.type in measured_claims and e.at < self.end)
        wanted.update(self._key(self.cal.day_start(d)) for days in self.grant_days.values() for d in days)
        wanted.update(p.status_instant(t) for t in self.extra_instants if t <= self.end)
        if p.retention is not None and self.events and not p.continuous:  # every recalculation is read
            wanted.update(self.cal.recalculations(self.events[0].at, self._key(self.end)))
        wanted.update(self.tier_instants(self._key(self.end)))
        if p.decision_balance:
            self.balance_instants = sorted({e.at for e in self.events if e.type in decided_types})
        self._apply_events(sorted(wanted))
        if self.quiet is not None and last_day < as_of_day:
            tier = self.statuses[self.quiet].tier
            for g in p.grants:
                if tier is not None and g.benefit in tier.benefits:
                    self.grant_days[g] = candidate_days(g, self.events, self.cal, as_of_day)
        final = self.statuses[self._key(self.end)]
        decided = self._decisions()
        balance = self._balance(decided) if p.expiry is not None or p.redemptions or p.conversion else None
        pending = self._pending() if any(r.vesting for r in p.rules) else None
        if max(abs(balance.balance) if balance else 0, abs(pending or 0)) > MAX_EXACT:
            raise PointsOutOfRange(self.member, self._latest_earning())
        return Outcome(
            member=self.member,
            as_of=self.as_of,
            status=attrs.evolve(final, instant=p.status_instant(self.end)),
            grants=self._grants(),
            decisions=decided,
            balance=balance,
            retained=p.retention is not None,
            pending=pending,
        )

    def _quiet_instant(self) -> int | None:
        return quiet_instant(self.program, self.events[-1].at if self.events else None, self.end)

    def _key(self, instant: int) -> int:
        return status_key(self.program, self.quiet, instant)

    def _pending(self) -> int:
        """Points of events that pass their rule but have not vested by the end (multiplied, before caps)."""
        total = 0
        for st in self.states:
            vesting = st.rule.vesting
            if not vesting or st.rule.into is not None:
                continue
            st.settle(self.end)
            for unit in st.units.values():
                waiting = [c for c in unit.candidates if c.passing and c.event.at + vesting > self.end]
                if unit.first is None and waiting:
                    points = int(st.rule.points_of(waiting[0].event.fields))
                    factor = waiting[0].factor
                    total += multiplied(points, factor) if factor is not None else points
        return total

    def _factor(self, multipliers: list[CompiledMultiplier], instant: int, fields: dict[str, Any]) -> Fraction:
        """The product of the multipliers that apply to points earned at `instant` by an event with `fields`
        (or the largest of them, for a rule whose multipliers do not combine), exact."""
        applying: list[Fraction] = []
        day = dt.date.fromordinal(self.cal.day(instant))
        minute = self.cal.minute_of_day(instant)
        for m in multipliers:
            if m.during is not None and not m.during(day, minute):
                continue
            if m.where is not None and not m.where(fields, self.facts, instant):
                continue
            if m.tiers:
                status = self.statuses.get(self.program.status_instant(instant))
                if status is None or status.tier is None or status.tier.name not in m.tiers:
                    continue
            if m.date_of is not None:
                date = self._member_date(m.date_of.event, m.date_of.field, m.date_of.latest, instant)
                if date is None or date.month != day.month:
                    continue
            applying.append(m.factor)
        if applying and multipliers[0].rule in self.program.largest_only:
            return max(applying)
        return math.prod(applying, start=Fraction(1))

    def tier_instants(self, until: int) -> list[int]:
        """The statuses the tier in force is settled at, before `until`, for multipliers by tier and (in a
        continuous calendar year) retention. At recalculations: from the first event's month on, whose
        status (0 points, before any event) holds a tier from 0 points from the first event. In a
        continuous year: each event's instant (the tier its points are earned in) and, for retention, the
        instant after it (each tier reached)."""
        p = self.program
        by_tier = any(m.tiers for m in p.multipliers)
        if not self.events:
            return []
        if p.continuous and p.calendar_year is not None:
            found = {e.at for e in self.events} if by_tier else set()
            if p.retention is not None:
                found.update(e.at + 1 for e in self.events)
            return sorted(t for t in found if t < until)
        if not by_tier:
            return []
        first = self.events[0].at
        return [self.cal.recalculation(first), *self.cal.recalculations(first, self.program.status_instant(until))]

    def _member_date(self, event_type: str, field: str, latest: bool, instant: int) -> dt.date | None:
        """A date the member gave (a name day): from the latest (or first) such event before `instant`."""
        key = (event_type, field)
        if key not in self._dates:  # (instants, values) of the events giving it, in time order
            given = [(e.at, e.fields[field]) for e in self.events if e.type == event_type and e.fields.get(field)]
            self._dates[key] = ([at for at, _ in given], [value for _, value in given])
        instants, values = self._dates[key]
        before = bisect.bisect_left(instants, instant)  # events strictly before `instant`
        if not before:
            return None
        value = values[before - 1] if latest else values[0]
        return value if isinstance(value, dt.date) else None

    def _balance(self, decided: tuple[Decision, ...]) -> Balance:
        for st in self.states:  # every event before the end is applied: bring the units up to it
            st.settle(self.end)
        return member_balance(
            self.program, self.states, self.events, self.end, self.facts, decided_by(decided), self._measures_at
        )

    def _balance_in_pass(self, instant: int) -> int:
        """The balance at an instant of the pass (a tier or a decision reads it), its claims judged as
        the final balance judges them: the facts so far, the decisions and measures at their instants."""
        before = [e for e in self.events if e.at < instant]
        facts, decide, measures = self.facts, self._decision_of, self._measures_at
        return member_balance(self.program, self.states, before, instant, facts, decide, measures, False).balance

    def _decision_of(self, benefit: str, event: Event) -> tuple[bool, str] | None:
        """The decision on `benefit` made on an event of the pass, from the status settled at its instant."""
        return decision_on(self.program, benefit, event, self.status_at, self.facts, self.balances.get(event.at))

    def _measures_at(self, instant: int) -> dict[str, Any]:
        return self.status_at(instant).measures

    # --- the pass over the events ---------------------------------------------------

    def _apply_events(self, wanted: list[int]) -> None:
        """Apply every event in time order, settling each wanted status (and each balance a decision
        reads) just before its instant."""
        marks = sorted([(t, False) for t in wanted] + [(t, True) for t in self.balance_instants])
        i = 0
        for event in self.events:
            while i < len(marks) and marks[i][0] <= event.at:
                self._mark(*marks[i])
                i += 1
            self.apply(event)
        for mark in marks[i:]:
            self._mark(*mark)

    def _mark(self, instant: int, balance: bool) -> None:
        if not balance:
            self._settle(instant)
            return
        for st in self.states:
            st.settle(instant)
        self.balances[instant] = self._balance_in_pass(instant)

    def apply(self, event: Event) -> None:
        """One event in: the facts it establishes, then the rules it is a candidate of."""
        for fact, field in self.program.facts_by_type.get(event.type, ()):
            value = event.fields.get(field)
            known = self.facts[fact]
            if value is not None and value not in known:
                known[value] = event.at
                self.witnesses[(fact, value)] = event
                for st in self.states:
                    st.fact_established(fact, value, self.facts)
        for st in self.by_type.get(event.type, ()):
            applying = self.multipliers.get(st.rule.name)
            st.add(event, self.facts, self._factor(applying, event.at, event.fields) if applying else None)
        self.applied = event

    def window(self, instant: int) -> range | None:
        """The months whose points count at a status instant (None: all of them)."""
        months = self.program.window_months
        if self.program.calendar_year is not None:
            return self._year_window(instant)
        if months is None:
            return None
        current = self.cal.month(instant)  # a recalculation opens this month
        return range(current - months, current)

    def _year_window(self, instant: int) -> range:
        """A calendar year's months: those of the year holding the last instant a status counts, up to its
        month. So a status at the first instant of a year (an outcome as of 31 December, the recalculation
        of 1 January) shows the year just ended, and the first event of the new year starts from 0."""
        last = self.cal.month(instant - 1)
        first = last - (last - (self.cal.year_start - 1)) % 12
        return range(first, last + 1)

    def _settle(self, instant: int) -> None:
        window = self.window(instant)
        by_rule = {}
        measures: dict[str, Any] = {name: CENTS if money else 0 for name, money in self.program.measures}
        for st in self.states:
            st.settle(instant)
            if st.rule.into is None:
                by_rule[st.rule.name] = int(st.points(window))  # points are whole: only money measures are not
            else:  # a measure counts over the window like points
                measures[st.rule.into] += st.points(window)
        points = sum(by_rule.values())
        if max([abs(points), *map(abs, by_rule.values())]) > MAX_EXACT:
            raise PointsOutOfRange(self.member, self._latest_earning())
        balance = None
        if self.program.status_balance:  # the spendable points at this instant: its events are all applied
            balance = self._balance_in_pass(instant)
        tier = self.program.tier_of(points, measures, balance)
        kept = tier if self.keeper is None else self.keeper.tier_at(instant, tier)
        self.statuses[instant] = Status(
            instant, points, by_rule, kept, tier if self.keeper is not None else None, measures, balance
        )

    def _latest_earning(self) -> Event | None:
        """The latest event that earned points so far: where a sum went beyond the range."""
        earning = [u.first for st in self.states for u in st.units.values() if u.first is not None and u.kept]
        return max(earning, key=lambda e: (e.at, e.rank), default=self.applied)

    def status_at(self, instant: int) -> Status:
        return self.statuses[self._key(instant)]

    # --- grants and decisions --------------------------------------------------------------

    def grant_verdicts(self) -> list[GrantVerdict]:
        """Every day a grant could fall on, and whether it did and why (grants and explain read it)."""
        return grant_verdicts(self.grant_days, self.cal, self.status_at)

    def _grants(self) -> tuple[Grant, ...]:
        return granted(self.grant_verdicts())

    def _decisions(self) -> tuple[Decision, ...]:
        return decisions(self.program, self.events, self.status_at, self.facts, self.balances.get)


# --- grants and decisions, from the statuses (the columnar evaluator reads them too) ----------------


def grant_verdicts(
    grant_days: dict[CompiledGrant, list[int]], cal: Calendar, status_at: Callable[[int], Status]
) -> list[GrantVerdict]:
    """Every day each grant could fall on, and whether it did and why."""
    out = []
    for grant, days in grant_days.items():
        given: dict[int, dt.date] = {}  # year -> the day given, for "at most once a year"
        for day in sorted(days):
            date = dt.date.fromordinal(day)
            status = status_at(cal.day_start(day))
            tier = status.tier
            if tier is None:
                ok, reason = False, f"no tier at {status.points} points on {date.isoformat()}"
            elif grant.benefit not in tier.benefits:
                ok, reason = False, f"{tier.name} has no {grant.benefit} on {date.isoformat()}"
            elif grant.once_a_year and date.year in given:
                ok, reason = False, f"already given on {given[date.year].isoformat()} (once a year)"
            else:
                given[date.year] = date
                ok, reason = True, f"{tier.name} ({status.points} points) has {grant.benefit}"
            out.append(GrantVerdict(grant.benefit, grant.line, date, ok, reason))
    return out


def granted(verdicts: list[GrantVerdict]) -> tuple[Grant, ...]:
    given = (Grant(v.benefit, v.on) for v in verdicts if v.granted)
    return tuple(sorted(given, key=lambda g: (g.on, g.benefit)))


def decisions(
    program: CompiledProgram,
    events: Sequence[Event],
    status_at: Callable[[int], Status],
    facts: Facts,
    balance_at: Callable[[int], int | None] | None = None,
) -> tuple[Decision, ...]:
    """A decision for each event a `decide` is on, in event order, by the status at its instant
    (and the balance at that instant, where a decision reads it)."""
    by_type: dict[str, list[Any]] = {}
    for d in program.decisions:
        by_type.setdefault(d.on, []).append(d)
    out = []
    for event in events:
        for d in by_type.get(event.type, ()):
            balance = balance_at(event.at) if balance_at is not None else None
            ok, reason = _decide(d, event, status_at(event.at), facts, balance)
            key_value = event.fields.get(d.key) if d.key else None
            out.append(Decision(d.benefit, d.key, key_value, ok, reason, event))
    return tuple(out)


def decided_by(decided: Sequence[Decision]) -> Decided:
    """The decisions made, as a claim's `only when B is granted` reads them (by benefit and event)."""
    by_event = {(d.benefit, d.event.seq): (d.granted, d.reason) for d in decided}
    return lambda benefit, event: by_event.get((benefit, event.seq))


def decision_on(
    program: CompiledProgram,
    benefit: str,
    event: Event,
    status_at: Callable[[int], Status],
    facts: Facts,
    balance: int | None,
) -> tuple[bool, str] | None:
    """The decision on `benefit` an event gets (None: no `decide` of it is on the event's type), as a
    claim's `only when B is granted` reads it while the balance is walked."""
    for d in program.decisions:
        if d.benefit == benefit and d.on == event.type:
            return _decide(d, event, status_at(event.at), facts, balance)
    return None


def _decide(d: Any, event: Event, status: Status, facts: Facts, balance: int | None = None) -> tuple[bool, str]:
    tier = status.tier
    if tier is None:
        return False, f"no tier at {status.points} points, so no {d.benefit}"
    if d.benefit not in tier.benefits:
        return False, f"{tier.name} has no {d.benefit}"
    params = tier.benefits[d.benefit]
    if d.test is None:
        shown = ", ".join(f"{k} {render_value(v, None)}" for k, v in params.items())
        return True, f"{tier.name} has {d.benefit}" + (f" ({shown})" if shown else "")
    # A condition reads the event's fields, then the benefit's parameters, then the member's measures.
    seen = {"points": status.points, "balance": balance, **status.measures, **params}
    ok, why = d.test(event.fields, seen, facts, event.at)
    return ok, f"{tier.name}: {why}"


def status_key(p: CompiledProgram, quiet: int | None, instant: int) -> int:
    """The instant of the status kept for `instant`: none is settled after the quiet instant."""
    key = p.status_instant(instant)
    return key if quiet is None or key <= quiet else quiet


def quiet_instant(p: CompiledProgram, last_event: int | None, end: int) -> int | None:
    """A status instant before the end after which no status changes, if there is one: the
    last event (and vesting) is applied, its points have left the window, retention is done."""
    cal = p.calendar
    if last_event is None or p.calendar_year is not None or p.status_balance:
        return None  # a calendar year's points leave at its end; a balance changes as points expire
    last = last_event + max((r.vesting for r in p.rules), default=0)
    end = p.status_instant(end)
    if last >= end:
        return None
    if p.window_months is None:
        return last + 1
    month = cal.month(last) + p.window_months + 1  # the first recalculation that counts none of it
    if p.retention is not None:  # a guarantee (to the end of next year), grace, one level a month
        month += 25 + p.retention.grace_months + p.retention.guarantee_months + len(p.tiers)
    return cal.month_start(month) if month < cal.month(end) else None


def evaluate_member(program: CompiledProgram, member: str, events: Sequence[Event], as_of: dt.date) -> Outcome:
    """The outcome of one member at the end of day `as_of`; `events` in the order of order.sort_events."""
    return MemberRun(program, member, events, as_of).run()
