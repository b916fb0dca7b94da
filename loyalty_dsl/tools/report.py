"""Tables for people (rich), readable in an 80-column terminal."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterable
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from loyalty_dsl.io.output import cell


def console_text(renderables: Iterable[Any], width: int | None = None) -> str:
    """Render to plain text at the terminal's width (80 when not a terminal)."""
    out = io.StringIO()
    columns = width or shutil.get_terminal_size((80, 24)).columns
    console = Console(file=out, width=columns, no_color=True, highlight=False, soft_wrap=False)
    for r in renderables:
        console.print(cell(r) if isinstance(r, str) else r)
    return out.getvalue()


def _row(table: Table, *values: Any) -> None:
    """Add a row whose texts (which may come from a history) are shown as written."""
    table.add_row(*(cell(v) if isinstance(v, str) else v for v in values))


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", header_style="bold", box=box.SIMPLE_HEAD)
    for c in columns:
        numeric = c in ("points", "spent", "seen", "rewarded", "capped", "unmet", "repeat", "outside")
        table.add_column(c, justify="right" if numeric else "left", overflow="fold", no_wrap=numeric)
    return table


def _where(event: dict[str, Any]) -> str:
    return f"{event['type']} {event['at'][:16].replace('T', ' ')} ({event['file']}:{event['line']})"


def explanation_tables(ex: dict[str, Any]) -> list[Any]:
    tier = ex["tier"] or "no tier"
    head = f"{ex['member']}: {ex['points']} points, {tier}, as of {ex['as_of']}"
    parts: list[Any] = [head]
    if ex.get("timezone", "UTC") not in ("UTC", "Etc/UTC"):  # the days and times below are local ones
        parts.append(f"Times are local to {ex['timezone']}.")
    ledger = _table("Ledger", "rule", "points", "event", "note")
    for e in ex["ledger"]:
        where = _where(e["event"]) if "event" in e else ""
        _row(ledger, f"{e['rule']} (line {e['line']})", str(e["points"]), where, e.get("note", ""))
    _row(ledger, "total", str(sum(e["points"] for e in ex["ledger"])), "", "")
    parts.append(ledger)
    # Events dated before the window are many and alike: a person gets their count.
    outside = [n for n in ex["not_rewarded"] if n.get("kind") == "window"]
    listed = [n for n in ex["not_rewarded"] if n.get("kind") != "window"]
    if listed:
        why = _table("Not rewarded", "rule", "event", "reason")
        for n in listed:
            where = _where(n["event"]) if "event" in n else n.get("on", "")
            _row(why, n["rule"], where, n["reason"])
        parts.append(why)
    if outside:
        events = len({(n["event"]["file"], n["event"]["line"]) for n in outside})
        parts.append(f"{events} events dated before the window earned nothing now (all of them with --format json).")
    if ex["timeline"]:
        timeline = _table("Tier over time", "at", "points", "tier")
        for t in ex["timeline"]:
            _row(timeline, t["at"][:10], str(t["points"]), t["tier"] or "-")
        parts.append(timeline)
    s = ex["standing"]
    lines = _retained(ex["tier"], s) if "kept_until" in s else []
    if s.get("next_tier") and "to_next_tier" in s:  # tiers on measures: each way in, with what it lacks
        ways = [" and ".join(f"{v} more {m}" for m, v in w.items()) for w in s["to_next_tier"]]
        lines.append(f"{' or '.join(w for w in ways if w) or 'nothing more'} reach {s['next_tier']}.")
    elif s.get("next_tier"):
        lines.append(f"{s['points_to_next_tier']} more points reach {s['next_tier']}.")
    if s.get("next_recalculation") and ex["tier"] and "kept_until" not in s:
        lines.append(
            f"At the recalculation of {s['next_recalculation']}, {s['points_leaving_window']} points leave the "
            f"window: {s['points_to_keep_tier']} new points keep {ex['tier']}."
        )
    parts.append("Standing: " + (" ".join(lines) if lines else "at the top tier."))
    for name, m in ex.get("measures", {}).items():
        table = _table(f"Measure {name}: {m['value']}", "rule", "amount", "event")
        for e in m["ledger"]:
            where = _where(e["event"]) if "event" in e else ""
            _row(table, f"{e['rule']} (line {e['line']})", str(e["amount"]), where)
        parts.append(table)
    if "lots" in ex:
        lots = _table(f"Lots (balance {ex['balance']})", "earned", "rule", "points", "left", "expires")
        for lot in ex["lots"]:
            _row(
                lots,
                lot["earned"][:10],
                lot["rule"],
                str(lot["points"]),
                str(lot["left"]),
                (lot["expires"] or "never")[:10],
            )
        parts.append(lots)
    if ex.get("redemptions") and "asked" in ex["redemptions"][0]:  # redemptions with rules
        spent = _table("Redemptions", "at", "claim", "asked", "spent", "granted", "lots or reason", "event")
        for r in ex["redemptions"]:
            paid = ", ".join(f"{x['points']} of {x['earned'][:10]}" for x in r["lots"]) or "-"
            at = r["at"][:16].replace("T", " ")
            verdict = "yes" if r["granted"] else "no"
            where = f"{r['file']}:{r['line']}"
            _row(spent, at, r["event"], str(r["asked"]), str(r["spent"]), verdict, r.get("reason", paid), where)
        parts.append(spent)
    elif ex.get("redemptions"):
        spent = _table("Redemptions", "at", "points", "spent", "event")
        for r in ex["redemptions"]:
            _row(spent, r["at"][:16].replace("T", " "), str(r["points"]), str(r["spent"]), f"{r['file']}:{r['line']}")
        parts.append(spent)
    if ex.get("vouchers"):
        vouchers = _table("Vouchers", "issued", "points", "value", "expires", "status")
        for v in ex["vouchers"]:
            status = f"used {v['used'][:10]}" if v["status"] == "used" else v["status"]
            _row(vouchers, v["issued"], str(v["points"]), v["value"], v["expires"] or "never", status)
        parts.append(vouchers)
    if ex["grants"]:
        grants = _table("Grants", "on", "benefit", "reason")
        for g in ex["grants"]:
            _row(grants, g["on"], g["benefit"], g["reason"])
        parts.append(grants)
    if ex["decisions"]:
        decisions = _table("Decisions", "at", "benefit", "granted", "reason")
        for d in ex["decisions"]:
            _row(decisions, d["at"][:16].replace("T", " "), d["benefit"], "yes" if d["granted"] else "no", d["reason"])
        parts.append(decisions)
    return parts


