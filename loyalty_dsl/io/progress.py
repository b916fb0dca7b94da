"""A progress display on standard error, for long runs at a terminal only."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_DELAY = 1.0  # seconds before anything shows: short runs stay silent


class Progress:
    """Counts of events read and members evaluated, with a rate; silent when disabled."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._started = time.monotonic()
        self._bar: Any = None
        self._read_task: Any = None
        self._member_task: Any = None
        self._phase: str | None = None
        self._phase_task: Any = None
        self._lock = threading.Lock()  # the display may start from the timer's thread
        self._timer: threading.Timer | None = None

    def phase(self, description: str | None) -> None:
        """A stage without counts (a bulk read, a query), shown with its time; None ends it.

        Nothing else reports during such a stage, so a timer starts the display when it is due.
        """
        self._phase = description
        if not self.enabled:
            return
        if self._bar is None and self._timer is None:
            self._timer = threading.Timer(max(0.0, _DELAY - (time.monotonic() - self._started)), self._show_phase)
            self._timer.daemon = True
            self._timer.start()
        self._show_phase()

    def _show_phase(self) -> None:
        with self._lock:
            if not self._show():
                return
            if self._phase_task is not None:
                self._bar.remove_task(self._phase_task)
                self._phase_task = None
            if self._phase is not None:
                self._phase_task = self._bar.add_task(self._phase, total=None, rate="")

    def _show(self) -> bool:
        if not self.enabled:
            return False
        if self._bar is None and time.monotonic() - self._started >= _DELAY:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._bar.start()
        return self._bar is not None

    def read(self, lines: int) -> None:
        if self._show():
            if self._read_task is None:
                self._read_task = self._bar.add_task("events read", total=None, rate="")
            rate = lines / max(time.monotonic() - self._started, 1e-9)
            self._bar.update(self._read_task, completed=lines, rate=f"{rate:,.0f}/s")

    def members(self, total: int) -> None:
        self._members_total, self._members_done, self._members_started = total, 0, time.monotonic()

    def evaluated(self, count: int) -> None:
        self._members_done += count
        if self._show():
            if self._member_task is None:
                self._member_task = self._bar.add_task("members evaluated", total=self._members_total, rate="")
            rate = self._members_done / max(time.monotonic() - self._members_started, 1e-9)
            self._bar.update(self._member_task, completed=self._members_done, rate=f"{rate:,.0f}/s")

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        with self._lock:
            if self._bar is not None:
                self._bar.stop()


@contextmanager
def progress(quiet: bool) -> Iterator[Progress]:
    shown = Progress(enabled=not quiet and sys.stderr.isatty())
    try:
        yield shown
    finally:
        shown.close()
