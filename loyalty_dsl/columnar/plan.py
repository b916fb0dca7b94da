"""Which programs the columnar evaluator runs, and the SQL that gives their points.

The per-member evaluator (evaluate.py) is the reference. The columnar one
computes the same statuses for all members at once, with a few group-bys in
DuckDB. Its model: each rule's points are a step function of the status
instant T, written as steps `(t, d)`: d more points in every status at an
instant after t. An event enters at its instant; a fact it needs (`order is
confirmed`) enters it later, a fact it must not have (`order is not voided`)
takes it out. Units, `beyond the first` and caps are then levels, each a
function of the running sum of the level below (a count of units, a clip at
the cap), turned back into steps.

That holds where every group (a unit, a `beyond the first` group, a cap's
period) keeps one month and one value whatever the facts: `plan` checks it
and names what stands in the way otherwise; such programs run per member.

Calendar units are those of the program's time zone: in a zoned program, the
table has a column LOCAL of each event's local wall-clock time (local_time.py)
and TS is made from it; order and status instants keep the true instant.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator, Sequence
from decimal import Decimal
from fractions import Fraction

import attrs

from loyalty_dsl.evaluation.calendar import LAST_DAY, LAST_MONTH
from loyalty_dsl.evaluation.compile import CompiledProgram, CompiledRule, clock_minute
from loyalty_dsl.evaluation.conditions import fact_refs
from loyalty_dsl.evaluation.exact import decimal_of
from loyalty_dsl.evaluation.order import tie_key_sql
from loyalty_dsl.language import ast
from loyalty_dsl.language.vocabulary import MONTHS, NEVER, WEEKDAYS

AT = '"at"'  # a column named as a SQL keyword: always quoted
LOCAL = '"@local"'  # local wall-clock time (µs) in a zoned program: no field can be named so
TS = '"@ts"'  # the calendar's wall-clock time as a timestamp (LOCAL's, or the instant's in UTC)
RULES_PER_STATEMENT = 32  # a UNION ALL of many more nests beyond DuckDB's expression depth (1000)
PERIODS_IN = {  # the periods each period lies within
    "day": {"day", "week", "month", "quarter", "year"},
    "week": {"week"},
    "month": {"month", "quarter", "year"},
    "quarter": {"quarter", "year"},
    "year": {"year"},
}
UTC_NAMES = ("UTC", "Etc/UTC")  # what Calendar takes for UTC itself
LOTS, LOTS_NEVER = -1, -1  # the rule number of lots among a piece's rows; the day of a lot that never expires
UNIT_LOTS = -2  # rule R's lots one by one are rows of rule UNIT_LOTS - R (a program that spends points)
PENDING = -(2**30)  # rows (member, PENDING, 0, p): p points earned and not vested at the end


class NotColumnar(Exception):
    """What keeps a program off the columnar path (it then runs per member)."""


@attrs.frozen
class Plan:
    """The SQL of a program's points: each of `pieces` gives (member, rule, t, d) over a table
    `ev`, for some of the rules (one statement for all would be too deep for DuckDB).

    With expiry, redemptions or vouchers, a piece gives the lots of its rules too, from the same
    candidates: rows (member, LOTS, x, p), p points that stop counting on local day x (an ordinal;
    LOTS_NEVER: never), as the units stand at the instant the macro status_end() gives. (Lots of
    one member and day are summed: a balance without claims reads nothing else of them.) A program
    that spends points gets each lot too, for the claims to spend in time order: rows
    (member, UNIT_LOTS - R, t, p, x), p points of rule R earned at instant t, stopping on day x
    (its pieces have that fifth column x, NULL on the other rows)."""

    program: CompiledProgram
    pieces: tuple[str, ...]
    rules: tuple[str, ...]
    # (fact, SQL of (member, v, since, since_at) over `ev`): the facts a redemption's `where` reads
    claim_facts: tuple[tuple[str, str], ...] = ()

    @property
    def lots(self) -> bool:
        """Whether the pieces give lots (the program keeps a balance)."""
        return _keeps_lots(self.program)

    @property
    def spends(self) -> bool:
        """Whether members' lots are walked in time order (redemptions, vouchers, expiry after
        inactivity): the pieces give each lot too."""
        return _spends(self.program)

    @property
    def walks_all(self) -> bool:
        """Whether every member's lots are walked, claims or not: points convert into vouchers at
        each period's end, lots lapse after a spell without activity, or a tier reads the balance."""
        return self.program.conversion is not None or _lapses(self.program) or self.program.status_balance

    @property
    def claim_types(self) -> frozenset[str]:
        return claim_types(self.program)

    @property
    def walk_types(self) -> frozenset[str]:
        """The event types whose members' lots are walked: claims, and the decisions' events where a
        decision reads the balance (at its event's instant, as the walk stands there)."""
        decided = {d.on for d in self.program.decisions} if self.program.decision_balance else set()
        return self.claim_types | decided

    @property
    def zoned(self) -> bool:
        """Whether the calendar units need the LOCAL column (the zone is not UTC)."""
        return self.program.calendar.name not in UTC_NAMES

    def time_at(self, instant: int) -> int:
        """The status in force at an instant, on the steps' time axis: it sees the steps timed before."""
        p = self.program
        return p.calendar.month(instant) if p.window_months is not None else instant

    def instant_of(self, time: int) -> int:
        """The status instant of a time on the steps' axis (time_at's inverse on status instants)."""
        p = self.program
        return p.calendar.month_start(time) if p.window_months is not None else time


