"""What-if: two programs over the same history, member by member.

Each program reads the history by its own declarations (so their accounting
may differ), then the outcomes are paired by member: tier transitions, the
points distribution under each, and the decisions and grants that flip.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import attrs

from loyalty_dsl.evaluation.compile import CompiledProgram
from loyalty_dsl.evaluation.evaluate import Outcome, evaluate_member
from loyalty_dsl.io.history import History

NONE = "none"  # the tier-less status, as a key of the transition matrix


def points_summary(points: Sequence[int]) -> dict[str, float | int]:
    if not points:
        return {"members": 0, "total": 0, "mean": 0, "median": 0, "p90": 0, "max": 0}
    ordered = sorted(points)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]  # nearest rank, no interpolation
    return {
        "members": len(ordered),
        "total": sum(ordered),
        "mean": round(statistics.fmean(ordered), 2),
        "median": statistics.median(ordered),
        "p90": p90,
        "max": ordered[-1],
    }


def _decisions(o: Outcome | None) -> dict[tuple[str, str, int, str], bool]:
    if o is None:
        return {}
    return {(d.event.file, d.benefit, d.event.line, str(d.key_value)): d.granted for d in o.decisions}


def _grants(o: Outcome | None) -> set[tuple[str, str]]:
    return {(g.benefit, g.on.isoformat()) for g in o.grants} if o is not None else set()


def _view(o: Outcome | None) -> dict[str, Any] | None:
    if o is None:
        return None
    j = o.to_json()
    view = {"points": j["points"], "tier": j["tier"], "benefits": j["benefits"]}
    if "measures" in j:  # a program with measures: a change of a measure is a change too
        view["measures"] = j["measures"]
    return view


@attrs.define
class MemberChange:
    member: str
    a: Outcome | None
    b: Outcome | None

    def to_json(self) -> dict[str, Any]:
        da, db = _decisions(self.a), _decisions(self.b)
        flips = [
            {"benefit": k[1], "file": k[0], "line": k[2], "key": k[3], "a": da.get(k), "b": db.get(k)}
            for k in sorted(set(da) | set(db), key=lambda k: (k[0], k[2], k[1]))
            if da.get(k) != db.get(k)
        ]
        ga, gb = _grants(self.a), _grants(self.b)
        return {
            "member": self.member,
            "a": _view(self.a),
            "b": _view(self.b),
            "decisions_flipped": flips,
            "grants_only_a": [{"benefit": x, "on": d} for x, d in sorted(ga - gb, key=lambda g: (g[1], g[0]))],
            "grants_only_b": [{"benefit": x, "on": d} for x, d in sorted(gb - ga, key=lambda g: (g[1], g[0]))],
        }

    @property
    def changed(self) -> bool:
        return (
            _view(self.a) != _view(self.b)
            or _decisions(self.a) != _decisions(self.b)
            or _grants(self.a) != _grants(self.b)
        )


@attrs.define
class DiffReport:
    as_of: dt.date
    members: int = 0
    changed: int = 0
    transitions: dict[str, Counter[str]] = attrs.field(factory=dict)
    points_a: list[int] = attrs.field(factory=list)
    points_b: list[int] = attrs.field(factory=list)
    decisions_flipped: int = 0
    grants_changed: int = 0

    def add(self, change: MemberChange) -> None:
        self.members += 1
        ta = (change.a.tier if change.a else None) or NONE
        tb = (change.b.tier if change.b else None) or NONE
        self.transitions.setdefault(ta, Counter())[tb] += 1
        if change.a is not None:
            self.points_a.append(change.a.status.points)
        if change.b is not None:
            self.points_b.append(change.b.status.points)
        if change.changed:
            self.changed += 1
            j = change.to_json()
            self.decisions_flipped += len(j["decisions_flipped"])
            self.grants_changed += len(j["grants_only_a"]) + len(j["grants_only_b"])

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "members": self.members,
            "changed": self.changed,
            "transitions": {a: dict(sorted(row.items())) for a, row in self.transitions.items()},
            "points": {"a": points_summary(self.points_a), "b": points_summary(self.points_b)},
            "decisions_flipped": self.decisions_flipped,
            "grants_changed": self.grants_changed,
        }


def pair_outcomes(
    a: CompiledProgram, ha: History, b: CompiledProgram, hb: History, as_of: dt.date
) -> Iterator[MemberChange]:
    """Both programs' outcomes for every member either one lists, by member id."""
    for member in sorted(set(ha.members) | set(hb.members)):
        oa = evaluate_member(a, member, ha.members[member], as_of) if member in ha.members else None
        ob = evaluate_member(b, member, hb.members[member], as_of) if member in hb.members else None
        yield MemberChange(member, oa, ob)
