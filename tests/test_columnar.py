"""The columnar evaluator against the per-member one (the reference), outcome for outcome.

Random histories (tests/oracle/gen.py: every event type, voids before and after
their confirmations, boundaries, repeats) are evaluated both ways at several
days; every outcome must be identical, words of reasons included. Besides the
two shipped programs, two programs in tests/columnar/ use what the columnar
plan supports and the shipped ones do not (chained caps, weeks, quarters, `or`,
`in`, `not`, a short window). Programs the plan cannot run must say why.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest

from loyalty_dsl import CompiledProgram, load
from loyalty_dsl.columnar.plan import NotColumnar, plan
from loyalty_dsl.columnar.run import events_table, history_places, outcomes
from loyalty_dsl.evaluation.run import default_as_of
from loyalty_dsl.evaluation.run import outcomes as reference_outcomes
from loyalty_dsl.io.history import read_records
from tests.oracle.gen import random_history

ROOT = Path(__file__).parent.parent
PROGRAMS = {
    "four_tier": ROOT / "programs" / "four_tier.loy",
    "legacy": ROOT / "programs" / "legacy_a0_a4.loy",
    "chained_caps_lifetime": ROOT / "tests" / "columnar" / "chained_caps_lifetime.loy",
    "windowed_variants": ROOT / "tests" / "columnar" / "windowed_variants.loy",
}
DAYS = [None, dt.date(2024, 2, 29), dt.date(2024, 7, 15), dt.date(2025, 2, 28), dt.date(2026, 3, 31)]


@pytest.fixture(scope="module")
def compiled() -> dict[str, CompiledProgram]:
    return {name: load(path) for name, path in PROGRAMS.items()}


def both_ways(program: CompiledProgram, events: list[dict], day: dt.date | None) -> tuple[list, list]:
    history = read_records(events, program)
    day = day or default_as_of(history, program.calendar)
    assert day is not None
    want = [o.to_json() for o in reference_outcomes(program, history, day)]
    got = [
        o.to_json()
        for o in outcomes(
            plan(program), events_table(history, program), history.member_ids(), day, history_places(history)
        )
    ]
    return got, want


@pytest.mark.parametrize("name", sorted(PROGRAMS))
@pytest.mark.parametrize("seed", range(25))
def test_columnar_equals_per_member(compiled, name, seed):
    rng = random.Random(seed)
    events = random_history(rng, members=4, events_per_member=rng.choice([10, 60, 150]))
    for day in (DAYS[seed % len(DAYS)], DAYS[(seed + 2) % len(DAYS)]):
        got, want = both_ways(compiled[name], events, day)
        assert got == want


def test_the_comparison_sees_points(compiled):
    """The differential test is only worth something if the histories earn points, rule by rule."""
    earned: dict[str, set[str]] = {name: set() for name in PROGRAMS}
    for seed in range(25):
        events = random_history(random.Random(seed), members=4, events_per_member=150)
        for name, program in compiled.items():
            got, _ = both_ways(program, events, None)
            earned[name] |= {rule for o in got for rule, points in o["points_by_rule"].items() if points}
    for name, program in compiled.items():
        assert earned[name] == {r.name for r in program.rules}, name


def test_members_without_events_of_any_rule_still_have_an_outcome(compiled):
    events = [
        {"member": "a", "type": "registered", "at": "2025-01-01"},
        {"member": "b", "type": "something_else", "at": "2025-01-02"},
    ]
    for program in compiled.values():
        got, want = both_ways(program, events, dt.date(2026, 1, 1))
        assert got == want and [o["member"] for o in got] == ["a", "b"]


@pytest.mark.parametrize(
    ("example", "reason"),
    [
        ("multipliers", "a multiplier by tier"),
        ("hotel_nights", "measures"),
    ],
)
def test_programs_it_cannot_run_say_why(example, reason):
    with pytest.raises(NotColumnar, match=reason):
        plan(load(ROOT / "examples" / "programs" / f"{example}.loy"))


# Issue 14's statements, each added to a program the plan runs. On an event that earns nothing they
# run columnar too (tests/test_columnar_claims.py compares them); on one that earns, the order of a
# claim and a lot at one instant is the whole event order, which the columnar walk does not keep:
# such a program runs per member, and says why.
ISSUE_14_LINES = [
    "redeem points by bonus with points",
    "redeem points by bonus with points, all or nothing",
    "redeem points by bonus with points, in sizes 25, 100",
    "redeem 9 points by visit",
    "redeem points by bonus with points where balance >= 150",
    "redeem points by bonus with points\nredeem 9 points by visit",
    "convert points every quarter into vouchers of 150 points worth 1.50",
    "convert points every quarter into vouchers of 150 points worth 1.50\nvouchers expire after 2 months",
    "convert points every month into vouchers of 150 points worth 1.50\nvouchers are used by club_post",
]


@pytest.mark.parametrize("line", ISSUE_14_LINES)
def test_redemption_and_voucher_statements_run_columnar_on_events_that_earn_nothing(line):
    from loyalty_dsl import compile_text

    source = PROGRAMS["four_tier"].read_text(encoding="utf-8")
    plan(compile_text(source))  # without them, the program runs columnar
    earning = {"bonus", "visit", "club_post"} & set(line.replace("\n", " ").split())
    if earning:
        with pytest.raises(NotColumnar, match=f"event ({'|'.join(earning)}) both earns and spends"):
            plan(compile_text(source + "\n" + line + "\n"))
    events = "event visit\nevent claimed with points: integer\nevent stamped\nevent used\n"
    claims = source.replace("event visit\n", events)
    for kind, other in (("bonus", "claimed"), ("visit", "stamped"), ("club_post", "used")):
        line = line.replace(f"by {kind}", f"by {other}")
    assert plan(compile_text(claims + "\n" + line + "\n")).spends


def test_every_form_of_expiry_runs_columnar():
    from loyalty_dsl import compile_text

    source = PROGRAMS["four_tier"].read_text(encoding="utf-8")
    for line in ("points expire after 6 months, at the end of that month", "points expire at the end of the year"):
        assert plan(compile_text(source + "\n" + line + "\n")).lots  # the balance's lots are in SQL too
    # After inactivity, every member's lots are walked in time order (the reference's walk).
    assert plan(compile_text(source + "\npoints expire after 18 months without activity\n")).walks_all


def test_a_fact_under_or_is_refused():
    source = (PROGRAMS["four_tier"]).read_text(encoding="utf-8")
    changed = source.replace("where order is confirmed", "where order is confirmed or order is voided")
    assert changed != source
    from loyalty_dsl import compile_text

    with pytest.raises(NotColumnar, match="under `or`"):
        plan(compile_text(changed))


# --- through the command: the default path, the forced ones, the fallbacks ----------------------------


def _invoke(*args: str, input: bytes | None = None):
    from click.testing import CliRunner

    from loyalty_dsl.cli import main

    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def _write_history(path: Path, seed: int, extra: bytes = b"") -> Path:
    import orjson

    events = random_history(random.Random(seed), members=6, events_per_member=60)
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events) + extra)
    return path


@pytest.mark.parametrize("name", ["four_tier", "legacy"])
@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_run_gives_the_same_bytes_on_either_evaluator(tmp_path, name, fmt):
    history = _write_history(tmp_path / "h.jsonl", seed=11)
    if fmt == "parquet":
        import pyarrow.json as pj
        import pyarrow.parquet as pq

        pq.write_table(pj.read_json(history), tmp_path / "h.parquet")
        history = tmp_path / "h.parquet"
    outputs = {}
    for evaluator in ("columnar", "per-member", "auto"):
        summary = tmp_path / f"{evaluator}.json"
        result = _invoke(
            "run", str(PROGRAMS[name]), str(history), "--evaluator", evaluator, "--summary", str(summary), "-j", "2"
        )
        assert result.exit_code == 0, result.output
        outputs[evaluator] = (result.stdout_bytes, summary.read_bytes(), result.stderr)
    assert outputs["columnar"] == outputs["per-member"] == outputs["auto"]
    assert outputs["columnar"][0].count(b"\n") == 6


def test_a_history_the_bulk_reader_doubts_is_read_line_by_line(tmp_path):
    """A bad line: the columnar evaluator still runs, over the reference reader's events and accounting."""
    history = _write_history(tmp_path / "h.jsonl", seed=5, extra=b'{"member": "m000", "type": "visit"}\nnot json\n')
    four = str(PROGRAMS["four_tier"])
    runs = [_invoke("run", four, str(history), "--evaluator", e) for e in ("columnar", "per-member")]
    assert runs[0].stdout_bytes == runs[1].stdout_bytes and runs[0].stderr == runs[1].stderr
    assert "2 rejected" in runs[0].stderr


