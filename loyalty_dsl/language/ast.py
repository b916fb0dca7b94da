"""The typed syntax tree of a loyalty program.

One frozen attrs class per construct. Every node carries a `span` (its place in
the source) that is left out of equality, so two programs that say the same
thing compare equal wherever they were written. No later stage sees Lark trees.
"""

from __future__ import annotations

from enum import StrEnum

import attrs


# The forms of a construct, as enums whose values are the words the rest of the code reads.
class ThresholdKind(StrEnum):
    COUNT = "count"  # with at least 4 (events)
    DISTINCT = "distinct"  # with at least 3 distinct day
    SUM = "sum"  # with at least 100 in amount


class DuringKind(StrEnum):
    DATES = "dates"  # during 2026-11-01 to 2026-11-30
    DAY = "day"  # during 11 November
    MONTH = "month"  # during November, during Tuesday
    HOURS = "hours"  # during 16:00 to 18:00, during Tuesday 16:00 to 18:00


class ExpiryKind(StrEnum):
    AFTER = "after"  # points expire after 12 months
    END = "end"  # points expire at the end of the year
    AFTER_MONTH_END = "after_month_end"  # points expire after 6 months, at the end of that month
    INACTIVE = "inactive"  # points expire after 18 months without activity


class RetentionKind(StrEnum):
    GRACE = "grace"  # keep tiers for 3 months below their threshold
    ONE_LEVEL = "one_level"  # drop tiers one level at a time
    GUARANTEE = "guarantee"  # keep a tier reached until the end of the next year
    GUARANTEE_DAY = "guarantee_day"  # keep a tier reached until 31 January after the next year
    GUARANTEE_FOR = "guarantee_for"  # keep a tier reached for 12 months


@attrs.frozen
class Span:
    """A place in a program: 1-based line and column, end column exclusive."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int


NO_SPAN = Span("<none>", 1, 1, 1, 1)


def _span() -> Span:
    return attrs.field(default=NO_SPAN, eq=False, repr=False)  # type: ignore[no-any-return]


@attrs.frozen
class Name:
    """An identifier as written, with its place."""

    text: str
    span: Span = _span()

    def __str__(self) -> str:
        return self.text


@attrs.frozen
class Literal:
    """A number, a string or true/false. `kind` is "number", "string" or "boolean"."""

    value: int | float | str | bool
    kind: str
    text: str
    span: Span = _span()


# --- conditions -------------------------------------------------------------


@attrs.frozen
class Compare:
    left: Operand
    op: str
    right: Operand
    span: Span = _span()


@attrs.frozen
class FactTest:
    """`basket is cancelled` / `basket is not cancelled`: a fact about a field's value."""

    field: Name
    fact: Name
    negated: bool
    span: Span = _span()


@attrs.frozen
class MemberOf:
    """`category in ["home", "toys"]` / `category not in [...]`."""

    field: Name
    values: tuple[Literal, ...]
    negated: bool
    span: Span = _span()


@attrs.frozen
class FieldTest:
    """A yes/no field used as a condition: `closed_for_security`."""

    field: Name
    span: Span = _span()


@attrs.frozen
class Not:
    operand: Condition
    span: Span = _span()


@attrs.frozen
class And:
    left: Condition
    right: Condition
    span: Span = _span()


@attrs.frozen
class Or:
    left: Condition
    right: Condition
    span: Span = _span()


Operand = Name | Literal
Condition = Compare | FactTest | MemberOf | FieldTest | Not | And | Or


# --- declarations -----------------------------------------------------------


@attrs.frozen
class FieldDecl:
    name: Name
    type: Name
    optional: bool = False
    default: Literal | None = None
    at_least: Literal | None = None
    currency: Name | None = None  # `amount: money in currency`: the field that names the amount's currency
    span: Span = _span()


@attrs.frozen
class EventDecl:
    name: Name
    fields: tuple[FieldDecl, ...]
    span: Span = _span()


