"""Local wall-clock instants for whole columns: what the plan's calendar units are computed on.

Every day, week, month, quarter and year of the plan is a function of an
instant's local day, and the local day is that of the local wall-clock time
(the instant plus the zone's offset at that instant). Offsets come from the
program's Calendar (Python's zoneinfo, as the per-member evaluator reads them),
asked once per UTC day of the events rather than once per event
(Calendar.steady_offset); on the few days with a transition, each event of the
day is asked on its own. Gaps and folds need no care in this direction: an
instant has exactly one local time.
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
    first = lowest // US_PER_DAY  # the UTC day of the earliest instant: floor division
    days = pc.divide(pc.subtract(at, first * US_PER_DAY), US_PER_DAY)  # non-negative, so truncation floors
    distinct = pc.unique(days)
    steady = pa.array([calendar.steady_offset(first + d) for d in distinct.to_pylist()], pa.int64())
    offsets = pc.take(steady, pc.index_in(days, value_set=distinct))
    moving = pc.is_null(offsets)  # events on a day with a transition
    if pc.any(moving).as_py():
        exact = [calendar.utc_offset(i) for i in pc.filter(at, moving).to_pylist()]
        offsets = pc.replace_with_mask(offsets, moving, pa.array(exact, pa.int64()))
    return pc.add(at, offsets)
