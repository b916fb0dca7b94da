"""Outcomes as CSV, for spreadsheets: every field of the JSON Lines outcome, no cell run as a formula.

A column per field, in the JSON Lines order; `points_by_rule` (a number per rule) is a
column per rule (`points_by_rule.NAME`), and `measures` a column per measure
(`measures.NAME`); the other objects and lists are JSON text; null is an empty cell.
Numbers are written as numbers (-5 stays -5).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import IO, Any

from loyalty_dsl.io.output import json_bytes

FLATTENED = ("points_by_rule", "measures")  # objects of numbers, the same keys for every member of a program
EMPTY_HEADER = ("member", "as_of", "points", "tier", "benefits", "grants", "decisions")  # no member: no rules to name
# A spreadsheet reads a cell starting with one of these as a formula (OWASP, CSV injection);
# `'` itself is added so that stripping one leading `'` always gives the value back.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")

Column = tuple[str, str | None]  # a field, and the key inside it for a flattened one


def neutralised(text: str) -> str:
    """The text with a `'` in front if a spreadsheet would run it as a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def columns_of(outcome: dict[str, Any]) -> list[Column]:
    columns: list[Column] = []
    for field, value in outcome.items():
        if field in FLATTENED and isinstance(value, dict):
            columns += [(field, key) for key in value]
        else:
            columns.append((field, None))
    return columns


def _name(column: Column) -> str:
    field, key = column
    return field if key is None else f"{field}.{key}"


def _value(outcome: dict[str, Any], column: Column) -> Any:
    field, key = column
    value = outcome[field] if key is None else outcome[field][key]
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json_bytes(value).decode()
    return value


def write_csv(outcomes: Iterable[dict[str, Any]], out: IO[bytes], raw: bool = False) -> int:
    """A header, then a row per outcome; `raw` writes text cells as they are, formulas included."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text)

    def row(cells: Iterable[Any]) -> None:
        writer.writerow(c if raw or not isinstance(c, str) else neutralised(c) for c in cells)

    columns: list[Column] | None = None
    count = 0
    for outcome in outcomes:
        if columns is None:
            columns = columns_of(outcome)
            row(_name(c) for c in columns)
        elif columns_of(outcome) != columns:  # a program gives every member the same fields
            raise ValueError(f"member {outcome['member']!r}: other fields than the first member's")
        row(_value(outcome, c) for c in columns)
        count += 1
    if columns is None:
        row(EMPTY_HEADER)
    text.detach()
    return count
