"""A run stopped by Ctrl-C, SIGTERM, kill -9 or a closed pipe: one line, a documented status, no partial file.

The runs are real processes sent real signals. They are sent once the run is at
the stage under test (a marker seen in /proc or in the folders the run writes),
not after a fixed time: the machine may be loaded.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
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


@pytest.fixture(scope="module")
def many_rules(tmp_path_factory) -> Path:
    """The program with its rules written 9 times (under new names): DuckDB's query then lasts
    seconds, where everything before it in the run takes milliseconds."""
    source = PROGRAM.read_text()
    start, end = source.index("# --- How points are earned"), source.index("# --- Benefits")
    copies = "".join(
        re.sub(r"^rule (\w+):", rf"rule \1_{k}:", source[start:end], flags=re.MULTILINE) for k in range(1, 9)
    )
    path = tmp_path_factory.mktemp("program") / "many_rules.loy"
    path.write_text(source[:end] + copies + source[end:])
    return path


_PATIENCE = 300  # seconds a run may take to reach a stage or to end, on a loaded machine


def _wait_for(proc: subprocess.Popen, stage: str, reached: Callable[[], bool]) -> None:
    deadline = time.monotonic() + _PATIENCE
    while not reached():
        assert proc.poll() is None, f"the run ended before {stage}"
        assert time.monotonic() < deadline, f"the run did not reach {stage}"
        time.sleep(0.02)


def _family(pid: int) -> list[int]:
    """The processes descended from `pid` (from /proc: Linux)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            text = stat.read_text()
            state, parent = text[text.rindex(")") + 2 :].split()[:2]
            if state != "Z":  # a zombie has ended: it waits only to be reaped
                children.setdefault(int(parent), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _opened(pid: int, path: Path) -> bool:
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd) == str(path):
                    return True
    return False


def _reading(proc: subprocess.Popen, history: Path) -> Callable[[], bool]:
    """The run (or one of its workers) has the history open: it is reading it."""
    return lambda: any(_opened(pid, history) for pid in [proc.pid, *_family(proc.pid)])


needs_proc = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="watches the run through /proc")