@attrs.frozen
class FactDecl:
    """`a basket is cancelled by purchase_cancelled or chargeback`."""

    subject: Name
    fact: Name
    events: tuple[Name, ...]
    span: Span = _span()


@attrs.frozen
class RollingWindow:
    """`window last 12 months, recalculated monthly`."""

    length: Literal
    unit: Name
    every: Name
    span: Span = _span()


@attrs.frozen
class LifetimeWindow:
    """`window lifetime, continuous`: every event counts at once, for ever."""

    span: Span = _span()


@attrs.frozen
class CalendarYearWindow:
    """`window calendar year, continuous` / `..., recalculated monthly`: the current (fiscal) year's events."""

    every: Name | None = None  # None: continuous
    span: Span = _span()


Window = RollingWindow | LifetimeWindow | CalendarYearWindow


@attrs.frozen
class ParamDecl:
    name: Name
    type: Name
    span: Span = _span()


@attrs.frozen
class BenefitDecl:
    name: Name
    params: tuple[ParamDecl, ...]
    span: Span = _span()


@attrs.frozen
class ParamValue:
    name: Name
    value: Literal
    span: Span = _span()


@attrs.frozen
class TierBenefit:
    name: Name
    params: tuple[ParamValue, ...]
    span: Span = _span()


@attrs.frozen
class Quantity:
    """`40 M` (M a declared measure), `75000 points`, `100 balance`: how much of a measure."""

    amount: Literal
    measure: Name  # `points` (or `point`), `balance`, or a declared measure
    span: Span = _span()

    @property
    def of_points(self) -> bool:
        return self.measure.text in ("point", "points")


@attrs.frozen
class TierDecl:
    """`tier T from 500 points:` or `tier T from 40 M or 30 N and 1000 points:` (M, N measures).

    `qualification` is an `or` of `and`s of quantities; `threshold` is the amount of the first
    quantity, the tier's threshold in points when the tier is `points_only`.
    """

    name: Name
    threshold: Literal
    benefits: tuple[TierBenefit, ...]
    qualification: tuple[tuple[Quantity, ...], ...] = ()
    span: Span = _span()

    @property
    def points_only(self) -> bool:
        """`tier X from N points:`, the form whose tiers rank by their thresholds."""
        q = self.qualification
        return not q or (len(q) == 1 and len(q[0]) == 1 and q[0][0].of_points)


@attrs.frozen
class Threshold:
    """`with at least 4` (events), `... 3 distinct day` (values), `... 100 in amount` (a sum)."""

    kind: ThresholdKind
    amount: Literal
    key: Name | None = None
    span: Span = _span()


@attrs.frozen
class ForEvery:
    """`for every 1.00 of amount`: the earning is paid once per whole step of a number field."""

    step: Literal
    field: Name
    span: Span = _span()


@attrs.frozen
class Earn:
    """`earn 5`, `earn points`, `earn 1 per category per day beyond the first`,
    `earn 10 per month with at least 4`, `earn 2 for every 1.00 of amount`."""

    amount: Literal | Name
    per: tuple[Name, ...]
    beyond_first: bool
    threshold: Threshold | None = None
    every: ForEvery | None = None
    into: Name | None = None  # `into M`: the measure it feeds (None: points)
    span: Span = _span()
    # Where `once` is written, if it is: it only reads well, but needs a `per` to read true.
    once: Span | None = attrs.field(default=None, eq=False, repr=False)


@attrs.frozen
class Cap:
    amount: Literal
    period: Name  # a period, `window`, or a field (at most N per distinct value)
    after_multipliers: bool = False  # the cap counts multiplied points
    span: Span = _span()


@attrs.frozen
class During:
    """A campaign: `during 2026-11-01 to 2026-11-30`, `during 11 November`, `during November`,
    `during Tuesday`, `during 16:00 to 18:00`, `during Tuesday 16:00 to 18:00`."""

    kind: DuringKind  # a month or a weekday are both MONTH
    first: Literal | None = None  # dates: the first and last day; day: the day of the month; hours: times
    last: Literal | None = None
    month: Name | None = None  # hours: the weekday, if any
    span: Span = _span()


