"""Every member's ledger out, for BI tools: JSON Lines or Parquet, by the file's extension."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from loyalty_dsl.io.output import json_bytes

COLUMNS = (
    "member",
    "rule",
    "line",
    "points",
    "earned",
    "note",
    "day",
    "month",
    "event_type",
    "event_at",
    "event_file",
    "event_line",
    "event_id",
)


def ledger_format(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    raise ValueError(f"{path}: a ledger is written as .jsonl or .parquet")


MEASURED = ("measure", "amount")  # the columns a program with measures adds (see member_ledger)


def flat_rows(member: str, entries: list[dict[str, Any]], measured: bool = False) -> list[dict[str, Any]]:
    rows = []
    for e in entries:
        ev = e.get("event", {})
        rows.append(
            {
                **({"measure": e["measure"], "amount": e["amount"]} if measured else {}),
                "member": member,
                "rule": e["rule"],
                "line": e["line"],
                "points": e["points"],
                "earned": e.get("earned"),
                "note": e.get("note"),
                "day": e.get("day"),
                "month": e.get("month"),
                "event_type": ev.get("type"),
                "event_at": ev.get("at"),
                "event_file": ev.get("file"),
                "event_line": ev.get("line"),
                "event_id": ev.get("id"),
            }
        )
    return rows


class LedgerWriter:
    """Writes ledger rows member by member to an open binary file."""

    _BATCH = 65_536

    def __init__(self, handle: IO[bytes], fmt: str, measured: bool = False) -> None:
        self.handle = handle
        self.format = fmt
        self.measured = measured  # the program has measures: rows say which one they add to
        self._rows: list[dict[str, Any]] = []
        self._writer: Any = None

    def add(self, member: str, entries: list[dict[str, Any]]) -> None:
        rows = flat_rows(member, entries, self.measured)
        if self.format == "jsonl":
            if self.measured:  # a money measure's decimals as JSON numbers, as the outcome's measures are
                rows = [{k: float(v) if isinstance(v, Decimal) else v for k, v in r.items()} for r in rows]
            self.handle.write(b"".join(json_bytes(r) + b"\n" for r in rows))
            return
        self._rows += rows
        if len(self._rows) >= self._BATCH:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist(self._rows, schema=_schema(self.measured))
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.handle, table.schema)
        self._writer.write_table(table)
        self._rows = []

    def finish(self) -> None:
        if self.format == "parquet":
            self._flush()
            self._writer.close()


def _schema(measured: bool) -> Any:
    import pyarrow as pa

    text, number = pa.string(), pa.int64()
    # A money measure's amounts are exact cents; whole ones and points fit the same decimal.
    extra = [("measure", text), ("amount", pa.decimal128(38, 2))] if measured else []
    return pa.schema(
        [
            *extra,
            ("member", text),
            ("rule", text),
            ("line", number),
            ("points", number),
            ("earned", number),
            ("note", text),
            ("day", text),
            ("month", text),
            ("event_type", text),
            ("event_at", text),
            ("event_file", text),
            ("event_line", number),
            ("event_id", text),
        ]
    )
