"""The meaning of a program: small checks, each `(program) -> list[Diagnostic]`.

Every check runs, so one `loyalty check` reports every problem at once. Names
are resolved here with "did you mean" hints; compile.py relies on a program
that passed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import attrs

from loyalty_dsl.language import ast, zones
from loyalty_dsl.language.diagnostics import Diagnostic, did_you_mean
from loyalty_dsl.language.limits import check_limits
from loyalty_dsl.language.suggest import closest
from loyalty_dsl.language.vocabulary import (
    BUILTIN_FIELDS,
    CAP_PERIODS,
    EXPIRY_UNITS,
    FIELD_TYPES,
    MAX_EXACT,
    MONTHS,
    NUMERIC,
    PERIODS,
    REDEEM_WHERE_NAMES,
    WEEKDAYS,
)

# Caps on several periods must nest, so that one chronological pass can apply them.
_NESTED_PERIODS = {
    ("day", "week"),
    ("day", "month"),
    ("day", "quarter"),
    ("day", "year"),
    ("month", "quarter"),
    ("month", "year"),
    ("quarter", "year"),
}


@attrs.frozen
class Symbols:
    """Name tables of a program, shared by the checks and the compiler."""

    events: dict[str, ast.EventDecl]
    fields: dict[str, dict[str, ast.FieldDecl]]
    facts: dict[str, ast.FactDecl]
    benefits: dict[str, ast.BenefitDecl]
    tiers: dict[str, ast.TierDecl]

    @classmethod
    def of(cls, program: ast.Program) -> Symbols:
        events = {e.name.text: e for e in program.events}
        return cls(
            events=events,
            fields={name: {f.name.text: f for f in e.fields} for name, e in events.items()},
            facts={f.fact.text: f for f in program.facts},
            benefits={b.name.text: b for b in program.benefits},
            tiers={t.name.text: t for t in program.tiers},
        )

    def field_type(self, event: str, field: str) -> str | None:
        decl = self.fields.get(event, {}).get(field)
        return decl.type.text if decl else None


def _err(node: Any, code: str, message: str, hint: str | None = None) -> Diagnostic:
    return Diagnostic.at(node.span, code, message, hint)


def _unknown(name: ast.Name, what: str, choices: Iterable[str], code: str, message: str | None = None) -> Diagnostic:
    choices = list(choices)
    hint = did_you_mean(name.text, choices)
    if hint is None and choices and len(choices) <= 8:
        hint = "known: " + ", ".join(sorted(choices))
    return _err(name, code, message or f"unknown {what} `{name.text}`", hint)


def _no_field(name: ast.Name, event: str, fields: Iterable[str]) -> Diagnostic:
    return _unknown(name, "field", fields, "E104", f"`{event}` has no field `{name.text}`")


_ARTICLE = {
    "text": "text",
    "money": "money",
    "integer": "an integer",
    "number": "a number",
    "date": "a date",
    "boolean": "true or false",
}


def _a(type_name: str) -> str:
    """A type as a sentence says it: "money", "a date", "true or false"."""
    return _ARTICLE.get(type_name, type_name)


def _duplicates(names: Iterable[ast.Name], what: str) -> Iterator[Diagnostic]:
    seen: dict[str, ast.Name] = {}
    for n in names:
        if n.text in seen:
            first = seen[n.text].span
            yield _err(n, "E102", f"{what} `{n.text}` is declared twice", f"first declared on line {first.line}")
        else:
            seen[n.text] = n


def _is_whole(lit: ast.Literal) -> bool:
    return lit.kind == "number" and isinstance(lit.value, int)


# --- checks -----------------------------------------------------------------------


def check_settings(p: ast.Program, s: Symbols) -> list[Diagnostic]:
    out = []
    if p.timezone is not None and not zones.is_iana(str(p.timezone.value)):
        out.append(_unknown_zone(p.timezone))
    if p.week_start is not None and p.week_start.text not in WEEKDAYS:
        out.append(_unknown(p.week_start, "day of the week", WEEKDAYS, "E118"))
    if p.year_start is not None and p.year_start.text not in MONTHS:
        out.append(_unknown(p.year_start, "month", MONTHS, "E119"))
    if not p.windows:
        out.append(
            Diagnostic(
                p.file,
                1,
                1,
                2,
                "E111",
                "the program has no window",
                "add `window last 12 months, recalculated monthly` or `window lifetime, continuous`",
            )
        )
    for extra in p.windows[1:]:
        out.append(
            _err(
                extra, "E112", "the program has more than one window", f"the first is on line {p.windows[0].span.line}"
            )
        )
    for w in p.windows[:1]:
        if isinstance(w, ast.CalendarYearWindow) and w.every is not None and w.every.text != "monthly":
            out.append(
                _err(
                    w.every,
                    "E115",
                    f"windows are recalculated `monthly`, not `{w.every.text}`",
                    did_you_mean(w.every.text, ["monthly"]),
                )
            )
        if isinstance(w, ast.RollingWindow):
            if not _is_whole(w.length) or int(w.length.value) < 1:
                out.append(_err(w.length, "E113", "a window's length is a whole number of months, at least 1"))
            if w.unit.text not in ("month", "months"):
                out.append(
                    _err(
                        w.unit,
                        "E114",
                        f"a rolling window is counted in months, not `{w.unit.text}`",
                        did_you_mean(w.unit.text, ["months"]),
                    )
                )
            if w.every.text != "monthly":
                out.append(
                    _err(
                        w.every,
                        "E115",
                        f"windows are recalculated `monthly`, not `{w.every.text}`",
                        did_you_mean(w.every.text, ["monthly"]),
                    )
                )
    if not p.tiers:
        out.append(
            Diagnostic(
                p.file, 1, 1, 2, "E116", "the program has no tier", "add at least one `tier NAME from N points:`"
            )
        )
    return out


def _unknown_zone(tz: ast.Literal) -> Diagnostic:
    name = str(tz.value)
    close = closest(name, zones.iana_names()) if len(name) <= _SHOWN_CHARS else None
    if close is not None:
        hint = f'did you mean "{close}"?'
    elif name.casefold() in ("localtime", "posixrules"):
        hint = 'the host\'s local time differs from machine to machine: name a zone, such as "Europe/Paris"'
    else:
        hint = 'use an IANA name such as "UTC" or "Europe/Paris"'
    return _err(tz, "E110", f"unknown time zone {_cut(tz.text)}", hint)


_SHOWN_CHARS = 60


def _cut(text: str) -> str:
    """Text written in the program, cut to fit a one-line message."""
    if len(text) <= _SHOWN_CHARS:
        return text
    return f"{text[: _SHOWN_CHARS - 1]}… ({len(text)} characters)"


def check_unique_names(p: ast.Program, s: Symbols) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    out += _duplicates((e.name for e in p.events), "event")
    out += _duplicates((b.name for b in p.benefits), "benefit")
    out += _duplicates((t.name for t in p.tiers), "tier")
    out += _duplicates((r.name for r in p.rules), "rule")
    out += _duplicates((f.fact for f in p.facts), "fact")
    return out


def check_events(p: ast.Program, s: Symbols) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for e in p.events:
        out += _duplicates((f.name for f in e.fields), f"field of `{e.name.text}`")
        for f in e.fields:
            if f.name.text in BUILTIN_FIELDS:
                out.append(_err(f.name, "E120", f"`{f.name.text}` is a field of every event; it is not declared"))
            if f.type.text not in FIELD_TYPES:
                out.append(_unknown(f.type, "field type", FIELD_TYPES, "E121"))
                continue
            if f.default is not None and not _literal_fits(f.default, f.type.text):
                out.append(_err(f.default, "E122", f"the default of `{f.name.text}` must be {_a(f.type.text)}"))
            if f.currency is not None:
                out += _check_currency_field(e, f, p)
            if f.at_least is not None and f.type.text not in NUMERIC:
                out.append(
                    _err(f.at_least, "E123", f"`at least` needs a number field; `{f.name.text}` is {_a(f.type.text)}")
                )
    return out


def _check_currency_field(e: ast.EventDecl, f: ast.FieldDecl, p: ast.Program) -> list[Diagnostic]:
    assert f.currency is not None
    out = []
    if f.type.text not in ("money", "number"):
        out.append(_err(f.currency, "E170", f"only an amount has a currency; `{f.name.text}` is {_a(f.type.text)}"))
    others = {g.name.text: g for g in e.fields}
    named = others.get(f.currency.text)
    if named is None:
        out.append(_no_field(f.currency, e.name.text, others))
    elif named.type.text != "text":
        out.append(_err(f.currency, "E171", f"`{f.currency.text}` names a currency: it must be text"))
    if p.currency is None:
        out.append(
            _err(
                f.currency, "E172", "amounts in several currencies need the program's own", "declare it: `currency USD`"
            )
        )
    return out


def check_retention(p: ast.Program, s: Symbols) -> list[Diagnostic]:
    out = []
    seen: set[str] = set()
    for r in p.retention:
        kind = "guarantee" if r.kind.startswith("guarantee") else r.kind  # one guarantee, however written
        if kind in seen:
            out.append(_err(r, "E240", "this tier retention is declared twice", "keep one"))
        seen.add(kind)
        if p.windows and isinstance(p.windows[0], ast.LifetimeWindow):
            out.append(
                _err(
                    r,
                    "E175",
                    "points never leave a lifetime window: keeping a tier needs a rolling or calendar-year window",
                )
            )
        w = p.windows[0] if p.windows else None
        if r.kind in ("grace", "one_level") and isinstance(w, ast.CalendarYearWindow) and w.every is None:
            out.append(
                _err(r, "E175", "grace and one level at a time count recalculations: write `recalculated monthly`")
            )
        if r.kind == "guarantee_day":
            out += _check_guarantee_day(r)
        if r.kind == "guarantee_for":
            if r.amount is None or not _is_whole(r.amount) or int(r.amount.value) < 1:
                out.append(_err(r.amount or r, "E213", "a tier is kept for a whole number of months, 1 or more"))
            if r.unit is not None and r.unit.text not in ("month", "months"):
                out.append(_unknown(r.unit, "unit", ("months",), "E245"))
        if r.kind == "grace":
            if r.amount is None or not _is_whole(r.amount) or int(r.amount.value) < 1:
                out.append(_err(r.amount or r, "E176", "a grace period is a whole number of months, 1 or more"))
            if r.unit is not None and r.unit.text not in ("month", "months"):
                out.append(_unknown(r.unit, "unit", ("months",), "E245"))
        if r.kind == "guarantee" and r.unit is not None and r.unit.text not in ("month", "quarter", "year"):
            out.append(_unknown(r.unit, "period", ("month", "quarter", "year"), "E245"))
    return out


def _check_guarantee_day(r: ast.Retention) -> list[Diagnostic]:
    out = []
    if r.unit is not None and r.unit.text not in ("month", "quarter", "year"):
        out.append(_unknown(r.unit, "period", ("month", "quarter", "year"), "E245"))
    if r.month is None or r.month.text not in MONTHS:
        return [*out, _unknown(r.month, "month", MONTHS, "E119")] if r.month is not None else out
    try:
        dt.date(2001, MONTHS.index(r.month.text) + 1, int(r.amount.value) if r.amount is not None else 0)
    except (ValueError, TypeError):  # 2001: a day every year has (no 29 February)
        out.append(_err(r, "E168", f"{r.amount.text if r.amount else ''} {r.month.text} is not a day of every year"))
    return out


def check_multipliers(p: ast.Program, s: Symbols) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    rules = {r.name.text for r in p.rules}
    tiers = {t.name.text for t in p.tiers}
    for m in p.multipliers:
        if m.rule.text not in rules:
            out.append(_unknown(m.rule, "rule", rules, "E106"))
        if not isinstance(m.factor.value, (int, float)) or m.factor.value <= 0:
            out.append(_err(m.factor, "E178", "a multiplier is a number above 0"))
        out += _check_during(m.during)
        rule = next((r for r in p.rules if r.name.text == m.rule.text), None)
        if m.where is not None and rule is not None and rule.on.text in s.events:
            out += check_condition(m.where, fields_of(s, rule.on.text), {}, s, f"a field of `{rule.on.text}`")
        for t in m.tiers:
            if t.text not in tiers:
                out.append(_unknown(t, "tier", tiers, "E179"))
        if m.tiers and p.windows and isinstance(p.windows[0], ast.LifetimeWindow):
            out.append(
                _err(
                    m,
                    "E175",
                    "a multiplier by tier reads the tier of each recalculation: "
                    "this needs a rolling or calendar-year window",
                )
            )
        if m.event is not None and m.field is not None:
            if m.event.text not in s.events:
                out.append(_unknown(m.event, "event", s.events, "E101"))
            elif s.field_type(m.event.text, m.field.text) != "date":
                out.append(_err(m.field, "E160", f"`{m.field.text}` is not a date field of `{m.event.text}`"))
    out += _duplicates((n.rule for n in p.no_combine), "`do not combine` of rule")
    for n in p.no_combine:
        if n.rule.text not in rules:
            out.append(_unknown(n.rule, "rule", rules, "E106"))
    return out


def check_rates(p: ast.Program, s: Symbols) -> list[Diagnostic]:
    out = list(_duplicates((r.currency for r in p.rates), "rate"))
    for r in p.rates:
        if not isinstance(r.value.value, (int, float)) or r.value.value <= 0:
            out.append(_err(r.value, "E173", "a rate is a number above 0"))
        if p.currency is None:
            out.append(_err(r, "E172", "rates need the program's currency", "declare it: `currency USD`"))
        elif r.currency.text == p.currency.text:
            out.append(_err(r.currency, "E174", f"{r.currency.text} is the program's own currency"))
    return out


def check_facts(p: ast.Program, s: Symbols) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for fact in p.facts:
        types = set()
        for ev in fact.events:
            if ev.text not in s.events:
                out.append(_unknown(ev, "event", s.events, "E101"))
                continue
            t = s.field_type(ev.text, fact.subject.text)
            if t is None:
                out.append(
                    _err(
                        ev,
                        "E130",
                        f"`{ev.text}` has no field `{fact.subject.text}`",
                        did_you_mean(fact.subject.text, s.fields[ev.text]),
                    )
                )
            else:
                types.add(t)
        if len(types) > 1:
            out.append(
                _err(
                    fact.subject,
                    "E131",
                    f"`{fact.subject.text}` has different types in these events: " + ", ".join(sorted(types)),
                )
            )
    return out


def check_tiers(p: ast.Program, s: Symbols) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    previous: ast.TierDecl | None = None
    by_threshold = all(t.points_only for t in p.tiers)  # else tiers rank in the order written
    for tier in p.tiers:
        th = tier.threshold
        if not tier.points_only:
            out += _check_qualification(tier, p)
        elif not _is_whole(th) or int(th.value) < 0:
            out.append(_err(th, "E140", "a tier starts at a whole number of points, 0 or more"))
        elif (
            by_threshold
            and previous is not None
            and _is_whole(previous.threshold)
            and int(th.value) <= int(previous.threshold.value)
        ):
            out.append(
                _err(
                    th,
                    "E141",
                    f"tier `{tier.name.text}` must start above `{previous.name.text}` "
                    f"({previous.threshold.text} points)",
                    "list tiers from the lowest to the highest",
                )
            )
        previous = tier
        out += _duplicates((b.name for b in tier.benefits), f"benefit of tier `{tier.name.text}`")
        for given in tier.benefits:
            out += _check_benefit_params(given, s)
    return out


def _check_qualification(tier: ast.TierDecl, p: ast.Program) -> list[Diagnostic]:
    """Each quantity names a measure (points, balance or a declared one) and a count it can reach."""
    out = []
    money = {m.name.text for m in p.measures if m.unit is not None}
    known = [*(m.name.text for m in p.measures), "points", "balance"]
    spendable = bool(p.redemptions or p.expiries)
    for q in (q for group in tier.qualification for q in group):
        name = q.measure.text
        if q.of_points:
            pass
        elif name == "balance":
            if not spendable:
                out.append(
                    _err(
                        q.measure,
                        "E209",
                        "`balance` is the spendable points: this program keeps none",
                        "add `redeem points by ...` or `points expire ...`, or qualify on points",
                    )
                )
        elif name not in known:
            hint = did_you_mean(name, known) or f"declare it: `measure {name}`"
            out.append(_err(q.measure, "E208", f"unknown measure `{name}` in tier `{tier.name.text}`", hint))
            continue
        value = q.amount.value
        if name in money:
            if not isinstance(value, (int, float)) or value < 0:
                out.append(_err(q.amount, "E140", f"a tier starts at an amount of `{name}`, 0 or more"))
        elif not _is_whole(q.amount) or int(value) < 0:
            out.append(_err(q.amount, "E140", f"a tier starts at a whole number of {name}, 0 or more"))
    return out


def _check_benefit_params(given: ast.TierBenefit, s: Symbols) -> list[Diagnostic]:
    decl = s.benefits.get(given.name.text)
    if decl is None:
        return [_unknown(given.name, "benefit", s.benefits, "E103")]
    out = []
    declared = {pd.name.text: pd for pd in decl.params}
    named = {pv.name.text for pv in given.params}
    for pv in given.params:
        pd = declared.get(pv.name.text)
        if pd is None:
            out.append(
                _unknown(
                    pv.name, "parameter", declared, "E142", f"`{decl.name.text}` has no parameter `{pv.name.text}`"
                )
            )
        elif pd.type.text in FIELD_TYPES and not _literal_fits(pv.value, pd.type.text):
            out.append(_err(pv.value, "E143", f"`{pv.name.text}` of `{decl.name.text}` must be {_a(pd.type.text)}"))
    misspelt = bool(named - set(declared))  # reported above; "missing" would say it twice
    for missing in [] if misspelt else sorted(set(declared) - named):
        out.append(
            _err(
                given,
                "E144",
                f"`{given.name.text}` needs its `{missing}`",
                f"write `{given.name.text} ({missing} ...)`",
            )
        )
    for pd in decl.params:
        if pd.type.text not in FIELD_TYPES:
            out.append(_unknown(pd.type, "parameter type", FIELD_TYPES, "E121"))
    return out


def check_rules(p: ast.Program, s: Symbols) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for rule in p.rules:
        if rule.on.text not in s.events:
            out.append(_unknown(rule.on, "event", s.events, "E101"))
            continue
        fields = fields_of(s, rule.on.text)
        if rule.where is not None:
            out += check_condition(rule.where, fields, {}, s, f"a field of `{rule.on.text}`")
        out += _check_during(rule.during)
        if rule.vesting is not None:
            v = rule.vesting
            if not _is_whole(v.amount) or int(v.amount.value) < 1:
                out.append(_err(v.amount, "E177", "points vest after a whole number of days, 1 or more"))
            if v.unit.text not in ("day", "days"):
                out.append(_unknown(v.unit, "unit", ("days",), "E246"))
        measures = {m.name.text: m.unit is not None for m in p.measures}
        out += _check_earn(rule, fields, frozenset(m for m, money in measures.items() if money), frozenset(measures))
        out += _check_caps(rule, fields)
    return out


RESERVED_MEASURES = ("points", "balance")  # points are the default measure; balance, the spendable points


def check_measures(p: ast.Program, s: Symbols) -> list[Diagnostic]:
    """Measures are declared once, with a known unit, fed by some rule; `into` names one."""
    out = list(_duplicates((m.name for m in p.measures), "measure"))
    declared = {m.name.text for m in p.measures}
    fed = {r.earn.into.text for r in p.rules if r.earn.into is not None}
    for m in p.measures:
        if m.name.text in RESERVED_MEASURES:
            out.append(
                _err(m.name, "E205", f"`{m.name.text}` is already a measure of every program", "pick another name")
            )
        if m.unit is not None and m.unit.text != "money":
            out.append(_unknown(m.unit, "unit of a measure", ("money",), "E206"))
        if m.name.text not in fed and m.name.text not in RESERVED_MEASURES:
            out.append(
                _err(
                    m.name,
                    "E207",
                    f"no rule earns into measure `{m.name.text}`: it is always 0",
                    f"add `into {m.name.text}` to a rule's `earn`, or remove the measure",
                )
            )
    for r in p.rules:
        into = r.earn.into
        if into is not None and into.text != "points" and into.text not in declared:
            hint = did_you_mean(into.text, [*declared, "points"])
            out.append(
                _err(into, "E204", f"unknown measure `{into.text}`", hint or f"declare it: `measure {into.text}`")
            )
    return out


def _check_earn(
    rule: ast.RuleDecl,
    fields: dict[str, str],
    money: frozenset[str] = frozenset(),
    measures: frozenset[str] = frozenset(),
) -> list[Diagnostic]:
    out = []
    amount = rule.earn.amount
    into = rule.earn.into
    if isinstance(amount, ast.Literal):
        if not _is_whole(amount) or int(amount.value) < 0:
            out.append(_err(amount, "E150", "points are earned in whole numbers, 0 or more"))
    elif amount.text not in fields:
        out.append(_no_field(amount, rule.on.text, fields))
    elif rule.earn.every is not None or (into is not None and into.text not in {*measures, "points"}):
        pass  # E201 (points per step from a field) or E204 (an unknown measure) says what is wrong
    elif into is not None and into.text in money:
        if fields[amount.text] not in NUMERIC:
            out.append(
                _err(amount, "E151", f"`{amount.text}` is {_a(fields[amount.text])}; a money measure sums numbers")
            )
    elif into is not None and into.text != "points" and fields[amount.text] != "integer":
        out.append(
            _err(
                amount,
                "E151",
                f"`{amount.text}` is {_a(fields[amount.text])}; measure `{into.text}` counts whole numbers",
                f"to sum amounts, declare it `measure {into.text} in money`"
                if fields[amount.text] in NUMERIC
                else None,
            )
        )
    elif fields[amount.text] != "integer":
        out.append(
            _err(
                amount,
                "E151",
                f"`{amount.text}` is {_a(fields[amount.text])}; points come from a whole number or an integer field",
                f"for points per amount, write `earn 1 for every 1.00 of {amount.text}`"
                if fields[amount.text] in NUMERIC
                else None,
            )
        )
    if rule.earn.once is not None and not rule.earn.per:
        out.append(
            Diagnostic.at(
                rule.earn.once,
                "E148",
                f"`earn {amount.text} once`: once per what? Without `per`, it pays every event",
                "say what it is paid once for: `once per day` (a period) or `once per FIELD` (each value of a field)",
            )
        )
    out += _check_for_every(rule, fields)
    for key in rule.earn.per:
        if key.text in fields and fields[key.text] in ("money", "number"):
            out.append(_per_amount(rule, key, fields[key.text]))
        if key.text not in PERIODS and key.text not in fields:
            out.append(
                _unknown(
                    key,
                    "key",
                    [*PERIODS, *fields],
                    "E152",
                    f"`{key.text}` is neither a period ({', '.join(PERIODS)}) nor a field of `{rule.on.text}`",
                )
            )
    out += _check_threshold(rule, fields)
    if rule.earn.beyond_first and not rule.earn.per:
        out.append(
            _err(
                rule.earn,
                "E153",
                "`beyond the first` needs a `per ...` to count from",
                "e.g. `earn 1 per category per day beyond the first`",
            )
        )
    return out


def _per_amount(rule: ast.RuleDecl, key: ast.Name, type_name: str) -> Diagnostic:
    """`per amount` on money reads as "per dollar" but would pay once per distinct amount."""
    unit = "1.00" if type_name == "money" else "1"
    return _err(
        key,
        "E147",
        f"`per {key.text}` would pay once for each distinct value of `{key.text}` ({_a(type_name)}), "
        "not for each unit of it",
        f"`per` groups events by a period or by a text or integer field; for points for each {unit} of it, "
        f"write `earn {rule.earn.amount.text} for every {unit} of {key.text}`",
    )


def _check_for_every(rule: ast.RuleDecl, fields: dict[str, str]) -> list[Diagnostic]:
    every = rule.earn.every
    if every is None:
        return []
    out = []
    if not isinstance(rule.earn.amount, ast.Literal):
        out.append(
            _err(
                rule.earn.amount,
                "E201",
                "`for every` pays a whole number of points per step",
                f"e.g. `earn 1 for every {every.step.text} of {every.field.text}`",
            )
        )
    if not isinstance(every.step.value, (int, float)) or every.step.value <= 0:
        out.append(_err(every.step, "E202", "the step of `for every` is a number above 0"))
    if every.field.text not in fields:
        out.append(_no_field(every.field, rule.on.text, fields))
    elif fields[every.field.text] not in NUMERIC:
        out.append(
            _err(
                every.field,
                "E203",
                f"`{every.field.text}` is {_a(fields[every.field.text])}; `for every` counts a number field",
            )
        )
    return out


def _check_during(d: ast.During | None) -> list[Diagnostic]:
    if d is None:
        return []
    if d.kind == "dates":
        assert d.first is not None and d.last is not None
        bad = [x for x in (d.first, d.last) if not _is_date(str(x.value))]
        if bad:
            return [_err(x, "E168", f"{x.text} is not a day", "write a day as 2026-11-01") for x in bad]
        if str(d.first.value) > str(d.last.value):
            return [_err(d, "E169", "a campaign ends on or after the day it starts")]
        return []
    if d.kind == "hours":
        out = (
            [_unknown(d.month, "day of the week", WEEKDAYS, "E118")] if d.month and d.month.text not in WEEKDAYS else []
        )
        assert d.first is not None and d.last is not None
        for t in (d.first, d.last):
            hours, minutes = (int(x) for x in str(t.value).split(":"))
            if hours > 23 or minutes > 59:
                out.append(
                    _err(t, "E211", f"{t.text} is not a time of day", "write a time as 16:00, from 00:00 to 23:59")
                )
        if str(d.first.value) == str(d.last.value):
            out.append(
                _err(d, "E212", "a time range that ends when it starts holds no minute", "write two different times")
            )
        return out
    assert d.month is not None
    if d.kind == "month" and d.month.text in WEEKDAYS:
        return []
    if d.month.text not in MONTHS:
        choices = (*MONTHS, *WEEKDAYS) if d.kind == "month" else MONTHS
        return [_unknown(d.month, "month" if d.kind == "day" else "month or day of the week", choices, "E119")]
    if d.kind == "day":
        assert d.first is not None
        try:
            dt.date(2000, MONTHS.index(d.month.text) + 1, int(d.first.value))  # 2000: 29 February exists
        except (ValueError, TypeError):
            return [_err(d, "E168", f"{d.first.text} {d.month.text} is not a day")]
    return []


def _check_threshold(rule: ast.RuleDecl, fields: dict[str, str]) -> list[Diagnostic]:
    t = rule.earn.threshold
    if t is None:
        return []
    out = []
    if not rule.earn.per:
        out.append(
            _err(
                t,
                "E158",
                "a threshold counts within a group: add `per ...`",
                "e.g. `earn 10 per month with at least 4`",
            )
        )
    if t.kind != "sum" and (not _is_whole(t.amount) or int(t.amount.value) < 1):
        out.append(_err(t.amount, "E159", "a threshold counts a whole number, 1 or more"))
    if t.key is not None and t.kind == "distinct" and t.key.text not in PERIODS and t.key.text not in fields:
        out.append(
            _unknown(
                t.key,
                "key",
                [*PERIODS, *fields],
                "E152",
                f"`{t.key.text}` is neither a period nor a field of `{rule.on.text}`",
            )
        )
    if t.key is not None and t.kind == "sum":
        if t.key.text not in fields:
            out.append(_no_field(t.key, rule.on.text, fields))
        elif fields[t.key.text] not in NUMERIC:
            out.append(_err(t.key, "E247", f"`{t.key.text}` is {_a(fields[t.key.text])}; a sum needs numbers"))
    return out


def _check_caps(rule: ast.RuleDecl, fields: dict[str, str] | None = None) -> list[Diagnostic]:
    out = []
    periods = []
    fields = fields or {}
    if len({c.after_multipliers for c in rule.caps}) > 1:
        first = next(c for c in rule.caps if c.after_multipliers)
        out.append(
            _err(
                first,
                "E210",
                f"some caps of rule `{rule.name.text}` count multiplied points and some do not",
                "say `, after multipliers` of every cap of the rule, or of none",
            )
        )
    for cap in rule.caps:
        if not _is_whole(cap.amount) or int(cap.amount.value) < 0:
            out.append(_err(cap.amount, "E154", "a cap is a whole number of points, 0 or more"))
        if cap.period.text in fields and cap.period.text not in CAP_PERIODS:  # at most N per distinct value
            if cap.period.text in periods:
                out.append(_err(cap.period, "E156", f"rule `{rule.name.text}` has two caps per {cap.period.text}"))
            periods.append(cap.period.text)
            continue
        if cap.period.text not in CAP_PERIODS:
            near_field = did_you_mean(cap.period.text, [f for f in fields if f not in BUILTIN_FIELDS])
            if near_field and not did_you_mean(cap.period.text, CAP_PERIODS):  # a misspelt field: `per ordr`
                message = f"`{cap.period.text}` is neither a period nor a field of `{rule.on.text}`"
                out.append(_err(cap.period, "E155", message, near_field))
            else:
                out.append(_unknown(cap.period, "cap period", CAP_PERIODS, "E155"))
        elif cap.period.text in periods:
            out.append(_err(cap.period, "E156", f"rule `{rule.name.text}` has two caps per {cap.period.text}"))
        else:
            periods.append(cap.period.text)
    calendar = [x for x in periods if x in PERIODS]
    for i, a in enumerate(calendar):
        for b in calendar[i + 1 :]:
            if (a, b) not in _NESTED_PERIODS and (b, a) not in _NESTED_PERIODS:
                cap = next(c for c in rule.caps if c.period.text == b)
                out.append(
                    _err(
                        cap.period,
                        "E157",
                        f"caps per {a} and per {b} cannot be combined: one does not fit inside the other",
                    )
                )
    return out


def check_grants(p: ast.Program, s: Symbols) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for g in p.grants:
        if g.benefit.text not in s.benefits:
            out.append(_unknown(g.benefit, "benefit", s.benefits, "E103"))
        if g.event.text not in s.events:
            out.append(_unknown(g.event, "event", s.events, "E101"))
        elif g.date.text != "anniversary":
            fields = fields_of(s, g.event.text)
            if g.date.text not in fields:
                out.append(_no_field(g.date, g.event.text, fields))
            elif fields[g.date.text] != "date":
                out.append(
                    _err(
                        g.date,
                        "E160",
                        f"`{g.date.text}` is {_a(fields[g.date.text])}, not a date",
                        "a yearly grant takes a date field, or `the anniversary of` an event",
                    )
                )
        if g.notice is not None:
            if not _is_whole(g.notice.amount) or int(g.notice.amount.value) < 0:
                out.append(_err(g.notice.amount, "E161", "a notice is a whole number of days"))
            if g.notice.unit.text not in ("day", "days"):
                out.append(
                    _err(
                        g.notice.unit, "E162", "a notice is counted in days", did_you_mean(g.notice.unit.text, ["days"])
                    )
                )
        if g.leap_day is not None:
            out += _check_leap_day(g.leap_day)
    return out


def _check_leap_day(leap: ast.LeapDay) -> list[Diagnostic]:
    if leap.day.value != 29 or leap.month.text != "February":
        return [_err(leap, "E163", "only `29 February` needs a day in other years")]
    target = (leap.to_day.value, leap.to_month.text)
    if target not in ((28, "February"), (1, "March")):
        hint = None if leap.to_month.text in MONTHS else did_you_mean(leap.to_month.text, MONTHS)
        return [_err(leap, "E164", "29 February falls on `28 February` or `1 March` in other years", hint)]
    return []


def check_decisions(p: ast.Program, s: Symbols) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for d in p.decisions:
        benefit = s.benefits.get(d.benefit.text)
        if benefit is None:
            out.append(_unknown(d.benefit, "benefit", s.benefits, "E103"))
        if d.on.text not in s.events:
            out.append(_unknown(d.on, "event", s.events, "E101"))
            continue
        fields = fields_of(s, d.on.text)
        if d.key is not None and d.key.text not in fields:
            out.append(_no_field(d.key, d.on.text, fields))
        if d.key is not None and d.key.text in ("benefit", "granted", "reason", "at"):
            out.append(_err(d.key, "E243", f"`{d.key.text}` is already a key of every decision"))
        params = {pd.name.text: pd.type.text for pd in benefit.params} if benefit else {}
        for clash in sorted(set(params) & set(fields)):
            out.append(
                _err(
                    d,
                    "E244",
                    f"`{clash}` is both a field of `{d.on.text}` and a parameter of `{d.benefit.text}`",
                    "rename one of them",
                )
            )
        if d.when is not None:
            owner = f"a field of `{d.on.text}`"
            if p.measures:  # points and the balance are measures too; said only where a program declares some
                owner += (f", a parameter of `{d.benefit.text}`" if params else "") + " or a measure"
            elif params:
                owner += f" or a parameter of `{d.benefit.text}`"
            out += check_condition(d.when, fields, {**status_types(p), **params}, s, owner)
    return out


# --- conditions -------------------------------------------------------------------------


def status_types(p: ast.Program) -> dict[str, str]:
    """What a decision may read of the member's status beside fields and parameters: points, the balance
    (with spendable points) and every measure, each with its type."""
    out = {"points": "integer", **{m.name.text: "money" if m.unit is not None else "integer" for m in p.measures}}
    if p.redemptions or p.expiries:
        out["balance"] = "integer"
    return out


def fields_of(s: Symbols, event: str) -> dict[str, str]:
    """The types of an event's fields, `member` and `id` included: what a condition may name."""
    fields = {name: f.type.text for name, f in s.fields.get(event, {}).items()}
    fields.update(member="text", id="text")
    return fields