def plan(program: CompiledProgram) -> Plan:
    """The columnar plan of a program, or NotColumnar saying why there is none."""
    p = program
    _allowed(p, _PROGRAM_READ, _PROGRAM_UNUSED, "the program uses {}")
    types: dict[str, str] = {}
    for specs in p.schema.values():
        for spec in specs:
            if types.setdefault(spec.name, spec.type) != spec.type:
                raise NotColumnar(f"field '{spec.name}' has two types")
    for decision in p.source.decisions:
        if fact_refs(decision.when):
            raise NotColumnar(f"decision {decision.benefit.text} looks up facts")
    _check_claims(p)
    _check_balance_read(p)
    if p.retention is not None and p.continuous:  # (a calendar year, refused above for now)
        raise NotColumnar("tier retention in a continuous window (its tier follows each status read)")
    fact_types = _fact_types(p)
    facts = _facts(p, fact_types)
    fact_ctes = [f"fact_{i} AS MATERIALIZED ({sql})" for i, sql in enumerate(facts.values())]
    fact_index = {name: i for i, name in enumerate(facts)}
    by_rule = [
        _rule_ctes(p, rule, decl, r, types, fact_index, fact_types)
        for r, (rule, decl) in enumerate(zip(p.rules, p.source.rules, strict=True))
    ]
    pieces = []
    for first in range(0, len(by_rule), RULES_PER_STATEMENT):
        rules = range(first, min(first + RULES_PER_STATEMENT, len(by_rule)))
        ctes = fact_ctes + [cte for r in rules for cte in by_rule[r].steps + by_rule[r].lots]
        body = "\nUNION ALL\n".join(f"SELECT member, {r} AS rule, t, d FROM steps_{r}" for r in rules)
        body += "".join(
            f"\nUNION ALL\nSELECT member, {PENDING} AS rule, 0 AS t, p AS d FROM pend_{r}"
            for r in rules
            if p.rules[r].vesting
        )
        if _keeps_lots(p):
            earned = "\nUNION ALL\n".join(f"SELECT member, ld, p FROM lots_{r}" for r in rules)
            # The day a lot expires, worked out once for each day lots were earned on (few).
            ctes.append(f"earned AS ({earned})")
            days = f"SELECT ld, coalesce({_expiry_sql(p)}, {LOTS_NEVER}) AS x FROM (SELECT DISTINCT ld FROM earned)"
            ctes.append(f"lot_days AS ({days})")
            body += f"\nUNION ALL\nSELECT member, {LOTS} AS rule, x AS t, p AS d FROM earned JOIN lot_days USING (ld)"
            if _spends(p):  # a fifth column: the day each lot stops counting
                body = f"SELECT *, NULL::BIGINT AS x FROM ({body})" + "".join(
                    f"\nUNION ALL\nSELECT member, {UNIT_LOTS - r} AS rule, {AT} AS t, p AS d, x"
                    f" FROM ulots_{r} JOIN lot_days USING (ld)"
                    for r in rules
                )
        pieces.append(f"WITH {', '.join(ctes)}\nSELECT * FROM ({body})")
    read = sorted({fact for r in p.source.redemptions if r.where is not None for fact, _ in fact_refs(r.where)})
    claim_facts = tuple((f, facts[f]) for f in read if f in facts)  # (one no event establishes stays empty)
    return Plan(program, tuple(pieces), tuple(r.name for r in p.rules), claim_facts)


# --- what the plan knows ----------------------------------------------------------------------

# An allow-list, so that a construct added to the language later is refused until the plan learns
# it: every field of a compiled program and rule is either read by the plan, or must keep its
# default (named by the construct it stands for). Any other field sends the program per member.
_PROGRAM_READ = frozenset(
    {"file", "title", "calendar", "schema", "facts_by_type", "rules", "window_months", "tiers", "grants"}
    | {"decisions", "source", "rates", "_thresholds", "expiry", "multipliers", "largest_only"}
    | {"redemption", "redemptions", "conversion", "voucher_months", "voucher_use", "retention"}
    | {"decision_balance", "decision_measures", "status_balance", "measured_tiers", "currency"}
)
_PROGRAM_UNUSED: dict[str, tuple[str, object]] = {
    "measures": ("measures", ()),
    "calendar_year": ("a calendar-year window", None),
}
_RULE_READ = frozenset(
    {"name", "line", "on", "predicate", "explain", "fact_refs", "amount", "per", "beyond_first", "caps", "during"}
    | {"caps_after_multipliers", "threshold", "every", "vesting"}
)
_RULE_UNUSED: dict[str, tuple[str, object]] = {
    "window_cap": ("a cap per window", None),
    "into": ("a rule into a measure", None),
    "exact": ("a money measure", False),
}


def _allowed(
    value: CompiledProgram | CompiledRule, read: frozenset[str], unused: dict[str, tuple[str, object]], says: str
) -> None:
    """NotColumnar unless every attrs field of `value` is one the plan reads, or unused (its value when off)."""
    for field in attrs.fields(type(value)):
        if field.name in read:
            continue
        if field.name not in unused:
            raise NotColumnar(says.format(f"`{field.name}`, which the columnar plan does not know"))
        what, off = unused[field.name]
        if getattr(value, field.name) != off:
            raise NotColumnar(says.format(what))


# --- facts ---------------------------------------------------------------------------------


def _facts(p: CompiledProgram, fact_types: dict[str, set[str]]) -> dict[str, str]:
    """Each fact's first instant per (member, value): the SQL of a CTE, by fact name."""
    by_fact: dict[str, list[str]] = {}
    clocks = f"{AT}, {LOCAL}" if p.calendar.name not in UTC_NAMES else AT
    for event_type, pairs in p.facts_by_type.items():
        for fact, field in pairs:
            if len(fact_types[fact]) > 1:
                raise NotColumnar(f"fact {fact} is said of values of several types")
            by_fact.setdefault(fact, []).append(
                f"SELECT member, {_q(field)} AS v, {clocks} FROM ev"
                f" WHERE type = {sql_text(event_type)} AND {_q(field)} IS NOT NULL"
            )
    return {
        fact: f"SELECT member, v, {_time(p)} AS since, min({AT}) AS since_at"
        f" FROM ({' UNION ALL '.join(parts)}) GROUP BY member, v"
        for fact, parts in by_fact.items()
    }


def _fact_types(p: CompiledProgram) -> dict[str, set[str]]:
    """The types of the values each fact is said of, by fact name."""
    out: dict[str, set[str]] = {}
    for event_type, pairs in p.facts_by_type.items():
        declared = {f.name: f.type for f in p.schema.get(event_type, ())}
        for fact, field in pairs:
            out.setdefault(fact, set()).add(declared.get(field, "?"))
    return out


# --- one rule --------------------------------------------------------------------------------


@attrs.frozen
class _RuleSql:
    steps: list[str]  # CTEs ending in steps_R: (member, t, d)
    lots: list[str]  # with expiry, CTEs from units_R to lots_R (over cand_R or thr_R): (member, ld, p)


