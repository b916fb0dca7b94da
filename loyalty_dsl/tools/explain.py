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

from loyalty_dsl.evaluation.calendar import Calendar, instant_of, month_date
from loyalty_dsl.evaluation.compile import CompiledProgram, Tier
from loyalty_dsl.evaluation.evaluate import MemberRun, Outcome, Status, measures_json
from loyalty_dsl.evaluation.events import Event
from loyalty_dsl.evaluation.rules import RuleView, UnitView
from loyalty_dsl.language.vocabulary import NEVER, PERIODS
from loyalty_dsl.tools.standing import retained_standing

_PERIOD_WORD = {
    "day": "daily",
    "week": "weekly",
    "month": "monthly",
    "quarter": "quarterly",
    "year": "yearly",
    "window": "window",
}


def event_json(e: Event, cal: Calendar) -> dict[str, Any]:
    out: dict[str, Any] = {"type": e.type, "at": cal.iso(e.at), "file": e.file, "line": e.line}
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
    calendar: Calendar = attrs.field(factory=Calendar)  # instants are written in its time zone
    measures: dict[str, dict[str, Any]] = attrs.field(factory=dict)  # name -> its value and ledger

    def to_json(self) -> dict[str, Any]:
        o = self.outcome.to_json()
        balance = self.outcome.balance
        cal = self.calendar
        lots = (
            {}
            if balance is None
            else {
                "balance": balance.balance,
                "lots": [
                    {
                        "rule": lot.rule,
                        "earned": cal.iso(lot.earned),
                        "points": lot.points,
                        "left": lot.left,
                        "expires": cal.iso(lot.expires) if lot.expires != NEVER else None,
                    }
                    for lot in balance.lots
                ],
                "redemptions": [_local_claim(r, cal) for r in balance.redemptions],
                **({"vouchers": list(balance.vouchers)} if balance.vouchers is not None else {}),
            }
        )
        return lots | {
            "member": o["member"],
            "as_of": o["as_of"],
            "timezone": cal.name,
            "points": o["points"],
            "tier": o["tier"],
            "benefits": o["benefits"],
            "ledger": self.ledger,
            "not_rewarded": self.not_rewarded,
            "timeline": self.timeline,
            "standing": self.standing,
            "grants": self.grants,
            "decisions": [_local(d, cal) for d in o["decisions"]],
            **({"measures": self.measures} if self.measures else {}),
        }


def _local(item: dict[str, Any], cal: Calendar) -> dict[str, Any]:
    """An outcome's item with its instant (`at`, written in UTC) in the program's time zone."""
    return item | {"at": cal.iso(instant_of(dt.datetime.fromisoformat(item["at"])))}


def _local_claim(claim: dict[str, Any], cal: Calendar) -> dict[str, Any]:
    """A redemption in local time, with the lots it spent (a rule's redemptions keep them)."""
    out = _local(claim, cal)
    if "lots" in claim:
        out["lots"] = [_local(lot | {"at": lot["earned"]}, cal) for lot in claim["lots"]]
        out["lots"] = [{"rule": x["rule"], "earned": x["at"], "points": x["points"]} for x in out["lots"]]
    return out


def state_at(program: CompiledProgram, member: str, events: Sequence[Event], as_of: dt.date, instant: int) -> MemberRun:
    """A fresh evaluation of the events before `instant`, settled: the state a status counted."""
    probe = MemberRun(program, member, [e for e in events if e.at < instant], as_of)
    wanted = [t for t in probe.tier_instants(instant) if t < instant]  # multipliers read each month's tier
    probe._apply_events(wanted)
    for st in probe.states:
        st.settle(instant)
    return probe


def ledger_and_reasons(
    program: CompiledProgram, member: str, events: Sequence[Event], as_of: dt.date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], MemberRun]:
    """The ledger, every event the rules looked at without rewarding it (in time order), and the state."""
    instant = program.status_instant(program.calendar.end_of_day(as_of))
    probe = state_at(program, member, events, as_of, instant)
    window = probe.window(instant)
    entries: list[dict[str, Any]] = []
    refused: list[tuple[int, int, dict[str, Any]]] = []
    for st in (state.view() for state in probe.states):
        found = _rule_ledger(st, window, probe, instant, refused)
        if st.rule.into is None:  # a rule into a measure has its own ledger (measure_ledgers)
            entries += found
    refused.sort(key=lambda r: (r[0], r[1]))
    return entries, [r[2] for r in refused], probe


def member_ledger(program: CompiledProgram, member: str, events: Sequence[Event], as_of: dt.date) -> list[dict]:
    """The ledger alone (for `loyalty run --ledger`). In a program with measures every entry names
    what it adds to (`measure`: "points" or the measure) and by how much (`amount`)."""
    entries, _, probe = ledger_and_reasons(program, member, events, as_of)
    if not program.measures:
        return entries
    entries = [{**e, "measure": "points", "amount": e["points"]} for e in entries]
    instant = program.status_instant(program.calendar.end_of_day(as_of))
    window = probe.window(instant)
    for st in (state.view() for state in probe.states):
        if st.rule.into is not None:
            for entry in _rule_ledger(st, window, probe, instant, []):
                # points and earned are points' columns; a cap's cut is in the note
                entries.append(
                    {**entry, "measure": st.rule.into, "amount": entry["points"], "points": None, "earned": None}
                )
    return entries


