"""What a name means, in words, for hovers: a rule's earning and caps, a tier's qualification
and benefits, a benefit's tiers, an event's or field's type. Markdown."""

from __future__ import annotations

from loyalty_dsl.language import ast
from loyalty_dsl.language.check import PERIODS
from loyalty_dsl.language.fmt import format_condition
from loyalty_dsl.language.vocabulary import WEEKDAYS
from loyalty_dsl.lsp.index import Occurrence


def _points(text: str) -> str:
    return f"{text} point" if text == "1" else f"{text} points"


def _during(d: ast.During) -> str:
    weekday = d.month is not None and d.month.text in WEEKDAYS
    if d.kind == "hours" and d.first is not None and d.last is not None:
        on = f" on {d.month.text}s" if d.month is not None else ""
        return f"from {d.first.text} to {d.last.text} local time{on}"
    if d.kind == "month" and weekday and d.month is not None:
        return f"on {d.month.text}s"
    if d.kind == "dates" and d.first is not None and d.last is not None:
        return f"from {d.first.text} to {d.last.text}"
    if d.kind == "day" and d.first is not None and d.month is not None:
        return f"on {d.first.text} {d.month.text} each year"
    return f"in {d.month.text if d.month else '?'} each year"


def _threshold(t: ast.Threshold, on: str) -> str:
    if t.kind == "count":
        return f"once there are at least {t.amount.text} `{on}` events in it"
    if t.kind == "distinct":
        return f"once they cover at least {t.amount.text} distinct {t.key.text if t.key else '?'}s"
    return f"once their `{t.key.text if t.key else '?'}` adds up to at least {t.amount.text}"


def rule_words(r: ast.RuleDecl, program: ast.Program) -> str:
    """`rule shopping`: Earns 5 points for each `purchase` where ..., at most 5 points a day."""
    on, earn = r.on.text, r.earn
    into = earn.into.text if earn.into is not None and earn.into.text != "points" else None
    if into is None:
        amount = (
            _points(earn.amount.text) if isinstance(earn.amount, ast.Literal) else f"the points in `{earn.amount.text}`"
        )
    else:  # a rule into a measure counts there, not in points
        amount = earn.amount.text if isinstance(earn.amount, ast.Literal) else f"the `{earn.amount.text}`"
    if earn.every is not None:
        amount += f" for every {earn.every.step.text} of `{earn.every.field.text}`"
    if into is not None:
        amount += f" into measure `{into}`"
    units = [k.text if k.text in PERIODS else f"`{k.text}`" for k in earn.per]
    if not units:
        what = f"Earns {amount} for each `{on}` event"
    elif earn.beyond_first:
        what = f"Earns {amount} for each {' per '.join(units)} of `{on}` events beyond the first"
    else:
        what = f"Earns {amount} once per {' per '.join(units)} of `{on}` events"
    lines = [
        f"**rule {r.name.text}**",
        "",
        what + (f" {_threshold(earn.threshold, on)}" if earn.threshold else "") + ".",
    ]
    if r.where is not None:
        lines.append(f"Only when {format_condition(r.where)}.")
    if r.during is not None:
        lines.append(f"Only {_during(r.during)}.")
    lines += [
        f"At most {_points(c.amount.text)} per {c.period.text}"
        + (", counted after multipliers." if c.after_multipliers else ".")
        for c in r.caps
    ]
    if not r.caps:
        lines.append("No cap.")
    if r.vesting is not None:
        lines.append(f"The points stay pending for {r.vesting.amount.text} {r.vesting.unit.text}.")
    for m in program.multipliers:
        if m.rule.text == r.name.text:
            lines.append(f"Multiplied by {m.factor.text}{_multiplied_when(m)}.")
    return "\n".join(lines)


def _multiplied_when(m: ast.Multiplier) -> str:
    if m.during is not None:
        return " " + _during(m.during)
    if m.tiers:
        return " for " + ", ".join(t.text for t in m.tiers)
    if m.field is not None and m.event is not None:
        return f" in the month of the {m.field.text} of the {m.which} `{m.event.text}`"
    if m.where is not None:
        return f" when {format_condition(m.where)}"
    return ""


def _given(b: ast.TierBenefit) -> str:
    params = ", ".join(f"{p.name.text} {p.value.text}" for p in b.params)
    return f"`{b.name.text}`" + (f" ({params})" if params else "")


def tier_words(t: ast.TierDecl, program: ast.Program) -> str:
    if not all(x.points_only for x in program.tiers):
        return _measured_tier_words(t)
    ordered = sorted(program.tiers, key=lambda x: float(x.threshold.value))
    above = [x for x in ordered if float(x.threshold.value) > float(t.threshold.value)]
    window = program.windows[0] if program.windows else None
    if isinstance(window, ast.RollingWindow):
        counted = f" earned in the last {window.length.text} {window.unit.text}, recalculated {window.every.text}"
    elif isinstance(window, ast.LifetimeWindow):
        counted = " earned over the member's lifetime"
    else:
        counted = ""
    reach = f"from {_points(t.threshold.text)}{counted}"
    if above:
        reach += f", until {above[0].name.text} at {_points(above[0].threshold.text)}"
    lines = [f"**tier {t.name.text}**", "", f"Qualifies {reach}."]
    if t.benefits:
        lines += ["", "Benefits:", *(f"- {_given(b)}" for b in t.benefits)]
    else:
        lines.append("No benefits.")
    return "\n".join(lines)