def _retained(tier: str | None, s: dict[str, Any]) -> list[str]:
    """The standing where tiers outlive their points: the tier in force, until when, what keeps it."""
    lines = []
    if tier is not None:
        by_points = s["tier_by_points"] or "no tier"
        given = f" (the points give {by_points})" if by_points != tier else ""
        if not s["kept_until"]:
            kept = "holds without new points"
        elif s["points_to_keep_tier"] is None:  # the points already earned lift it at the next change
            kept = f"is in force until {s['kept_until']}"
        else:
            kept = f"is kept until {s['kept_until']}"
        lines.append(f"{tier} {kept}{given}.")
    if s["points_to_keep_tier"] is not None:
        first, last = s["keep_window"]
        months = first if first == last else f"{first} to {last}"
        lines.append(f"{s['points_to_keep_tier']} new points earned in {months} keep {tier} after that.")
    if s["without_new_points"]:
        steps = ", ".join(f"{c['tier'] or 'no tier'} from {c['from']}" for c in s["without_new_points"])
        lines.append(f"Without new points: {steps}.")
    return lines


def diff_tables(d: dict[str, Any], tiers_a: list[str], tiers_b: list[str], names: tuple[str, str]) -> list[Any]:
    a, b = names
    parts: list[Any] = [
        f"{d['members']} members as of {d['as_of']}: {d['changed']} change "
        f"({d['decisions_flipped']} decisions flip, {d['grants_changed']} grants differ)."
    ]
    rows = ["none", *tiers_a]
    cols = ["none", *tiers_b]
    matrix = Table(
        title=f"Tier under A ({a}) by tier under B ({b})",
        title_justify="left",
        title_style="bold",
        header_style="bold",
        box=box.SIMPLE_HEAD,
    )
    matrix.add_column("A \\ B")
    for c in cols:
        matrix.add_column(c, justify="right")
    for r in rows:
        row = d["transitions"].get(r, {})
        if row or r != "none":
            _row(matrix, r, *[str(row.get(c, 0)) if row.get(c) else "." for c in cols])
    parts.append(matrix)
    points = _table("Points", "", "members", "total", "mean", "median", "p90", "max")
    for label, s in (("A", d["points"]["a"]), ("B", d["points"]["b"])):
        _row(points, label, *(str(s[k]) for k in ("members", "total", "mean", "median", "p90", "max")))
    parts.append(points)
    return parts


def coverage_table(program: str, counts: dict[str, Any]) -> Table:
    table = _table(
        f"Coverage of {program}", "rule", "seen", "rewarded", "capped", "unmet", "repeat", "outside", "finding"
    )
    table.columns[0].no_wrap = True
    table.columns[-1].min_width = 11
    for rule, c in counts.items():
        finding = "never fires" if not c["rewarded"] else ""
        _row(
            table,
            rule,
            *(str(c[k]) for k in ("looked_at", "rewarded", "capped", "condition", "counted", "window")),
            finding,
        )
    table.caption = (
        "seen: events of the rule's type; unmet: its condition failed; repeat: its key had "
        "already earned; outside: dated before the window"
    )
    return table
