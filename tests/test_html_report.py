"""`loyalty report` and `loyalty diff --report`: the aggregates, the page, and the page in Chromium.

tests/reports/small.loy over small.jsonl, as of 2025-02-01, counted by hand:
- m1: visit (1) + two orders (5 + 5) = 11 points: High (from 10). Asks r1 (30 <= limit 50:
  granted) and r2 (80 > 50: refused). First visit 2024-01-05: a gift on 2025-01-05.
- <b>m2</b> (an id that is markup): two visits = 2 points: Low, 8 short of High; ask r3
  refused (Low has no perk). Anniversary 2025-06-01 is after the day.
- m3: one order = 5 points: Low, 5 short of High; ask r4 refused.
- line 11 has no `at`: rejected. 11 lines read, 10 applied.
small_b.loy is the same with High from 5 points: m3 moves to High, and its ask r4 (20 <= 50,
with 5 points at the time) is granted.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from loyalty_dsl import load
from loyalty_dsl.cli import main
from loyalty_dsl.tools.report_data import RunReport, bin_edges, run_report
from tests.browser import browser, chromium

HERE = Path(__file__).resolve().parent / "reports"
SMALL, SMALL_B, HISTORY = HERE / "small.loy", HERE / "small_b.loy", HERE / "small.jsonl"
ROOT = HERE.parent.parent
DAY = "2025-02-01"


def test_run_aggregates_counted_by_hand() -> None:
    data = run_report(load(SMALL), [str(HISTORY)], dt.date(2025, 2, 1)).to_json()
    assert data["members"] == 3
    assert data["tiers"] == {"none": 0, "Low": 2, "High": 1}
    # points 2, 5 and 11: bins of width 1 from 2 to 11
    assert data["points"]["edges"] == list(range(2, 13))
    assert data["points"]["counts"]["Low"] == [1, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert data["points"]["counts"]["High"] == [0] * 9 + [1]
    assert data["points_by_rule"] == {"ordering": 15, "visiting": 3}  # 5+5+5; 1+2
    assert [(c["member"], c["needed"], c["next"]) for c in data["closest"]] == [
        ("m3", 5, "High"),
        ("<b>m2</b>", 8, "High"),
    ]
    assert data["decisions"] == {"Low": {"refused": 2}, "High": {"granted": 1, "refused": 1}}
    assert {(r["granted"], r["count"]) for r in data["reasons"]} == {(False, 2), (False, 1), (True, 1)}
    assert data["grants_by_month"] == {"2025-01": {"gift": 1}}
    assert data["accounting"]["events"] == {"read": 11, "applied": 10, "ignored": 0, "duplicate": 0, "rejected": 1}
    assert [r["line"] for r in data["accounting"]["rejections"]] == [11]


def test_a_withheld_outcome_is_counted_apart() -> None:
    report = RunReport(load(SMALL))
    report.add({"member": "m9", "\0withheld": "points beyond the exact range"})
    assert (report.members, report.withheld, report.to_json()["tiers"]["none"]) == (0, 1, 0)


def test_bins_cover_the_range_in_at_most_thirty() -> None:
    # 0..99 is 100 values: width ceil(100 / 30) = 4, so 25 bins, edges 0, 4, ..., 100
    assert bin_edges(0, 99) == list(range(0, 101, 4))
    assert bin_edges(7, 7) == [7, 8]


def _report(tmp_path: Path) -> tuple[Path, str]:
    out = tmp_path / "report.html"
    r = CliRunner().invoke(main, ["report", str(SMALL), str(HISTORY), "--as-of", DAY, "--output", str(out)])
    assert r.exit_code == 0, r.output
    return out, out.read_text()


def _diff(tmp_path: Path) -> tuple[Path, str]:
    out = tmp_path / "diff.html"
    args = ["diff", str(SMALL), str(SMALL_B), str(HISTORY), "--as-of", DAY, "--format", "json", "--report", str(out)]
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0, r.output
    return out, out.read_text()


def test_report_page_is_self_contained_and_escapes_history_values(tmp_path: Path) -> None:
    _, page = _report(tmp_path)
    assert "<b>m2</b>" not in page  # the member id is shown as text, not markup
    assert html.escape("<b>m2</b>") in page
    assert "<script src" not in page and "cdn.plot.ly" not in page.replace("https://cdn.plot.ly", "")
    assert page.count("Plotly.newPlot") == 5  # tiers, points, rules, decisions, grants
    assert "field &#x27;at&#x27; is missing" in page  # the first rejected line, escaped


def test_a_chart_with_nothing_to_draw_is_said_in_words(tmp_path: Path) -> None:
    # the first anniversary (m1's, 2025-01-05) is after 2024-12-31: no grant, no grants chart
    out = tmp_path / "r.html"
    r = CliRunner().invoke(main, ["report", str(SMALL), str(HISTORY), "--as-of", "2024-12-31", "-o", str(out)])
    assert r.exit_code == 0, r.output
    page = out.read_text()
    assert page.count("Plotly.newPlot") == 4
    assert 'Grants by month</h2>\n<p class="note">nothing to draw</p>' in page


def test_diff_report_figures(tmp_path: Path) -> None:
    _, page = _diff(tmp_path)
    assert page.count("Plotly.newPlot") == 3  # the heatmap, the points, the benefits
    # m3 Low -> High; granted amounts: A 30 (r1), B 30 + 20 (r1, r4)
    assert "Members whose tier changes (1)" in page
    assert "Decisions that flip (1)" in page
    assert "<tr><td>perk</td><td>30</td><td>50</td></tr>" in page


def test_report_refuses_to_overwrite_its_history(tmp_path: Path) -> None:
    history = tmp_path / "h.jsonl"
    history.write_bytes(HISTORY.read_bytes())
    r = CliRunner().invoke(main, ["report", str(SMALL), str(history), "-o", str(history)])
    assert r.exit_code == 2
    assert "refusing to overwrite an input" in r.output
    assert history.read_bytes() == HISTORY.read_bytes()


def _browser_or_skip() -> str:
    exe = chromium()
    if exe is None:
        if os.environ.get("LOYALTY_NEEDS_BROWSER"):
            pytest.fail("chromium is not on PATH; .ci/run installs it")
        pytest.skip("chromium is not installed (apt-get install chromium); .ci/run installs it")
    pytest.importorskip("websocket", reason="websocket-client (the test extra) drives chromium")
    return exe


def test_both_reports_draw_every_chart_in_chromium(tmp_path: Path) -> None:
    exe = _browser_or_skip()
    shipped = tmp_path / "shipped.html"
    r = CliRunner().invoke(
        main, ["report", str(ROOT / "programs/four_tier.loy"), str(ROOT / "examples/history.jsonl"), "-o", str(shipped)]
    )
    assert r.exit_code == 0, r.output
    pages = {"report": (_report(tmp_path)[0], 5), "diff": (_diff(tmp_path)[0], 3), "shipped": (shipped, 5)}
    with browser(exe) as b:
        for name, (path, charts) in pages.items():
            seen = b.open(path)
            assert seen["errors"] == [], name
            assert seen["requests"] == [], name  # offline: nothing fetched beyond the file
            assert seen["charts"] == charts, name
            assert seen["drawn"] == charts, name