def _rule_ctes(
    p: CompiledProgram,
    rule: CompiledRule,
    decl: ast.RuleDecl,
    r: int,
    types: dict[str, str],
    fact_index: dict[str, int],
    fact_types: dict[str, set[str]],
) -> _RuleSql:
    name = rule.name
    _allowed(rule, _RULE_READ, _RULE_UNUSED, f"rule {name} has {{}}")
    static, tests = _split(decl.where, name)
    windowed = p.window_months is not None
    periods = [k for k in rule.per if k in PERIODS_IN]
    fields = [k for k in rule.per if k not in PERIODS_IN]
    every = every_columns(p).get(rule.every) if rule.every is not None else None
    constant = isinstance(rule.amount, int) and every is None  # `for every`: a number of whole steps
    subjects = {t.field.text for t in tests}
    # shared: every candidate of a unit has the same facts, so its first event is fixed.
    shared = not rule.per or subjects <= set(fields)
    key_period = next((k for k in periods if k in ("day", "month")), None)
    if not shared and not (constant and key_period is not None):
        raise NotColumnar(f"rule {name}: which event of a unit earns would change with the facts")
    if every is not None and rule.caps and int(rule.amount) < 0:
        raise NotColumnar(f"rule {name}: capped points that are negative")
    elif every is None and not constant and rule.caps:
        spec = next(f for f in p.schema[rule.on] if f.name == rule.amount)
        if spec.at_least is None or spec.at_least < 0:
            raise NotColumnar(f"rule {name}: capped points from a field that may be negative")
    if rule.beyond_first and not constant:
        raise NotColumnar(f"rule {name}: `beyond the first` over points from a field")
    cap_periods = [period for _, period in rule.caps]
    if any(period not in PERIODS_IN for period in cap_periods):
        raise NotColumnar(f"rule {name}: a cap per field")
    for finer, coarser in itertools.pairwise(cap_periods):
        if coarser not in PERIODS_IN[finer]:
            raise NotColumnar(f"rule {name}: a {finer} does not lie within a {coarser}")
    outer_periods = [k for k in rule.per[1:] if k in PERIODS_IN] if rule.beyond_first else []
    if rule.beyond_first and cap_periods and not any(set(cap_periods) <= PERIODS_IN[k] for k in outer_periods):
        raise NotColumnar(f"rule {name}: a `beyond the first` group spans two cap periods")
    if not shared and cap_periods and not set(cap_periods) <= PERIODS_IN[key_period or "day"]:
        raise NotColumnar(f"rule {name}: a unit spans two cap periods")
    month_bound = True
    if windowed:  # a top group within one month has its points leave the window together
        if cap_periods:
            month_bound = cap_periods[-1] in ("day", "month")
        elif rule.beyond_first:
            month_bound = any(k in ("day", "month") for k in outer_periods)
        else:
            month_bound = shared or key_period is not None
    # A group longer than a month (a cap per quarter or year, a week across two months) has its units'
    # points leave the window month by month: the plan then works each unit's kept points out in
    # time order (as lots are), which holds where a unit, once earned, never changes.
    by_unit = windowed and not month_bound
    if by_unit and not shared:
        raise NotColumnar(f"rule {name}: its points of one group would fall in several months")
    if by_unit and (tests or rule.threshold is not None):
        why = "a fact can take a unit's points out" if tests else "a threshold dates them"
        raise NotColumnar(f"rule {name}: its points of one group would fall in several months, and {why}")

    vesting = rule.vesting
    if vesting and windowed:
        raise NotColumnar(f"rule {name}: vesting in a rolling window (points count in the month they vest)")
    if vesting and rule.threshold is not None:
        raise NotColumnar(f"rule {name}: vesting with a threshold")
    if vesting and _keeps_lots(p):
        raise NotColumnar(f"rule {name}: vesting with a balance (a lot is dated when it vests)")
    amount = str(rule.amount) if constant else f"coalesce({_q(str(rule.amount))}, 0)"
    if every is not None:  # the steps are worked out exactly before the SQL (run.every_steps)
        amount = f"({rule.amount} * {_q(every)})"
    factor = _factor(p, name, types)
    # Multipliers act on each unit's kept points. Where the rule keeps a unit's points whole (no
    # caps, no `beyond the first`) or its caps count multiplied points, the unit's value is simply
    # multiplied. Otherwise the factor must be the same for every unit of a top group, and whole,
    # so that the group's points times it are the sum of its units' multiplied points.
    at_unit = factor is not None and not rule.beyond_first and (not rule.caps or rule.caps_after_multipliers)
    on_group = factor is not None and not at_unit
    if at_unit and not shared:
        raise NotColumnar(f"rule {name}: which event earns, and so its multiplier, would change with the facts")
    # A factor that is not whole, or that changes within a group its caps share out, multiplies each
    # unit's kept points, worked out one by one (as long groups are): where units never change.
    unit_factor = False
    if on_group:
        assert factor is not None
        if rule.caps_after_multipliers:
            raise NotColumnar(f"rule {name}: `beyond the first` with caps after multipliers")
        top = [cap_periods[-1]] if cap_periods else outer_periods
        varies = factor.varies is not None and not any(factor.varies in PERIODS_IN[k] for k in top)
        unit_factor = not factor.whole or varies
        if unit_factor and (tests or rule.threshold is not None or vesting):
            if not factor.whole:
                raise NotColumnar(f"rule {name}: a multiplier that is not whole, on capped or ranked points")
            raise NotColumnar(f"rule {name}: its multipliers change within a group its caps share out")
    by_unit = by_unit or unit_factor
    value_of = _times(amount, factor) if at_unit and factor is not None else amount
    vested = f"e.{AT} + {vesting}" if vesting else f"e.{AT}"  # its points count from when they vest
    # A status sees the steps before its instant, and points vested at it (RuleState.settle): so
    # vested points step in just before they vest.
    enter = f"e.{AT} + {vesting - 1}" if vesting else f"e.{AT}"
    joins, enters, leaves, needs = [], [_period_sql("month", p) if windowed else enter], [], []
    for i, test in enumerate(tests):
        f = f"f{i}"
        fact = test.fact.text
        if fact not in fact_index:
            raise NotColumnar(f"rule {name}: fact {fact} is established by no event")
        if fact_types[fact] != {types.get(test.field.text)}:
            raise NotColumnar(f"rule {name}: fact {fact} is said of values of another type")
        joins.append(
            f"LEFT JOIN fact_{fact_index[fact]} {f} ON {f}.member = e.member AND {f}.v = e.{_q(test.field.text)}"
        )
        # With vesting, a fact counts only if established before the points vest (RuleState._until).
        counted = f"{f}.since" if not vesting else f"(CASE WHEN {f}.since < {vested} THEN {f}.since END)"
        if test.negated:
            leaves.append(f"coalesce({counted}, {NEVER})")
        else:
            enters.append(f"{f}.since")
            needs.append(f"{counted} IS NOT NULL")
    a = enters[0] if len(enters) == 1 else f"greatest({', '.join(enters)})"
    b = str(NEVER) if not leaves else (leaves[0] if len(leaves) == 1 else f"least({', '.join(leaves)})")
    key_exprs = [(f"k{j}", _key_sql(k, p)) for j, k in enumerate(rule.per)]
    cap_exprs = [(f"c{j}", _period_sql(period, p)) for j, period in enumerate(cap_periods)]
    month = [("mon", _period_sql("month", p))] if windowed else []
    if on_group:  # constant within the top group: carried as one of its keys
        assert factor is not None
        month.append(("fm", factor.numerator))
    carried = [f"{expr} AS {alias}" for alias, expr in key_exprs + cap_exprs + month]
    if unit_factor:  # the factor of each event, exact: the unit's first event's multiplies it
        assert factor is not None
        carried += [f"{factor.numerator} AS fn", f"{factor.denominator} AS fdn"]
    campaign = [_during_sql(decl.during)] if decl.during is not None else []
    condition = " AND ".join([f"e.type = {sql_text(rule.on)}", *campaign, f"({_static_sql(static, types)})", *needs])
    threshold = rule.threshold
    if threshold is not None and threshold.kind == ast.ThresholdKind.DISTINCT and threshold.key is not None:
        carried.append(f"{_key_sql(threshold.key, p)} AS dk")  # the value a distinct threshold counts
    if threshold is not None and threshold.kind == ast.ThresholdKind.SUM:  # the amount a sum adds, exact
        carried.append(f"coalesce(e.{_q(exact_columns(p)[str(threshold.key)])}, 0) AS sk")
    if _keeps_lots(p) or vesting or by_unit:  # whether the candidate passes at the end, and its day
        until = f"least(status_end(), {vested})" if vesting else "status_end()"
        at_end = [
            f"(f{i}.since_at IS NULL OR f{i}.since_at >= {until})" if test.negated else f"f{i}.since_at < {until}"
            for i, test in enumerate(tests)
        ]
        carried += [f"CAST(e.{TS} AS DATE) AS ld", f"({' AND '.join(at_end) or 'true'}) AS fin"]
    ctes = [
        f"cand_{r} AS (SELECT e.member, e.{AT}, row(e.{AT}, {', '.join(tie_key_sql(p.schema[rule.on], 'e'))}) AS o,"
        f" {value_of} AS v, {a} AS a, {b} AS b"
        f"{''.join(', ' + c for c in carried)} FROM evp e {' '.join(joins)} WHERE {condition})"
    ]
    keys = [alias for alias, _ in key_exprs]
    source = f"cand_{r}"  # the candidates that may earn a unit
    if threshold is not None:
        ctes.append(_threshold_cte(p, rule, r, keys, bool(tests)))
        source = f"thr_{r}"
    extra = [alias for alias, _ in cap_exprs + month]
    # A unit's columns its key fixes (the month of a day): any event's will do, and min is cheaper.
    fixed = {alias for (alias, _), period in zip(cap_exprs, cap_periods, strict=True) if _in_key(period, periods)}
    fixed |= {"mon"} if windowed and _in_key("month", periods) else set()
    if on_group and factor is not None and (factor.varies is None or _in_key(factor.varies, periods)):
        fixed.add("fm")
    unit = ", ".join(["member", *keys])
    unit_value = "1" if rule.beyond_first else "v"
    on = "fm" if on_group else None
    fixed_day = fixed | ({"ld"} if _in_key("day", periods) else set())
    fixed_day |= {"v"} if constant and not at_unit else set()
    if by_unit:
        scale = _Scale(None if unit_factor else on, unit_factor)
        ctes += _unit_steps_ctes(rule, r, source, keys, cap_exprs, scale, fixed_day, p.window_months)
        return _RuleSql(ctes, _rule_lots(p, rule, r, source, keys, cap_exprs, scale, fixed_day, False))
    if shared:
        first = source
        plain = not tests and constant and key_period is not None and set(cap_periods) <= PERIODS_IN[key_period]
        plain = plain and rule.threshold is None  # with one, the event reaching it earns
        if rule.per and plain:  # a unit's events differ in nothing it reads but their instants
            v = "arg_min(v, o)" if at_unit else amount  # a multiplier may tell its events apart
            first = f"(SELECT {unit}{''.join(', ' + c for c in extra)}, min(a) AS a, {NEVER} AS b, {v} AS v"
            first += f" FROM cand_{r} GROUP BY ALL)"
        elif rule.per:  # the unit's first event earns (facts are the same for all its events)
            picked = ", ".join(
                f"min({c}) AS {c}" if c in fixed else f"arg_min({c}, o) AS {c}" for c in ["a", "b", "v", *extra]
            )
            first = f"(SELECT {unit}, {picked} FROM {source} WHERE a < b GROUP BY {unit})"  # o: order.py's order
        cols = ", ".join(["member", *keys, *extra])
        ctes.append(
            f"unit_{r} AS (SELECT {cols}, a AS t, {unit_value} AS d FROM {first} u WHERE a < b"
            f" UNION ALL SELECT {cols}, b AS t, -{unit_value} AS d FROM {first} u WHERE a < b AND b < {NEVER})"
        )
    elif windowed and len(enters) == 1:
        # A unit earns while one of its events passes. They all enter at the unit's month (a fact
        # may only take them out), so it earns from then until the last of them is taken out.
        cols = ", ".join(["member", *keys, *extra])
        value = "1" if rule.beyond_first else amount
        spans = f"(SELECT {cols}, a, max(b) AS b FROM cand_{r} WHERE a < b GROUP BY ALL)"
        ctes.append(
            f"unit_{r} AS (SELECT {cols}, a AS t, {value} AS d FROM {spans}"
            f" UNION ALL SELECT {cols}, b AS t, -{value} AS d FROM {spans} WHERE b < {NEVER})"
        )
    else:  # a unit earns while one of its events passes: count the passing ones
        cols = ", ".join(["member", *keys, *extra])
        raw = (
            f"SELECT {cols}, a AS t, 1 AS d FROM cand_{r} WHERE a < b"
            f" UNION ALL SELECT {cols}, b AS t, -1 AS d FROM cand_{r} WHERE a < b AND b < {NEVER}"
        )
        value = "1" if rule.beyond_first else amount
        ctes.append(f"unit_{r} AS ({_level(raw, ['member', *keys, *extra], f'{value} * (s > 0)::BIGINT')})")
    below = f"unit_{r}"
    # Without facts, a month-bound group's units all enter at its month: its levels are plain sums.
    one_time = windowed and not tests
    if rule.beyond_first:
        group = ["member", *keys[1:], *extra]
        ctes.append(f"outer_{r} AS ({_level(below, group, f'{amount} * greatest(s - 1, 0)', one_time)})")
        below = f"outer_{r}"
    for j, (cap, _) in enumerate(rule.caps):
        group = ["member", *[alias for alias, _ in cap_exprs[j:]], *[alias for alias, _ in month]]
        ctes.append(f"cap_{r}_{j} AS ({_level(below, group, f'least({cap}, s)', one_time)})")
        below = f"cap_{r}_{j}"
    d = "d * fm" if on_group else "d"
    if windowed:
        assert p.window_months is not None
        leave = f"mon + {p.window_months}"  # the last month whose recalculation counts it
        ctes.append(
            f"steps_{r} AS (SELECT member, t, {d} AS d FROM {below}"
            f" UNION ALL SELECT member, greatest(t, {leave}) AS t, -{d} AS d FROM {below})"
        )
    else:
        ctes.append(f"steps_{r} AS (SELECT member, t, {d} AS d FROM {below})")
    if vesting:  # what is pending at the end: points of units none of whose events has vested
        ctes.append(_pending_cte(rule, r, keys, on_group))
    return _RuleSql(ctes, _rule_lots(p, rule, r, source, keys, cap_exprs, _Scale(on), fixed_day, bool(tests)))


