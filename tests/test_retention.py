"""Tier retention: grace below a threshold, one level at a time, a guarantee until a date.

examples/programs/tier_retention.loy (window of 3 months; Bronze 1, Silver 100, Gold 200; kept
1 recalculation below, then one level a recalculation) over one bonus of 250 on 2026-01-15:
- recalculations 1 February to 1 April count January: 250, Gold;
- 1 May counts February to April: 0 points, but Gold is kept (the first recalculation below);
- 1 June: Silver; 1 July: Bronze; 1 August: no tier.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from loyalty_dsl import ProgramError, compile_text, outcomes, read_history
from loyalty_dsl.language.fmt import format_source

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "examples" / "programs" / "tier_retention.loy"
HISTORY = ROOT / "examples" / "retention_history.jsonl"


def tiers(text: str, days: list[str]) -> list[tuple]:
    program = compile_text(text, "r.loy")
    history = read_history([str(HISTORY)], program)
    out = []
    for day in days:
        (o,) = outcomes(program, history, dt.date.fromisoformat(day))
        j = o.to_json()
        out.append((j["points"], j["tier"], j["tier_by_points"], sorted(j["benefits"])))
    return out


def test_grace_then_one_level_at_a_time():
    assert tiers(PROGRAM.read_text(), ["2026-04-15", "2026-05-15", "2026-06-15", "2026-07-15", "2026-08-15"]) == [
        (250, "Gold", "Gold", ["lounge"]),
        (0, "Gold", None, ["lounge"]),
        (0, "Silver", None, []),
        (0, "Bronze", None, []),
        (0, None, None, []),
    ]


def test_without_one_level_the_tier_falls_to_the_points():
    text = PROGRAM.read_text().replace("drop tiers one level at a time\n", "")
    assert [t[1] for t in tiers(text, ["2026-05-15", "2026-06-15"])] == ["Gold", None]


def test_a_guarantee_until_the_end_of_the_next_year():
    text = PROGRAM.read_text().replace(
        "drop tiers one level at a time", "keep a tier reached until the end of the next year"
    )
    text = text.replace("keep tiers for 1 months below their threshold\n", "")
    # Gold reached at the recalculation of 2026-02-01 (in 2026): kept through 2027, so by the
    # recalculation of 2027-12-01 (as of 2027-12-30) and not by that of 2028-01-01 (as of 2027-12-31).
    days = ["2026-06-15", "2027-12-30", "2027-12-31"]
    assert [t[1] for t in tiers(text, days)] == ["Gold", "Gold", None]


def test_decisions_and_grants_see_the_kept_tier():
    text = PROGRAM.read_text() + ("\nevent ask with ticket: text\ndecide lounge on ask for its ticket\n")
    program = compile_text(text, "r.loy")
    import io

    import orjson

    from loyalty_dsl import read_history as read

    lines = [
        {"member": "r", "type": "bonus", "at": "2026-01-15T10:00:00Z", "points": 250},
        {"member": "r", "type": "ask", "at": "2026-05-10", "ticket": "t1"},
        {"member": "r", "type": "ask", "at": "2026-06-10", "ticket": "t2"},
    ]
    history = read(["-"], program, stdin=io.BytesIO(b"".join(orjson.dumps(x) + b"\n" for x in lines)))
    (o,) = outcomes(program, history, dt.date(2026, 6, 30))
    assert [(d.key_value, d.granted, d.reason) for d in o.decisions] == [
        ("t1", True, "Gold has lounge"),
        ("t2", False, "Silver has no lounge"),
    ]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (("window last 3 months, recalculated monthly", "window lifetime, continuous"), "E175"),
        (("for 1 months", "for 0 months"), "E176"),
        (("for 1 months", "for 1 weeks"), "E245"),
    ],
)
def test_retention_is_checked(change, code):
    with pytest.raises(ProgramError) as err:
        compile_text(PROGRAM.read_text().replace(*change), "r.loy")
    assert code in {d.code for d in err.value.diagnostics}


def test_fmt_keeps_retention():
    text = PROGRAM.read_text()
    assert format_source(text, "r.loy") == text
