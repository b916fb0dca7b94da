"""Hand-made histories, one per group of rules, with outcomes derived by hand.

Each `tests/histories/NAME.jsonl` has a `NAME.expected.json` giving, member by
member, the figures DOMAIN.md implies and why. The test checks every figure,
then snapshots the whole outcome (reasons included) so any change shows.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
import pytest
from syrupy.extensions.json import JSONSnapshotExtension

from loyalty_dsl import outcomes, read_history

CASES = Path(__file__).parent / "histories"
NAMES = sorted(p.name.removesuffix(".expected.json") for p in CASES.glob("*.expected.json"))


@pytest.fixture
def snapshot_json(snapshot):
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("name", NAMES)
def test_history_case(programs, snapshot_json, name, monkeypatch):
    monkeypatch.chdir(CASES.parent.parent)  # file names in the accounting are relative, as typed
    expected = orjson.loads((CASES / f"{name}.expected.json").read_bytes())
    program = programs[expected["program"]]
    history = read_history([f"tests/histories/{name}.jsonl"], program)
    got = {o.member: o.to_json() for o in outcomes(program, history, dt.date.fromisoformat(expected["as_of"]))}

    assert sorted(got) == sorted(expected["members"])
    for member, want in expected["members"].items():
        o = got[member]
        assert o["points"] == want["points"], (member, expected["why"].get(member))
        assert o["tier"] == want["tier"], member
        assert sorted(o["benefits"]) == want["benefits"], member
        assert o["grants"] == want["grants"], member
        decisions = [{k: d[k] for k in ("benefit", "order", "granted")} for d in o["decisions"]]
        assert decisions == want["decisions"], member
    if "summary" in expected:
        assert history.accounting.counts() == expected["summary"]
    assert {"outcomes": list(got.values()), "accounting": history.accounting.to_json()} == snapshot_json