def _literal_fits(lit: ast.Literal, type_name: str) -> bool:
    if type_name in NUMERIC:
        return lit.kind == "number" and (type_name != "integer" or isinstance(lit.value, int))
    if type_name == "date":
        return lit.kind in ("string", "date") and _is_date(str(lit.value))
    return {"text": "string", "boolean": "boolean"}.get(type_name) == lit.kind


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _operand_type(op: ast.Operand, fields: dict[str, str], params: dict[str, str]) -> str | None:
    if isinstance(op, ast.Literal):
        return {"number": "number", "string": "text", "boolean": "boolean"}[op.kind]
    return fields.get(op.text) or params.get(op.text)


def check_condition(
    cond: ast.Condition, fields: dict[str, str], params: dict[str, str], s: Symbols, owner: str
) -> list[Diagnostic]:
    """Names resolve, types agree, facts exist; every problem in the condition.

    `owner` says what a name may be, for messages: "a field of `visit`".
    """
    out: list[Diagnostic] = []
    known = {**fields, **params}

    def unknown(name: ast.Name, choices: dict[str, str]) -> Diagnostic:
        return _unknown(name, "field", choices, "E104", f"`{name.text}` is not {owner}")

    def visit(c: ast.Condition) -> None:
        if isinstance(c, (ast.And, ast.Or)):
            visit(c.left)
            visit(c.right)
        elif isinstance(c, ast.Not):
            visit(c.operand)
        elif isinstance(c, ast.Compare):
            types = []
            for op in (c.left, c.right):
                if isinstance(op, ast.Name) and op.text not in known:
                    out.append(unknown(op, known))
                types.append(_operand_type(op, fields, params))
            a, b = types
            for op, other in ((c.left, b), (c.right, a)):
                if other == "date" and isinstance(op, ast.Literal) and not _literal_fits(op, "date"):
                    out.append(_err(op, "E185", f"{op.text} is not a date", 'write a day as "2026-03-31"'))
            if a and b and not ((a in NUMERIC and b in NUMERIC) or a == b or {a, b} == {"date", "text"}):
                out.append(_err(c, "E180", f"cannot compare {_a(a)} with {_a(b)}"))
            elif a and b and c.op not in ("==", "!=") and not (a in NUMERIC or "date" in (a, b)):
                out.append(
                    _err(
                        c, "E181", f"`{c.op}` compares numbers or dates, not {_a(a)}", "use `=` or `!=`, or `in [...]`"
                    )
                )
        elif isinstance(c, ast.FactTest):
            fact = s.facts.get(c.fact.text)
            if c.field.text not in fields:
                out.append(unknown(c.field, fields))
            if fact is None:
                out.append(_unknown(c.fact, "fact", s.facts, "E105"))
            elif c.field.text in fields:
                subject_types = {t for e in fact.events if (t := s.field_type(e.text, fact.subject.text))}
                if subject_types and fields[c.field.text] not in subject_types:
                    out.append(
                        _err(
                            c.field,
                            "E182",
                            f"`{c.field.text}` is {_a(fields[c.field.text])}, but "
                            f"`{c.fact.text}` is a fact about {', '.join(_a(t) for t in sorted(subject_types))}",
                        )
                    )
        elif isinstance(c, ast.MemberOf):
            t = fields.get(c.field.text)
            if t is None:
                out.append(unknown(c.field, fields))
            else:
                for v in c.values:
                    if not _literal_fits(v, t):
                        out.append(_err(v, "E183", f"`{c.field.text}` is {_a(t)}; {v.text} is not"))
        elif isinstance(c, ast.FieldTest):
            t = known.get(c.field.text)
            if t is None:
                out.append(unknown(c.field, known))
            elif t != "boolean":
                out.append(
                    _err(
                        c.field,
                        "E184",
                        f"`{c.field.text}` is {_a(t)}, not true or false",
                        f"compare it: `{c.field.text} >= ...`",
                    )
                )

    visit(cond)
    return out


