"""Examples written in the language (`test "..." : given ... as of ... expect ...`).

A program's examples live in `NAME_test.loy` beside `NAME.loy`. Each example is
one member's short history, evaluated by the program exactly as `loyalty run`
would (the same reader, so a given event with a wrong field fails the example).
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import orjson

from loyalty_dsl.evaluation.compile import CompiledProgram
from loyalty_dsl.evaluation.evaluate import Outcome, evaluate_member
from loyalty_dsl.io.history import History, read_history
from loyalty_dsl.language import ast
from loyalty_dsl.language.diagnostics import Diagnostic, did_you_mean
from loyalty_dsl.language.limits import check_times
from loyalty_dsl.language.vocabulary import NEVER

MEMBER = "example"
TEST_SUFFIX = "_test.loy"


class DiscoveryError(Exception):
    """A path that names no program or no examples."""


def find_pairs(paths: Iterable[str]) -> list[tuple[Path, Path]]:
    """(program, examples) pairs for program files, example files or folders."""
    pairs: list[tuple[Path, Path]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(path.rglob(f"*{TEST_SUFFIX}"))
            if not found:
                raise DiscoveryError(f"{raw}: no *{TEST_SUFFIX} files here")
            pairs += [(_program_of(t), t) for t in found]
        elif path.name.endswith(TEST_SUFFIX):
            pairs.append((_program_of(path), path))
        else:
            tests = path.with_name(path.stem + TEST_SUFFIX)
            if not tests.is_file():
                raise DiscoveryError(f"{raw}: no examples beside it (expected {tests})")
            pairs.append((path, tests))
    return list(dict.fromkeys(pairs))


def _program_of(tests: Path) -> Path:
    program = tests.with_name(tests.name.removesuffix(TEST_SUFFIX) + ".loy")
    if not program.is_file():
        raise DiscoveryError(f"{tests}: no program {program.name} beside it")
    return program


# --- checking examples against their program ------------------------------------------


def check_examples(tests: ast.Program, program: CompiledProgram) -> list[Diagnostic]:
    """Every name in the examples must exist in the program."""
    out: list[Diagnostic] = []
    others: list[Any] = [*tests.events, *tests.rules, *tests.tiers, *tests.benefits, *tests.grants, *tests.decisions]
    out += [Diagnostic.at(s.span, "E190", "an examples file holds only `test` statements") for s in others]
    benefits = {b for t in program.tiers for b in t.benefits}
    tiers = [t.name for t in program.tiers]
    measures = [name for name, _ in program.measures]
    if program.expiry is not None or program.redemption is not None:
        measures.append("balance")
    for test in tests.tests:
        try:
            dt.date.fromisoformat(test.as_of.text)
        except ValueError:
            out.append(Diagnostic.at(test.as_of.span, "E191", "`as of` takes a day such as 2026-03-31"))
        for given in test.given:
            out += check_times(given) or _check_given(given, program)
        for e in test.expects:
            if e.what == "tier" and e.name is not None and e.name.text not in tiers:
                out.append(_unknown(e.name, "tier", tiers))
            if e.what == "measure" and e.name is not None and e.name.text not in measures:
                out.append(_unknown(e.name, "measure", measures))
            if e.what in ("benefit", "grant", "decision") and e.name is not None and e.name.text not in benefits:
                out.append(_unknown(e.name, "benefit", benefits))
            redeeming = [r.event for r in program.redemptions]
            if e.what == "redemption" and e.name is not None and e.name.text not in redeeming:
                out.append(_unknown(e.name, "redeeming event", redeeming))
            if e.what == "voucher" and program.conversion is None:
                out.append(Diagnostic.at(e.span, "E192", "the program issues no vouchers", "add `convert points`"))
            if e.what == "expiring" and program.expiry is None:
                out.append(Diagnostic.at(e.span, "E192", "the program's points never expire", "add `points expire`"))
    return out


def _check_given(given: ast.GivenEvent, program: CompiledProgram) -> list[Diagnostic]:
    if given.type.text not in program.schema:
        return [_unknown(given.type, "event", program.schema)]
    fields = {f.name for f in program.schema[given.type.text]} | {"id"}
    return [
        Diagnostic.at(
            f.name.span, "E104", f"`{given.type.text}` has no field `{f.name.text}`", did_you_mean(f.name.text, fields)
        )
        for f in given.fields
        if f.name.text not in fields
    ]


def _unknown(name: ast.Name, what: str, choices: Iterable[str]) -> Diagnostic:
    return Diagnostic.at(name.span, "E192", f"unknown {what} `{name.text}`", did_you_mean(name.text, choices))


# --- running examples -----------------------------------------------------------------------


@attrs.frozen
class ExampleResult:
    test: ast.TestDecl
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failures


def run_examples(program: CompiledProgram, tests: Sequence[ast.TestDecl]) -> list[ExampleResult]:
    return [ExampleResult(t, tuple(_run_one(program, t))) for t in tests]


def _history(program: CompiledProgram, test: ast.TestDecl) -> History:
    lines = []
    for g in test.given:
        record: dict[str, Any] = {"member": MEMBER, "type": g.type.text, "at": g.at.text}
        record.update({f.name.text: f.value.value for f in g.fields})
        lines += [orjson.dumps(record) + b"\n"] * g.times
    return read_history(["-"], program, stdin=io.BytesIO(b"".join(lines)))


def _run_one(program: CompiledProgram, test: ast.TestDecl) -> list[str]:
    history = _history(program, test)
    origin = [g for g in test.given for _ in range(g.times)]  # history line -> its `given` line
    failures = [
        f"given event on line {origin[r['line'] - 1].span.line} is rejected ({r['code']}): {r['reason']}"
        for r in history.accounting.rejections
    ]
    as_of = dt.date.fromisoformat(test.as_of.text)
    outcome = evaluate_member(program, MEMBER, history.members.get(MEMBER, []), as_of)
    for e in test.expects:
        problem = _CHECKS[e.what](e, outcome, program)
        if problem:
            failures.append(f"line {e.span.line}: {problem}")
    return failures


def _rules_words(outcome: Outcome, program: CompiledProgram) -> str:
    lines = {r.name: r.line for r in program.rules}
    parts = [f"{rule} {pts} (line {lines[rule]})" for rule, pts in outcome.status.by_rule.items() if pts]
    return "; ".join(parts) if parts else "no rule earned points"


def _points(e: ast.Expectation, o: Outcome, program: CompiledProgram) -> str | None:
    assert e.value is not None
    if o.status.points == e.value.value:
        return None
    return f"expected points {e.value.text}, got {o.status.points} ({_rules_words(o, program)})"


def _tier(e: ast.Expectation, o: Outcome, program: CompiledProgram) -> str | None:
    want = None if e.negated else e.name.text if e.name else None
    if o.tier == want:
        return None
    return (
        f"expected {'no tier' if want is None else 'tier ' + want}, got {o.tier or 'no tier'} "
        f"at {o.status.points} points ({_rules_words(o, program)})"
    )


def _benefit(e: ast.Expectation, o: Outcome, program: CompiledProgram) -> str | None:
    assert e.name is not None
    benefits = o.status.tier.benefits if o.status.tier else {}
    have = benefits.get(e.name.text)
    tier = o.tier or "no tier"
    if e.negated:
        return f"expected no {e.name.text}, but {tier} has it" if have is not None else None
    if have is None:
        return f"expected {e.name.text}, but {tier} has no {e.name.text}"
    want = {p.name.text: p.value.value for p in e.params}
    got = {k: have.get(k) for k in want}
    return None if got == want else f"expected {e.name.text} {want}, got {got} ({tier})"


def _grant(e: ast.Expectation, o: Outcome, program: CompiledProgram) -> str | None:
    assert e.name is not None
    days = [g.on.isoformat() for g in o.grants if g.benefit == e.name.text]
    if e.negated:
        return f"expected no {e.name.text}, got it on {', '.join(days)}" if days else None
    assert e.value is not None
    if e.value.text in days:
        return None
    return f"expected {e.name.text} on {e.value.text}, got " + (", ".join(days) if days else "none")


def _decision(e: ast.Expectation, o: Outcome, program: CompiledProgram) -> str | None:
    assert e.name is not None
    found = [d for d in o.decisions if d.benefit == e.name.text]
    if e.key is not None and e.value is not None:
        found = [d for d in found if d.event.fields.get(e.key.text) == e.value.value]
    about = f"{e.name.text}" + (f" for {e.key.text} {e.value.text}" if e.key and e.value else "")
    if not found:
        return f"expected a decision {about}, there is none"
    want = not e.negated
    wrong = [d for d in found if d.granted != want]
    if not wrong:
        return None
    verdicts = Counter("granted" if d.granted else "refused" for d in found)
    return (
        f"expected {about} {'granted' if want else 'refused'}, got "
        + ", ".join(f"{n} {v}" for v, n in verdicts.items())
        + f": {wrong[0].reason}"
    )


def _redemption(e: ast.Expectation, o: Outcome, program: CompiledProgram) -> str | None:
    """`granted` / `refused`: every claim of the event type; `spent N`: what they spent together."""
    assert e.name is not None
    plain = program.redemption
    claims = o.balance.redemptions if o.balance is not None else ()
    found = [r for r in claims if r.get("event", plain[0] if plain else None) == e.name.text]
    if not found:
        return f"expected a redemption by {e.name.text}, there is none"
    spent = sum(r["spent"] for r in found)
    if e.value is not None:
        return None if spent == e.value.value else f"expected {e.name.text} to spend {e.value.text}, it spent {spent}"
    granted = [r["granted"] if "granted" in r else r["spent"] > 0 or r["points"] == 0 for r in found]
    want = not e.negated
    if all(g == want for g in granted):
        return None
    reasons = "; ".join(r["reason"] for r in found if r.get("reason"))
    verdict = "granted" if want else "refused"
    return f"expected {e.name.text} {verdict}, got {granted.count(True)} granted, {granted.count(False)} refused" + (
        f": {reasons}" if reasons else ""
    )


def _expiring(e: ast.Expectation, o: Outcome, program: CompiledProgram) -> str | None:
    """The points still valid at the as-of day's end that expire on the day named."""
    assert e.value is not None and e.on is not None
    cal = program.calendar
    end = cal.end_of_day(o.as_of)
    by_day: Counter[str] = Counter()
    for lot in o.balance.lots if o.balance is not None else ():
        if lot.left and end < lot.expires < NEVER:
            by_day[dt.date.fromordinal(cal.day(lot.expires)).isoformat()] += lot.left
    got = by_day.get(e.on.text, 0)
    if got == e.value.value:
        return None
    others = ", ".join(f"{n} on {d}" for d, n in sorted(by_day.items())) or "nothing expiring"
    return f"expected {e.value.text} expiring on {e.on.text}, got {got} ({others})"


