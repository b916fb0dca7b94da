"""Rejected and repeated lines without limit, in bounded memory.

A reader keeps the first `KEPT` rejections and repeats in memory (what standard
error shows, what the API gives) and counts them all. While a summary is asked
for (`spooling`), it also writes every one, as it goes, to a spool file of its
own beside the summary; the summary is then written from the spool files,
merged back in input order, into a temporary file renamed at the end (whole or
not at all). Forked workers inherit the spooling and write their own files.
"""

from __future__ import annotations

import contextlib
import heapq
import os
import secrets
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Protocol

import orjson

from loyalty_dsl.io.output import atomic_file

KEPT = 1000  # rejections (and repeats) held in memory; the counts and the spool hold them all
KINDS = ("rejections", "duplicates")

_prefix: str | None = None  # while spooling: spool files are named `<prefix><random>.spool`


@contextlib.contextmanager
def spooling(summary: str) -> Iterator[str]:
    """Readers spool every rejection and repeat while this lasts, into files beside
    `summary` (or in the temporary folder where that folder cannot be written), all
    removed at the end."""
    global _prefix
    folder = Path(summary).parent
    if not (folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)):
        folder = Path(tempfile.gettempdir())
    # One name for this run's files, workers' included, so that all are found and removed.
    previous, _prefix = _prefix, str(folder / f".{Path(summary).name}.{secrets.token_hex(4)}.")
    prefix = _prefix
    try:
        yield prefix
    finally:
        _prefix = previous
        for leftover in Path(prefix).parent.glob(Path(prefix).name + "*.spool"):
            with contextlib.suppress(OSError):
                leftover.unlink()


class Spool:
    """One reader's spool file: every rejection and repeat, in input order, opened at the first."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.path: str | None = None
        self._handle: IO[bytes] | None = None

    @classmethod
    def if_spooling(cls, prefix: str | None = None) -> Spool | None:
        """A spool named by `prefix`, else by the current spooling's; None if neither."""
        prefix = prefix or _prefix
        return cls(prefix) if prefix is not None else None

    def copy(self, chunks: Iterable[bytes]) -> list[str]:
        """Another spool's bytes (fetched from a Dask worker) as this spool's file."""
        for chunk in chunks:
            self.add_bytes(chunk)
        return self.close()

    def add(self, kind: str, seq: int, entry: dict[str, Any]) -> None:
        self.add_bytes(orjson.dumps([kind, seq, entry]) + b"\n")

    def add_bytes(self, data: bytes) -> None:
        if self._handle is None:
            folder, name = os.path.split(self.prefix)
            fd, self.path = tempfile.mkstemp(prefix=name, suffix=".spool", dir=folder or None)
            self._handle = os.fdopen(fd, "wb")
        self._handle.write(data)

    def close(self) -> list[str]:
        """The spool files to read back (none if nothing was spooled)."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        return [self.path] if self.path is not None else []


def spooled(paths: Iterable[str], kind: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(input position, entry) of one kind from spool files, merged in input order."""
    return heapq.merge(*(_read(path, kind) for path in paths), key=lambda item: item[0])


def _read(path: str, kind: str) -> Iterator[tuple[int, dict[str, Any]]]:
    with open(path, "rb") as handle:
        for line in handle:
            found, seq, entry = orjson.loads(line)
            if found == kind:
                yield seq, entry


class Accounted(Protocol):
    def counts(self) -> dict[str, int]: ...

    def entries(self, kind: str) -> Iterator[dict[str, Any]]: ...


def write_summary(path: str, acc: Accounted) -> None:
    """The summary as `orjson.OPT_INDENT_2` writes {"events", "rejections", "duplicates"},
    byte for byte, but streamed: each entry is read from the spool as it is written."""
    indent = orjson.OPT_INDENT_2
    to_stdout = str(path) == "-"
    with contextlib.nullcontext(sys.stdout.buffer) if to_stdout else atomic_file(path) as out:
        out.write(b'{\n  "events": ' + _indented(orjson.dumps(acc.counts(), option=indent), 2))
        for kind in KINDS:
            out.write(f',\n  "{kind}": '.encode())
            first = True
            for entry in acc.entries(kind):
                out.write(b"[\n    " if first else b",\n    ")
                out.write(_indented(orjson.dumps(entry, option=indent), 4))
                first = False
            out.write(b"[]" if first else b"\n  ]")
        out.write(b"\n}\n")
        out.flush()


def _indented(text: bytes, spaces: int) -> bytes:
    return text.replace(b"\n", b"\n" + b" " * spaces)  # JSON strings hold no raw newline


def spooling_now() -> bool:
    return _prefix is not None