def check_numbers(p: ast.Program, s: Symbols) -> list[Diagnostic]:
    """Every number written in the program fits what JSON readers keep exact."""
    return [
        _err(lit, "E186", f"{lit.text} is too large (at most {MAX_EXACT} either way)")
        for lit in _literals(p)
        if isinstance(lit.value, (int, float)) and abs(lit.value) > MAX_EXACT
    ]


def _literals(node: Any) -> Iterator[ast.Literal]:
    if isinstance(node, ast.Literal):
        yield node
    elif isinstance(node, (tuple, list)):
        for item in node:
            yield from _literals(item)
    elif attrs.has(type(node)):
        for f in attrs.fields(type(node)):
            if f.name not in ("span", "source"):
                yield from _literals(getattr(node, f.name))


def check_balance(p: ast.Program, s: Symbols) -> list[Diagnostic]:
    """`points expire ...` and `redeem points by ...`: once each, with units and fields that exist."""
    out: list[Diagnostic] = []
    for extra in p.expiries[1:]:
        out.append(_err(extra, "E241", "points expire in one way only", "keep one `points expire` statement"))
    first_on: dict[str, ast.Redemption] = {}
    for r in p.redemptions:
        if r.event.text in first_on:
            out.append(
                _err(
                    r,
                    "E272",
                    f"`{r.event.text}` already redeems points (line {first_on[r.event.text].span.line})",
                    "one `redeem` statement per event type; keep one",
                )
            )
        first_on.setdefault(r.event.text, r)
    for e in p.expiries[:1]:
        if e.kind in ("after_month_end", "inactive") and e.unit.text not in ("month", "months"):
            out.append(_err(e.unit, "E268", f"`{e.unit.text}`: this expiry counts whole months", "write `months`"))
        if e.kind in ("after", "after_month_end", "inactive"):
            if e.amount is None or not _is_whole(e.amount) or int(e.amount.value) < 1:
                out.append(_err(e.amount or e, "E165", "points expire after a whole number of days or months"))
            if e.unit.text not in EXPIRY_UNITS:
                out.append(_unknown(e.unit, "unit", EXPIRY_UNITS, "E166"))
        elif e.unit.text not in ("month", "quarter", "year"):
            out.append(_unknown(e.unit, "period", ("month", "quarter", "year"), "E166"))
    for r in first_on.values():
        out += check_redemption(r, s, _measure_types(p))
        out += _check_gate(r, p, s)
    return out