def _rule_lots(
    p: CompiledProgram,
    rule: CompiledRule,
    r: int,
    source: str,
    keys: list[str],
    caps: list[tuple[str, str]],
    scale: _Scale,
    fixed: set[str],
    tested: bool,
) -> list[str]:
    """The rule's lots: one by one where points are spent or each unit has its own factor, by day
    where they only expire."""
    if _spends(p) or (_keeps_lots(p) and scale.by_unit):
        return _unit_lots_ctes(rule, r, source, keys, caps, scale, fixed, tested)
    if _keeps_lots(p):
        return _lots_ctes(p, rule, r, source, keys, caps, scale.fm, fixed, tested)
    return []


@attrs.frozen
class _Scale:
    """How a unit's kept points are multiplied: by `fm`, a whole factor the same over its top group
    (a column), or by `by_unit`, its first event's own factor (columns fn / fdn), rounded down."""

    fm: str | None = None
    by_unit: bool = False

    @property
    def carried(self) -> list[str]:
        """The columns a unit carries for it."""
        return ["fn", "fdn"] if self.by_unit else [self.fm] if self.fm else []

    @property
    def firsts(self) -> list[str]:
        """Those of them a unit takes from its first event (a factor may change from one to the next)."""
        return ["fn", "fdn"] if self.by_unit else []

    def of(self, s: str) -> str:
        if self.by_unit:
            product = f"(({s})::HUGEINT * fn)"
            return f"(({product} - ((({product}) % fdn) + fdn) % fdn) // fdn)"  # floor, whatever the sign
        return f"{s} * {self.fm}" if self.fm else s


