"""The local engine on several cores: member partitions read and evaluated by forked processes.

Reading is most of a run's time and is Python work, so it is split too: each
worker reads every file but parses only the lines of its own members (as the
Dask engine does). The parent merges the accounting, fixes the as-of day, and
merges the workers' outcomes back into member order.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import heapq
import multiprocessing
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from multiprocessing.connection import Connection
from typing import Any

from loyalty_dsl.evaluation.compile import CompiledProgram
from loyalty_dsl.evaluation.run import Result, day_of, results
from loyalty_dsl.io.history import Accounting, HistoryError, read_history
from loyalty_dsl.io.progress import Progress

_BATCH = 256  # outcomes per message from a worker
_WATCH_EVERY = 0.2  # seconds between two looks of a worker at its parent


def available() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


class _Shown:
    """Progress heard from the workers: lines read per worker, members evaluated in all."""

    def __init__(self, progress: Progress | None, workers: int) -> None:
        self.progress = progress
        self.read = [0] * workers

    def lines(self, worker: int, lines: int) -> None:
        self.read[worker] = lines
        if self.progress is not None:
            self.progress.read(sum(self.read))


def run_partitioned(
    program: CompiledProgram,
    paths: Sequence[str],
    as_of: dt.date | None,
    jobs: int,
    ledger: bool,
    progress: Progress | None = None,
) -> tuple[Accounting, Iterator[Result]]:
    """The whole history's accounting, and every member's outcome in member order."""
    workers = _start(functools.partial(_serve, program, list(paths), jobs, ledger), range(jobs))
    shown = _Shown(progress, jobs)
    try:
        summaries = [_receive(conn, functools.partial(shown.lines, k)) for k, (_, conn) in enumerate(workers)]
    except BaseException:
        _stop(workers)
        raise
    accounting = Accounting.merged(acc for acc, _, _ in summaries)
    latest = max((t for _, t, _ in summaries if t is not None), default=None)
    day = day_of(as_of, latest, program.calendar)
    if progress is not None:
        progress.members(sum(members for _, _, members in summaries))
    for _, conn in workers:
        conn.send(day)
    return accounting, _merged(workers, progress)


def forked(
    produce: Callable[[int, int], Iterator[Result]], jobs: int, progress: Progress | None, in_parent: bool = True
) -> Iterator[Result]:
    """Results of `produce(k, jobs)` for k < jobs, merged in member order: share 0 made here, as
    the merge asks for it, the others by forked workers (so `jobs` processes in all); with
    `in_parent` false, every share by a worker, the parent only merging and writing.

    Each share's results must be in member order; the parent's data is the workers' too.
    """
    first = 1 if in_parent else 0
    workers = _start(lambda k, conn: _send_all(produce(k, jobs), conn), range(first, jobs))
    return _merged(workers, progress, produce(0, jobs) if in_parent else None)


_STOPPING = {signal.SIGINT, signal.SIGTERM}


def _start(serve: Callable[[int, Connection], None], shares: Iterable[int]) -> list[tuple[Any, Connection]]:
    """A forked worker running `serve(k, its end of a pipe)` for each share k."""
    context = multiprocessing.get_context("fork")  # workers share the parent's data, closures and all
    workers: list[tuple[Any, Connection]] = []
    for k in shares:
        parent_end, child_end = context.Pipe()
        process = context.Process(target=_worker, args=(serve, k, child_end, os.getpid()), daemon=True)
        # A signal arriving while fork runs its hooks (logging's, in the parent) is raised there and
        # "ignored", so Ctrl-C would be lost: it waits until the fork is done (the worker unblocks).
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPPING)
        try:
            process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        child_end.close()
        workers.append((process, parent_end))
    return workers


def _send_all(found: Iterator[Result], conn: Connection) -> None:
    batch: list[Result] = []
    for result in found:
        batch.append(result)
        if len(batch) >= _BATCH:
            conn.send(("ok", batch))
            batch = []
    if batch:
        conn.send(("ok", batch))
    conn.send(("ok", None))


def _merged(
    workers: list[tuple[Any, Connection]], progress: Progress | None, own: Iterator[Result] | None = None
) -> Iterator[Result]:
    streams = [_stream(conn) for _, conn in workers] + ([own] if own is not None else [])
    try:
        for i, result in enumerate(heapq.merge(*streams, key=lambda r: r[0]["member"]), start=1):
            yield result
            if progress is not None and not i % _BATCH:
                progress.evaluated(_BATCH)
    finally:
        _stop(workers)


def _stream(conn: Connection) -> Iterator[Result]:
    while (batch := _receive(conn)) is not None:
        yield from batch


def _receive(conn: Connection, on_lines: Callable[[int], None] | None = None) -> Any:
    while True:
        kind, payload = conn.recv()
        if kind == "read":  # a worker's lines read so far
            if on_lines is not None:
                on_lines(payload)
            continue
        if kind == "error":
            raise HistoryError(payload)
        if kind == "crash":
            raise RuntimeError(f"a worker failed:\n{payload}")
        return payload


def _stop(workers: list[tuple[Any, Connection]]) -> None:
    for process, conn in workers:
        conn.close()
        if process.is_alive():
            process.terminate()
        process.join()


def _worker(serve: Callable[[int, Connection], None], k: int, conn: Connection, parent: int) -> None:
    # The parent answers Ctrl-C and SIGTERM (and stops the workers): a worker just stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPPING)  # blocked by the parent around the fork
    threading.Thread(target=_exit_without, args=(parent,), name="loyalty-parent-watch", daemon=True).start()
    with contextlib.suppress(BrokenPipeError, EOFError, ConnectionError):
        try:
            serve(k, conn)
        except HistoryError as err:
            conn.send(("error", str(err)))
        except Exception:  # a bug: the parent says so, with the worker's traceback
            conn.send(("crash", traceback.format_exc()))
    os._exit(0)  # no cleanup of what the parent owns (its files, its atexit hooks)


def _exit_without(parent: int) -> None:
    """End this worker once its parent is gone: a parent killed by -9 stops no one, and the pipe
    never tells (the fork gave the worker the parent's end of it too)."""
    while os.getppid() == parent:  # an orphan is adopted by another process
        time.sleep(_WATCH_EVERY)
    os._exit(1)


def _serve(program: CompiledProgram, paths: list[str], n: int, ledger: bool, k: int, conn: Connection) -> None:
    history = read_history(paths, program, partition=(k, n), progress=lambda lines: conn.send(("read", lines)))
    conn.send(("ok", (history.accounting, history.latest, len(history.members))))
    day = conn.recv()
    _send_all(results(program, history, day, ledger=ledger) if day is not None else iter(()), conn)
