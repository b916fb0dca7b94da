"""Evaluation that depends on nothing but the history and the program (issue 17).

Ties at one instant, a far default as-of, sums beyond the exact range, `member`
and `id` in a program, programs too large for one SQL statement, and figures
beyond what the calendar holds.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from loyalty_dsl.cli import main
from tests.test_properties import PROGRAM_FILES, as_of_days, examples, histories, jsonl, program_names, utc_instant


def cli(*args: str) -> tuple[int, bytes, bytes]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout_bytes, result.stderr_bytes


# --- 2. ties are broken by the events, never by their lines -----------------------------------------


def tied(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The history with every `at` cut to the first day of its UTC month (so a member's
    events of a month tie: refunds, profile updates giving a birthday, orders),
    and every line repeating a (member, id) made a copy of the first: which of two copies
    comes first is the one thing line order may decide (the first line wins)."""
    first: dict[tuple[str, str], dict[str, Any]] = {}
    out = []
    for line in lines:
        line = {**line, "at": utc_instant(line["at"]).date().replace(day=1).isoformat()}
        if "id" in line:
            line = first.setdefault((line["member"], str(line["id"])), line)
        out.append(dict(line))
    return out


@examples(30)
@given(history=histories(max_events=40), name=program_names, as_of=as_of_days, data=st.data())
def test_ties_shuffled_and_split_give_byte_identical_outcomes_on_both_evaluators(history, name, as_of, data):
    """Events of one month all at its first instant (many ties); the lines shuffled and
    split into two files give the same bytes as the history in order, per member and
    columnar alike."""
    lines = tied(list(history))
    shuffled = data.draw(st.permutations(lines), label="shuffled")
    cut = data.draw(st.integers(0, len(shuffled)), label="cut")
    with tempfile.TemporaryDirectory() as tmp:
        whole = Path(tmp, "whole.jsonl")
        whole.write_bytes(jsonl(lines))
        first, second = Path(tmp, "a.jsonl"), Path(tmp, "b.jsonl")
        first.write_bytes(jsonl(shuffled[:cut]))
        second.write_bytes(jsonl(shuffled[cut:]))
        program = str(PROGRAM_FILES[name])
        common = ["--as-of", as_of.isoformat(), "--jobs", "1"]
        code, expected, _ = cli("run", program, str(whole), "--evaluator", "per-member", *common)
        assert code == 0
        for evaluator in ("per-member", "columnar"):
            code, out, _ = cli("run", program, str(first), str(second), "--evaluator", evaluator, *common)
            assert (code, evaluator, out) == (0, evaluator, expected)


TWO_REFUNDS = """
event bonus with points: integer
event refund_requested with order: text, amount: money
rule bonus:
    on bonus
    earn points
benefit fast_refund with limit: money
tier Gold from 1 points:
    fast_refund (limit 24)
decide fast_refund on refund_requested for its order:
    grant when amount <= limit
window lifetime, continuous
"""


def test_two_refunds_of_one_day_come_out_in_the_same_order_whatever_the_lines(tmp_path):
    """Two refunds dated by their day only: the decisions are listed by the events (here by
    order: "o1" before "o2"), whichever line comes first, on both evaluators."""
    program = tmp_path / "p.loy"
    program.write_text(TWO_REFUNDS)
    bonus = {"member": "m1", "type": "bonus", "at": "2026-01-01", "points": 5}
    o1 = {"member": "m1", "type": "refund_requested", "at": "2026-03-02", "order": "o1", "amount": 20}
    o2 = {"member": "m1", "type": "refund_requested", "at": "2026-03-02", "order": "o2", "amount": 30}
    outs = set()
    for order in ([bonus, o1, o2], [o2, bonus, o1]):
        path = tmp_path / "h.jsonl"
        path.write_bytes(jsonl(order))
        for evaluator in ("per-member", "columnar"):
            code, out, _ = cli("run", str(program), str(path), "--evaluator", evaluator, "--jobs", "1")
            assert code == 0
            outs.add(out)
    assert len(outs) == 1
    # o1 (20 <= 24) granted, o2 (30 > 24) refused: o1 first, as "o1" < "o2".
    text = outs.pop().decode()
    assert text.index('"order":"o1"') < text.index('"order":"o2"')


PER_DAY = """
event visit with points: integer
rule visit:
    on visit
    earn points per day
window lifetime, continuous
benefit any
tier Gold from 1 points:
    any
"""


