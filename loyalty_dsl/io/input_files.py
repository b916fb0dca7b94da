"""Reading a program or a rates file: bounded, from regular files only, decoded with a place.

A program of a few MB is already absurd, and `/dev/zero`, a FIFO or a terminal
would be read for ever: refuse them with one line (an OSError, which the
commands report as "cannot read ...") before reading more than the bound.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from loyalty_dsl.language.diagnostics import Diagnostic, ProgramError

MiB = 1024 * 1024
MAX_PROGRAM_BYTES = 4 * MiB
MAX_RATES_BYTES = 4 * MiB


class InputFileError(OSError):
    """A file that is not read at all: not a regular file, or larger than its bound."""


def read_bounded(path: str | Path, limit: int) -> bytes:
    """The whole content of a regular file of at most `limit` bytes."""
    kind = _kind(os.stat(path).st_mode)  # stat, not open: opening a FIFO would wait for a writer
    if kind is not None:
        raise InputFileError(f"it is {kind}, not a regular file")
    with open(path, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise InputFileError("it is not a regular file")
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise InputFileError(f"it is larger than {limit // MiB} MiB, far more than any such file needs")
    return data


def read_program(path: str | Path, keep_line_ends: bool = False) -> str:
    """A program's text; ProgramError (with line and column) when it is not UTF-8.

    Line ends become `\\n` as in text mode, unless `keep_line_ends` (the formatter
    writes the file back as it found it).
    """
    data = read_bounded(path, MAX_PROGRAM_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise _not_utf8(str(path), data, err) from None
    return text if keep_line_ends else text.replace("\r\n", "\n").replace("\r", "\n")


def _not_utf8(file: str, data: bytes, err: UnicodeDecodeError) -> ProgramError:
    before = data[: err.start].decode("utf-8")
    line = before.count("\n") + 1
    col = len(before) - (before.rfind("\n") + 1) + 1
    bad = data[err.start : err.start + 1].hex().upper()
    diagnostic = Diagnostic(
        file,
        line,
        col,
        col + 1,
        "E003",
        f"the program is not UTF-8 text: byte 0x{bad} here cannot be read",
        "save the file as UTF-8 (it may be Latin-1 or Windows-1252)",
    )
    return ProgramError([diagnostic], data.decode("utf-8", errors="replace"))


def _kind(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "something other than a file"