def _voucher(e: ast.Expectation, o: Outcome, program: CompiledProgram) -> str | None:
    """A voucher of that value issued on that day (the last day of the period that converted it) and
    not expired by the as-of day (valid or used); `no voucher on D`: none such, of any value."""
    assert e.on is not None
    vouchers = (o.balance.vouchers if o.balance is not None else None) or ()
    held = [v for v in vouchers if v["issued"] == e.on.text and v["status"] != "expired"]
    if e.negated:
        return f"expected no voucher on {e.on.text}, got {len(held)} worth {held[0]['value']}" if held else None
    assert e.value is not None
    if any(Decimal(v["value"]) == Decimal(e.value.text) for v in held):
        return None
    issued = ", ".join(f"{v['value']} on {v['issued']} ({v['status']})" for v in vouchers) or "no voucher"
    return f"expected a voucher {e.value.text} on {e.on.text}, got {issued}"


def _measure(e: ast.Expectation, o: Outcome, program: CompiledProgram) -> str | None:
    assert e.name is not None and e.value is not None
    name = e.name.text
    if name == "balance":
        got: Any = o.balance.balance if o.balance is not None else None
    else:
        got = o.status.measures.get(name)
    if got is not None and decimal.Decimal(got) == decimal.Decimal(e.value.text):  # exact: 350.00 is 350
        return None
    return f"expected {name} {e.value.text}, got {got}"


