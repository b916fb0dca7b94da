"""Every corpus with expected outcomes, under both evaluators.

The per-member evaluator is the reference; the columnar one must give the same
outcomes wherever its plan accepts the program. A program the plan declines is
not a silent pass: the test asserts the refusal and names it in the skip.
Corpora: the hand-derived histories, shared/reference, the example programs
with their bundled histories, the language's own examples (`*_test.loy`) and
the differential oracle's random histories.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import orjson
import pytest

from loyalty_dsl import CompiledProgram, History, load, read_history
from loyalty_dsl.columnar.plan import NotColumnar, plan
from loyalty_dsl.columnar.run import events_table, history_places
from loyalty_dsl.columnar.run import outcomes as columnar_outcomes
from loyalty_dsl.evaluation.run import default_as_of
from loyalty_dsl.evaluation.run import outcomes as reference_outcomes
from loyalty_dsl.language.parse import parse
from loyalty_dsl.tools.testing import MEMBER, _history
from tests.conftest import SHARED
from tests.helpers import comparable
from tests.oracle import domain_oracle
from tests.oracle.gen import random_history

ROOT = Path(__file__).parent.parent
HISTORIES = ROOT / "tests" / "histories"
EXAMPLES = ROOT / "examples"
# Each example program with the history bundled for it in examples/.
EXAMPLE_PAIRS = {
    "cafe_rewards": "cafe_history.jsonl",
    "campaigns": "campaign_history.jsonl",
    "currencies": "currency_history.jsonl",
    "fiscal_calendar": "fiscal_history.jsonl",
    "monthly_challenge": "challenge_history.jsonl",
    "multipliers": "multiplier_history.jsonl",
    "pending_points": "pending_history.jsonl",
    "spendable_points": "spendable_history.jsonl",
    "stamp_card": "stamp_history.jsonl",
    "supermarket_vouchers": "supermarket_history.jsonl",
    "tier_retention": "retention_history.jsonl",
    "coffee_stars": "coffee_history.jsonl",
    "hotel_nights": "hotel_history.jsonl",
    "beauty_spend": "beauty_history.jsonl",
    "airline_dollars": "airline_history.jsonl",
}


def _columnar_or_skip(program: CompiledProgram):
    try:
        return plan(program)
    except NotColumnar as why:
        assert str(why), "a refusal names its reason"
        pytest.skip(f"the columnar plan declines this program: {why}")


def _both(program: CompiledProgram, history: History, day: dt.date | None) -> tuple[list, list]:
    fast = _columnar_or_skip(program)
    day = day or default_as_of(history, program.calendar)
    assert day is not None
    want = [o.to_json() for o in reference_outcomes(program, history, day)]
    got = [
        o.to_json()
        for o in columnar_outcomes(
            fast, events_table(history, program), history.member_ids(), day, history_places(history)
        )
    ]
    return got, want


@pytest.mark.parametrize(
    "name", sorted(p.name.removesuffix(".expected.json") for p in HISTORIES.glob("*.expected.json"))
)
def test_hand_derived_histories(programs, name, monkeypatch):
    monkeypatch.chdir(ROOT)
    expected = orjson.loads((HISTORIES / f"{name}.expected.json").read_bytes())
    program = programs[expected["program"]]
    history = read_history([f"tests/histories/{name}.jsonl"], program)
    got, want = _both(program, history, dt.date.fromisoformat(expected["as_of"]))
    assert got == want
    assert sorted(o["member"] for o in got) == sorted(expected["members"])


@pytest.mark.skipif(not (SHARED / "reference").is_dir(), reason="shared/reference is not beside this checkout")
@pytest.mark.parametrize("program", ["four_tier", "legacy"])
@pytest.mark.parametrize("as_of", ["2026-03-31", "2026-11-30"])
def test_reference_cases(programs, program, as_of):
    reference = SHARED / "reference"
    history = read_history([str(reference / "edge_cases.jsonl")], programs[program])
    got, want = _both(programs[program], history, dt.date.fromisoformat(as_of))
    assert got == want
    expected = [orjson.loads(line) for line in (reference / f"{program}.{as_of}.jsonl").read_bytes().splitlines()]
    assert [comparable(o) for o in got] == expected


@pytest.mark.parametrize("name", sorted(EXAMPLE_PAIRS))
def test_example_programs_on_their_histories(name):
    program = load(EXAMPLES / "programs" / f"{name}.loy")
    history = read_history([str(EXAMPLES / EXAMPLE_PAIRS[name])], program)
    got, want = _both(program, history, None)
    assert got == want and got


def _example_cases() -> list[tuple[Path, int]]:
    cases = []
    for tests in sorted([*ROOT.glob("programs/*_test.loy"), *ROOT.glob("examples/programs/*_test.loy")]):
        count = len(parse(tests.read_text(), str(tests)).tests)
        cases += [(tests, i) for i in range(count)]
    return cases


@pytest.mark.parametrize(("tests", "index"), _example_cases(), ids=lambda v: v.name if isinstance(v, Path) else str(v))
def test_language_examples(tests, index):
    program = load(tests.with_name(tests.name.removesuffix("_test.loy") + ".loy"))
    example = parse(tests.read_text(), str(tests)).tests[index]
    history = _history(program, example)
    got, want = _both(program, history, dt.date.fromisoformat(example.as_of.text))
    assert got == want
    assert [o["member"] for o in got] in ([MEMBER], [])


@pytest.mark.parametrize("program", ["four_tier", "legacy"])
@pytest.mark.parametrize("seed", range(10))
def test_columnar_agrees_with_the_oracle(programs, program, seed):
    rng = random.Random(1000 + seed)
    events = random_history(rng, members=4, events_per_member=30)
    compiled = programs[program]
    history = read_history(["-"], compiled, stdin=_jsonl(events))
    as_of = [None, dt.date(2025, 2, 28), dt.date(2026, 3, 31)][seed % 3]
    got, _ = _both(compiled, history, as_of)
    assert [comparable(o) for o in got] == domain_oracle.evaluate(program, events, as_of)


def _jsonl(events: list[dict]):
    import io

    return io.BytesIO(b"".join(orjson.dumps(e) + b"\n" for e in events))


def test_the_plan_refuses_what_it_does_not_know(programs):
    """The plan is an allow-list: a field added to compiled programs or rules keeps programs off it."""
    import attrs

    from loyalty_dsl.evaluation.compile import CompiledProgram, CompiledRule

    @attrs.frozen
    class NewProgram(CompiledProgram):
        novelty: int = 0

    @attrs.frozen
    class NewRule(CompiledRule):
        novelty: int = 0

    def values(obj, cls):
        return {a.alias: getattr(obj, a.name) for a in attrs.fields(cls) if a.init}

    shipped = programs["four_tier"]
    plan(shipped)  # the shipped program runs columnar as it is
    with pytest.raises(NotColumnar, match="`novelty`, which the columnar plan does not know"):
        plan(NewProgram(**values(shipped, CompiledProgram)))
    rules = (NewRule(**values(shipped.rules[0], CompiledRule)), *shipped.rules[1:])
    with pytest.raises(NotColumnar, match=f"rule {shipped.rules[0].name} has `novelty`"):
        plan(attrs.evolve(shipped, rules=rules))
    with pytest.raises(NotColumnar, match="has a cap per window"):  # a known construct, in use, is named by its words
        plan(attrs.evolve(shipped, rules=(attrs.evolve(shipped.rules[0], window_cap=1), *shipped.rules[1:])))
