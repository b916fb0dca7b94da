"""Every example program over its bundled history: outcomes snapshotted.

The figures of each were derived by hand in the test module named beside it
(test_calendars, test_thresholds, test_balance, test_campaigns, test_currencies,
test_retention, test_pending, test_multipliers); the snapshot keeps the whole
outcome, reasons and extra keys included, from changing unnoticed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from loyalty_dsl import compile_text, outcomes, read_history

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = {  # program -> (history, as of)
    "fiscal_calendar": ("fiscal_history.jsonl", "2026-05-31"),
    "monthly_challenge": ("challenge_history.jsonl", "2026-04-30"),
    "spendable_points": ("spendable_history.jsonl", "2026-03-31"),
    "campaigns": ("campaign_history.jsonl", "2026-12-31"),
    "currencies": ("currency_history.jsonl", "2026-02-28"),
    "tier_retention": ("retention_history.jsonl", "2026-05-15"),
    "pending_points": ("pending_history.jsonl", "2026-03-31"),
    "multipliers": ("multiplier_history.jsonl", "2026-11-30"),
    "cafe_rewards": ("cafe_history.jsonl", "2026-08-30"),
    "stamp_card": ("stamp_history.jsonl", "2026-03-31"),
    "supermarket_vouchers": ("supermarket_history.jsonl", "2026-09-30"),
    "coffee_stars": ("coffee_history.jsonl", "2026-06-30"),
    "hotel_nights": ("hotel_history.jsonl", "2026-12-31"),
    "beauty_spend": ("beauty_history.jsonl", "2026-12-31"),
    "airline_dollars": ("airline_history.jsonl", "2026-12-31"),
}


def test_every_example_program_has_a_history():
    programs = [p.stem for p in (ROOT / "examples" / "programs").glob("*.loy") if not p.stem.endswith("_test")]
    assert sorted(programs) == sorted(EXAMPLES)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_outcomes(snapshot, name, monkeypatch):
    monkeypatch.chdir(ROOT)
    history, as_of = EXAMPLES[name]
    program = compile_text((ROOT / "examples" / "programs" / f"{name}.loy").read_text(), f"{name}.loy")
    read = read_history([f"examples/{history}"], program)
    got = [o.to_json() for o in outcomes(program, read, dt.date.fromisoformat(as_of))]
    assert {"outcomes": got, "accounting": read.accounting.to_json()} == snapshot.use_extension(JSONSnapshotExtension)