@attrs.frozen
class Vesting:
    """`vesting after 15 days`: points pending until then."""

    amount: Literal
    unit: Name
    span: Span = _span()


@attrs.frozen
class RuleDecl:
    name: Name
    on: Name
    where: Condition | None
    earn: Earn
    caps: tuple[Cap, ...]
    during: During | None = None
    vesting: Vesting | None = None
    span: Span = _span()


@attrs.frozen
class Notice:
    """`known at least 2 days before`."""

    amount: Literal
    unit: Name
    span: Span = _span()


@attrs.frozen
class LeapDay:
    """`29 February falls on 28 February` (or on 1 March)."""

    day: Literal
    month: Name
    to_day: Literal
    to_month: Name
    span: Span = _span()


@attrs.frozen
class GrantDecl:
    """`grant B every year on the FIELD of the latest TYPE` / `on the anniversary of the first TYPE`."""

    benefit: Name
    date: Name
    which: str
    event: Name
    notice: Notice | None
    once_a_year: bool
    leap_day: LeapDay | None
    span: Span = _span()


@attrs.frozen
class DecideDecl:
    benefit: Name
    on: Name
    key: Name | None
    when: Condition | None
    span: Span = _span()


@attrs.frozen
class GivenEvent:
    """`purchase at 2026-03-03T10:00:00Z with basket "b1", total 10`: one event of an example."""

    type: Name
    at: Literal
    fields: tuple[ParamValue, ...]
    times: int = 1  # `3 times visit at ...`: the same event, repeated
    span: Span = _span()


@attrs.frozen
class Expectation:
    """`expect points 6`, `expect nights 12` (a measure, or `balance`), `expect tier Star`, `expect no tier`,
    `expect benefit B (p 5)`,
    `expect no benefit B`, `expect grant B on D`, `expect no grant B`,
    `expect decision B [for KEY VALUE] granted|refused`.

    `expect redemption E granted|refused|spent N`, `expect expiring N on D`, `expect voucher V on D`.

    `what` is the kind ("points", "measure", "tier", "benefit", "grant", "decision", "redemption",
    "expiring", "voucher"); `negated` stands for "no", and for "refused" in a decision or redemption;
    `on` is the day of `expect expiring` and `expect voucher`.
    """

    what: str
    negated: bool
    name: Name | None = None
    value: Literal | None = None
    params: tuple[ParamValue, ...] = ()
    key: Name | None = None
    span: Span = _span()
    on: Literal | None = None


@attrs.frozen
class TestDecl:
    """An example: a member's short history, an as-of day, and what must come out."""

    __test__ = False  # not a pytest test class

    name: Literal
    given: tuple[GivenEvent, ...]
    as_of: Literal
    expects: tuple[Expectation, ...]
    span: Span = _span()


@attrs.frozen
class Expiry:
    """`points expire after 12 months` (kind "after") / `points expire at the end of the year` ("end");
    `..., at the end of that month` ("after_month_end"); `... without activity` ("inactive")."""

    kind: ExpiryKind
    amount: Literal | None
    unit: Name
    span: Span = _span()


@attrs.frozen
class Redemption:
    """`redeem points by redeemed with points`: the event that spends points, and its field.

    Rules may follow: a fixed `amount` (`redeem 9 points by ...`), `all or nothing`, `in sizes`,
    `at least` / `at most`, `in multiples of`, and a `where` over the event, `points` and `balance`.
    """

    event: Name
    field: Name | None
    span: Span = _span()
    amount: Literal | None = None
    all_or_nothing: bool = False
    sizes: tuple[Literal, ...] = ()
    at_least: Literal | None = None
    at_most: Literal | None = None
    multiple: Literal | None = None
    where: Condition | None = None
    loose: tuple[Literal, ...] = ()  # bare numbers after something other than `in sizes`
    decided: Name | None = None  # `only when B is granted`: the event's decision on B must grant

    @property
    def ruled(self) -> bool:
        """Whether any rule beyond today's plain `redeem points by X with Y` applies."""
        return bool(
            self.amount or self.all_or_nothing or self.sizes or self.at_least or self.at_most or self.multiple
        ) or (self.where is not None or self.decided is not None)


