"""A checked program -> the compiled form the evaluator runs.

Compile once, evaluate many: everything that depends only on the program text
(name lookups, operator functions, key functions, tier tables) is settled here.
"""

from __future__ import annotations

import bisect
import datetime as dt
import decimal
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import attrs

from loyalty_dsl.evaluation.calendar import US_PER_DAY, Calendar
from loyalty_dsl.evaluation.conditions import Explained, Predicate, compile_explained, compile_predicate, fact_refs
from loyalty_dsl.evaluation.exact import factor_of
from loyalty_dsl.evaluation.redemption import CompiledRedemption, compile_redemption
from loyalty_dsl.io.input_files import read_program
from loyalty_dsl.language import ast
from loyalty_dsl.language.check import Symbols, check, fields_of, status_types
from loyalty_dsl.language.diagnostics import Diagnostic, ProgramError
from loyalty_dsl.language.parse import parse_partial
from loyalty_dsl.language.vocabulary import MONTHS, REDEEM_WHERE_NAMES, WEEKDAYS

During = Callable[[dt.date, int], bool]  # (local day, local minute of the day) -> whether it applies


@attrs.frozen
class FieldSpec:
    """How to read one field of an event type from a history."""

    name: str
    type: str
    optional: bool
    default: Any
    at_least: int | float | None
    currency: str | None = None  # the field naming this amount's currency