def test_earn_points_per_day_pays_the_same_event_whatever_the_lines(tmp_path):
    """`earn points per day` pays one event of the day: of two at one instant, the one with
    the smaller points (the first by its fields: no id, so `points` decides), 3, not 7."""
    program = tmp_path / "p.loy"
    program.write_text(PER_DAY)
    a = {"member": "m1", "type": "visit", "at": "2026-03-02", "points": 7}
    b = {"member": "m1", "type": "visit", "at": "2026-03-02", "points": 3}
    for order in ([a, b], [b, a]):
        path = tmp_path / "h.jsonl"
        path.write_bytes(jsonl(order))
        for evaluator in ("per-member", "columnar"):
            code, out, _ = cli("run", str(program), str(path), "--evaluator", evaluator, "--jobs", "1")
            assert (code, evaluator, b'"points":3,' in out) == (0, evaluator, True)


# --- 8. figures bounded by the calendar --------------------------------------------------------------

AT_THE_BOUNDS = """
window last 119988 months, recalculated monthly
event bonus with points: integer at least 0
event redeemed with points: integer at least 1
event profile_updated with birthday: date
rule slow:
    on bonus
    earn points
    vesting after 3652059 days
rule bonus:
    on bonus
    earn points
points expire after 119988 months
redeem points by redeemed with points
benefit gift
tier Gold from 1 point:
    gift
grant gift every year on the birthday of the latest profile_updated,
    known at least 3652059 days before
"""


def test_figures_at_the_calendar_bounds_pass_check_and_evaluate(tmp_path):
    """The largest figures check allows run and explain without an error: a lot that would
    expire after year 9999 never expires, a point vesting after it stays pending."""
    program = tmp_path / "p.loy"
    program.write_text(AT_THE_BOUNDS)
    history = tmp_path / "h.jsonl"
    history.write_bytes(
        jsonl(
            [
                {"member": "m", "type": "bonus", "at": "2026-01-01", "points": 5},
                {"member": "m", "type": "profile_updated", "at": "2026-01-01", "birthday": "1990-05-05"},
                {"member": "m", "type": "redeemed", "at": "2026-02-01", "points": 1},
            ]
        )
    )
    code, out, err = cli("run", str(program), str(history))
    assert code == 0, err
    # 5 points of `bonus` (the slow rule's are pending), 1 spent: a balance of 4 that never expires.
    assert b'"points":5,' in out and b'"balance":4,"expiring":[]' in out and b'"pending_points":5' in out
    assert cli("explain", str(program), str(history), "--member", "m")[0] == 0


def test_an_example_repeating_an_event_too_many_times_is_refused_with_its_place(tmp_path):
    """`given 9007199254740991 times ...` in an examples file: a placed error (at most 100000),
    from check and from test, not a MemoryError."""
    (tmp_path / "p.loy").write_text(PER_DAY)
    examples_file = tmp_path / "p_test.loy"
    examples_file.write_text(
        'test "many visits":\n'
        "    given 9007199254740991 times visit at 2026-01-01T10:00:00Z with points 1\n"
        "    as of 2026-01-31\n"
        "    expect points 1\n"
    )
    for command in ("check", "test"):
        code, _, err = cli(command, str(examples_file))
        assert code == 2, (command, err)
        assert f"{examples_file}:2:11: error[E193]".encode() in err
        assert b"at most 100000" in err


# --- 5. sums beyond the exact range ------------------------------------------------------------------

MAX = 2**53 - 1


def test_points_beyond_the_exact_range_withhold_the_member_on_both_evaluators(tmp_path):
    """1,025 bonus lines of 2^53 - 1 points for m1 in January, one of 5 for m2: as of February,
    m1's points (1025 * (2^53 - 1), beyond 2^63) are withheld with the place of the last earning
    line (its 1,025th, the latest of January), m2's outcome is written, the run exits 3; the same
    bytes on every evaluator and any number of jobs."""
    lines = [
        {
            "member": "m1",
            "type": "bonus",
            "at": f"2026-01-{1 + i // 40:02d}T{i % 40 // 2:02d}:{i % 2 * 30:02d}:00Z",
            "points": MAX,
        }
        for i in range(1025)
    ]
    lines.append({"member": "m2", "type": "bonus", "at": "2026-01-05", "points": 5})
    history = tmp_path / "h.jsonl"
    history.write_bytes(jsonl(lines))
    program = str(PROGRAM_FILES["four_tier"])
    seen = set()
    for evaluator in ("per-member", "columnar", "auto"):
        for jobs in ("1", "2"):
            code, out, err = cli(
                "run", program, str(history), "--as-of", "2026-02-28", "--evaluator", evaluator, "--jobs", jobs
            )
            assert code == 3, err
            assert f"loyalty: member m1: points exceed {MAX} ({history}:1025): its outcome is withheld".encode() in err
            assert out.count(b'"member"') == 1 and b'"member":"m2"' in out and b'"points":5,' in out
            seen.add(out)
    assert len(seen) == 1
    code, _, err = cli("explain", program, str(history), "--member", "m1", "--as-of", "2026-02-28")
    assert code == 2 and f"points exceed {MAX} ({history}:1025)".encode() in err