def _threshold_cte(p: CompiledProgram, rule: CompiledRule, r: int, keys: list[str], tested: bool) -> str:
    """thr_R: the candidates of a unit from the one that reaches its threshold on (RuleState._earning):
    the count of its events, or of distinct values of a key, in time order. The earliest of them
    earns the unit."""
    assert rule.threshold is not None
    kind, need = rule.threshold.kind, rule.threshold.need
    if tested:  # a fact taking an event out would change which one reaches it
        raise NotColumnar(f"rule {rule.name}: a threshold over events a fact can take out")
    if not keys:
        raise NotColumnar(f"rule {rule.name}: a threshold without `per`")
    unit = ", ".join(["member", *keys])
    order = f"ORDER BY {AT}, o"
    goal = repr(need)
    if kind == ast.ThresholdKind.COUNT:
        counted = f"SELECT *, row_number() OVER (PARTITION BY {unit} {order}) AS reached FROM cand_{r}"
    elif kind == ast.ThresholdKind.SUM:  # the amounts as the decimals they were written as (run.py)
        running = f"sum(sk) OVER (PARTITION BY {unit} {order} ROWS UNBOUNDED PRECEDING)"
        counted = f"SELECT *, {running} AS reached FROM cand_{r}"
        exact = decimal_of(need)
        if -int(exact.as_tuple().exponent) > EXACT_PLACES:
            raise NotColumnar(f"rule {rule.name}: a threshold with more than {EXACT_PLACES} decimals")
        goal = f"CAST('{exact}' AS DECIMAL(38, {EXACT_PLACES}))"
    else:  # a value (cand's dk) counts at its first event in the unit
        firsts = f"SELECT *, (row_number() OVER (PARTITION BY {unit}, dk {order}) = 1)::INTEGER AS new FROM cand_{r}"
        running = f"sum(new) OVER (PARTITION BY {unit} {order} ROWS UNBOUNDED PRECEDING)"
        counted = f"SELECT *, {running} AS reached FROM ({firsts})"
    return f"thr_{r} AS (SELECT * FROM ({counted}) WHERE reached >= {goal})"


def _in_key(period: str, keys: list[str]) -> bool:
    """Whether a period is fixed by a unit's period keys (a day's month is)."""
    return any(period in PERIODS_IN[k] for k in keys)


def _lots_ctes(
    p: CompiledProgram,
    rule: CompiledRule,
    r: int,
    source: str,
    keys: list[str],
    caps: list[tuple[str, str]],
    fm: str | None,
    fixed: set[str],
    tested: bool,
) -> list[str]:
    """The rule's lots as its units stand at the end (balance.member_balance), summed by member and
    local day: a balance reads nothing else of them. Each unit's first candidate passing at the end
    earns and dates it, `beyond the first` leaves a group's earliest unit unpaid, and caps share out
    their periods' points in time order. Lots are kept whatever the window.

    Every group a cap or a ranking forms is a day or longer, and a day's units come before the next
    day's: so a day's total is the same whichever of its units a cap cuts, and only days need
    ordering (by date), never units."""
    by_day = [alias for alias, _ in caps] + ([fm] if fm else [])  # functions of the unit's local day
    ctes = [f"units_{r} AS ({_units_sql(rule, source, keys, by_day, fixed, tested, dated=False)})"]
    carried = "".join(f", min({c}) AS {c}" for c in by_day)
    if not rule.caps and not rule.beyond_first:  # each unit keeps its points; only gains make lots
        ctes.append(f"lots_{r} AS (SELECT member, ld, sum(v) AS p FROM units_{r} WHERE v > 0 GROUP BY member, ld)")
        return ctes
    days = f"SELECT member, ld{carried}, sum(v) AS s FROM units_{r} GROUP BY member, ld"
    if list(rule.per) == ["day"] and not rule.beyond_first:  # a unit is a day already
        days = f"SELECT member, ld{''.join(', ' + c for c in by_day)}, v AS s FROM units_{r}"
    elif rule.beyond_first and list(rule.per[1:]) == ["day"]:  # a ranked group is a day: one unpaid unit
        days = f"SELECT member, ld{carried}, {rule.amount} * (count(*) - 1) AS s FROM units_{r} GROUP BY member, ld"
    elif rule.beyond_first:  # the amount, less one for each group whose first unit falls on the day
        outer = ", ".join(["member", *keys[1:]])
        starts = f"SELECT member, ld, count(*) AS n FROM (SELECT member, min(ld) AS ld FROM units_{r} GROUP BY {outer})"
        days = (
            f"SELECT d.member, d.ld{''.join(', d.' + c for c in by_day)}, d.s - {rule.amount} * coalesce(f.n, 0) AS s"
            f" FROM ({days}) d LEFT JOIN ({starts} GROUP BY member, ld) f USING (member, ld)"
        )
    cols = ", ".join(["member", "ld", *by_day])
    for (cap, period), (alias, _) in zip(rule.caps, caps, strict=True):
        if period == "day":
            days = f"SELECT {cols}, least({cap}, s) AS s FROM ({days})"
        else:  # the cap's room, day after day
            running = f"sum(s) OVER (PARTITION BY member, {alias} ORDER BY ld ROWS UNBOUNDED PRECEDING)"
            kept = f"least({cap}, t) - least({cap}, t - s)"
            days = f"SELECT {cols}, {kept} AS s FROM (SELECT *, {running} AS t FROM ({days}))"
    points = f"s * {fm}" if fm else "s"
    ctes.append(f"lots_{r} AS (SELECT member, ld, {points} AS p FROM ({days}) WHERE {points} > 0)")
    return ctes


def _unit_steps_ctes(
    rule: CompiledRule,
    r: int,
    source: str,
    keys: list[str],
    caps: list[tuple[str, str]],
    scale: _Scale,
    fixed: set[str],
    window: int | None,
) -> list[str]:
    """steps_R for a rule whose units are worked out one by one, where they never change once
    earned (no fact, no threshold, no vesting): its groups outlast a month in a rolling window, or
    each unit has its own factor. Each unit's kept points (in time order, as RuleState._allocate
    shares them out), multiplied, step in at the unit's instant (its month in a rolling window)
    and out `window` months on."""
    months = ["mon"] if window is not None else []
    carried = [alias for alias, _ in caps] + months + scale.carried
    ctes = [f"kunits_{r} AS ({_units_sql(rule, source, keys, carried, fixed, False, dated=True, firsts=scale.firsts)})"]
    rows = _kept_rows(rule, f"kunits_{r}", keys, caps, carried)
    points = scale.of("s")
    ctes.append(f"kept_{r} AS (SELECT member, {AT}, {'mon, ' if months else ''}{points} AS d FROM ({rows}))")
    if window is None:
        ctes.append(f"steps_{r} AS (SELECT member, {AT} AS t, d FROM kept_{r} WHERE d <> 0)")
        return ctes
    ctes.append(
        f"steps_{r} AS (SELECT member, mon AS t, d FROM kept_{r} WHERE d <> 0"
        f" UNION ALL SELECT member, mon + {window} AS t, -d AS d FROM kept_{r} WHERE d <> 0)"
    )
    return ctes