def explain_member(program: CompiledProgram, member: str, events: Sequence[Event], as_of: dt.date) -> Explanation:
    first = min((e.at for e in events), default=None)
    run = MemberRun(program, member, events, as_of, extra_instants=_timeline_instants(program, events, first, as_of))
    outcome = run.run()
    ledger, not_rewarded, probe = ledger_and_reasons(program, member, events, as_of)
    verdicts = run.grant_verdicts()
    grants = [
        {"benefit": v.benefit, "on": v.on.isoformat(), "line": v.line, "reason": v.reason}
        for v in sorted(verdicts, key=lambda v: (v.on, v.benefit))
        if v.granted
    ]
    not_rewarded += [
        {"rule": f"grant {v.benefit}", "line": v.line, "on": v.on.isoformat(), "reason": v.reason}
        for v in verdicts
        if not v.granted
    ]
    window = probe.window(program.status_instant(run.end))
    return Explanation(
        outcome=outcome,
        ledger=ledger,
        not_rewarded=not_rewarded,
        timeline=_timeline(run),
        standing=_standing(run, probe, outcome.status, window, program.calendar),
        grants=grants,
        calendar=program.calendar,
        measures=measure_ledgers(program, probe, outcome.status, window),
    )


def measure_ledgers(
    program: CompiledProgram, probe: MemberRun, status: Status, window: range | None
) -> dict[str, dict[str, Any]]:
    """Each measure's value and its contributions (rule, amount, event), as the points ledger has them."""
    values = measures_json(status.measures)
    out: dict[str, dict[str, Any]] = {name: {"value": values[name], "ledger": []} for name, _ in program.measures}
    for st in (state.view() for state in probe.states):
        if st.rule.into is None:
            continue
        for entry in _rule_ledger(st, window, probe, status.instant, []):
            amount = entry.pop("points")
            entry.pop("earned", None)
            entry["amount"] = amount if isinstance(amount, int) else float(amount)
            out[st.rule.into]["ledger"].append(entry)
    return out


# --- the ledger and why-not of one rule ---------------------------------------------------


def _rule_ledger(
    st: RuleView,
    window: range | None,
    probe: MemberRun,
    instant: int,
    not_rewarded: list[tuple[int, int, dict[str, Any]]],
) -> list[dict[str, Any]]:
    rule, cal = st.rule, st.cal
    entries: list[dict[str, Any]] = []

    def refuse(event: Event, reason: str, kind: str) -> None:
        entry = {"rule": rule.name, "line": rule.line, "reason": reason, "kind": kind, "event": event_json(event, cal)}
        not_rewarded.append((event.at, event.rank, entry))

    for unit in sorted(st.units, key=lambda u: min((e.at, e.rank) for e, _ in u.candidates)):
        for event, passing in unit.candidates:
            if not passing:
                refuse(event, _condition_failed(st, event, probe, instant), "condition")
            elif rule.vesting and event.at + rule.vesting > instant:
                refuse(event, f"pending until {cal.iso(event.at + rule.vesting)} (vesting)", "pending")
            elif (
                event is not unit.first
                and rule.threshold
                and (unit.first is None or (event.at, event.rank) < unit.time)
            ):
                refuse(event, _toward_threshold(st, unit), "threshold")
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


def _entry(st: RuleView, unit: UnitView, event: Event) -> dict[str, Any]:
    cal = st.cal
    entry: dict[str, Any] = {
        "rule": st.rule.name,
        "line": st.rule.line,
        "points": unit.kept,
        "earned": unit.value,
        "day": dt.date.fromordinal(cal.day(event.at)).isoformat(),
        "month": _month(unit.month),
        "event": event_json(event, cal),
    }
    if unit.cut_by is not None:
        entry["note"] = f"{_cap_words(st, unit.cut_by)}: {unit.kept} of {unit.value} kept"
    elif unit.kept != unit.value:
        entry["note"] = f"multiplied: {unit.value} -> {unit.kept}"
    return entry


def _cap_words(st: RuleView, period: str | None) -> str:
    amount = next((a for a, p in st.rule.caps if p == period), None)
    return f"{_PERIOD_WORD.get(period or '', '')} {st.rule.name} cap {amount}".strip()


def _condition_failed(st: RuleView, event: Event, probe: MemberRun, instant: int) -> str:
    explain = st.rule.explain
    if explain is None:  # pragma: no cover - a rule without condition always passes
        return "the condition does not hold"
    _, words = explain(event.fields, {}, probe.facts, instant)
    for fact, field in st.rule.fact_refs:
        witness = probe.witnesses.get((fact, event.fields.get(field)))
        if witness is not None and witness.at < instant and f" {fact}" in words:  # the fact is the reason
            words += f" ({witness.type} at {st.cal.iso(witness.at)}, {witness.file}:{witness.line})"
    return words


