"""Parquet values as Python values, one bad value never stopping the others.

pyarrow's `to_pylist` fails a whole batch on one timestamp beyond year 9999, one
in a time zone Python does not know, or one date out of range. Here timestamps
and dates are converted from their stored integers, and what Python cannot hold
becomes an `Unreadable`, which the reader rejects where the field is read.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Any

import orjson

from loyalty_dsl.evaluation.calendar import END_INSTANT, FIRST_INSTANT, US_PER_DAY


class Unreadable:
    """A Parquet value Python cannot hold (a timestamp beyond year 9999, a zone it does not
    know): the row is rejected if the value is read, as any bad value is, never a traceback."""

    __slots__ = ("what",)

    def __init__(self, what: str) -> None:
        self.what = what

    def __str__(self) -> str:
        return self.what


def known_zone(name: str | None) -> bool:
    """A Parquet timestamp's time zone the readers take: none, an offset, or a zone Python knows."""
    if name is None or re.fullmatch(r"[+-][0-9]{2}:[0-9]{2}", name):
        return True
    try:
        zoneinfo.ZoneInfo(name)
    except (ValueError, OSError, zoneinfo.ZoneInfoNotFoundError):
        return False
    return True


_US_PER_UNIT = {"s": 1_000_000, "ms": 1_000, "us": 1}
_FIRST_DAY, _END_DAY = FIRST_INSTANT // US_PER_DAY, END_INSTANT // US_PER_DAY  # days since 1970 of years 1 to 9999
_UTC_EPOCH, _NAIVE_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC), dt.datetime(1970, 1, 1)
_DAY_EPOCH = dt.date(1970, 1, 1)


def python_rows(batch: Any) -> list[dict[str, Any]]:
    """A batch's rows as dicts of Python values, nulls left out; a value Python cannot hold
    is an `Unreadable`, so that one bad row never stops the others."""
    names = batch.schema.names
    columns = [python_values(batch.column(i)) for i in range(batch.num_columns)]
    return [
        {k: v for k, v in zip(names, values, strict=True) if v is not None} for values in zip(*columns, strict=True)
    ]


def python_values(column: Any) -> list[Any]:
    import pyarrow as pa

    type_ = column.type
    if pa.types.is_timestamp(type_):
        return _timestamps(column)
    if pa.types.is_date32(type_) or pa.types.is_date64(type_):
        return _dates(column)
    try:
        return column.to_pylist()
    except (pa.ArrowException, ValueError, OverflowError):  # a nested timestamp out of range...
        return [_python_value(value) for value in column]


def _python_value(scalar: Any) -> Any:
    import pyarrow as pa

    try:
        return scalar.as_py()
    except (pa.ArrowException, ValueError, OverflowError) as err:
        return Unreadable(f"a value Python cannot hold ({err})")


def _timestamps(column: Any) -> list[Any]:
    """Timestamps as datetimes in UTC (the stored value is the instant; its zone only names
    how to show it), nanoseconds cut to microseconds; out of years 1 to 9999, `Unreadable`."""
    import pyarrow as pa
    import pyarrow.compute as pc

    type_ = column.type
    if not known_zone(type_.tz):
        unknown = Unreadable(
            f"a timestamp in time zone {_quoted(type_.tz)}, unknown to the reader (an IANA name or +hh:mm)"
        )
        return [unknown if valid else None for valid in pc.is_valid(column).to_pylist()]
    if type_.unit == "ns":  # cut towards zero, as the bulk reader's cast does
        column = pc.cast(column, pa.timestamp("us", type_.tz), safe=False)
    factor = _US_PER_UNIT.get(column.type.unit, 1)
    epoch = _NAIVE_EPOCH if type_.tz is None else _UTC_EPOCH
    out: list[Any] = []
    for raw in pc.cast(column, pa.int64()).to_pylist():
        if raw is None:
            out.append(None)
            continue
        instant = raw * factor
        if FIRST_INSTANT <= instant < END_INSTANT:
            out.append(epoch + dt.timedelta(microseconds=instant))
        else:
            out.append(
                Unreadable(f"a timestamp {_beyond(instant < FIRST_INSTANT)} in UTC, out of range (years 1 to 9999)")
            )
    return out


def _dates(column: Any) -> list[Any]:
    import pyarrow as pa
    import pyarrow.compute as pc

    short = pa.types.is_date32(column.type)
    per_day = 1 if short else 86_400_000  # date64 counts milliseconds
    out: list[Any] = []
    for raw in pc.cast(column, pa.int32() if short else pa.int64()).to_pylist():
        if raw is None:
            out.append(None)
        elif _FIRST_DAY <= (day := raw // per_day) < _END_DAY:
            out.append(_DAY_EPOCH + dt.timedelta(days=day))
        else:
            out.append(Unreadable(f"a date {_beyond(day < _FIRST_DAY)}, out of range (years 1 to 9999)"))
    return out


def _beyond(before: bool) -> str:
    return "before 0001-01-01" if before else "after 9999-12-31"


def _quoted(text: str) -> str:
    shown = orjson.dumps(text).decode()
    return shown if len(shown) <= 60 else shown[:57] + "..."
