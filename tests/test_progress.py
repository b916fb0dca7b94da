"""The progress display: on standard error at a terminal, for runs longer than a second, never
elsewhere. A pseudo-terminal stands in for the terminal."""

from __future__ import annotations

import os
import pty
import select
import subprocess
from pathlib import Path

import pytest

from tests.test_interrupt import PROGRAM, big_history, loyalty  # noqa: F401 - a fixture, shared

REPEATS = 12  # the same file many times (every line of the copies a repeat): a run of a few seconds


def _run_at_a_terminal(args: list[str]) -> tuple[int, str]:
    """Run with standard error on a pseudo-terminal; everything it showed there, as text."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=follower, stdin=subprocess.DEVNULL)
    os.close(follower)
    shown = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the run closed its end
                break
            if not chunk:
                break
            shown += chunk
        elif proc.poll() is not None:
            break
    os.close(leader)
    return proc.wait(timeout=60), shown.decode(errors="replace")


@pytest.mark.parametrize("evaluator", ["columnar", "per-member"])
def test_a_long_run_at_a_terminal_shows_its_progress(big_history, tmp_path, evaluator):  # noqa: F811
    files = [str(big_history)] * (REPEATS if evaluator == "columnar" else 1)
    args = [*loyalty(), "run", str(PROGRAM), *files, "-o", str(tmp_path / "out.jsonl"), "--evaluator", evaluator]
    status, shown = _run_at_a_terminal(args)
    assert status == 0
    assert "members evaluated" in shown
    if evaluator == "columnar":  # the stages without counts show by name while they last
        assert "reading in bulk" in shown and "events read" in shown
    assert shown.rstrip().endswith("0 rejected")  # the display is gone: the counts line is last


def test_quiet_shows_only_the_counts(big_history, tmp_path):  # noqa: F811
    args = [*loyalty(), "run", str(PROGRAM), *[str(big_history)] * REPEATS, "-o", str(tmp_path / "o.jsonl"), "-q"]
    status, shown = _run_at_a_terminal(args)
    assert status == 0
    assert shown.strip().startswith("loyalty: events:") and len(shown.strip().splitlines()) == 1


def test_no_display_when_standard_error_is_not_a_terminal(big_history, tmp_path):  # noqa: F811
    args = [*loyalty(), "run", str(PROGRAM), *[str(big_history)] * REPEATS, "-o", str(tmp_path / "o.jsonl")]
    done = subprocess.run(args, capture_output=True, check=True)
    assert done.stderr.decode().splitlines() == [done.stderr.decode().strip()]  # one line: the counts
    assert Path(tmp_path / "o.jsonl").stat().st_size > 0
