"""Runs on a Dask cluster: the history partitioned by member, read and evaluated by the workers.

Each partition task reads every history file (from paths the workers can see)
but keeps, checks and accounts only the lines of its own members. The
histories stay on the workers; the client gathers the small summaries, fixes
the as-of day, and merges the partitions' outcomes back into member order, so
the output is the same, byte for byte, as a local run.

Where the program has a columnar plan, each partition runs the columnar
evaluator on its members: read in bulk (or line by line where the bulk reader
is unsure of a file, as locally), then evaluated in DuckDB. A member's outcome
depends on their events alone and members are partitioned whole, so the
partitions' outcomes are those of one run over the whole history.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import heapq
import logging
import os
import pickle
import secrets
import signal
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from functools import lru_cache
from multiprocessing import resource_tracker
from typing import Any

import attrs

from loyalty_dsl.columnar.bulk_read import BulkHistory, read_bulk
from loyalty_dsl.columnar.plan import Plan, plan
from loyalty_dsl.columnar.run import assemble, events_table, prepare
from loyalty_dsl.evaluation.compile import CompiledProgram, compile_text
from loyalty_dsl.evaluation.run import Result, day_of, results
from loyalty_dsl.io.history import Accounting, History, read_history
from loyalty_dsl.io.spool import Spool, spooling_now

_CHUNK = 8 * 2**20  # bytes of a spool file per message from a worker


@lru_cache(maxsize=8)
def _program(text: str, file: str, rates: tuple[tuple[str, Decimal], ...] = ()) -> CompiledProgram:
    """Compiled once per worker process: compiled programs hold closures, which do not travel."""
    program = compile_text(text, file)
    return attrs.evolve(program, rates=dict(rates)) if rates else program


@lru_cache(maxsize=8)
def _plan(text: str, file: str, rates: tuple[tuple[str, Decimal], ...] = ()) -> Plan:
    return plan(_program(text, file, rates))


def _read_partition(
    text: str,
    file: str,
    rates: tuple[tuple[str, Decimal], ...],
    paths: Sequence[str],
    names: Sequence[str],
    k: int,
    n: int,
    spool: str | None = None,
    columnar: bool = False,
) -> History | BulkHistory:
    """Partition k of n, as a History (per member), or as a table of events (columnar)."""
    # A spool file in the worker's temporary folder: fetched, then removed, by the client.
    prefix = os.path.join(tempfile.gettempdir(), spool) if spool else None
    program = _program(text, file, rates)
    if columnar:
        bulk = read_bulk(paths, program, partition=(k, n), names=names, spool=prefix)
        if bulk is not None:
            return bulk
    history = read_history(paths, program, partition=(k, n), names=names, spool=prefix)
    if not columnar:
        return history
    table = events_table(history, program)
    return BulkHistory(table, history.member_ids(), history.accounting, history.latest)


def _spool_chunk(path: str, offset: int) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(offset)
        return handle.read(_CHUNK)


def _remove(paths: Sequence[str]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _fetched(client: Any, history: Any, paths: list[str]) -> list[str]:
    """A partition's spool files, copied from the worker holding it to local spool files."""
    if not paths:
        return []
    where = {"workers": list(client.who_has(history)[history.key]), "allow_other_workers": False, "pure": False}

    def chunks(path: str) -> Iterator[bytes]:
        offset = 0
        while data := client.submit(_spool_chunk, path, offset, **where).result():
            yield data
            offset += len(data)

    local = [copy for path in paths for copy in (Spool.if_spooling() or Spool("")).copy(chunks(path))]
    client.submit(_remove, paths, **where).result()
    return local


def _summary(history: History | BulkHistory) -> tuple[Accounting, int | None]:
    return history.accounting, history.latest


def _evaluate_partition(
    text: str,
    file: str,
    rates: tuple[tuple[str, Decimal], ...],
    history: History | BulkHistory,
    as_of: dt.date,
    ledger: bool,
) -> bytes:
    """The partition's outcomes in member order, pickled (NotColumnar where DuckDB cannot run
    the plan). Pickled here because Dask takes a list of dicts apart to send it: at 1M events
    that took 5 s of a 10 s run, against a tenth of a second for one pickle."""
    found: list[Result]
    if isinstance(history, BulkHistory):
        prepared = prepare(_plan(text, file, rates), history.events, history.members, as_of, places=history.places)
        found = [(o.to_json(), None) for o in assemble(prepared, range(len(history.members)))]
    else:
        found = list(results(_program(text, file, rates), history, as_of, ledger=ledger))
    return pickle.dumps(found, protocol=pickle.HIGHEST_PROTOCOL)


class SchedulerError(Exception):
    """A scheduler address that is not one, or a scheduler that does not answer."""