def _toward_threshold(st: RuleView, unit: UnitView) -> str:
    assert st.rule.threshold is not None
    kind, need, key = st.rule.threshold.kind, st.rule.threshold.need, st.rule.threshold.key
    what = {"count": "events", "distinct": f"distinct {key}", "sum": f"in {key}"}[kind]
    shown = int(need) if float(need).is_integer() else need
    first = unit.first
    if first is None:
        return f"counts toward {shown} {what} per {_key_words(st.rule.per)}, not reached"
    return (
        f"counted toward {shown} {what}, reached by {first.type} at {st.cal.iso(first.at)} ({first.file}:{first.line})"
    )


def _already_counted(st: RuleView, unit: UnitView, cal: Calendar) -> str:
    first = unit.first
    assert first is not None
    keys = ", ".join(_key_value(k, v, cal, first) for k, v in zip(st.rule.per, unit.key, strict=True))
    return (
        f"already counted once per {_key_words(st.rule.per)} ({keys}): "
        f"{first.type} at {cal.iso(first.at)} ({first.file}:{first.line}) earned it"
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
        return f"week of {(day - dt.timedelta(days=(day.weekday() - cal.week_start) % 7)).isoformat()}"
    if key == "month":
        return day.strftime("%Y-%m")
    first = month_date(cal.period(key, event.at) * (3 if key == "quarter" else 12) + cal.year_start - 1)
    return f"{key} from {first.isoformat()}"


def _month(index: int) -> str:
    return month_date(index).strftime("%Y-%m")


def _months(window: range) -> str:
    return f"{_month(window.start)} to {_month(window.stop - 1)}"


# --- grants, timeline, standing ---------------------------------------------------------------


def _timeline_instants(
    program: CompiledProgram, events: Sequence[Event], first: int | None, as_of: dt.date
) -> list[int]:
    if first is None:
        return []
    cal = program.calendar
    end = cal.end_of_day(as_of)
    if program.continuous:
        return sorted({e.at for e in events if e.at < end})
    return cal.recalculations(first, end)


def _measured_standing(tiers: Sequence[Tier], status: Status) -> dict[str, Any]:
    """The tier written after the one held, and what each of its ways in still needs ("12 more" of a measure)."""
    at = next((i for i, t in enumerate(tiers) if t is status.tier), -1)
    if at + 1 >= len(tiers):
        return {"next_tier": None, "points_to_next_tier": None}
    nxt = tiers[at + 1]
    counts = {**status.measures, "points": status.points, "balance": status.balance or 0}
    ways = []
    for group in nxt.qualifies:
        short = {m: least - counts[m] for m, least in group if counts[m] < least}
        ways.append({m: int(v) if v == int(v) else float(v) for m, v in short.items()})
    points_only = [w["points"] for w in ways if set(w) == {"points"}]
    return {"next_tier": nxt.name, "points_to_next_tier": min(points_only, default=None), "to_next_tier": ways}


def _timeline(run: MemberRun) -> list[dict[str, Any]]:
    """Every recalculation (rolling window), or every change of level (continuous)."""
    out: list[dict[str, Any]] = []
    continuous = run.program.continuous
    for instant in sorted(run.statuses):
        status = run.statuses[instant]
        tier = status.tier.name if status.tier else None
        if continuous and out and out[-1]["tier"] == tier:
            continue  # a continuous program lists changes of level only
        out.append({"at": run.cal.iso(instant), "points": status.points, "tier": tier})
    return out


def _standing(run: MemberRun, probe: MemberRun, status: Status, window: range | None, cal: Calendar) -> dict[str, Any]:
    tiers = run.program.tiers
    if run.program.measured_tiers:
        return _measured_standing(run.program.tiers, status)
    above = [t for t in tiers if t.threshold > status.points]
    standing: dict[str, Any] = {
        "next_tier": above[0].name if above else None,
        "points_to_next_tier": above[0].threshold - status.points if above else None,
    }
    if window is None or run.program.calendar_year is not None:
        standing["next_recalculation"] = None  # continuous, or a calendar year: points leave all at once
        return standing
    leaving = sum(st.view().month_kept.get(window.start, 0) for st in probe.states if st.rule.into is None)
    next_day = dt.date.fromordinal(cal.day(cal.month_start(window.stop + 1))) if window.stop // 12 < 9999 else None
    if run.program.retention is not None:  # the tier in force may outlast the points: see standing.py
        standing = retained_standing(run, status)
    standing["next_recalculation"] = next_day.isoformat() if next_day else None
    standing["points_leaving_window"] = leaving
    if run.program.retention is None and status.tier is not None:
        standing["points_to_keep_tier"] = max(0, status.tier.threshold - (status.points - leaving))
    return standing