@needs_proc
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("evaluator", ["per-member", "line-reader", "columnar"])
def test_interrupt_leaves_the_previous_output_and_says_one_line(big_history, many_rules, tmp_path, sig, evaluator):
    """Per member, the history is read in bulk in a moment: the signal finds the workers
    evaluating. With --ledger it is read line by line: the signal finds it reading."""
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")
    scratch = tmp_path / "tmp"  # the run's TMPDIR: DuckDB's spill folder appears there
    scratch.mkdir()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TMPDIR": str(scratch)}
    program = many_rules if evaluator == "columnar" else PROGRAM
    options = ["--evaluator", "columnar"] if evaluator == "columnar" else ["--evaluator", "per-member", "-j", "2"]
    if evaluator == "line-reader":
        options += ["--ledger", str(tmp_path / "ledger.jsonl")]  # must not be left behind either
    proc = subprocess.Popen(
        [*loyalty(), "run", str(program), str(big_history), "-o", str(out), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    if evaluator == "columnar":
        # DuckDB's spill folder is made just before its connection: the query starts within
        # milliseconds of it and lasts seconds (many rules), so the signal finds DuckDB at work.
        _wait_for(proc, "the DuckDB query", lambda: any(scratch.glob("loyalty-duckdb-*")))
        time.sleep(0.5)
    elif evaluator == "line-reader":
        _wait_for(proc, "reading", _reading(proc, big_history))
    else:  # forked once the bulk read is done
        _wait_for(proc, "the workers evaluating", lambda: len(_family(proc.pid)) >= 2)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=_PATIENCE)
    assert proc.returncode == (130 if sig == signal.SIGINT else 143), err.decode()
    assert err.decode().strip().splitlines() == ["loyalty: interrupted"]
    assert out.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl", "tmp"]
    assert list(scratch.iterdir()) == []  # DuckDB's spill folder is removed too


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


_ENDLESS_QUERY = """
import signal
import duckdb
from loyalty_dsl.columnar.run import _interruptible

class Stop(BaseException):
    pass

def stop(signum, frame):
    raise Stop

def work(connected):
    with duckdb.connect() as con:
        connected(con)
        print("querying", flush=True)
        return con.sql("SELECT sum(a * b) FROM range(1000000000000) t(a), range(1000) u(b)").fetchall()

signal.signal(signal.SIGTERM, stop)
try:
    _interruptible(work)
except BaseException as err:
    print(type(err).__name__)
"""


@pytest.mark.parametrize(("sig", "raised"), [(signal.SIGINT, "KeyboardInterrupt"), (signal.SIGTERM, "Stop")])
def test_a_signal_during_a_duckdb_query_raises_its_own_exception_and_stops_the_query(sig, raised):
    # In the main thread, DuckDB drops the handler's exception for RuntimeError("Query interrupted"),
    # or never stops: the query would last for hours.
    proc = subprocess.Popen([sys.executable, "-c", _ENDLESS_QUERY], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline() == "querying\n"
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=_PATIENCE)
    assert out == f"{raised}\n"


@pytest.fixture(scope="module")
def huge_history(big_history, tmp_path_factory) -> Path:
    """Ten copies of the big history under new member ids: a Dask run of it lasts seconds after
    its workers start (the big one alone may end before a loaded machine's poll sees them)."""
    data = big_history.read_bytes()
    path = tmp_path_factory.mktemp("huge") / "huge.jsonl"
    with path.open("wb") as out:
        for k in range(10):
            out.write(re.sub(rb'("member":"[^"]*)"', rb'\\1_r%d"' % k, data))
    return path


def _workers_up(proc: subprocess.Popen, count: int) -> Callable[[], bool]:
    """The run's cluster has started `count` worker processes (multiprocessing's spawned children)."""

    def up() -> bool:
        found = 0
        for pid in _family(proc.pid):
            with contextlib.suppress(OSError):
                found += b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
        return found >= count

    return up


@needs_proc
@pytest.mark.parametrize("stage", ["starting", "reading"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_under_dask_says_one_line_and_stops_the_cluster(huge_history, tmp_path, sig, stage):
    pytest.importorskip("dask.distributed")
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    proc = subprocess.Popen(
        [*loyalty(), "run", str(PROGRAM), str(huge_history), "-o", str(out), "--engine", "dask", "-j", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,  # a process group of its own, as a shell gives a command
    )
    # Starting: the worker processes exist but may still be importing (before their preload
    # ignores Ctrl-C). Reading: a worker has the history open (for half a second or so: the huge
    # history keeps that window wide enough for the poll).
    _wait_for(proc, "the workers starting", _workers_up(proc, 2))
    if stage == "reading":
        _wait_for(proc, "the workers reading", _reading(proc, huge_history))
    cluster = _family(proc.pid)
    if sig == signal.SIGINT:
        os.killpg(proc.pid, sig)  # Ctrl-C at a terminal: every process of the group, workers too
    else:
        proc.send_signal(sig)  # kill: the command only
    _, err = proc.communicate(timeout=_PATIENCE)
    assert proc.returncode == (130 if sig == signal.SIGINT else 143), err.decode()
    assert err.decode().strip().splitlines() == ["loyalty: interrupted"]
    assert out.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jsonl", "tmp"]
    _wait_until_gone(cluster)


def _state(stat: Path) -> str | None:
    try:
        text = stat.read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2]


def _wait_until_gone(pids: list[int]) -> None:
    deadline = time.monotonic() + 60
    while alive := [pid for pid in pids if _state(Path(f"/proc/{pid}/stat")) not in ("Z", None)]:
        assert time.monotonic() < deadline, f"processes {alive} outlived the run"
        time.sleep(0.1)


@needs_proc
def test_workers_die_with_a_killed_run_and_the_next_run_removes_its_temporary_file(big_history, tmp_path):
    out = tmp_path / "out.jsonl"
    proc = subprocess.Popen(
        [*loyalty(), "run", str(PROGRAM), str(big_history), "-o", str(out), "--jobs", "2", "--evaluator", "per-member"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # The outcomes' temporary file is opened once the workers have read, while they evaluate.
    _wait_for(proc, "writing its outcomes", lambda: any(tmp_path.iterdir()))
    workers = _family(proc.pid)
    assert workers, "a run with --jobs 2 has a worker"
    proc.kill()
    proc.wait(timeout=_PATIENCE)
    _wait_until_gone(workers)  # before: they waited forever on a pipe no one would read
    (left,) = tmp_path.iterdir()
    assert re.fullmatch(rf"\.out\.jsonl\.loyalty-tmp-{proc.pid}-\w+", left.name), left.name
    # The next run writing the same output removes it (its process is gone), and writes the output.
    done = subprocess.run(
        [*loyalty(), "run", str(PROGRAM), str(ROOT / "examples" / "history.jsonl"), "-o", str(out)],
        capture_output=True,
        timeout=_PATIENCE,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]
    assert out.read_bytes()


def _dead_pid() -> int:
    """The number of a process that has ended (and been reaped)."""
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    return ended.pid


def test_a_temporary_file_left_by_a_dead_run_is_removed_by_the_next_write(tmp_path):
    from loyalty_dsl.io.output import atomic_file

    dead = _dead_pid()
    left = tmp_path / f".out.jsonl.loyalty-tmp-{dead}-k2j4x9_a"
    live = tmp_path / f".out.jsonl.loyalty-tmp-{os.getpid()}-q8w1e3rt"  # a run still writing: kept
    other = tmp_path / f".other.jsonl.loyalty-tmp-{dead}-k2j4x9_a"  # another output's: not this write's business
    mine = tmp_path / f".out.jsonl.{dead}.tmp"  # not a name the writer gives: not removed on a guess
    for path in (left, live, other, mine):
        path.write_text("partial\n")
    with atomic_file(tmp_path / "out.jsonl") as handle:
        handle.write(b"done\n")
        writing = {p.name for p in tmp_path.iterdir()} - {live.name, other.name, mine.name}
        assert [re.fullmatch(rf"\.out\.jsonl\.loyalty-tmp-{os.getpid()}-\w+", n) is not None for n in writing] == [True]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name, mine.name, "out.jsonl"])
    assert (tmp_path / "out.jsonl").read_bytes() == b"done\n"
