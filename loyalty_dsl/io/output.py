"""Outcomes out: JSON Lines, CSV or a table for people; files written whole or not at all."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import re
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
    """A new file `.NAME.loyalty-tmp-PID-XXXXXXXX` beside `target`, created with the umask's
    permissions (tempfile.mkstemp would make it 0600 whatever the umask). It says whose it is,
    so that the ones left beside it by runs that were killed are removed (_temporary_prefix)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    prefix = _temporary_prefix(target)
    for _ in range(100):
        tmp = target.parent / f"{prefix}{secrets.token_hex(4)}"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(target))


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
        from loyalty_dsl.io.csv_out import write_csv

        return write_csv(outcomes, out, raw=csv_raw)
    return _write_table(outcomes, out)


TABLE_NOTE = "the table shows points, tier and counts; every field with --format jsonl or csv"
_CONTINUED = "\u21b3"  # starts every further line of a value folded in its column
_LONGEST = 200  # characters of a member id a table shows; --format jsonl or csv give it whole
_SPACE = re.compile(r"\s")
_MEMBER_WIDTH = 12  # the narrowest the member column gets before lines grow past the terminal


def shown_id(text: str) -> str:
    """A member id as a table shows it: as written when that is unambiguous, else quoted.

    Quoted (JSON style, escapes visible) when it is empty, holds a space or a character
    that does not print, or starts with a quote or the continuation mark: written as is,
    such an id could pass for several cells, an empty cell or a folded line. An id
    longer than _LONGEST characters shows its start, its length and a digest of it all,
    so that two ids alike for that long still look different.
    """
    head = text[:_LONGEST]
    if text and text.isprintable() and not _SPACE.search(text) and text[0] not in ('"', _CONTINUED):
        shown = head
    else:
        quoted = json.dumps(head, ensure_ascii=False)
        shown = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in quoted)
        if len(text) > _LONGEST:
            shown = shown[:-1]  # the closing quote: the id goes on
    if len(text) > _LONGEST:
        digest = hashlib.blake2s(text.encode("utf-8", "surrogatepass"), digest_size=4).hexdigest()
        shown += f"\u2026[{len(text)} characters, #{digest}]"
    return shown


class Folded:
    """A value that never wraps at its spaces nor is cut: past its column's width it folds,
    and every further line starts with the continuation mark, so that none reads as a row."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __rich_measure__(self, console: Any, options: Any) -> Any:
        from rich.cells import cell_len
        from rich.measure import Measurement

        width = cell_len(self.text)
        return Measurement(min(width, 8), width)

    def __rich_console__(self, console: Any, options: Any) -> Iterator[Any]:
        from rich.cells import cell_len, chop_cells
        from rich.text import Text

        width = max(options.max_width, 2)
        if cell_len(self.text) <= width:
            yield Text(self.text, no_wrap=True)
            return
        first = chop_cells(self.text, width)[0]
        rest = chop_cells(self.text[len(first) :], width - 1)
        yield Text("\n".join([first, *(_CONTINUED + part for part in rest)]), no_wrap=True, overflow="crop")


def _write_table(outcomes: Iterable[dict[str, Any]], out: IO[bytes]) -> int:
    """A table for people: one row per member, readable in an 80-column terminal.

    Only the member column folds (marked, see Folded); the other cells are short and
    never wrap: a terminal too narrow for them gets lines as long as they need.
    """
    from rich.cells import cell_len
    from rich.console import Console
    from rich.table import Table

    headers = ("member", "points", "tier", "benefits", "grants", "decisions granted")
    rows = []
    for j in outcomes:
        granted = sum(1 for d in j["decisions"] if d["granted"])
        rows.append(
            (
                shown_id(j["member"]),
                str(j["points"]),
                cell(j["tier"] or "-"),
                str(len(j["benefits"])),
                str(len(j["grants"])),
                f"{granted} of {len(j['decisions'])}" if j["decisions"] else "-",
            )
        )
    table = Table(header_style="bold", box=None, pad_edge=False)
    for i, name in enumerate(headers):
        justify = "left" if name in ("member", "tier") else "right"
        table.add_column(name, justify=justify, no_wrap=i > 0, min_width=_MEMBER_WIDTH if i == 0 else None)  # type: ignore[arg-type]
    for member, *rest in rows:
        table.add_row(Folded(member), *rest)
    others = sum(max(cell_len(str(c)) for c in column) for column in list(zip(headers, *rows, strict=True))[1:])
    needed = _MEMBER_WIDTH + others + 2 * (len(headers) - 1)  # a space each side between columns
    text = io.StringIO()
    Console(file=text, width=max(shutil.get_terminal_size().columns, needed), no_color=True).print(table)
    out.write(text.getvalue().encode())
    return len(rows)


def write_json(path: str | Path, value: Any) -> None:
    """Indented JSON to a file, whole or not at all; `-` is standard output."""
    data = json_bytes(value, orjson.OPT_INDENT_2) + b"\n"
    if str(path) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    with atomic_file(path) as handle:
        handle.write(data)