def _check_gate(r: ast.Redemption, p: ast.Program, s: Symbols) -> list[Diagnostic]:
    """`only when B is granted`: a benefit, and a `decide B on` the redeeming event to grant it."""
    b = r.decided
    if b is None or r.event.text not in s.events:
        return []
    if b.text not in s.benefits:
        return [_unknown(b, "benefit", s.benefits, "E103")]
    if not any(d.benefit.text == b.text and d.on.text == r.event.text for d in p.decisions):
        return [
            _err(
                b,
                "E275",
                f"no `decide {b.text} on {r.event.text}`: nothing grants this redemption",
                f"add `decide {b.text} on {r.event.text}`, or drop `only when`",
            )
        ]
    return []


def check_vouchers(p: ast.Program, s: Symbols) -> list[Diagnostic]:
    """`convert points ...`, `vouchers expire ...`, `vouchers are used by ...`: once each, after a conversion."""
    out: list[Diagnostic] = []
    for extra in (*p.conversions[1:], *p.voucher_expiries[1:], *p.voucher_uses[1:]):
        out.append(_err(extra, "E273", "this voucher statement is written twice", "keep one"))
    convert = "`convert points every quarter into vouchers of 150 points worth 1.50`"
    if not p.conversions:
        for lone in (*p.voucher_expiries[:1], *p.voucher_uses[:1]):
            out.append(_err(lone, "E269", "no points become vouchers: nothing to expire or use", f"add {convert}"))
    for c in p.conversions[:1]:
        if c.period.text not in ("month", "quarter", "year"):
            out.append(_unknown(c.period, "period", ("month", "quarter", "year"), "E166"))
        if not _is_whole(c.points) or int(c.points.value) < 1:
            out.append(
                _err(c.points, "E262", f"{c.points.text} is not a number of points", "a whole number, 1 or more")
            )
        if not isinstance(c.value.value, (int, float)) or c.value.value <= 0:
            out.append(_err(c.value, "E271", "a voucher is worth more than nothing", "a positive amount, such as 1.50"))
        if not p.rules:
            out.append(_err(c, "E270", "no rule earns points to convert", "add a `rule` that earns points"))
    for e in p.voucher_expiries[:1]:
        if not _is_whole(e.amount) or int(e.amount.value) < 1:
            out.append(_err(e.amount, "E165", "vouchers expire after a whole number of months"))
        if e.unit.text not in ("month", "months"):
            out.append(_err(e.unit, "E268", f"`{e.unit.text}`: vouchers expire after whole months", "write `months`"))
    for u in p.voucher_uses[:1]:
        if u.event.text not in s.events:
            out.append(_unknown(u.event, "event", s.events, "E101"))
        elif u.event.text in {r.event.text for r in p.redemptions}:
            out.append(_err(u.event, "E274", f"`{u.event.text}` already redeems points", "use another event type"))
    return out