def _measured_tier_words(t: ast.TierDecl) -> str:
    """A tier on measures: its qualification as written (tiers rank in the order written)."""
    ways = " or ".join(" and ".join(f"{q.amount.text} {q.measure.text}" for q in a) for a in t.qualification)
    lines = [f"**tier {t.name.text}**", "", f"Qualifies from {ways or _points(t.threshold.text)}."]
    lines.append("Tiers rank in the order written: the last one that holds wins.")
    if t.benefits:
        lines += ["", "Benefits:", *(f"- {_given(b)}" for b in t.benefits)]
    else:
        lines.append("No benefits.")
    return "\n".join(lines)


def benefit_words(b: ast.BenefitDecl, program: ast.Program) -> str:
    params = ", ".join(f"{p.name.text}: {p.type.text}" for p in b.params)
    lines = [f"**benefit {b.name.text}**" + (f" with {params}" if params else ""), ""]
    giving = [(t.name.text, g) for t in program.tiers for g in t.benefits if g.name.text == b.name.text]
    if giving:
        lines += ["Given by:", *(f"- {tier}" + (f": {_given(g)}" if g.params else "") for tier, g in giving)]
    else:
        lines.append("No tier gives it.")
    if any(g.benefit.text == b.name.text for g in program.grants):
        lines.append("Granted on a date every year (`grant`).")
    if any(d.benefit.text == b.name.text for d in program.decisions):
        lines.append("Decided on a request (`decide`).")
    return "\n".join(lines)


def _field(f: ast.FieldDecl) -> str:
    extra = " optional" if f.optional else ""
    extra += f" at least {f.at_least.text}" if f.at_least is not None else ""
    extra += f" default {f.default.text}" if f.default is not None else ""
    extra += f" in {f.currency.text}" if f.currency is not None else ""
    return f"{f.name.text}: {f.type.text}{extra}"


def event_words(e: ast.EventDecl, program: ast.Program | None = None) -> str:
    fields = "No fields." if not e.fields else "\n".join(f"- `{_field(f)}`" for f in e.fields)
    spends = _spending_words(e.name.text, program) if program is not None else []
    return f"**event {e.name.text}**\n\n" + "\n\n".join([fields, *spends])


def _spending_words(event: str, program: ast.Program) -> list[str]:
    """What an event spends: the points of each `redeem ... by` it is, and a voucher it uses."""
    words = [_redemption_words(r) for r in program.redemptions if r.event.text == event]
    if any(u.event.text == event for u in program.voucher_uses):
        words.append("Uses the member's oldest valid voucher.")
    return words


def _redemption_words(r: ast.Redemption) -> str:
    if r.amount is not None:
        asked = f"Redeems exactly {_points(r.amount.text)}, all or nothing"
    else:
        asked = f"Redeems the points in `{r.field.text}`" if r.field is not None else "Redeems points"
        # any rule of size makes a claim all or nothing (as redemption.py judges it)
        ruled = r.all_or_nothing or r.sizes or r.at_least or r.at_most or r.multiple
        asked += ", all or nothing" if ruled else ", spending what there is"
    bounds = [f"in sizes {', '.join(x.text for x in r.sizes)}"] if r.sizes else []
    bounds += [f"at least {r.at_least.text}"] if r.at_least is not None else []
    bounds += [f"at most {r.at_most.text}"] if r.at_most is not None else []
    bounds += [f"in multiples of {r.multiple.text}"] if r.multiple is not None else []
    words = asked + (f"; {', '.join(bounds)}" if bounds else "") + "."
    if r.where is not None:
        words += " Refused unless the condition holds."
    if r.decided is not None:
        words += f" Only when its decision on `{r.decided.text}` grants it."
    return words


def hover_words(o: Occurrence, program: ast.Program) -> str | None:
    """The hover text of a name, from the program that declares it; None for a name it does not declare."""
    if o.kind == "rule":
        return next((rule_words(r, program) for r in program.rules if r.name.text == o.key), None)
    if o.kind == "tier":
        return next((tier_words(t, program) for t in program.tiers if t.name.text == o.key), None)
    if o.kind == "benefit":
        return next((benefit_words(b, program) for b in program.benefits if b.name.text == o.key), None)
    if o.kind == "event":
        return next((event_words(e, program) for e in program.events if e.name.text == o.key), None)
    if o.kind == "field":
        event, _, name = o.key.partition(".")
        for e in program.events:
            for f in e.fields:
                if e.name.text == event and f.name.text == name:
                    return f"**field of `{event}`**\n\n`{_field(f)}`"
    if o.kind == "param":
        benefit, _, name = o.key.partition(".")
        for b in program.benefits:
            for p in b.params:
                if b.name.text == benefit and p.name.text == name:
                    return f"**parameter of benefit `{benefit}`**\n\n`{name}: {p.type.text}`"
    if o.kind == "fact":
        for fact in program.facts:
            if fact.fact.text == o.key:
                by = " or ".join(f"`{e.text}`" for e in fact.events)
                return f"**fact {o.key}**\n\nA `{fact.subject.text}` is {o.key} by {by}."
    return None
