"""The figures behind the HTML reports: every member folded into small aggregates.

A report of 100,000 members must open in seconds, so nothing here keeps a row per
member: histograms are binned here, lists are the top N.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import attrs

from loyalty_dsl.columnar.choice import choose_plan
from loyalty_dsl.columnar.run import run_columnar
from loyalty_dsl.evaluation.compile import CompiledProgram
from loyalty_dsl.evaluation.evaluate import Outcome
from loyalty_dsl.evaluation.run import default_jobs, results
from loyalty_dsl.io.history import Accounting, read_history
from loyalty_dsl.tools.diff import NONE, MemberChange

TOP = 20  # rows of every list in a report
BINS = 30  # bars of a points histogram at most
SHOWN_REJECTIONS = 20


def _bin(p: int, edges: Sequence[int]) -> int | None:
    if p < edges[0] or p > edges[-1]:
        return None
    lo, hi = 0, len(edges) - 2
    while lo < hi:  # the last bin whose lower edge is <= p
        mid = (lo + hi + 1) // 2
        if edges[mid] <= p:
            lo = mid
        else:
            hi = mid - 1
    return lo


def bin_edges(low: int, high: int, bins: int = BINS) -> list[int]:
    """Integer edges from `low` to past `high`, of one width, at most `bins` bins."""
    span = high - low + 1
    width = max(1, -(-span // bins))
    count = -(-span // width)
    return [low + i * width for i in range(count + 1)]


class Histograms:
    """Points counted per group into bins known only at the end: kept as counts of each value."""

    def __init__(self) -> None:
        self.values: dict[str, Counter[int]] = {}

    def add(self, group: str, points: int) -> None:
        self.values.setdefault(group, Counter())[points] += 1

    def to_json(self) -> dict[str, Any]:
        every = [p for c in self.values.values() for p in c]
        if not every:
            return {"edges": [], "counts": {}}
        edges = bin_edges(min(every), max(every))
        counts = {}
        for group, values in self.values.items():
            row = [0] * (len(edges) - 1)
            for p, n in values.items():
                i = _bin(p, edges)
                assert i is not None
                row[i] += n
            counts[group] = row
        return {"edges": edges, "counts": counts}


def next_tier(program: CompiledProgram, tier: str | None) -> tuple[str, int] | None:
    """The tier above `tier` (by threshold) and its threshold; None at the top."""
    ordered = sorted(program.tiers, key=lambda t: t.threshold)
    current = next((t.threshold for t in ordered if t.name == tier), None)
    for t in ordered:
        if current is None or t.threshold > current:
            return t.name, t.threshold
    return None


def tier_names(*programs: CompiledProgram) -> list[str]:
    """Tier-less first, then every program's tiers from the lowest, each once."""
    names = [NONE]
    for program in programs:
        for t in sorted(program.tiers, key=lambda t: t.threshold):
            if t.name not in names:
                names.append(t.name)
    return names


@attrs.define
class RunReport:
    """A run's aggregates, from outcomes as `Outcome.to_json()` gives them."""

    program: CompiledProgram
    as_of: str | None = None
    members: int = 0
    tiers: Counter[str] = attrs.field(factory=Counter)
    points: Histograms = attrs.field(factory=Histograms)
    by_rule: Counter[str] = attrs.field(factory=Counter)
    closest: list[tuple[int, str, str, int, str]] = attrs.field(factory=list)  # a heap of the nearest
    decisions: dict[str, Counter[str]] = attrs.field(factory=dict)  # tier -> "granted"/"refused" counts
    reasons: Counter[tuple[str, bool, str]] = attrs.field(factory=Counter)  # (benefit, granted, reason)
    grants: dict[str, Counter[str]] = attrs.field(factory=dict)  # month -> benefit -> count
    accounting: dict[str, Any] = attrs.field(factory=dict)
    counts_line: str = ""  # the accounting as `loyalty run` prints it
    withheld: int = 0

    def add(self, outcome: dict[str, Any]) -> None:
        if "points" not in outcome:  # an outcome the evaluator withheld (points beyond the exact range)
            self.withheld += 1
            return
        self.members += 1
        self.as_of = outcome["as_of"]
        tier = outcome["tier"] or NONE
        points = outcome["points"]
        self.tiers[tier] += 1
        self.points.add(tier, points)
        self.by_rule.update(outcome["points_by_rule"])
        above = next_tier(self.program, outcome["tier"])
        if above is not None:
            # a heap of the TOP smallest gaps; negated so that heappushpop drops the farthest
            item = (-(above[1] - points), outcome["member"], tier, points, above[0])
            if len(self.closest) < TOP:
                heapq.heappush(self.closest, item)
            elif item > self.closest[0]:
                heapq.heapreplace(self.closest, item)
        for d in outcome["decisions"]:
            self.decisions.setdefault(tier, Counter())["granted" if d["granted"] else "refused"] += 1
            self.reasons[(d["benefit"], d["granted"], d["reason"])] += 1
        for g in outcome["grants"]:
            self.grants.setdefault(g["on"][:7], Counter())[g["benefit"]] += 1

    def tier_order(self) -> list[str]:
        return tier_names(self.program)

    def to_json(self) -> dict[str, Any]:
        closest = sorted(self.closest, key=lambda c: (-c[0], c[1]))
        return {
            "as_of": self.as_of,
            "members": self.members,
            "tiers": {t: self.tiers.get(t, 0) for t in self.tier_order()},
            "points": self.points.to_json(),
            "points_by_rule": dict(sorted(self.by_rule.items())),
            "closest": [
                {"member": m, "tier": t, "points": p, "next": n, "needed": -gap} for gap, m, t, p, n in closest
            ],
            "decisions": {t: dict(self.decisions[t]) for t in self.tier_order() if t in self.decisions},
            "reasons": [
                {"benefit": b, "granted": g, "reason": r, "count": n}
                for (b, g, r), n in sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
            ],
            "grants_by_month": {m: dict(sorted(c.items())) for m, c in sorted(self.grants.items())},
            "accounting": self.accounting,
            "withheld": self.withheld,
        }


