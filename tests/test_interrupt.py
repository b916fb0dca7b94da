"""A run stopped by Ctrl-C or a closed pipe: one line, a documented status, no partial file."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "programs" / "four_tier.loy"


def loyalty() -> list[str]:
    exe = shutil.which("loyalty")
    return [exe] if exe else [sys.executable, "-m", "loyalty_dsl.cli"]


@pytest.fixture(scope="module")
def big_history(tmp_path_factory) -> Path:
    """The example history repeated under new member ids: long enough to interrupt."""
    lines = (ROOT / "examples" / "history.jsonl").read_bytes().splitlines()
    path = tmp_path_factory.mktemp("big") / "big.jsonl"
    with path.open("wb") as out:
        for k in range(60):
            for line in lines:
                event = orjson.loads(line)
                event["member"] = f"{event['member']}_{k}"
                out.write(orjson.dumps(event) + b"\n")
    return path


def _wait_until_reading(proc: subprocess.Popen, seconds: float = 0.8) -> None:
    time.sleep(seconds)
    assert proc.poll() is None, "the run ended before it could be interrupted"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("evaluator", ["per-member", "columnar"])
def test_interrupt_leaves_the_previous_output_and_says_one_line(big_history, tmp_path, sig, evaluator):
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # The columnar path is fast: the same file many times (every line a repeat) keeps it busy long enough.
    files = [str(big_history)] * (12 if evaluator == "columnar" else 1)
    proc = subprocess.Popen(
        [*loyalty(), "run", str(PROGRAM), *files, "-o", str(out), "--evaluator", evaluator],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    _wait_until_reading(proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == (130 if sig == signal.SIGINT else 143)
    assert err.decode().strip().splitlines() == ["loyalty: interrupted"]
    assert out.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_a_reader_that_leaves_early_ends_the_run_quietly(big_history):
    proc = subprocess.Popen(
        [*loyalty(), "run", str(PROGRAM), str(big_history)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None
    proc.stdout.readline()
    proc.stdout.close()  # like `| head -1`
    err = proc.stderr.read() if proc.stderr else b""
    proc.wait(timeout=120)
    assert proc.returncode == 0
    assert b"Traceback" not in err and b"Broken pipe" not in err
