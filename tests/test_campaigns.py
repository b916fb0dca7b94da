"""Campaigns: `during` a range of days, a day every year, or a month every year.

examples/programs/campaigns.loy over examples/campaign_history.jsonl, as of 2026-12-31:
- 2025-11-11, 10.00: shopping 5, singles_day 5 (11 November, any year).
- 2026-11-10, 10.00: shopping 5, november_2026 1.
- 2026-11-11, 10.00, 1.50 and 20.00: shopping 5 (two qualify, capped at 5 a day), singles_day 5
  (the same), november_2026 3 (any amount).
- 2026-12-01, 10.00: shopping 5.
34 points: shopping 20, singles_day 10, november_2026 4.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from loyalty_dsl import ProgramError, compile_text, outcomes, read_history
from loyalty_dsl.language.fmt import format_source

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "examples" / "programs" / "campaigns.loy"
HISTORY = ROOT / "examples" / "campaign_history.jsonl"


def by_rule(text: str) -> dict[str, int]:
    program = compile_text(text, "campaigns.loy")
    (o,) = outcomes(program, read_history([str(HISTORY)], program), dt.date(2026, 12, 31))
    return o.status.by_rule


def test_the_example_program():
    assert by_rule(PROGRAM.read_text()) == {"shopping": 20, "singles_day": 10, "november_2026": 4}


def test_a_campaign_month_every_year():
    text = PROGRAM.read_text().replace("during 11 November", "during November")
    assert by_rule(text)["singles_day"] == 5 + 5 + 5  # 2025-11-11, 2026-11-10, 2026-11-11 (capped)


@pytest.mark.parametrize(
    ("during", "code"),
    [
        ("during 2026-11-31 to 2026-12-01", "E168"),
        ("during 2026-12-01 to 2026-11-01", "E169"),
        ("during 31 November", "E168"),
        ("during Novembre", "E119"),
    ],
)
def test_campaigns_are_checked(during, code):
    with pytest.raises(ProgramError) as err:
        compile_text(PROGRAM.read_text().replace("during 11 November", during), "c.loy")
    assert code in {d.code for d in err.value.diagnostics}


def test_fmt_keeps_campaigns():
    text = PROGRAM.read_text()
    assert format_source(text, "c.loy") == text