@contextmanager
def client_for(scheduler: str | None, workers: int) -> Iterator[Any]:
    """A client of the cluster at `scheduler`, or of a local cluster started for this run."""
    from dask.distributed import Client, LocalCluster

    with ExitStack() as stack:
        try:
            if scheduler:
                try:
                    connected = Client(scheduler)
                except (ValueError, TypeError, OSError) as err:  # OSError: refused, or timed out
                    raise SchedulerError(
                        f"--scheduler {scheduler}: cannot connect to a scheduler there ({err})"
                    ) from None
                client = stack.enter_context(connected)
            else:
                # A worker ignores Ctrl-C (dask_setup), but only once its preload has run: one
                # pressed while it still starts would end it in a "Fatal Python error" on the
                # terminal. So SIGINT stays blocked while the cluster starts: the processes and
                # threads started meanwhile inherit the mask, and the command takes a pending
                # Ctrl-C as soon as it unblocks it.
                blocked = _block_interrupts()
                stack.callback(_unblock_interrupts, blocked)  # should the cluster fail to start
                cluster = stack.enter_context(
                    LocalCluster(
                        n_workers=workers,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                        # No dashboard, but the scheduler serves HTTP all the same: on a free local port,
                        # not on 8787, which another cluster may hold (a warning of 3 lines).
                        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                        preload=[__name__],  # dask_setup below, in each worker
                    )
                )
                client = stack.enter_context(Client(cluster))
                _unblock_interrupts(blocked)
            yield client
        except BaseException as err:
            if not isinstance(err, Exception):  # an interrupt (or an exit), on its way past the cluster
                _quiet()
            raise


def _block_interrupts() -> set[int | signal.Signals] | None:
    """Blocks SIGINT in this thread; returns the mask to restore (None where masks do not exist)."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows
        return None
    # The first process multiprocessing spawns starts its resource tracker, and the thread that
    # starts it is left with SIGINT unblocked (3.11), whatever its mask was: start it first.
    resource_tracker.ensure_running()
    return signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def _unblock_interrupts(previous: set[int | signal.Signals] | None) -> None:
    if previous is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _quiet() -> None:
    """An interrupted run says one line: what the cluster and its event loop complain of as they
    close under running tasks (logs, and the atexit hook of a cluster still starting) stays unsaid."""
    logging.disable(logging.CRITICAL)
    sys.unraisablehook = lambda unraisable: None


def dask_setup(worker: Any) -> None:
    """Run by each worker of a cluster started here (its preload).

    Ctrl-C at a terminal reaches every process of the command, the workers too:
    the client answers it and closes the cluster, so a worker ignores it. And a
    worker logs nothing: what matters (a task's error) reaches the client, and
    what it says as the cluster closes under it (a task cancelled, a scheduler
    gone before it) is no news to the user.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.getLogger("distributed").setLevel(logging.CRITICAL + 1)


def run_on_cluster(
    client: Any,
    program_text: str,
    program_file: str,
    paths: Sequence[str],
    as_of: dt.date | None,
    partitions: int,
    ledger: bool = False,
    rates: dict[str, Decimal] | None = None,
    names: Sequence[str] | None = None,
    columnar: bool = False,
) -> tuple[Accounting, Iterator[Result]]:
    """The accounting of the whole history, and every member's outcome in member order.

    `names`: the files as the user named them (the local engine's names, in rejections and
    ledgers), where `paths` are what the workers open. `columnar`: each partition runs the
    columnar evaluator (the program must have a plan; NotColumnar if DuckDB cannot run it)."""
    given = tuple(sorted((rates or {}).items()))
    named = list(names) if names is not None else list(paths)
    # While spooling (a summary is asked for), each worker spools its partition's rejections.
    spool = f".loyalty-{secrets.token_hex(4)}." if spooling_now() else None
    histories = [
        client.submit(
            _read_partition,
            program_text,
            program_file,
            given,
            list(paths),
            named,
            k,
            partitions,
            spool,
            columnar,
            pure=False,
        )
        for k in range(partitions)
    ]
    summaries = client.gather([client.submit(_summary, h) for h in histories])
    for history, (part, _) in zip(histories, summaries, strict=True):
        part.spools = _fetched(client, history, part.spools)
    accounting = Accounting.merged(acc for acc, _ in summaries)
    latest = max((t for _, t in summaries if t is not None), default=None)
    day = day_of(as_of, latest, _program(program_text, program_file).calendar)
    if day is None:
        return accounting, iter(())
    evaluated = [
        client.submit(_evaluate_partition, program_text, program_file, given, h, day, ledger) for h in histories
    ]
    parts = [pickle.loads(part) for part in client.gather(evaluated)]  # pickled by our workers
    del histories, evaluated  # the workers may let go of the partitions
    return accounting, heapq.merge(*parts, key=lambda r: r[0]["member"])
