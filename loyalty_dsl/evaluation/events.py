"""One accepted event of a history, in the compact form the evaluator reads."""

from __future__ import annotations

from typing import Any


class Event:
    """An applied event: its instant, input order, type, typed fields and origin.

    `seq` is the position in the input (all files, in order). `rank` is the place in
    the member's evaluation order (order.py: instant, then what the event is, never
    its line), which breaks ties between events of the same instant. Slots keep
    millions of these small.
    """

    __slots__ = ("at", "fields", "file", "id", "line", "rank", "seq", "type")

    def __init__(
        self, at: int, seq: int, type: str, fields: dict[str, Any], file: str, line: int, id: str | None
    ) -> None:
        self.at = at
        self.seq = seq
        self.rank = seq  # until order.sort_events ranks the member's events
        self.type = type
        self.fields = fields
        self.file = file
        self.line = line
        self.id = id

    def __repr__(self) -> str:
        return f"Event({self.type} at={self.at} {self.file}:{self.line})"
