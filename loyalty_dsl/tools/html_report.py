"""The HTML reports: one self-contained page (Plotly's script inlined once), charts and tables.

Every value that comes from a history or a program (member ids, reasons, names) is
escaped where it enters the page; Plotly escapes what it puts in its own scripts.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from loyalty_dsl.io.output import atomic_file

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #666; font-size: 0.9em; }
.chart { height: 420px; }
"""
_CONFIG = {"displaylogo": False, "responsive": True}


class Page:
    """Sections in order; the first chart carries plotly.js, the others share it."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.parts: list[str] = []
        self._script_in = False

    def heading(self, text: str) -> None:
        self.parts.append(f"<h2>{html.escape(text)}</h2>")

    def note(self, text: str) -> None:
        self.parts.append(f'<p class="note">{html.escape(text)}</p>')

    def chart(self, figure: Any) -> None:
        """A chart; one with nothing to draw is said in words instead (an empty plot reads as a fault)."""
        import plotly.io as pio

        if not any(
            len(getattr(t, "values", None) or getattr(t, "y", None) or getattr(t, "z", None) or ()) for t in figure.data
        ):
            self.note("nothing to draw")
            return

        figure.update_layout(margin={"t": 40, "b": 40, "l": 50, "r": 20}, template="plotly_white")
        self.parts.append(
            pio.to_html(
                figure,
                include_plotlyjs=not self._script_in,
                full_html=False,
                config=_CONFIG,
                default_height="420px",
            )
        )
        self._script_in = True

    def table(self, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
        body = []
        for row in rows:
            cells = "".join(
                f'<td class="n">{v}</td>'
                if isinstance(v, int | float) and not isinstance(v, bool)
                else f"<td>{html.escape(_text(v))}</td>"
                for v in row
            )
            body.append(f"<tr>{cells}</tr>")
        if not body:
            self.note("none")
            return
        self.parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")

    def render(self) -> str:
        title = html.escape(self.title)
        return (
            f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{_STYLE}</style></head><body><h1>{title}</h1>\n" + "\n".join(self.parts) + "\n</body></html>\n"
        )

    def write(self, path: str | Path) -> None:
        with atomic_file(path) as handle:
            handle.write(self.render().encode("utf-8"))


def _text(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "granted" if v else "refused"
    return str(v)


def _labels(edges: Sequence[int]) -> list[str]:
    return [f"{lo}" if hi - lo == 1 else f"{lo}–{hi - 1}" for lo, hi in itertools.pairwise(edges)]


def _accounting(page: Page, accounting: dict[str, Any], title: str = "Accounting") -> None:
    page.heading(title)
    counts = accounting["events"]
    page.table(list(counts), [list(counts.values())])
    rejected = accounting.get("rejections", [])
    if rejected:
        page.note(f"The first {len(rejected)} rejected line(s):")
        page.table(["file", "line", "reason"], [(r["file"], r["line"], r["reason"]) for r in rejected])


def run_page(data: dict[str, Any], program: str) -> Page:
    """The report of one run (`RunReport.to_json()`)."""
    import plotly.graph_objects as go

    page = Page(f"Loyalty report: {program}")
    withheld = f" ({data['withheld']} more withheld: see `loyalty run`)" if data.get("withheld") else ""
    page.note(f"{data['members']} members{withheld}, as of {data['as_of'] or '-'}.")
    tiers = data["tiers"]
    page.heading("Tier distribution")
    page.chart(go.Figure(go.Bar(x=list(tiers), y=list(tiers.values())), layout={"yaxis_title": "members"}))
    page.heading("Points distribution per tier")
    hist = data["points"]
    labels = _labels(hist["edges"])
    figure = go.Figure(
        [go.Bar(name=t, x=labels, y=hist["counts"][t]) for t in tiers if t in hist["counts"]],
        layout={"barmode": "stack", "xaxis_title": "points", "yaxis_title": "members"},
    )
    page.chart(figure)
    page.heading("Each rule's share of the points")
    by_rule = data["points_by_rule"]
    positive = {r: p for r, p in by_rule.items() if p > 0}
    page.chart(go.Figure(go.Pie(labels=list(positive), values=list(positive.values()), sort=False)))
    page.table(["rule", "points"], list(by_rule.items()))
    page.heading("Members closest to the next tier")
    page.table(
        ["member", "tier", "points", "next tier", "points needed"],
        [(c["member"], c["tier"], c["points"], c["next"], c["needed"]) for c in data["closest"]],
    )
    page.heading("Decisions granted and refused by tier")
    decisions = data["decisions"]
    page.chart(
        go.Figure(
            [
                go.Bar(name=k, x=list(decisions), y=[decisions[t].get(k, 0) for t in decisions])
                for k in ("granted", "refused")
            ],
            layout={"barmode": "stack", "yaxis_title": "decisions"},
        )
    )
    page.note("By the member's tier on the report's day. The most frequent reasons:")
    page.table(
        ["benefit", "decision", "reason", "count"],
        [(r["benefit"], r["granted"], r["reason"], r["count"]) for r in data["reasons"]],
    )
    page.heading("Grants by month")
    months = data["grants_by_month"]
    benefits = sorted({b for c in months.values() for b in c})
    page.chart(
        go.Figure(
            [go.Bar(name=b, x=list(months), y=[months[m].get(b, 0) for m in months]) for b in benefits],
            layout={"barmode": "stack", "xaxis": {"type": "category"}, "yaxis_title": "grants"},
        )
    )
    _accounting(page, data["accounting"])
    return page


def diff_page(
    summary: dict[str, Any], data: dict[str, Any], names: tuple[str, str], tiers: tuple[list[str], list[str]]
) -> Page:
    """The report of a what-if: `DiffReport.to_json()` and `DiffData.to_json()`; `tiers`: A's and B's, lowest first."""
    import plotly.graph_objects as go

    page = Page(f"What if {names[1]} replaced {names[0]}")
    page.note(
        f"A: {names[0]}; B: {names[1]}; {summary['members']} members as of {summary['as_of']}, "
        f"{summary['changed']} of them changed."
    )
    page.heading("Tier transitions (A → B)")
    transitions = summary["transitions"]
    rows = [t for t in tiers[0] if t in transitions]
    columns = [t for t in tiers[1] if any(t in row for row in transitions.values())]
    matrix = [[transitions[a].get(b, 0) for b in columns] for a in rows]
    page.chart(
        go.Figure(
            go.Heatmap(z=matrix, x=columns, y=rows, colorscale="Blues", texttemplate="%{z}", hoverongaps=False),
            layout={
                "xaxis_title": "tier under B",
                "yaxis_title": "tier under A",
                "xaxis": {"type": "category"},
                "yaxis": {"type": "category", "autorange": "reversed"},
            },
        )
    )
    page.heading("Points distribution under A and B")
    hist = data["points"]
    labels = _labels(hist["edges"])
    page.chart(
        go.Figure(
            [go.Bar(name=s, x=labels, y=hist["counts"][s]) for s in ("A", "B") if s in hist["counts"]],
            layout={"barmode": "group", "xaxis_title": "points", "yaxis_title": "members"},
        )
    )
    points = summary["points"]
    page.table(["", *points["a"]], [("A", *points["a"].values()), ("B", *points["b"].values())])
    page.heading(f"Members whose tier changes ({data['tier_changed']})")
    page.table(
        ["member", "tier under A", "tier under B", "points under A", "points under B"],
        [(c["member"], c["a"], c["b"], c["points_a"], c["points_b"]) for c in data["tier_changes"]],
    )
    page.heading(f"Decisions that flip ({summary['decisions_flipped']})")
    page.table(
        ["member", "benefit", "file", "line", "key", "A", "B"],
        [
            (f["member"], f["benefit"], f["file"], f["line"], f["key"], f["a"], f["b"])
            for f in data["decisions_flipped"]
        ],
    )
    page.heading(f"Grants that differ ({summary['grants_changed']})")
    page.table(
        ["member", "benefit", "on", "only under"],
        [(g["member"], g["benefit"], g["on"], g["only_under"]) for g in data["grants_differing"]],
    )
    page.heading("What it costs: benefits in force")
    ba, bb = data["benefits"]["a"], data["benefits"]["b"]
    benefits = sorted(set(ba) | set(bb))
    page.chart(
        go.Figure(
            [
                go.Bar(name="A", x=benefits, y=[ba.get(x, 0) for x in benefits]),
                go.Bar(name="B", x=benefits, y=[bb.get(x, 0) for x in benefits]),
            ],
            layout={"barmode": "group", "yaxis_title": "members with the benefit"},
        )
    )
    for side, name in (("a", "A"), ("b", "B")):
        by_tier = data["benefits_by_tier"][side]
        page.note(f"Under {name}: members with each benefit, by tier")
        page.table(
            ["tier", *benefits],
            [(t, *(by_tier[t].get(x, 0) for x in benefits)) for t in tiers[side == "b"] if t in by_tier],
        )
    ga, gb = data["granted_amounts"]["a"], data["granted_amounts"]["b"]
    page.note("Sum of the amounts (money fields) of the decisions granted:")
    page.table(["benefit", "A", "B"], [(x, ga.get(x, "0"), gb.get(x, "0")) for x in sorted(set(ga) | set(gb))])
    return page
