"""A CSV history's header: the columns it names, and the separator it uses.

The header is the first row that is not blank. Its separator is the one of `,`,
`;` and tab that makes it name the required columns; a header that still lacks
one (a file without header, `Member`) is a problem of the whole file: without
those columns no row could be read.
"""

from __future__ import annotations

import csv
import difflib
import io

import orjson


class HeaderProblem(Exception):
    """`line: what is wrong with the header`."""


REQUIRED = ("member", "type", "at")  # the columns every line needs: without them, no line could be read
_DELIMITERS = (",", ";", "\t")  # what spreadsheets save: `;` where the comma is the decimal mark


def csv_header(text: io.TextIOWrapper, max_line: int) -> tuple[list[str], str, int] | None:
    """The header (the first row that is not blank), its separator and its line number; None
    for a file of blank rows. A header without the required columns is a file-level error:
    every row would be rejected (a file without header, another separator, `Member`)."""
    number = 0
    while raw := text.readline(max_line):
        number += 1
        if len(raw) >= max_line and not raw.endswith("\n"):
            raise HeaderProblem(f"{number}: the CSV header is longer than {max_line // 2**20} MiB")
        if raw.strip(" \t\r\n,;"):
            break
    else:
        return None
    # The separator that makes the header name the most required columns (exactly, then
    # but for case), then the most columns; a tie goes to the comma.
    splits = [([cell.strip() for cell in next(csv.reader([raw], delimiter=d))], d) for d in _DELIMITERS]
    header, delimiter = max(
        splits,
        key=lambda split: (
            sum(n in split[0] for n in REQUIRED),
            sum(n in {c.casefold() for c in split[0]} for n in REQUIRED),
            len(split[0]),
        ),
    )
    missing = [n for n in REQUIRED if n not in header]
    if missing:
        raise HeaderProblem(f"{number}: {_header_problem(missing, header)}")
    return header, delimiter, number


def _header_problem(missing: list[str], header: list[str]) -> str:
    shown = ", ".join(_quoted(h) for h in header[:12]) + (f" and {len(header) - 12} more" if len(header) > 12 else "")
    hints = []
    for wanted in missing:
        folded = {h.casefold(): h for h in reversed(header)}  # the first of equal names
        close = difflib.get_close_matches(wanted, folded, 1, 0.75)  # `Member` is the likeliest
        if close:
            hints.append(f"{_quoted(folded[close[0]])} -> {_quoted(wanted)}")
    hint = f"; did you mean {', '.join(hints)}?" if hints else "."
    return (
        f"the CSV header lacks the column(s) {', '.join(missing)} (found {shown}){hint} "
        f"The first row must name the columns (names are case-sensitive), separated by commas, semicolons or tabs."
    )


def _quoted(text: str) -> str:
    shown = orjson.dumps(text).decode()
    return shown if len(shown) <= 60 else shown[:57] + "..."