_CHECKS = {
    "points": _points,
    "measure": _measure,
    "voucher": _voucher,
    "redemption": _redemption,
    "expiring": _expiring,
    "tier": _tier,
    "benefit": _benefit,
    "grant": _grant,
    "decision": _decision,
}


# --- coverage over a real history -------------------------------------------------------------

COVERAGE_KINDS = ("looked_at", "rewarded", "capped", "condition", "counted", "window", "first", "zero")


def coverage(program: CompiledProgram, history: History, as_of: dt.date) -> dict[str, Counter[str]]:
    """Per rule: the events it looked at, rewarded, capped, and why the others earned nothing."""
    from loyalty_dsl.tools.explain import ledger_and_reasons  # explain imports this module's neighbours

    counts: dict[str, Counter[str]] = {r.name: Counter() for r in program.rules}
    for member in history.member_ids():
        ledger, refused, _ = ledger_and_reasons(program, member, history.members[member], as_of)
        for entry in ledger:
            if "event" in entry:
                counts[entry["rule"]]["rewarded"] += 1
                counts[entry["rule"]]["looked_at"] += 1
                if entry["points"] < entry["earned"]:
                    counts[entry["rule"]]["capped"] += 1
        for r in refused:
            counts[r["rule"]][r["kind"]] += 1
            counts[r["rule"]]["looked_at"] += 1
    return counts
