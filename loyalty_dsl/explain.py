"""Outcomes that explain themselves: a member's ledger, why-not, timeline and standing.

The ledger is read off the rule states at the status instant (the last
recalculation, or the as-of instant for a continuous program): every unit that
kept points is a line, and the lines add up to the outcome's points exactly.
Every other event a rule looked at gets the reason it earned nothing, in the
rule's own terms.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import attrs

from loyalty_dsl.calendar import Calendar, datetime_of, iso_instant, month_date
from loyalty_dsl.check import PERIODS
from loyalty_dsl.compile import CompiledProgram
from loyalty_dsl.evaluate import MemberRun, Outcome, Status
from loyalty_dsl.events import Event
from loyalty_dsl.rules import RuleState, Unit

_PERIOD_WORD = {"day": "daily", "week": "weekly", "month": "monthly", "year": "yearly", "window": "window"}


def event_json(e: Event) -> dict[str, Any]:
    out: dict[str, Any] = {"type": e.type, "at": iso_instant(e.at), "file": e.file, "line": e.line}
    if e.id is not None:
        out["id"] = e.id
    fields = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in e.fields.items()}
    if fields:
        out["fields"] = fields
    return out


@attrs.frozen
class Explanation:
    outcome: Outcome
    ledger: list[dict[str, Any]]
    not_rewarded: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    standing: dict[str, Any]
    grants: list[dict[str, Any]]

    def to_json(self) -> dict[str, Any]:
        o = self.outcome.to_json()
        return {
            "member": o["member"],
            "as_of": o["as_of"],
            "points": o["points"],
            "tier": o["tier"],
            "benefits": o["benefits"],
            "ledger": self.ledger,
            "not_rewarded": self.not_rewarded,
            "timeline": self.timeline,
            "standing": self.standing,
            "grants": self.grants,
            "decisions": o["decisions"],
        }


def state_at(run: MemberRun, instant: int) -> MemberRun:
    """A fresh evaluation of the events before `instant`, settled: the state a status counted."""
    probe = MemberRun(run.program, run.member, [e for e in run.events if e.at < instant], run.as_of)
    for event in probe.events:
        probe.apply(event)
    for st in probe.states:
        st.settle()
    return probe


def ledger_and_reasons(
    program: CompiledProgram, member: str, events: Sequence[Event], as_of: dt.date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The ledger, and every event the rules looked at without rewarding it."""
    run = MemberRun(program, member, events, as_of)
    instant = program.status_instant(run.end)
    probe = state_at(run, instant)
    window = probe.window(instant)
    entries: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    for st in probe.states:
        entries += _rule_ledger(st, window, probe, instant, refused)
    return entries, refused


def member_ledger(program: CompiledProgram, member: str, events: Sequence[Event], as_of: dt.date) -> list[dict]:
    """The ledger alone (for `loyalty run --ledger`)."""
    return ledger_and_reasons(program, member, events, as_of)[0]


def explain_member(program: CompiledProgram, member: str, events: Sequence[Event], as_of: dt.date) -> Explanation:
    cal = program.calendar
    first = min((e.at for e in events), default=None)
    run = MemberRun(program, member, events, as_of, extra_instants=_timeline_instants(program, events, first, as_of))
    outcome = run.run()
    instant = program.status_instant(run.end)
    probe = state_at(run, instant)
    window = probe.window(instant)
    ledger: list[dict[str, Any]] = []
    not_rewarded: list[dict[str, Any]] = []
    for st in probe.states:
        ledger += _rule_ledger(st, window, probe, instant, not_rewarded)
    not_rewarded.sort(key=lambda x: (x["event"]["at"], x["event"]["line"]) if "event" in x else ("", 0))
    grants, refused = _grant_reasons(run)
    not_rewarded += refused
    return Explanation(
        outcome=outcome,
        ledger=ledger,
        not_rewarded=not_rewarded,
        timeline=_timeline(run),
        standing=_standing(run, probe, outcome.status, window, cal),
        grants=grants,
    )