def test_standard_input_runs_columnar_too(tmp_path):
    history = _write_history(tmp_path / "h.jsonl", seed=6).read_bytes()
    legacy = str(PROGRAMS["legacy"])
    runs = [_invoke("run", legacy, "-", "--evaluator", e, input=history) for e in ("columnar", "per-member")]
    assert runs[0].exit_code == 0 and runs[0].stdout_bytes == runs[1].stdout_bytes


def test_forcing_columnar_where_it_cannot_run_is_a_usage_error(tmp_path):
    history = _write_history(tmp_path / "h.jsonl", seed=7)
    expiring = str(ROOT / "examples" / "programs" / "multipliers.loy")
    result = _invoke("run", expiring, str(history), "--evaluator", "columnar")
    assert result.exit_code == 2
    assert "--evaluator columnar: rule shopping: a multiplier by tier" in result.stderr
    ledger = _invoke("run", str(PROGRAMS["four_tier"]), str(history), "--evaluator", "columnar", "--ledger", "x.jsonl")
    assert ledger.exit_code == 2 and "--ledger" in ledger.stderr
    # auto takes the per-member path for both, silently
    assert _invoke("run", expiring, str(history)).exit_code == 0


def _hostile_cases() -> list[str]:
    import tomllib

    hostile = ROOT / "tests" / "hostile"
    cases = tomllib.loads((hostile / "expected.toml").read_text(encoding="utf-8"))
    # Files of several megabytes (long lines) are left to tests/test_hostile.py: the point here is equality.
    return sorted({c["file"] for c in cases.values() if (hostile / c["file"]).stat().st_size < 2**20})


