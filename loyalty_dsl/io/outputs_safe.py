"""Outputs that cannot destroy what a command reads, checked before anything is read.

An output naming an input (however spelt: `./h.jsonl`, a symlink, a hard link) would
be read and then replaced; two outputs naming one file would overwrite each other.
Both are refused, as is writing to a standard output that is closed.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable, Mapping

from loyalty_dsl.io.history import HistoryError, expand_paths

STANDARD_OUTPUT = "-"


class OutputRefused(Exception):
    """An output that would overwrite an input or another output, or that cannot be written."""


def _identity(path: str) -> tuple[int, int] | str | None:
    """What two spellings of one file share: device and inode of an existing regular file,
    the resolved path of one still to be created (a dangling symlink resolves to where it
    points). None for what is not a regular file (/dev/null, a pipe): writing to it
    replaces nothing, so it may be named twice."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return os.path.realpath(path)
    except OSError:  # unreadable, a loop of links: the reader or the writer will say so
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISREG(st.st_mode) else None


def history_files(paths: Iterable[str]) -> list[str]:
    """The files a history stands for (a folder: the history files in it)."""
    try:
        return expand_paths(paths)
    except HistoryError:  # reported when the history is read
        return list(paths)


def refuse_clashes(inputs: Mapping[str, Iterable[str | None]], outputs: Mapping[str, str | None]) -> None:
    """Raise OutputRefused when an output names an input or another output, or when more
    than one output, or a closed one, is standard output.

    `inputs` maps a role ("the program") to its paths; `outputs` maps an option
    ("--summary") to its path, `-` for standard output and None when not asked for.
    """
    named: dict[tuple[int, int] | str, str] = {}
    for role, paths in inputs.items():
        for path in paths:
            if path is not None and path != STANDARD_OUTPUT:
                identity = _identity(path)
                if identity is not None:
                    named.setdefault(identity, f"{role} {path}")
    to_stdout = [option for option, path in outputs.items() if path == STANDARD_OUTPUT]
    if len(to_stdout) > 1:
        raise OutputRefused(f"{' and '.join(to_stdout)} would both write to standard output; give one of them a file")
    if to_stdout and sys.stdout is None:
        what = to_stdout[0]
        hint = f"give {what} a file" if what.startswith("-") else f"nowhere to write {what}"
        raise OutputRefused(f"standard output is closed; {hint}")
    written: dict[tuple[int, int] | str, str] = {}
    for option, path in outputs.items():
        if path is None or path == STANDARD_OUTPUT:
            continue
        identity = _identity(path)
        if identity is None:
            continue
        if identity in named:
            raise OutputRefused(
                f"{option} {path} is {named[identity]}: refusing to overwrite an input; nothing was run"
            )
        if identity in written:
            raise OutputRefused(
                f"{written[identity]} and {option} {path} are the same file: give each output its own; nothing was run"
            )
        written[identity] = f"{option} {path}"