# --- 7. programs larger than one SQL statement -----------------------------------------------------------


def test_a_program_of_340_rules_runs_columnar_and_agrees(tmp_path):
    """340 rules earning 1 each: 340 points for the member's one bonus, columnar and per member."""
    rules = "".join(f"rule r{i}:\n    on bonus\n    earn 1\n" for i in range(340))
    program = tmp_path / "p.loy"
    program.write_text("window lifetime, continuous\nevent bonus\nbenefit b\ntier Gold from 1 point:\n    b\n" + rules)
    history = tmp_path / "h.jsonl"
    history.write_bytes(jsonl([{"member": "m", "type": "bonus", "at": "2026-01-01"}]))
    outs = set()
    for evaluator in ("columnar", "per-member"):
        code, out, err = cli("run", str(program), str(history), "--evaluator", evaluator, "--jobs", "1")
        assert (code, b"gave way" in err) == (0, False), err
        assert b'"points":340,' in out
        outs.add(out)
    assert len(outs) == 1


# --- 4. a far default as-of ---------------------------------------------------------------------------


def far_history(tmp_path: Path) -> Path:
    """m1 registers and gives a birthday in 2026; line 3 (m2's visit) is dated 9999-12-31."""
    path = tmp_path / "h.jsonl"
    path.write_bytes(
        jsonl(
            [
                {"member": "m1", "type": "registered", "at": "2026-01-10"},
                {"member": "m1", "type": "profile_updated", "at": "2026-01-10", "birthday": "1990-03-05"},
                {"member": "m2", "type": "visit", "at": "9999-12-31"},
                {"member": "m1", "type": "bonus", "at": "2026-01-11", "points": 900},
            ]
        )
    )
    return path


def test_a_default_as_of_after_today_names_the_line_that_set_it(tmp_path):
    """The latest accepted line (line 3, 9999-12-31) sets the default as-of: standard error says
    so, with its place, on every path; not when --as-of is given."""
    history = far_history(tmp_path)
    program = str(PROGRAM_FILES["four_tier"])
    for evaluator in ("per-member", "columnar"):
        for jobs in ("1", "2"):
            code, _, err = cli("run", program, str(history), "--evaluator", evaluator, "--jobs", jobs)
            assert code == 0
            assert b"the default as-of, 9999-12-31, is after today (" in err
            assert f"it is the day of {history}:3; give --as-of".encode() in err
    code, _, err = cli("run", program, str(history), "--as-of", "9999-12-31")
    assert code == 0 and b"after today" not in err


def test_a_far_as_of_costs_the_events_not_the_months(tmp_path, monkeypatch):
    """As of 9999-12-31, m1's points (2026) left the 12-month window in 2027: a handful of
    statuses are settled (not one for each of ~8000 birthdays and anniversaries), and the
    columnar path judges no grant day after the points left; the outcome is the same."""
    from loyalty_dsl.columnar import run as columnar
    from loyalty_dsl.evaluation.evaluate import MemberRun

    settled: list[int] = []
    original = MemberRun._settle
    monkeypatch.setattr(MemberRun, "_settle", lambda self, t: (settled.append(t), original(self, t))[1])
    judged: list[int] = []
    verdicts = columnar.grant_verdicts
    monkeypatch.setattr(
        columnar,
        "grant_verdicts",
        lambda days, cal, at: (judged.append(sum(map(len, days.values()))), verdicts(days, cal, at))[1],
    )
    history = far_history(tmp_path)
    program = str(PROGRAM_FILES["four_tier"])
    outs = set()
    for evaluator in ("per-member", "columnar"):
        code, out, _ = cli(
            "run", program, str(history), "--as-of", "9999-12-31", "--evaluator", evaluator, "--jobs", "1"
        )
        assert code == 0
        outs.add(out)
    assert len(outs) == 1
    # m1's 900 points (January 2026) count in the recalculations of 2026-02-01 to 2027-01-01:
    # the birthday of 2026-03-05 and the anniversary of 2027-01-10 are given, nothing later
    # (from 2027-02-01 on, 0 points, no tier).
    expected = (
        b'"grants":[{"benefit":"birthday_reward","on":"2026-03-05"},{"benefit":"anniversary_reward","on":"2027-01-10"}]'
    )
    assert expected in outs.pop()
    assert len(settled) < 50
    assert sum(judged) < 50