def run_report(program: CompiledProgram, files: Sequence[str], as_of: dt.date | None) -> RunReport:
    """Every member's outcome, as `loyalty run` gives it (columnar where the program allows), folded."""
    acc, evaluated = _evaluate(program, files, as_of)
    report = RunReport(program)
    for outcome, _ in evaluated:
        report.add(outcome)
    counts = acc.counts()
    report.accounting = {"events": counts, "rejections": acc.rejections[:SHOWN_REJECTIONS]}
    report.counts_line = acc.line()
    return report


def _evaluate(
    program: CompiledProgram, files: Sequence[str], as_of: dt.date | None
) -> tuple[Accounting, Iterable[tuple[dict[str, Any], Any]]]:
    fast = choose_plan(program, "auto")
    if fast is not None:
        ran = run_columnar(fast, files, as_of, True, default_jobs())
        if ran is not None:
            return ran
    history = read_history(files, program)
    return history.accounting, results(program, history, as_of)


def _money(program: CompiledProgram, o: Outcome) -> dict[str, Decimal]:
    """Per benefit, the sum of the money fields of the events of the decisions granted."""
    sums: dict[str, Decimal] = {}
    for d in o.decisions:
        if d.granted:
            for spec in program.schema.get(d.event.type, ()):
                value = d.event.fields.get(spec.name)
                if spec.type == "money" and value is not None:
                    sums[d.benefit] = sums.get(d.benefit, Decimal(0)) + Decimal(str(value))
    return sums


@attrs.define
class DiffData:
    """What a diff report draws beyond the counts of `DiffReport`."""

    a: CompiledProgram
    b: CompiledProgram
    points: tuple[Histograms, Histograms] = attrs.field(factory=lambda: (Histograms(), Histograms()))
    tier_changes: list[dict[str, Any]] = attrs.field(factory=list)
    tier_changed: int = 0
    flips: list[dict[str, Any]] = attrs.field(factory=list)
    grant_changes: list[dict[str, Any]] = attrs.field(factory=list)
    benefits: tuple[Counter[str], Counter[str]] = attrs.field(factory=lambda: (Counter(), Counter()))
    by_tier: tuple[dict[str, Counter[str]], dict[str, Counter[str]]] = attrs.field(factory=lambda: ({}, {}))
    granted: tuple[dict[str, Decimal], dict[str, Decimal]] = attrs.field(factory=lambda: ({}, {}))

    def add(self, change: MemberChange) -> None:
        for side, (program, o) in enumerate(((self.a, change.a), (self.b, change.b))):
            if o is None:
                continue
            tier = o.tier or NONE
            self.points[side].add("A" if side == 0 else "B", o.points)
            self.benefits[side].update(o.benefits.keys())
            self.by_tier[side].setdefault(tier, Counter()).update(o.benefits.keys())
            for benefit, amount in _money(program, o).items():
                self.granted[side][benefit] = self.granted[side].get(benefit, Decimal(0)) + amount
        ta = (change.a.tier if change.a else None) or NONE
        tb = (change.b.tier if change.b else None) or NONE
        if ta != tb:
            self.tier_changed += 1
            if len(self.tier_changes) < TOP:
                self.tier_changes.append(
                    {
                        "member": change.member,
                        "a": ta,
                        "b": tb,
                        "points_a": change.a.points if change.a else None,
                        "points_b": change.b.points if change.b else None,
                    }
                )
        if len(self.flips) < TOP or len(self.grant_changes) < TOP:
            if not change.changed:
                return
            j = change.to_json()
            for f in j["decisions_flipped"]:
                if len(self.flips) < TOP:
                    self.flips.append({"member": change.member, **f})
            for label, key in (("A", "grants_only_a"), ("B", "grants_only_b")):
                for g in j[key]:
                    if len(self.grant_changes) < TOP:
                        self.grant_changes.append({"member": change.member, "only_under": label, **g})

    def to_json(self) -> dict[str, Any]:
        every = Histograms()
        for side in self.points:
            every.values.update(side.values)
        return {
            "points": every.to_json(),
            "tier_changed": self.tier_changed,
            "tier_changes": self.tier_changes,
            "decisions_flipped": self.flips,
            "grants_differing": self.grant_changes,
            "benefits": {"a": dict(sorted(self.benefits[0].items())), "b": dict(sorted(self.benefits[1].items()))},
            "benefits_by_tier": {
                side: {t: dict(sorted(c.items())) for t, c in sorted(by.items())}
                for side, by in zip(("a", "b"), self.by_tier, strict=True)
            },
            "granted_amounts": {
                side: {k: str(v) for k, v in sorted(c.items())}
                for side, c in zip(("a", "b"), self.granted, strict=True)
            },
        }