def _kept_rows(rule: CompiledRule, units: str, keys: list[str], caps: list[tuple[str, str]], carried: list[str]) -> str:
    """Each unit of `units` with `s`, the points it keeps: `beyond the first` leaves a group's
    earliest unit unpaid, and caps share out their periods in time order (RuleState._allocate),
    each cap over what the finer one kept (caps are nested, so once a coarser cap cuts, every later
    unit of its period keeps nothing either way)."""
    cols = ", ".join(["member", *keys, AT, "o", "ld", *carried])
    order = f"ORDER BY {AT}, o"
    rows = f"SELECT {cols}, v AS s FROM {units}"
    if rule.beyond_first:  # the earliest unit of each group earns nothing
        outer = ", ".join(["member", *keys[1:]])
        first = f"row_number() OVER (PARTITION BY {outer} {order}) = 1"
        rows = f"SELECT {cols}, CASE WHEN {first} THEN 0 ELSE {rule.amount} END AS s FROM {units}"
    for (cap, _), (alias, _) in zip(rule.caps, caps, strict=True):  # the cap's room, unit after unit
        running = f"sum(s) OVER (PARTITION BY member, {alias} {order} ROWS UNBOUNDED PRECEDING)"
        kept = f"least({cap}, t) - least({cap}, t - s)"
        rows = f"SELECT {cols}, {kept} AS s FROM (SELECT *, {running} AS t FROM ({rows}))"
    return rows


def _unit_lots_ctes(
    rule: CompiledRule,
    r: int,
    source: str,
    keys: list[str],
    caps: list[tuple[str, str]],
    scale: _Scale,
    fixed: set[str],
    tested: bool,
) -> list[str]:
    """ulots_R: the rule's lots one by one, as its units stand at the end (balance.member_balance),
    each dated by its first candidate passing at the end; then lots_R by member and local day from
    them. A claim may fall within a day, so it must see which of the day's units came before it:
    `beyond the first` leaves a group's earliest unit unpaid, and caps share out their periods in
    time order (RuleState._allocate), each cap over what the finer one kept (caps are nested, so
    once a coarser cap cuts, every later unit of its period keeps nothing either way)."""
    carried = [alias for alias, _ in caps] + scale.carried  # the same for the unit's events
    ctes = [f"units_{r} AS ({_units_sql(rule, source, keys, carried, fixed, tested, dated=True, firsts=scale.firsts)})"]
    rows = _kept_rows(rule, f"units_{r}", keys, caps, carried)
    points = scale.of("s")
    ctes.append(f"ulots_{r} AS (SELECT member, {AT}, ld, {points} AS p FROM ({rows}) WHERE {points} > 0)")
    ctes.append(f"lots_{r} AS (SELECT member, ld, sum(p) AS p FROM ulots_{r} GROUP BY member, ld)")
    return ctes


def _units_sql(
    rule: CompiledRule,
    source: str,
    keys: list[str],
    carried: list[str],
    fixed: set[str],
    tested: bool,
    dated: bool,
    firsts: Sequence[str] = (),
) -> str:
    """A rule's units as they stand at the end, for its lots: each unit's first candidate passing at
    the end earns it, and its day and periods (`carried`) are that event's, the earliest as time
    goes; `dated` adds its instant and order."""
    where = " WHERE fin" if tested else ""  # without facts, every candidate passes at the end
    if not rule.per:  # each candidate is a unit
        columns = ", ".join(["member", "ld", *carried, "v", *([AT, "o"] if dated else [])])
        return f"SELECT {columns} FROM {source}{where}"
    unit = ", ".join(["member", *keys])
    value = "min(v)" if "v" in fixed else "arg_min(v, o)"
    picked = "".join(f", arg_min({c}, o) AS {c}" if c in firsts else f", min({c}) AS {c}" for c in ["ld", *carried])
    instant = f", min({AT}) AS {AT}, min(o) AS o" if dated else ""
    return f"SELECT {unit}{picked}, {value} AS v{instant} FROM {source}{where} GROUP BY {unit}"


EXACT_PLACES = 18  # the decimals an amount summed exactly in SQL may have (run.exact_decimals)


def exact_columns(p: CompiledProgram) -> dict[str, str]:
    """The column of each field a threshold sums, as exact decimals: no field can be named so."""
    fields = sorted(
        {str(r.threshold.key) for r in p.rules if r.threshold and r.threshold.kind == ast.ThresholdKind.SUM}
    )
    return {field: f"@exact{i}" for i, field in enumerate(fields)}


def every_columns(p: CompiledProgram) -> dict[tuple[Decimal, str], str]:
    """The column of whole steps of each `for every STEP of FIELD` in the program, by (STEP, FIELD):
    no field can be named so."""
    pairs = sorted({r.every for r in p.rules if r.every is not None})
    return {pair: f"@every{i}" for i, pair in enumerate(pairs)}


def _pending_cte(rule: CompiledRule, r: int, keys: list[str], on_group: bool) -> str:
    """pend_R (member, p): MemberRun._pending. A unit whose events passing at the end have none vested
    by then is pending with its first passing event's points, multiplied, before caps."""
    vested = f"{AT} + {rule.vesting} <= status_end()"
    value = "v * fm" if on_group else "v"  # cand's v is multiplied where the rule multiplies units
    if not rule.per:  # each event is a unit
        return (
            f"pend_{r} AS (SELECT member, sum({value}) AS p FROM cand_{r} WHERE fin AND NOT ({vested}) GROUP BY member)"
        )
    unit = ", ".join(["member", *keys])
    units = (
        f"SELECT {unit}, bool_or(fin AND {vested}) AS earning,"
        f" arg_min({value}, o) FILTER (WHERE fin AND NOT ({vested})) AS p FROM cand_{r} GROUP BY {unit}"
    )
    return (
        f"pend_{r} AS (SELECT member, sum(p) AS p FROM ({units}) WHERE NOT earning AND p IS NOT NULL GROUP BY member)"
    )


def _keeps_lots(p: CompiledProgram) -> bool:
    """Whether the program keeps a balance of lots (as MemberRun computes one)."""
    return p.expiry is not None or bool(p.redemptions) or p.conversion is not None


def _spends(p: CompiledProgram) -> bool:
    return bool(p.redemptions) or p.conversion is not None or _lapses(p) or p.decision_balance or p.status_balance


def _lapses(p: CompiledProgram) -> bool:
    """Whether lots lapse after a spell without activity."""
    return p.expiry is not None and p.expiry[0] == ast.ExpiryKind.INACTIVE