@attrs.frozen
class Conversion:
    """`convert points every quarter into vouchers of 150 points worth 1.50`."""

    period: Name
    points: Literal
    value: Literal
    span: Span = _span()


@attrs.frozen
class VoucherExpiry:
    """`vouchers expire after 24 months`: from the instant a voucher is issued."""

    amount: Literal
    unit: Name
    span: Span = _span()


@attrs.frozen
class VoucherUse:
    """`vouchers are used by E`: each event of type E spends the oldest valid voucher."""

    event: Name
    span: Span = _span()


@attrs.frozen
class Rate:
    """`rate EUR 1.08`: one EUR is worth 1.08 of the program's currency."""

    currency: Name
    value: Literal
    span: Span = _span()


@attrs.frozen
class Retention:
    """How a tier outlives the points: `grace` (N months below), `one_level`, `guarantee` (until a period's end),
    `guarantee_day` (until a day after the next period), `guarantee_for` (N months from when reached)."""

    kind: RetentionKind
    amount: Literal | None = None
    unit: Name | None = None
    month: Name | None = None  # `guarantee_day`: until `amount` `month` after the next `unit`
    span: Span = _span()


@attrs.frozen
class Multiplier:
    """`multiply RULE by N` during days (`during`), for tiers (`tiers`), or in the month of a member's
    date (`field` of the `which` (latest/first) `event`)."""

    rule: Name
    factor: Literal
    during: During | None = None
    tiers: tuple[Name, ...] = ()
    field: Name | None = None
    which: str | None = None
    event: Name | None = None
    where: Condition | None = None  # `multiply R by N where ...`: for the events meeting it
    span: Span = _span()


@attrs.frozen
class NoCombine:
    """`multipliers of R do not combine: the largest applies` (R a rule)."""

    rule: Name
    span: Span = _span()


@attrs.frozen
class MeasureDecl:
    """`measure M` (whole numbers) / `measure M in money` (exact decimals): a counter beside points."""

    name: Name
    unit: Name | None = None
    span: Span = _span()


@attrs.frozen
class Assumption:
    """A `# assumption: ...` comment, kept with the statement it belongs to.

    `about` names that statement ("rule visits", "tier Star"): the one on
    the comment's line, else the next one below it.
    """

    text: str
    about: str
    span: Span = _span()


@attrs.frozen
class Program:
    file: str
    title: str | None
    timezone: Literal | None
    week_start: Name | None
    year_start: Name | None
    events: tuple[EventDecl, ...]
    facts: tuple[FactDecl, ...]
    windows: tuple[Window, ...]
    benefits: tuple[BenefitDecl, ...]
    tiers: tuple[TierDecl, ...]
    rules: tuple[RuleDecl, ...]
    grants: tuple[GrantDecl, ...]
    decisions: tuple[DecideDecl, ...]
    assumptions: tuple[Assumption, ...]
    tests: tuple[TestDecl, ...] = ()
    currency: Name | None = None
    rates: tuple[Rate, ...] = ()
    retention: tuple[Retention, ...] = ()
    multipliers: tuple[Multiplier, ...] = ()
    expiries: tuple[Expiry, ...] = ()
    redemptions: tuple[Redemption, ...] = ()
    conversions: tuple[Conversion, ...] = ()
    voucher_expiries: tuple[VoucherExpiry, ...] = ()
    voucher_uses: tuple[VoucherUse, ...] = ()
    measures: tuple[MeasureDecl, ...] = ()
    no_combine: tuple[NoCombine, ...] = ()
    repeated: tuple[tuple[str, Span], ...] = attrs.field(default=(), eq=False)  # a second `program`/`timezone`
    source: str = attrs.field(default="", eq=False, repr=False)
