"""`explain`'s standing where tiers outlive their points (retention): the tier in force,
until when it is kept, and what keeps or reaches a tier after that.

Figures by hand from each program's rules; recalculations are on the 1st of each month
and count the three whole months before it.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
from click.testing import CliRunner

from loyalty_dsl import compile_text
from loyalty_dsl.cli import main
from loyalty_dsl.tools.explain import explain_member
from tests.helpers import history_of

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "programs" / "tier_retention.loy"  # Bronze 1, Silver 100, Gold 200; grace 1, one level

# The case: a tier reached is kept until the end of the next year.
GUARANTEE = """program "guarantee"
event bonus with points: integer at least 0
window last 3 months, recalculated monthly
rule bonus:
    on bonus
    earn points
keep a tier reached until the end of the next year
tier Silver from 100 points:
tier Rouge from 500 points:
tier Platine from 1000 points:
"""


def bonus(at: str, points: int) -> dict:
    return {"member": "m", "type": "bonus", "at": at, "points": points}


def explain(text: str, events: list[dict], as_of: str) -> dict:
    program = compile_text(text, "p.loy")
    history = history_of(program, events)
    return explain_member(program, "m", history.members["m"], dt.date.fromisoformat(as_of)).to_json()


def table(tmp_path: Path, text: str, events: list[dict], as_of: str) -> str:
    program, history = tmp_path / "p.loy", tmp_path / "h.jsonl"
    program.write_text(text)
    history.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    result = CliRunner().invoke(main, ["explain", str(program), str(history), "--member", "m", "--as-of", as_of])
    assert result.exit_code == 0, result.stderr
    return " ".join(result.stdout.split())  # the standing wraps at 80 columns


def test_a_guaranteed_tier_is_spoken_of_as_the_tier_in_force(tmp_path):
    # 500 in January: Rouge from the recalculation of 2026-02-01, kept to the end of 2027.
    # 100 in May: at 2026-06-01 the window (March to May) holds 100, Silver by points.
    events = [bonus("2026-01-15T10:00:00Z", 500), bonus("2026-05-10T10:00:00Z", 100)]
    ex = explain(GUARANTEE, events, "2026-06-20")
    assert (ex["points"], ex["tier"]) == (100, "Rouge")
    s = ex["standing"]
    # Above Rouge is Platine: 1000 - 100 = 900 more points.
    assert (s["next_tier"], s["points_to_next_tier"], s["tier_by_points"]) == ("Platine", 900, "Silver")
    # The guarantee ends with 2027; the 100 left the window at 2026-09-01, so the recalculation of
    # 2028-01-01 counts nothing already earned: 500 new points in October to December 2027 keep Rouge.
    assert s["kept_until"] == "2027-12-31"
    assert (s["points_to_keep_tier"], s["keep_window"]) == (500, ["2027-10", "2027-12"])
    assert s["without_new_points"] == [{"from": "2028-01-01", "tier": None}]
    text = table(tmp_path, GUARANTEE, events, "2026-06-20")
    assert "400 more points reach Rouge" not in text
    assert "Rouge is kept until 2027-12-31 (the points give Silver)." in text
    assert "500 new points earned in 2027-10 to 2027-12 keep Rouge after that." in text
    assert "Without new points: no tier from 2028-01-01." in text
    assert "900 more points reach Platine." in text


def test_grace_then_one_level_at_a_time(tmp_path):
    # 250 in January: Gold at 2026-02-01 to 04-01. 2026-05-01 counts February to April: 0, Gold kept
    # (the one recalculation of grace); 06-01 Silver, 07-01 Bronze, 08-01 no tier (one level each).
    events = [bonus("2026-01-15T10:00:00Z", 250)]
    text = EXAMPLE.read_text()
    s = explain(text, events, "2026-05-15")["standing"]
    assert (s["next_tier"], s["points_to_next_tier"], s["tier_by_points"]) == (None, None, None)
    # Gold falls at 2026-06-01, whose window is March to May: 200 points there keep it.
    assert (s["kept_until"], s["points_to_keep_tier"], s["keep_window"]) == ("2026-05-31", 200, ["2026-03", "2026-05"])
    assert s["without_new_points"] == [
        {"from": "2026-06-01", "tier": "Silver"},
        {"from": "2026-07-01", "tier": "Bronze"},
        {"from": "2026-08-01", "tier": None},
    ]
    shown = table(tmp_path, text, events, "2026-05-15")
    assert "more points reach Bronze" not in shown  # the old standing counted from 0 points
    assert "Gold is kept until 2026-05-31 (the points give no tier)." in shown
    assert "Without new points: Silver from 2026-06-01, Bronze from 2026-07-01, no tier from 2026-08-01." in shown
    # Dropped to Silver at 2026-06-01: Gold (200) is the next tier, Silver lasts until 06-30.
    s = explain(text, events, "2026-06-15")["standing"]
    assert (s["next_tier"], s["points_to_next_tier"]) == ("Gold", 200)
    assert (s["kept_until"], s["points_to_keep_tier"], s["keep_window"]) == ("2026-06-30", 100, ["2026-04", "2026-06"])


def test_points_already_earned_lift_the_tier_at_the_next_recalculation(tmp_path):
    # 150 in January: Silver at 2026-04-01 (January to March). 300 on 10 April count from 2026-05-01
    # (February to April): Gold until the window passes April, 2026-08-01 (May to July: 0, grace),
    # then Silver at 09-01, Bronze at 10-01, no tier at 11-01.
    events = [bonus("2026-01-15T10:00:00Z", 150), bonus("2026-04-10T10:00:00Z", 300)]
    text = EXAMPLE.read_text()
    s = explain(text, events, "2026-04-15")["standing"]
    assert (s["next_tier"], s["points_to_next_tier"], s["tier_by_points"]) == ("Gold", 50, "Silver")
    assert (s["kept_until"], s["points_to_keep_tier"], s["keep_window"]) == ("2026-04-30", None, None)
    assert [(c["from"], c["tier"]) for c in s["without_new_points"]] == [
        ("2026-05-01", "Gold"),
        ("2026-09-01", "Silver"),
        ("2026-10-01", "Bronze"),
        ("2026-11-01", None),
    ]
    assert "Silver is in force until 2026-04-30." in table(tmp_path, text, events, "2026-04-15")


def test_no_tier_and_nothing_coming(tmp_path):
    # Everything has left the window and every level is dropped by 2026-08-01: no tier, none coming.
    events = [bonus("2026-01-15T10:00:00Z", 250)]
    s = explain(EXAMPLE.read_text(), events, "2026-08-15")["standing"]
    assert (s["next_tier"], s["points_to_next_tier"]) == ("Bronze", 1)
    assert (s["kept_until"], s["points_to_keep_tier"], s["without_new_points"]) == (None, None, [])
    assert "Standing: 1 more points reach Bronze." in table(tmp_path, EXAMPLE.read_text(), events, "2026-08-15")
