"""Where a columnar run spends its time: each stage of `loyalty run` timed on its own, in one process.

    python bench/stages.py four_tier|legacy H.jsonl|H.parquet [--as-of 2026-11-30] [--threads 2]
                           [--profile read|sql|members|write]

Stages: start-up (imports, compiling the program, its plan), the bulk read (`read_bulk`: parse,
checks, repeats and accounting), the SQL (`prepare`: the plan's steps, points by rule, running
totals, the events grants and decisions read), the per-member part (`assemble`: grant days,
statuses, decisions, each outcome as JSON), and writing the JSON Lines. `loyalty run` splits the
per-member part over its processes; here it runs in one, so its share is as on one core.
`--profile STAGE` prints that stage's cProfile (top 25 functions by cumulative time).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from common import BENCH_PROGRAMS

_T = TypeVar("_T")


def timed(name: str, work: Callable[[], _T], profile: str | None, times: dict[str, float]) -> _T:
    started = time.perf_counter()
    if profile == name:
        profiler = cProfile.Profile()
        result = profiler.runcall(work)
        times[name] = time.perf_counter() - started
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
        return result
    result = work()
    times[name] = time.perf_counter() - started
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("program", choices=list(BENCH_PROGRAMS))
    parser.add_argument("history", type=Path)
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date(2026, 11, 30))
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="pyarrow's and DuckDB's")
    parser.add_argument("--profile", choices=["read", "sql", "members", "write"])
    args = parser.parse_args()
    times: dict[str, float] = {}
    started = time.perf_counter()
    import pyarrow as pa

    from loyalty_dsl.columnar.bulk_read import read_bulk
    from loyalty_dsl.columnar.plan import plan
    from loyalty_dsl.columnar.run import assemble, prepare
    from loyalty_dsl.evaluation.compile import load
    from loyalty_dsl.io.output import write_outcomes

    pa.set_cpu_count(args.threads)
    program = load(BENCH_PROGRAMS[args.program])
    fast = plan(program)
    times["start-up"] = time.perf_counter() - started
    bulk = timed("read", lambda: read_bulk([str(args.history)], program), args.profile, times)
    if bulk is None:
        raise SystemExit("the bulk reader left this history to the line reader")
    prepared = timed(
        "sql",
        lambda: prepare(fast, bulk.events, bulk.members, args.as_of, args.threads, places=bulk.places),
        args.profile,
        times,
    )
    outcomes: list[dict[str, Any]] = timed(
        "members", lambda: [o.to_json() for o in assemble(prepared, range(len(bulk.members)))], args.profile, times
    )
    with tempfile.TemporaryFile() as out:
        timed("write", lambda: write_outcomes(outcomes, "jsonl", out), args.profile, times)
    total = sum(times.values())
    print(f"{args.program} {args.history.name}: {bulk.accounting.read:,} lines, {len(bulk.members):,} members")
    for name, seconds in times.items():
        print(f"  {name:9} {seconds:7.2f} s  {seconds / total:4.0%}")
    print(f"  {'total':9} {total:7.2f} s")


if __name__ == "__main__":
    main()