def claim_types(p: CompiledProgram) -> frozenset[str]:
    """The event types that spend points or vouchers."""
    return frozenset({r.event for r in p.redemptions} | ({p.voucher_use} if p.voucher_use else set()))


def _check_balance_read(p: CompiledProgram) -> None:
    """What keeps a tier or a decision on the balance off the columnar path. The walk of an instant
    takes the lots earned before it as they stand at the end: that is what they were at that
    instant only while a lot, once earned, never changes. (A program that reads the balance keeps
    one: the checks refuse `balance` otherwise.)"""
    if p.retention is not None and p.measured_tiers:  # the keeper is fed tiers by points alone
        raise NotColumnar("tier retention with tiers that qualify on more than points")
    if not (p.decision_balance or p.status_balance):
        return
    who = "a tier" if p.status_balance else "a decision"
    for rule in p.rules:
        if rule.fact_refs:
            raise NotColumnar(f"rule {rule.name}: {who} reads the balance, and a fact can take out its points")
        if rule.threshold is not None:
            raise NotColumnar(f"rule {rule.name}: {who} reads the balance, and a threshold dates its points")
        if rule.vesting:
            raise NotColumnar(f"rule {rule.name}: {who} reads the balance, and its points vest")


def _check_claims(p: CompiledProgram) -> None:
    """What the per-member part of the columnar path cannot judge of a claim."""
    # At one instant events are taken by type, and a lot is dated by its rule's event: a claim of
    # the same type as an earning event would need the whole order of the two (order.py).
    earning = {rule.on for rule in p.rules}
    for kind in sorted(claim_types(p)):
        if kind in earning:
            raise NotColumnar(f"event {kind} both earns and spends")


@attrs.frozen
class _Factor:
    """The product of a rule's multipliers that apply to an event (or the largest, where they do not
    combine), as SQL over `e`: numerator / denominator, exact."""

    numerator: str
    denominator: str
    whole: bool  # every factor is a whole number (so is the denominator: 1)
    varies: str | None  # the finest period within which it may change ("event": from one event to the next)


def _factor(p: CompiledProgram, rule: str, types: dict[str, str]) -> _Factor | None:
    """The factor of a rule's points from its multipliers, or None if it has none."""
    ours = [(m, decl) for m, decl in zip(p.multipliers, p.source.multipliers, strict=True) if m.rule == rule]
    if not ours:
        return None
    parts: list[tuple[Fraction, str]] = []
    varies: list[str] = []
    for m, decl in ours:
        if m.tiers or m.date_of is not None:
            raise NotColumnar(f"rule {rule}: a multiplier by tier or in the month of a member's date")
        tests = []
        if decl.during is not None:
            tests.append(_during_sql(decl.during))
            varies.append(_varies(decl.during))
        if decl.where is not None:
            static, facts = _split(decl.where, rule)
            if facts:
                raise NotColumnar(f"rule {rule}: a multiplier whose condition looks up facts")
            tests.append(_static_sql(static, types))
            varies.append("event")
        parts.append((m.factor, " AND ".join(tests) or "true"))
    if rule in p.largest_only:  # the largest that applies: tested from the largest down
        ordered = sorted(parts, key=lambda part: part[0], reverse=True)
        numerator = f"(CASE {' '.join(f'WHEN {c} THEN {f.numerator}' for f, c in ordered)} ELSE 1 END)"
        denominator = f"(CASE {' '.join(f'WHEN {c} THEN {f.denominator}' for f, c in ordered)} ELSE 1 END)"
    else:
        numerator = " * ".join(f"(CASE WHEN {c} THEN {f.numerator} ELSE 1 END)" for f, c in parts)
        denominator = " * ".join(f"(CASE WHEN {c} THEN {f.denominator} ELSE 1 END)" for f, c in parts)
    whole = all(f.denominator == 1 for f, _ in parts)
    finest = min(varies, key=_VARIES_ORDER.index, default=None)
    return _Factor(f"({numerator})::HUGEINT", "1" if whole else f"({denominator})::HUGEINT", whole, finest)


_VARIES_ORDER = ["event", "day", "month"]


def _varies(during: ast.During) -> str:
    """The finest period within which a campaign's test of an event may change."""
    if during.kind == ast.DuringKind.HOURS:
        return "event"
    if during.kind == ast.DuringKind.MONTH and not (during.month is not None and during.month.text in WEEKDAYS):
        return "month"
    return "day"


def _times(amount: str, factor: _Factor) -> str:
    """An amount times a factor, rounded down once (exact.multiplied)."""
    product = f"(({amount})::HUGEINT * {factor.numerator})"
    if factor.whole:
        return product
    d = factor.denominator
    return f"(({product} - ((({product}) % {d}) + {d}) % {d}) // {d})"  # floor, whatever the sign


def _expiry_sql(p: CompiledProgram) -> str:
    """The local day (ordinal) a lot earned on local date `ld` stops counting, NULL for never
    (balance.expires_at): a lot still counts at the end of day D if that day is after D + 1."""
    if p.expiry is None or _lapses(p):
        return "NULL"  # never (after inactivity, the walk over the member's activity dates it)
    kind, amount, unit = p.expiry
    month = "(year(ld) * 12 + month(ld) - 1)"

    def ordinal(date: str) -> str:
        return f"(date_diff('day', DATE '0001-01-01', {date}) + 1)"

    def first_of(index: str) -> str:
        return ordinal(f"make_date(CAST(({index}) // 12 AS BIGINT), CAST(({index}) % 12 + 1 AS BIGINT), 1)")

    if kind == ast.ExpiryKind.AFTER and unit == "day":
        day = f"({ordinal('ld')} + {amount})"
        return f"(CASE WHEN {day} <= {LAST_DAY} THEN {day} END)"
    if kind == ast.ExpiryKind.AFTER:  # the same day of the month, or that month's last
        later = ordinal(f"CAST(ld + to_months({amount}) AS DATE)")
        return f"(CASE WHEN {month} + {amount} <= {LAST_MONTH} THEN {later} END)"
    if kind == ast.ExpiryKind.AFTER_MONTH_END:  # the whole month N months later still counts
        return f"(CASE WHEN {month} + {amount} < {LAST_MONTH} THEN {first_of(f'{month} + {amount + 1}')} END)"
    if unit == "month":  # at the end of the period it was earned in
        return first_of(f"{month} + 1")
    size = 3 if unit == "quarter" else 12
    start = p.calendar.year_start - 1
    return first_of(f"(({month} - {start}) // {size} + 1) * {size} + {start}")


