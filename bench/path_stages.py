"""Time the stages of one run, as of 2026-11-30: `python bench/path_stages.py PROGRAM HISTORY`.

Reading, then the points in SQL and the per-member part (one process) on the columnar path,
or the evaluation on the per-member path; outcomes are made as JSON, not written.
"""

from __future__ import annotations

import datetime as dt
import sys
import time

from loyalty_dsl import load
from loyalty_dsl.columnar import run as columnar
from loyalty_dsl.columnar.bulk_read import read_bulk
from loyalty_dsl.columnar.choice import choose_plan
from loyalty_dsl.evaluation.run import outcomes
from loyalty_dsl.io.history import read_history

DAY = dt.date(2026, 11, 30)


def main() -> None:
    program, path = load(sys.argv[1]), sys.argv[2]
    started = time.perf_counter()
    plan = choose_plan(program, "auto")
    if plan is None:
        history = read_history([path], program)
        read = time.perf_counter()
        n = sum(1 for o in outcomes(program, history, DAY) if o.to_json())
        done = time.perf_counter()
        print(f"per-member: read {read - started:.1f} s, evaluate {done - read:.1f} s ({n} members)")
        return
    bulk = read_bulk([path], program)
    assert bulk is not None, "the bulk reader doubts the file"
    read = time.perf_counter()
    prepared = columnar.prepare(plan, bulk.events, bulk.members, DAY, 2, places=bulk.places)
    sql = time.perf_counter()
    n = sum(1 for o in columnar.assemble(prepared, range(len(bulk.members))) if o.to_json())
    done = time.perf_counter()
    print(
        f"columnar: read {read - started:.1f} s, points SQL {sql - read:.1f} s,"
        f" per member (1 process) {done - sql:.1f} s ({n} members)"
    )


if __name__ == "__main__":
    main()
