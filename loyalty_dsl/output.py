"""Outcomes out: JSON Lines, CSV or a table for people; files written whole or not at all."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

import orjson

FORMATS = ("jsonl", "csv", "table")


def cell(text: str) -> Any:
    """A table cell shown as written: no console markup, control characters escaped."""
    from rich.text import Text

    shown = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in text)
    return Text(shown)


_CSV_COLUMNS = ("member", "as_of", "points", "tier", "benefits", "grants", "decisions")


@contextlib.contextmanager
def atomic_file(path: str | Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """A file that appears at `path` only once fully written (temporary file + rename).

    A target that exists and is not a regular file (/dev/null, a named pipe) is
    written directly: renaming over it would replace the device or the pipe.
    """
    target = Path(path)
    if target.exists() and not target.is_file():
        with open(target, mode) as direct:
            yield direct
        return
    try:
        fd, tmp = tempfile.mkstemp(prefix=_temporary_prefix(target), dir=target.parent)
    except OSError as err:  # name the file the user asked for, not the temporary one
        raise OSError(err.errno, err.strerror, str(target)) from None
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _temporary_prefix(target: Path) -> str:
    """`.NAME.loyalty-tmp-PID-`: the temporary file of `target` says whose it is, so that the
    ones left beside it by runs that were killed (their process gone) are removed here."""
    prefix = f".{target.name}.loyalty-tmp-"
    if os.name == "posix":  # where os.kill(pid, 0) only asks whether the process is alive
        with contextlib.suppress(OSError):
            for entry in os.scandir(target.parent):
                left = re.fullmatch(re.escape(prefix) + r"([0-9]{1,10})-\w+", entry.name)
                if left and entry.is_file(follow_symlinks=False) and not _alive(int(left[1])):
                    with contextlib.suppress(OSError):  # removed by another run, or not ours to remove
                        os.unlink(entry.path)
    return f"{prefix}{os.getpid()}-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # another user's process, or no number a process can have
        return True
    return True


def json_bytes(value: Any, option: int = 0) -> bytes:
    """JSON, fast; an integer beyond 64 bits (a sum of huge points) falls back to the standard library."""
    try:
        return orjson.dumps(value, option=option)
    except TypeError:
        indent = 2 if option & orjson.OPT_INDENT_2 else None
        separators = (",", ": ") if indent else (",", ":")
        return json.dumps(value, ensure_ascii=False, indent=indent, separators=separators).encode()


def write_outcomes(outcomes: Iterable[dict[str, Any]], fmt: str, out: IO[bytes]) -> int:
    """Write every outcome (as `Outcome.to_json()` gives it) in `fmt`; returns how many."""
    if fmt == "jsonl":
        count = 0
        for o in outcomes:
            out.write(json_bytes(o) + b"\n")
            count += 1
        return count
    if fmt == "csv":
        return _write_csv(outcomes, out)
    return _write_table(outcomes, out)


def _write_csv(outcomes: Iterable[dict[str, Any]], out: IO[bytes]) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    writer = csv.writer(text)
    writer.writerow(_CSV_COLUMNS)
    count = 0
    for j in outcomes:
        writer.writerow(
            [
                j["member"],
                j["as_of"],
                j["points"],
                j["tier"] or "",
                json_bytes(j["benefits"]).decode(),
                json_bytes(j["grants"]).decode(),
                json_bytes(j["decisions"]).decode(),
            ]
        )
        count += 1
    text.detach()
    return count


def _write_table(outcomes: Iterable[dict[str, Any]], out: IO[bytes]) -> int:
    """A table for people: one row per member, readable in an 80-column terminal."""
    from rich.console import Console
    from rich.table import Table

    table = Table(header_style="bold", box=None, pad_edge=False)
    for name, justify in (
        ("member", "left"),
        ("points", "right"),
        ("tier", "left"),
        ("benefits", "right"),
        ("grants", "right"),
        ("decisions granted", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    count = 0
    for j in outcomes:
        granted = sum(1 for d in j["decisions"] if d["granted"])
        table.add_row(
            cell(j["member"]),
            str(j["points"]),
            cell(j["tier"] or "-"),
            str(len(j["benefits"])),
            str(len(j["grants"])),
            f"{granted} of {len(j['decisions'])}" if j["decisions"] else "-",
        )
        count += 1
    text = io.StringIO()
    Console(file=text, width=shutil.get_terminal_size().columns, no_color=True).print(table)
    out.write(text.getvalue().encode())
    return count


def write_json(path: str | Path, value: Any) -> None:
    with atomic_file(path) as handle:
        handle.write(json_bytes(value, orjson.OPT_INDENT_2) + b"\n")