def _level(below: str, group: list[str], value: str, one_time: bool = False) -> str:
    """Steps of a function of the running sum `s` of the steps below, per group (f(0) is 0).

    `one_time`: every step of a group has the same time, so the function of its sum is its step.
    """
    g = ", ".join(group)
    source = below if below.startswith("SELECT") else f"SELECT * FROM {below}"
    if one_time:
        sums = f"SELECT {g}, t, sum(d) AS s FROM ({source}) GROUP BY ALL"
        return f"SELECT {g}, t, d FROM (SELECT {g}, t, {value} AS d FROM ({sums})) WHERE d <> 0"
    return (
        f"SELECT {g}, t, d FROM (SELECT {g}, t, v - coalesce(lag(v) OVER (PARTITION BY {g} ORDER BY t), 0) AS d"
        f" FROM (SELECT {g}, t, {value} AS v FROM (SELECT {g}, t,"
        f" sum(d) OVER (PARTITION BY {g} ORDER BY t ROWS UNBOUNDED PRECEDING) AS s"
        f" FROM (SELECT {g}, t, sum(d) AS d FROM ({source}) GROUP BY ALL)))) WHERE d <> 0"
    )


# --- calendar in SQL -----------------------------------------------------------------------------


def _key_sql(key: str, p: CompiledProgram) -> str:
    """A `per` key (or a distinct threshold's) of an event: its period's index, or its field."""
    return _period_sql(key, p) if key in PERIODS_IN else f"e.{_q(key)}"


def _period_sql(name: str, p: CompiledProgram) -> str:
    """The period index calendar.Calendar.period gives, from TS: the event's wall-clock time
    in the program's zone (UTC time in a UTC program)."""
    day = f"(date_diff('day', DATE '0001-01-01', CAST(e.{TS} AS DATE)) + 1)"
    month = f"(year(e.{TS}) * 12 + month(e.{TS}) - 1)"
    if name == "day":
        return day
    if name == "week":
        return f"(({day} - 1 - {p.calendar.week_start}) // 7)"
    if name == "month":
        return month
    shifted = f"({month} - {p.calendar.year_start - 1})"
    return f"({shifted} // 3)" if name == "quarter" else f"({shifted} // 12)"


def _during_sql(during: ast.During) -> str:
    """A campaign's days (compile._during) as a test of the event's local day: outside them the
    rule does not apply to the event, as if it had not happened."""
    day = f"CAST(e.{TS} AS DATE)"
    if during.kind == ast.DuringKind.DATES:
        assert during.first is not None and during.last is not None
        first, last = (dt.date.fromisoformat(str(d.value)).isoformat() for d in (during.first, during.last))
        return f"{day} BETWEEN DATE {sql_text(first)} AND DATE {sql_text(last)}"
    weekday = []  # isodow: Monday is 1
    if during.month is not None and during.month.text in WEEKDAYS:
        weekday = [f"isodow({day}) = {WEEKDAYS.index(during.month.text) + 1}"]
    if during.kind == ast.DuringKind.HOURS:  # local minutes from `first` up to `last`, overnight if last <= first
        assert during.first is not None and during.last is not None
        start, end = (clock_minute(str(t.value)) for t in (during.first, during.last))
        minute = f"(hour(e.{TS}) * 60 + minute(e.{TS}))"
        hours = (
            f"{minute} >= {start} AND {minute} < {end}" if start < end else f"({minute} >= {start} OR {minute} < {end})"
        )
        return " AND ".join([*weekday, hours])
    if weekday:
        return weekday[0]
    assert during.month is not None
    month = f"month({day}) = {MONTHS.index(during.month.text) + 1}"
    if during.kind == ast.DuringKind.MONTH:
        return month
    assert during.first is not None
    return f"{month} AND day({day}) = {int(during.first.value)}"


def _time(p: CompiledProgram) -> str:
    """The step time of a group's first instant. Steps are timed in months where statuses change
    only at month starts (month m: the recalculation opening month m+1 sees it), in microseconds
    where they follow every event. The month is the local one of that first instant."""
    if p.window_months is None:
        return f"min({AT})"
    local = f"arg_min({LOCAL}, {AT})" if p.calendar.name not in UTC_NAMES else f"min({AT})"
    return f"(year(make_timestamp({local})) * 12 + month(make_timestamp({local})) - 1)"


# --- conditions ------------------------------------------------------------------------------------


def _split(cond: ast.Condition | None, rule: str) -> tuple[list[ast.Condition], list[ast.FactTest]]:
    """A condition as (terms without facts, fact tests), all of which must hold."""
    static: list[ast.Condition] = []
    tests: list[ast.FactTest] = []
    for term in _conjuncts(cond):
        if isinstance(term, ast.Not) and isinstance(term.operand, ast.FactTest):
            inner = term.operand
            term = attrs.evolve(inner, negated=not inner.negated)
        if isinstance(term, ast.FactTest):
            tests.append(term)
        elif fact_refs(term):
            raise NotColumnar(f"rule {rule}: a fact under `or` or `not`")
        else:
            static.append(term)
    return static, tests


def _conjuncts(cond: ast.Condition | None) -> Iterator[ast.Condition]:
    if cond is None:
        return
    if isinstance(cond, ast.And):
        yield from _conjuncts(cond.left)
        yield from _conjuncts(cond.right)
    else:
        yield cond


def _static_sql(terms: list[ast.Condition], types: dict[str, str]) -> str:
    return " AND ".join(_cond_sql(t, types) for t in terms) or "true"


def _cond_sql(cond: ast.Condition, types: dict[str, str]) -> str:
    """A condition without facts; never NULL, like the Python predicate (a missing value fails)."""
    if isinstance(cond, ast.And):
        return f"({_cond_sql(cond.left, types)} AND {_cond_sql(cond.right, types)})"
    if isinstance(cond, ast.Or):
        return f"({_cond_sql(cond.left, types)} OR {_cond_sql(cond.right, types)})"
    if isinstance(cond, ast.Not):
        return f"(NOT {_cond_sql(cond.operand, types)})"
    if isinstance(cond, ast.Compare):
        left = _operand_sql(cond.left, cond.right, types)
        right = _operand_sql(cond.right, cond.left, types)
        op = "=" if cond.op == "==" else cond.op
        return f"coalesce({left} {op} {right}, false)"
    if isinstance(cond, ast.MemberOf):
        other = ast.Name(cond.field.text)
        values = ", ".join(_operand_sql(v, other, types) for v in cond.values)
        inside = f"coalesce(e.{_q(cond.field.text)} IN ({values}), false)"
        return f"(NOT {inside})" if cond.negated else inside
    if isinstance(cond, ast.FieldTest):
        if types.get(cond.field.text) != "boolean":
            raise NotColumnar(f"a test of the {types.get(cond.field.text)} field {cond.field.text}")
        return f"coalesce(e.{_q(cond.field.text)}, false)"
    raise NotColumnar(f"a condition of kind {type(cond).__name__}")


def _operand_sql(op: ast.Operand, other: ast.Operand, types: dict[str, str]) -> str:
    if isinstance(op, ast.Name):
        return f"e.{_q(op.text)}"
    other_type = types.get(other.text) if isinstance(other, ast.Name) else None
    value = op.value
    if other_type == "date" and op.kind == "string":
        return f"DATE {sql_text(dt.date.fromisoformat(str(value)).isoformat())}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return sql_text(value)
    return f"CAST({value!r} AS DOUBLE)" if isinstance(value, float) else repr(value)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def sql_text(text: str) -> str:
    """A SQL string literal of `text`."""
    return "'" + text.replace("'", "''") + "'"