# --- the ledger and why-not of one rule ---------------------------------------------------


def _rule_ledger(
    st: RuleState, window: range | None, probe: MemberRun, instant: int, not_rewarded: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    rule, cal = st.rule, st.cal
    entries: list[dict[str, Any]] = []

    def refuse(event: Event, reason: str, kind: str) -> None:
        not_rewarded.append(
            {"rule": rule.name, "line": rule.line, "reason": reason, "kind": kind, "event": event_json(event)}
        )

    for unit in sorted(st.units.values(), key=lambda u: min((c.event.at, c.event.seq) for c in u.candidates)):
        for cand in unit.candidates:
            event = cand.event
            if not cand.passing:
                refuse(event, _condition_failed(st, event, probe, instant), "condition")
            elif event is not unit.first:
                refuse(event, _already_counted(st, unit, cal), "counted")
            elif window is not None and unit.month not in window:
                refuse(event, f"dated {_month(unit.month)}, outside the window ({_months(window)})", "window")
            elif unit.kept > 0:
                entries.append(_entry(st, unit, event))
            elif unit.base == 0:
                refuse(event, "earns 0 points", "zero")
            elif unit.value == 0:
                refuse(event, _first_unpaid(rule.per), "first")
            else:
                refuse(event, f"{_cap_words(st, unit.cut_by)} reached: 0 of {unit.value} kept", "capped")
    total = sum(e["points"] for e in entries)
    if rule.window_cap is not None and total > rule.window_cap:
        entries.append(
            {
                "rule": rule.name,
                "line": rule.line,
                "points": rule.window_cap - total,
                "earned": 0,
                "note": f"{rule.name} cap {rule.window_cap} per window: {rule.window_cap} of {total} kept",
            }
        )
    return entries


def _entry(st: RuleState, unit: Unit, event: Event) -> dict[str, Any]:
    cal = st.cal
    entry: dict[str, Any] = {
        "rule": st.rule.name,
        "line": st.rule.line,
        "points": unit.kept,
        "earned": unit.value,
        "day": dt.date.fromordinal(cal.day(event.at)).isoformat(),
        "month": _month(unit.month),
        "event": event_json(event),
    }
    if unit.kept < unit.value:
        entry["note"] = f"{_cap_words(st, unit.cut_by)}: {unit.kept} of {unit.value} kept"
    return entry


def _cap_words(st: RuleState, period: str | None) -> str:
    amount = next((a for a, p in st.rule.caps if p == period), None)
    return f"{_PERIOD_WORD.get(period or '', '')} {st.rule.name} cap {amount}".strip()


def _condition_failed(st: RuleState, event: Event, probe: MemberRun, instant: int) -> str:
    explain = st.rule.explain
    if explain is None:  # pragma: no cover - a rule without condition always passes
        return "the condition does not hold"
    _, words = explain(event.fields, {}, probe.facts, instant)
    for fact, field in st.rule.fact_refs:
        witness = probe.witnesses.get((fact, event.fields.get(field)))
        if witness is not None and witness.at < instant and f" {fact}" in words:  # the fact is the reason
            words += f" ({witness.type} at {iso_instant(witness.at)}, {witness.file}:{witness.line})"
    return words


def _already_counted(st: RuleState, unit: Unit, cal: Calendar) -> str:
    first = unit.first
    assert first is not None
    keys = ", ".join(_key_value(k, v, cal, first) for k, v in zip(st.rule.per, unit.key, strict=True))
    return (
        f"already counted once per {_key_words(st.rule.per)} ({keys}): "
        f"{first.type} at {iso_instant(first.at)} ({first.file}:{first.line}) earned it"
    )


def _first_unpaid(per: Sequence[str]) -> str:
    groups = " of the " + " and ".join(per[1:]) if len(per) > 1 else ""
    return f"the first {per[0]}{groups} earns nothing (beyond the first)"


def _key_words(keys: Sequence[str]) -> str:
    return " per ".join(keys)


def _key_value(key: str, value: Any, cal: Calendar, event: Event) -> str:
    if key not in PERIODS:
        return f'{key} "{value}"' if isinstance(value, str) else f"{key} {value}"
    day = dt.date.fromordinal(cal.day(event.at))
    if key == "day":
        return day.isoformat()
    if key == "week":
        return f"week of {(day - dt.timedelta(days=day.weekday())).isoformat()}"
    if key == "month":
        return day.strftime("%Y-%m")
    return str(day.year)


def _month(index: int) -> str:
    return month_date(index).strftime("%Y-%m")


def _months(window: range) -> str:
    return f"{_month(window.start)} to {_month(window.stop - 1)}"


# --- grants, timeline, standing ---------------------------------------------------------------


def _grant_reasons(run: MemberRun) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    given: list[dict[str, Any]] = []
    refused: list[dict[str, Any]] = []
    for grant, days in run.grant_days.items():
        years: dict[int, dt.date] = {}
        for day in sorted(days):
            date = dt.date.fromordinal(day)
            status = run.status_at(run.cal.day_start(day))
            tier = status.tier
            base = {"rule": f"grant {grant.benefit}", "line": grant.line, "on": date.isoformat()}
            if tier is None:
                refused.append(base | {"reason": f"no tier at {status.points} points on {date.isoformat()}"})
            elif grant.benefit not in tier.benefits:
                refused.append(base | {"reason": f"{tier.name} has no {grant.benefit} on {date.isoformat()}"})
            elif grant.once_a_year and date.year in years:
                refused.append(base | {"reason": f"already given on {years[date.year].isoformat()} (once a year)"})
            else:
                years[date.year] = date
                given.append(
                    {
                        "benefit": grant.benefit,
                        "on": date.isoformat(),
                        "line": grant.line,
                        "reason": f"{tier.name} ({status.points} points) has {grant.benefit}",
                    }
                )
    given.sort(key=lambda g: (g["on"], g["benefit"]))
    return given, refused


def _timeline_instants(
    program: CompiledProgram, events: Sequence[Event], first: int | None, as_of: dt.date
) -> list[int]:
    if first is None:
        return []
    cal = program.calendar
    end = cal.day_start(as_of.toordinal() + 1)
    if program.window_months is None:
        return sorted({e.at for e in events if e.at < end})
    months = range(cal.month(first) + 1, cal.month(end) + 1)
    return [cal.month_start(m) for m in months]


def _timeline(run: MemberRun) -> list[dict[str, Any]]:
    """Every recalculation (rolling window), or every change of level (continuous)."""
    out: list[dict[str, Any]] = []
    continuous = run.program.window_months is None
    last: str | None = "<none yet>"
    for instant in sorted(run.statuses):
        status = run.statuses[instant]
        tier = status.tier.name if status.tier else None
        if continuous and tier == last:
            continue
        last = tier
        out.append({"at": iso_instant(instant), "points": status.points, "tier": tier})
    return out


def _standing(run: MemberRun, probe: MemberRun, status: Status, window: range | None, cal: Calendar) -> dict[str, Any]:
    tiers = run.program.tiers
    above = [t for t in tiers if t.threshold > status.points]
    standing: dict[str, Any] = {
        "next_tier": above[0].name if above else None,
        "points_to_next_tier": above[0].threshold - status.points if above else None,
    }
    if window is None:
        standing["next_recalculation"] = None  # continuous: points never leave
        return standing
    leaving = sum(st.month_kept.get(window.start, 0) for st in probe.states)
    next_at = cal.month_start(window.stop + 1)
    standing["next_recalculation"] = datetime_of(next_at).date().isoformat()
    standing["points_leaving_window"] = leaving
    if status.tier is not None:
        standing["points_to_keep_tier"] = max(0, status.tier.threshold - (status.points - leaving))
    return standing