_REDEEM_WORDS = {"points": "the points claimed", "balance": "the member's balance"}


def _measure_types(p: ast.Program) -> dict[str, str]:
    """The measures a redemption's `where` reads beside `points` (the claim's) and `balance` (its own)."""
    return {name: t for name, t in status_types(p).items() if name not in REDEEM_WHERE_NAMES}


def check_redemption(r: ast.Redemption, s: Symbols, measures: dict[str, str] | None = None) -> list[Diagnostic]:
    """One `redeem`: its event and field, and rules that some claim can satisfy."""
    out: list[Diagnostic] = []
    if r.event.text not in s.events:
        out.append(_unknown(r.event, "event", s.events, "E101"))
    elif r.field is not None and r.amount is not None:
        out.append(_err(r.field, "E260", "a claim is a fixed number or a field, not both", "drop `with ...`"))
    elif r.field is None and r.amount is None:
        out.append(
            _err(r, "E261", "say what a claim asks", "`with FIELD` (the event's points) or `redeem 9 points by ...`")
        )
    elif r.field is not None and r.field.text not in s.fields[r.event.text]:
        out.append(_no_field(r.field, r.event.text, s.fields[r.event.text]))
    elif r.field is not None and s.fields[r.event.text][r.field.text].type.text != "integer":
        out.append(_err(r.field, "E167", f"`{r.field.text}` must be an integer field: it counts points"))
    for lit in (r.amount, *r.sizes, r.at_least, r.at_most, r.multiple):
        if lit is not None and (not _is_whole(lit) or int(lit.value) < 1):
            out.append(_err(lit, "E262", f"{lit.text} is not a number of points", "a whole number, 1 or more"))
    for lit in r.loose:
        out.append(_err(lit, "E263", f"`{lit.text}` follows no `in sizes`", "write sizes together: `in sizes 25, 100`"))
    sizes = [int(x.value) for x in r.sizes if _is_whole(x)]
    for before, after in zip(r.sizes, r.sizes[1:], strict=False):
        if _is_whole(before) and _is_whole(after) and int(after.value) <= int(before.value):
            out.append(_err(after, "E264", "sizes go up: each larger than the one before", f"after {before.text}"))
    low, high = r.at_least, r.at_most
    if low is not None and high is not None and _is_whole(low) and _is_whole(high) and int(low.value) > int(high.value):
        out.append(_err(low, "E265", f"at least {low.text} is above at most {high.text}", "swap or fix the bounds"))
    m = r.multiple
    if m is not None and _is_whole(m) and int(m.value) >= 1:
        step = int(m.value)
        lo = int(low.value) if low is not None and _is_whole(low) else 1
        hi = int(high.value) if high is not None and _is_whole(high) else None
        if sizes and not any(x % step == 0 for x in sizes):
            out.append(_err(m, "E266", f"no size is a multiple of {m.text}", "every claim would be refused"))
        elif hi is not None and -(-lo // step) * step > hi:
            out.append(_err(m, "E266", f"no multiple of {m.text} lies between {lo} and {hi}", "every claim is refused"))
    if r.where is not None and r.event.text in s.events:
        fields = fields_of(s, r.event.text)
        claim = r.field.text if r.field is not None else None  # `points` may be the claim's own field
        for clash in sorted(n for n in set(fields) & set(REDEEM_WHERE_NAMES) if n != claim or n == "balance"):
            out.append(
                _err(
                    r,
                    "E267",
                    f"`{clash}` is a field of `{r.event.text}` and a name of every redemption",
                    f"rename the field: a redemption's `where` reads `{clash}` as {_REDEEM_WORDS[clash]}",
                )
            )
        owner = f"a field of `{r.event.text}`, `points`, `balance`" + (" or a measure" if measures else "")
        out += check_condition(r.where, fields, {**REDEEM_WHERE_NAMES, **(measures or {})}, s, owner)
    return out


def check_settings_once(p: ast.Program, s: Symbols) -> list[Diagnostic]:
    return [
        Diagnostic.at(span, "E117", f"`{kind}` is declared more than once", "keep one") for kind, span in p.repeated
    ]


CHECKS: tuple[Callable[[ast.Program, Symbols], list[Diagnostic]], ...] = (
    check_numbers,
    check_settings_once,
    check_settings,
    check_unique_names,
    check_events,
    check_facts,
    check_tiers,
    check_rules,
    check_grants,
    check_decisions,
    check_balance,
    check_vouchers,
    check_rates,
    check_retention,
    check_multipliers,
    check_limits,
    check_measures,
)


def check(program: ast.Program) -> list[Diagnostic]:
    """Every problem of meaning in the program, in source order."""
    symbols = Symbols.of(program)
    found = [d for c in CHECKS for d in c(program, symbols)]
    return sorted(found, key=lambda d: (d.file, d.line, d.col, d.code))