@attrs.frozen
class CompiledRule:
    name: str
    line: int
    on: str
    predicate: Predicate
    explain: Explained | None  # the condition again, saying why it holds or fails (for ledgers)
    fact_refs: tuple[tuple[str, str], ...]
    amount: int | str  # a fixed number of points, or the integer field that carries them
    per: tuple[str, ...]  # unit keys: periods ("day") or fields ("category")
    beyond_first: bool
    caps: tuple[tuple[int, str], ...]  # (points, period or field), finest period first, fields last
    window_cap: int | None
    threshold: Threshold | None = None
    during: During | None = None  # a campaign: the local days (and times) the rule applies on
    vesting: int = 0  # microseconds an earning stays pending
    every: tuple[decimal.Decimal, str] | None = None  # `for every STEP of FIELD`: amount x whole steps
    into: str | None = None  # the measure the rule feeds; None: points
    exact: bool = False  # it feeds a money measure: a field's amount is kept as an exact decimal
    caps_after_multipliers: bool = False  # the caps count multiplied points

    def points_of(self, fields: dict[str, Any]) -> int | decimal.Decimal:
        if self.every is not None:
            assert isinstance(self.amount, int)
            return self.amount * steps_of(fields.get(self.every[1]), self.every[0])
        if isinstance(self.amount, int):
            return self.amount
        if self.exact:
            value = fields.get(self.amount)
            return exact(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0
        return int(fields.get(self.amount) or 0)


def exact(value: int | float) -> decimal.Decimal:
    """A number read from a history as the decimal it was written as (7.99, not 7.9900000000000002131)."""
    return decimal.Decimal(value) if isinstance(value, int) else decimal.Decimal(repr(value))


def steps_of(value: Any, step: decimal.Decimal) -> int:
    """How many whole steps a field's value holds, exactly: floor(value / step); nothing or less than 0 gives 0."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return 0
    return max(0, int((exact(value) / step).to_integral_value(rounding=decimal.ROUND_FLOOR)))


@attrs.frozen
class Tier:
    name: str
    threshold: int  # points, for a tier `from N points` (the first quantity's amount otherwise)
    benefits: dict[str, dict[str, Any]]
    qualifies: tuple[tuple[tuple[str, decimal.Decimal], ...], ...] = ()  # an `or` of `and`s of (measure, least)

    def holds(self, points: int, measures: dict[str, Any], balance: int | None) -> bool:
        """Whether one `and` of the qualification holds; `points` and `balance` are measures too."""
        counts = {**measures, "points": points, "balance": balance or 0}
        return any(all(counts[m] >= least for m, least in group) for group in self.qualifies)


@attrs.frozen
class CompiledMultiplier:
    """A rule's kept points multiplied on some days, for some tiers, or in a member's month."""

    rule: str
    factor: Fraction  # exact: 1.4 is 7/5
    during: During | None = None
    tiers: frozenset[str] = frozenset()
    date_of: DateSource | None = None  # a member's own date: in its month
    where: Predicate | None = None  # for the earning events that meet a condition


@attrs.frozen
class Threshold:
    """A `per` group earns once it reaches `need`: events (count), distinct values of `key`, or a sum of `key`."""

    kind: ast.ThresholdKind
    need: int | float
    key: str | None = None


@attrs.frozen
class DateSource:
    """A date a member gave: the `field` of the latest (or first) event of type `event`."""

    event: str
    field: str
    latest: bool


@attrs.frozen
class Retention:
    """How long a tier outlives its points: months of grace, one level at a time, a guarantee."""

    grace_months: int = 0
    one_level: bool = False
    guarantee: str | None = None  # "month", "quarter" or "year": until the end of the next one
    guarantee_day: tuple[int, int] | None = None  # (day, month): until the first such day ending the next period
    guarantee_months: int = 0  # kept this many months from the instant it was reached

    @property
    def guaranteed(self) -> bool:
        return self.guarantee is not None or self.guarantee_months > 0


@attrs.frozen
class CompiledGrant:
    benefit: str
    line: int
    event: str
    field: str | None  # None: the date of the event itself (an anniversary)
    latest: bool  # the latest event of the type (True) or the first (False)
    notice_days: int
    once_a_year: bool
    leap_to_march: bool


@attrs.frozen
class CompiledDecision:
    benefit: str
    line: int
    on: str
    key: str | None
    test: Explained | None


_PERIOD_ORDER = {"day": 0, "week": 1, "month": 2, "quarter": 3, "year": 4}


@attrs.frozen
class CompiledProgram:
    """Everything the evaluator needs, and nothing of the source syntax."""

    file: str
    title: str | None
    calendar: Calendar
    schema: dict[str, tuple[FieldSpec, ...]]
    facts_by_type: dict[str, tuple[tuple[str, str], ...]]  # type -> (fact, subject field)
    rules: tuple[CompiledRule, ...]
    window_months: int | None  # None: lifetime or calendar year
    tiers: tuple[Tier, ...]
    grants: tuple[CompiledGrant, ...]
    decisions: tuple[CompiledDecision, ...]
    source: ast.Program = attrs.field(repr=False)
    expiry: tuple[str, int, str] | None = None  # ("after", 12, "months") or ("end", 0, "year")
    redemption: tuple[str, str] | None = None  # (event type, field of points): one plain `redeem`, today's form
    redemptions: tuple[CompiledRedemption, ...] = ()  # every `redeem`, plain or with rules
    conversion: tuple[str, int, Decimal] | None = None  # (period, points a voucher, its value)
    voucher_months: int | None = None  # `vouchers expire after N months`
    voucher_use: str | None = None  # the event type that spends a voucher
    currency: str | None = None  # the program's currency
    retention: Retention | None = None
    multipliers: tuple[CompiledMultiplier, ...] = ()
    rates: dict[str, Decimal] = attrs.field(factory=dict)  # currency -> value in the program's currency
    measures: tuple[tuple[str, bool], ...] = ()  # (name, money?) of each measure beside points
    measured_tiers: bool = False  # some tier qualifies on more than points: tiers rank in written order
    status_balance: bool = False  # a tier qualifies on the balance (spendable points at each status)
    decision_balance: bool = False  # a decision reads the balance, at its event's instant
    decision_measures: bool = False  # a decision reads points, the balance or a measure
    calendar_year: str | None = None  # `window calendar year, ...`: "continuous" or "monthly"
    largest_only: frozenset[str] = frozenset()  # rules whose multipliers do not combine: the largest applies
    _thresholds: list[int] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_thresholds", [t.threshold for t in self.tiers])

    def tier_for(self, points: int) -> Tier | None:
        i = bisect.bisect_right(self._thresholds, points)
        return self.tiers[i - 1] if i else None

    def tier_of(self, points: int, measures: dict[str, Any], balance: int | None = None) -> Tier | None:
        """The tier in force: by threshold of points, or else the last written whose qualification holds."""
        if not self.measured_tiers:
            return self.tier_for(points)
        held = None
        for tier in self.tiers:
            if tier.holds(points, measures, balance):
                held = tier
        return held

    @property
    def continuous(self) -> bool:
        """Whether the status follows every event at once (else it is set at each month boundary)."""
        return self.window_months is None and self.calendar_year != "monthly"

    def status_instant(self, instant: int) -> int:
        """The instant whose events decide the status in force at `instant`."""
        if self.continuous:
            return instant
        return self.calendar.recalculation(instant)


def load(path: str | Path) -> CompiledProgram:
    """Read, parse, check and compile a program file; ProgramError lists every problem."""
    return compile_text(read_program(path), str(path))


def compile_text(text: str, file: str = "<program>") -> CompiledProgram:
    program, problems = diagnose(text, file)
    if problems or program is None:
        raise ProgramError(problems, text)
    return compile_program(program)


def diagnose(text: str, file: str = "<program>") -> tuple[ast.Program | None, list[Diagnostic]]:
    """Every problem of a program's text, in the order of their places: each syntax error, then
    what `check` finds in the statements that parsed. The Program is None when nothing parsed."""
    program, problems = parse_partial(text, file)
    if program is not None:
        problems = sorted([*problems, *check(program)], key=lambda d: (d.line, d.col))
    return program, problems


def compile_program(p: ast.Program) -> CompiledProgram:
    s = Symbols.of(p)
    window = p.windows[0]
    return CompiledProgram(
        file=p.file,
        title=p.title,
        calendar=Calendar(
            str(p.timezone.value) if p.timezone else "UTC",
            week_start=WEEKDAYS.index(p.week_start.text) if p.week_start else 0,
            year_start=MONTHS.index(p.year_start.text) + 1 if p.year_start else 1,
        ),
        schema={e.name.text: tuple(_field_spec(f) for f in e.fields) for e in p.events},
        facts_by_type=_facts_by_type(p),
        rules=tuple(_rule(r, s, {m.name.text for m in p.measures if m.unit is not None}) for r in p.rules),
        window_months=int(window.length.value) if isinstance(window, ast.RollingWindow) else None,
        tiers=tuple(_tier(t, s) for t in p.tiers),
        grants=tuple(_grant(g) for g in p.grants),
        decisions=tuple(_decision(d, s, p) for d in p.decisions),
        source=p,
        expiry=_expiry(p.expiries[0]) if p.expiries else None,
        redemption=_plain_redemption(p.redemptions),
        redemptions=tuple(_redemption(r, s, p) for r in p.redemptions),
        conversion=_conversion(p.conversions),
        voucher_months=int(p.voucher_expiries[0].amount.value) if p.voucher_expiries else None,
        voucher_use=p.voucher_uses[0].event.text if p.voucher_uses else None,
        currency=p.currency.text if p.currency is not None else None,
        rates={r.currency.text: Decimal(r.value.text) for r in p.rates},
        retention=_retention(p.retention),
        multipliers=tuple(_multiplier(m, _rule_fields(p, s, m.rule.text)) for m in p.multipliers),
        largest_only=frozenset(n.rule.text for n in p.no_combine),
        measures=tuple((m.name.text, m.unit is not None) for m in p.measures),
        calendar_year=("monthly" if window.every else "continuous")
        if isinstance(window, ast.CalendarYearWindow)
        else None,
        measured_tiers=not all(t.points_only for t in p.tiers),
        status_balance=any(q.measure.text == "balance" for t in p.tiers for a in t.qualification for q in a),
        decision_balance="balance" in _decision_reads(p, s),
        decision_measures=bool(_decision_reads(p, s)),
    )


def _field_spec(f: ast.FieldDecl) -> FieldSpec:
    at_least = f.at_least.value if f.at_least is not None else None
    assert not isinstance(at_least, (str, bool))
    default: Any = f.default.value if f.default is not None else None
    if f.type.text == "date" and default is not None:  # written as text, held as a date like the values read
        default = dt.date.fromisoformat(str(default))
    return FieldSpec(
        f.name.text,
        f.type.text,
        f.optional or f.default is not None,
        default,
        at_least,
        f.currency.text if f.currency is not None else None,
    )


def _facts_by_type(p: ast.Program) -> dict[str, tuple[tuple[str, str], ...]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for fact in p.facts:
        for ev in fact.events:
            out.setdefault(ev.text, []).append((fact.fact.text, fact.subject.text))
    return {k: tuple(v) for k, v in out.items()}


def _rule(r: ast.RuleDecl, s: Symbols, money: set[str]) -> CompiledRule:
    amount = r.earn.amount
    caps = sorted(
        ((int(c.amount.value), c.period.text) for c in r.caps if c.period.text != "window"),
        key=lambda c: _PERIOD_ORDER.get(c[1], len(_PERIOD_ORDER)),  # a field's cap spans periods: last
    )
    window_cap = next((int(c.amount.value) for c in r.caps if c.period.text == "window"), None)
    return CompiledRule(
        name=r.name.text,
        line=r.span.line,
        on=r.on.text,
        predicate=compile_predicate(r.where, fields_of(s, r.on.text)),
        explain=compile_explained(r.where, fields_of(s, r.on.text), {}, name_fields=True)
        if r.where is not None
        else None,
        fact_refs=fact_refs(r.where),
        amount=int(amount.value) if isinstance(amount, ast.Literal) else amount.text,
        per=tuple(k.text for k in r.earn.per),
        beyond_first=r.earn.beyond_first,
        caps=tuple(caps),
        window_cap=window_cap,
        threshold=_threshold(r.earn.threshold),
        during=_during(r.during),
        vesting=int(r.vesting.amount.value) * US_PER_DAY if r.vesting is not None else 0,
        every=(decimal.Decimal(r.earn.every.step.text), r.earn.every.field.text) if r.earn.every else None,
        into=_into(r.earn.into),
        exact=r.earn.into is not None and r.earn.into.text in money,
        caps_after_multipliers=any(c.after_multipliers for c in r.caps),
    )


def _into(into: ast.Name | None) -> str | None:
    return None if into is None or into.text == "points" else into.text  # `into points` says the default


def _during(d: ast.During | None) -> During | None:
    if d is None:
        return None
    if d.kind == "dates":
        assert d.first is not None and d.last is not None
        first, last = dt.date.fromisoformat(str(d.first.value)), dt.date.fromisoformat(str(d.last.value))
        return lambda day, minute: first <= day <= last
    if d.kind == "hours":
        assert d.first is not None and d.last is not None
        start, end = clock_minute(str(d.first.value)), clock_minute(str(d.last.value))
        weekday = WEEKDAYS.index(d.month.text) if d.month is not None else None
        if start < end:
            in_hours: Callable[[int], bool] = lambda minute: start <= minute < end  # noqa: E731
        else:  # overnight: 22:00 to 02:00 (each minute counts on the day it falls on)
            in_hours = lambda minute: minute >= start or minute < end  # noqa: E731
        return lambda day, minute: in_hours(minute) and (weekday is None or day.weekday() == weekday)
    assert d.month is not None
    if d.kind == "month" and d.month.text in WEEKDAYS:
        weekday = WEEKDAYS.index(d.month.text)
        return lambda day, minute: day.weekday() == weekday
    month = MONTHS.index(d.month.text) + 1
    if d.kind == "month":
        return lambda day, minute: day.month == month
    assert d.first is not None
    of_month = int(d.first.value)
    return lambda day, minute: day.month == month and day.day == of_month


def clock_minute(clock: str) -> int:
    """16:00 -> 960: minutes since local midnight."""
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _multiplier(m: ast.Multiplier, rule_fields: dict[str, str]) -> CompiledMultiplier:
    assert isinstance(m.factor.value, (int, float))
    date_of = DateSource(m.event.text, m.field.text, m.which == "latest") if m.event and m.field else None
    where = compile_predicate(m.where, rule_fields) if m.where is not None else None
    return CompiledMultiplier(
        m.rule.text,
        factor_of(m.factor.text),
        _during(m.during),
        frozenset(t.text for t in m.tiers),
        date_of,
        where,
    )


def _rule_fields(p: ast.Program, s: Symbols, rule: str) -> dict[str, str]:
    """The fields of the events a rule is on: what a multiplier's `where` may read."""
    on = next((r.on.text for r in p.rules if r.name.text == rule), "")
    return fields_of(s, on)


def _retention(found: tuple[ast.Retention, ...]) -> Retention | None:
    if not found:
        return None
    kinds = {r.kind: r for r in found}
    grace = kinds.get(ast.RetentionKind.GRACE)
    guarantee = kinds.get(ast.RetentionKind.GUARANTEE) or kinds.get(ast.RetentionKind.GUARANTEE_DAY)
    day = kinds.get(ast.RetentionKind.GUARANTEE_DAY)
    months = kinds.get(ast.RetentionKind.GUARANTEE_FOR)
    return Retention(
        grace_months=int(grace.amount.value) if grace is not None and grace.amount is not None else 0,
        one_level=ast.RetentionKind.ONE_LEVEL in kinds,
        guarantee=guarantee.unit.text if guarantee is not None and guarantee.unit is not None else None,
        guarantee_day=(int(day.amount.value), MONTHS.index(day.month.text) + 1)
        if day is not None and day.amount is not None and day.month is not None
        else None,
        guarantee_months=int(months.amount.value) if months is not None and months.amount is not None else 0,
    )


def _plain_redemption(redemptions: tuple[ast.Redemption, ...]) -> tuple[str, str] | None:
    """(event, field) of a program whose one `redeem` has no rules: its outcomes keep today's keys."""
    if len(redemptions) != 1 or redemptions[0].ruled or redemptions[0].field is None:
        return None
    return redemptions[0].event.text, redemptions[0].field.text


def _conversion(conversions: tuple[ast.Conversion, ...]) -> tuple[str, int, Decimal] | None:
    if not conversions:
        return None
    c = conversions[0]
    return c.period.text, int(c.points.value), Decimal(c.value.text)


def _expiry(e: ast.Expiry) -> tuple[str, int, str]:
    unit = e.unit.text.rstrip("s")  # days -> day, months -> month
    return e.kind, int(e.amount.value) if e.amount is not None else 0, unit


def _threshold(t: ast.Threshold | None) -> Threshold | None:
    if t is None:
        return None
    assert isinstance(t.amount.value, (int, float))
    return Threshold(t.kind, t.amount.value, t.key.text if t.key is not None else None)


def _tier(t: ast.TierDecl, s: Symbols) -> Tier:
    def value(benefit: str, pv: ast.ParamValue) -> Any:
        declared = {pd.name.text: pd.type.text for pd in s.benefits[benefit].params}
        if declared.get(pv.name.text) == "date":  # compared with date fields, so a date
            return dt.date.fromisoformat(str(pv.value.value))
        return pv.value.value

    benefits = {b.name.text: {pv.name.text: value(b.name.text, pv) for pv in b.params} for b in t.benefits}
    qualifies = tuple(
        tuple(("points" if q.of_points else q.measure.text, decimal.Decimal(q.amount.text)) for q in group)
        for group in t.qualification
    ) or ((("points", decimal.Decimal(t.threshold.text)),),)
    return Tier(t.name.text, int(t.threshold.value), benefits, qualifies)


def _grant(g: ast.GrantDecl) -> CompiledGrant:
    return CompiledGrant(
        benefit=g.benefit.text,
        line=g.span.line,
        event=g.event.text,
        field=None if g.date.text == "anniversary" else g.date.text,
        latest=g.which == "latest",
        notice_days=int(g.notice.amount.value) if g.notice else 0,
        once_a_year=g.once_a_year,
        leap_to_march=bool(g.leap_day and g.leap_day.to_month.text == "March"),
    )


def _names(cond: ast.Condition | None) -> set[str]:
    """The names a condition reads."""
    if cond is None:
        return set()
    if isinstance(cond, (ast.And, ast.Or)):
        return _names(cond.left) | _names(cond.right)
    if isinstance(cond, ast.Not):
        return _names(cond.operand)
    if isinstance(cond, ast.Compare):
        return {op.text for op in (cond.left, cond.right) if isinstance(op, ast.Name)}
    return {cond.field.text}


def _redemption(r: ast.Redemption, s: Symbols, p: ast.Program) -> CompiledRedemption:
    """A `redeem`; its `where` may read measures (not `points` nor `balance`: the claim's own)."""
    fields = fields_of(s, r.event.text)
    measures = {name: t for name, t in status_types(p).items() if name not in REDEEM_WHERE_NAMES}
    reads = r.where is not None and bool((_names(r.where) & set(measures)) - set(fields))
    return compile_redemption(r, fields, measures, reads)


def _decision_reads(p: ast.Program, s: Symbols) -> set[str]:
    """The measures (points, balance, declared ones) decisions read: names that are no field nor parameter."""
    read: set[str] = set()
    for d in p.decisions:
        params = {pd.name.text for pd in s.benefits[d.benefit.text].params}
        read |= (_names(d.when) & set(status_types(p))) - set(fields_of(s, d.on.text)) - params
    return read


def _decision(d: ast.DecideDecl, s: Symbols, p: ast.Program) -> CompiledDecision:
    benefit = s.benefits[d.benefit.text]
    params = {**status_types(p), **{pd.name.text: pd.type.text for pd in benefit.params}}
    test = compile_explained(d.when, fields_of(s, d.on.text), params) if d.when is not None else None
    return CompiledDecision(d.benefit.text, d.span.line, d.on.text, d.key.text if d.key else None, test)


KeyFn = Callable[[int, dict[str, Any]], Any]