@pytest.mark.parametrize("case", _hostile_cases())
def test_hostile_inputs_give_the_same_run_on_either_evaluator(tmp_path, case):
    """Whatever the bulk reader makes of a hostile file, the run says exactly what the reference says."""
    import orjson

    good = tmp_path / "good.jsonl"
    good.write_bytes(
        b"".join(orjson.dumps(e) + b"\n" for e in random_history(random.Random(3), members=2, events_per_member=30))
    )
    path = str(ROOT / "tests" / "hostile" / case)
    for program in (PROGRAMS["four_tier"], PROGRAMS["legacy"]):
        seen = []
        for evaluator in ("columnar", "per-member"):
            summary = tmp_path / f"{evaluator}.json"
            summary.unlink(missing_ok=True)
            args = ["run", str(program), str(good), path, "--as-of", "2026-12-31", "--summary", str(summary)]
            result = _invoke(*args, "--evaluator", evaluator, "-j", "1")
            written = summary.read_bytes() if summary.exists() else None  # none for a file refused whole
            seen.append((result.exit_code, result.stdout_bytes, result.stderr, written))
        assert seen[0] == seen[1]


def test_a_unit_earns_from_its_first_event_when_statuses_follow_every_event(compiled):
    """Two visits in a day are one unit: a decision between them sees it (lifetime, continuous)."""
    program = compiled["chained_caps_lifetime"]
    bonus = [  # 119 points: the bonus rule is capped at 50 a quarter
        {"member": "m", "type": "bonus", "at": f"2025-{month:02d}-01", "points": points}
        for month, points in ((1, 50), (4, 50), (7, 19))
    ]
    day = [
        {"member": "m", "type": "visit", "at": "2025-09-10T10:00:00Z"},
        {"member": "m", "type": "refund_requested", "at": "2025-09-10T12:00:00Z", "order": "o1", "amount": 10},
        {"member": "m", "type": "visit", "at": "2025-09-10T20:00:00Z"},
    ]
    got, want = both_ways(program, bonus + day, dt.date(2025, 9, 30))
    assert got == want
    assert got[0]["decisions"][0]["granted"] is True  # 120 points at noon: the morning visit counts
