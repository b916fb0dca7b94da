"""Local wall-clock instants for whole columns: what the plan's calendar units are computed on.

Every day, week, month, quarter and year of the plan is a function of an
instant's local day, and the local day is that of the local wall-clock time
(the instant plus the zone's offset at that instant). Offsets come from the
program's Calendar (Python's zoneinfo, as the per-member evaluator reads them),
asked once per UTC day of the events rather than once per event: the offset
at the day's first and last microsecond; on the few days where they differ (a
transition), each event of the day is asked on its own. Gaps and folds need no
care in this direction: an instant has exactly one local time.

Assumed: no UTC day holds two transitions that cancel out (none in the tz
database), so a day whose two ends agree keeps one offset throughout.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from loyalty_dsl.evaluation.calendar import US_PER_DAY, Calendar


def local_instants(at: pa.Array | pa.ChunkedArray, calendar: Calendar) -> pa.Array:
    """Each instant of `at` (µs since the epoch, UTC) as local wall-clock time, in the same unit."""
    if isinstance(at, pa.ChunkedArray):
        at = at.combine_chunks()
    lowest = pc.min(at).as_py()
    if lowest is None:
        return at
    base = lowest // US_PER_DAY * US_PER_DAY  # from a day start at or before every instant: floor division
    days = pc.divide(pc.subtract(at, base), US_PER_DAY)  # non-negative, so truncation floors
    distinct = pc.unique(days)
    starts = [base + d * US_PER_DAY for d in distinct.to_pylist()]
    first = pa.array([calendar.utc_offset(s) for s in starts], pa.int64())
    last = pa.array([calendar.utc_offset(s + US_PER_DAY - 1) for s in starts], pa.int64())
    which = pc.index_in(days, value_set=distinct)
    offsets = pc.take(first, which)
    moving = pc.not_equal(offsets, pc.take(last, which))  # events on a day with a transition
    if pc.any(moving).as_py():
        exact = [calendar.utc_offset(i) for i in pc.filter(at, moving).to_pylist()]
        offsets = pc.replace_with_mask(offsets, moving, pa.array(exact, pa.int64()))
    return pc.add(at, offsets)
