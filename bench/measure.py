"""Wall time and peak memory of a command and every process it starts.

The kernel's own peak (`ru_maxrss` from wait4) is that of the largest single process, which
undercounts a run on forked workers. So the process tree is also sampled every `EVERY` seconds
from /proc: the peak of the sum of resident sets (RSS; pages forked workers share with their
parent are counted in each) and of proportional sets (PSS; shared pages split between those
that share them, so the sum is the memory the run really holds). A peak shorter than a sample
interval can be missed: the kernel's figure is kept as a floor under both.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path

import attrs

EVERY = 0.05  # seconds between two samples
_PROC = Path("/proc")


@attrs.frozen
class Measure:
    seconds: float
    peak_mib: float  # the peak RSS of the process tree
    pss_mib: float  # the peak PSS of the process tree
    largest_mib: float  # the kernel's peak of the largest process


class Failed(Exception):
    """The command exited with an error."""


def _children() -> dict[int, list[int]]:
    """Every process's children, from the parent named in /proc/PID/stat."""
    out: dict[int, list[int]] = {}
    for entry in os.scandir(_PROC):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split(maxsplit=2)[1])  # the name may hold spaces and ')'
        out.setdefault(ppid, []).append(int(entry.name))
    return out


def _tree(root: int) -> list[int]:
    children, found, todo = _children(), [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def _rollup(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process in KiB; zero once it has ended."""
    rss = pss = 0
    try:
        with open(_PROC / str(pid) / "smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return rss, pss


class _Sampler(threading.Thread):
    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.stop = threading.Event()
        self.rss = self.pss = 0  # KiB

    def run(self) -> None:
        while not self.stop.is_set():
            sizes = [_rollup(pid) for pid in _tree(self.root)]
            self.rss = max(self.rss, sum(r for r, _ in sizes))
            self.pss = max(self.pss, sum(p for _, p in sizes))
            self.stop.wait(EVERY)


def measure(command: list[str], env: dict[str, str] | None, cwd: Path) -> Measure:
    """Run a command; its wall time and the peak memory of its process tree."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
    sampler = _Sampler(proc.pid)
    sampler.start()
    assert proc.stderr is not None
    errors = proc.stderr.read()  # drained while it runs; closed at its exit
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    sampler.stop.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    if proc.returncode != 0:
        raise Failed(f"failed ({proc.returncode}): {' '.join(command)}\n{errors.decode(errors='replace')}")
    largest = usage.ru_maxrss  # KiB on Linux
    # A run too short for one sample: the kernel's peak stands for both.
    return Measure(seconds, max(sampler.rss, largest) / 1024, (sampler.pss or largest) / 1024, largest / 1024)
