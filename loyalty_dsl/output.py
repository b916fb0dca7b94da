"""Outcomes out: JSON Lines, CSV or a table for people; files written whole or not at all."""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import secrets
import shutil
import stat
import sys
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


@contextlib.contextmanager
def atomic_file(path: str | Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """A file that appears at `path` only once fully written (temporary file + rename).

    A symlink is written through: the temporary file is made beside the file it points
    to, which is replaced, so the link stays a link. An existing file keeps its
    permissions; a new one gets those the umask gives. A target that exists and is not
    a regular file (/dev/null, a named pipe) is written directly: renaming over it
    would replace the device or the pipe.
    """
    target = Path(os.path.realpath(path))
    try:
        existing: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        existing = None
    except OSError as err:
        raise OSError(err.errno, err.strerror, str(path)) from None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        with open(target, mode) as direct:
            yield direct
        return
    try:  # name the file the user asked for, not the temporary one
        fd, tmp = _temporary_beside(target)
        if existing is not None:
            os.fchmod(fd, stat.S_IMODE(existing.st_mode))
    except OSError as err:
        raise OSError(err.errno, err.strerror, str(path)) from None
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


def _temporary_beside(target: Path) -> tuple[int, Path]:
    """A new file `.NAME.XXXXXXXX.tmp` beside `target`, created with the umask's permissions
    (tempfile.mkstemp would make it 0600 whatever the umask)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(target))


def json_bytes(value: Any, option: int = 0) -> bytes:
    """JSON, fast; an integer beyond 64 bits (a sum of huge points) falls back to the standard library."""
    try:
        return orjson.dumps(value, option=option)
    except TypeError:
        indent = 2 if option & orjson.OPT_INDENT_2 else None
        separators = (",", ": ") if indent else (",", ":")
        return json.dumps(value, ensure_ascii=False, indent=indent, separators=separators).encode()


def write_outcomes(outcomes: Iterable[dict[str, Any]], fmt: str, out: IO[bytes], csv_raw: bool = False) -> int:
    """Write every outcome (as `Outcome.to_json()` gives it) in `fmt`; returns how many.

    `csv_raw` writes CSV text cells as they are, even those a spreadsheet runs as formulas.
    """
    if fmt == "jsonl":
        count = 0
        for o in outcomes:
            out.write(json_bytes(o) + b"\n")
            count += 1
        return count
    if fmt == "csv":
        from loyalty_dsl.csv_out import write_csv

        return write_csv(outcomes, out, raw=csv_raw)
    return _write_table(outcomes, out)


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
    """Indented JSON to a file, whole or not at all; `-` is standard output."""
    data = json_bytes(value, orjson.OPT_INDENT_2) + b"\n"
    if str(path) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    with atomic_file(path) as handle:
        handle.write(data)
