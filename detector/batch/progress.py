"""Progress bars: documents done of all, documents per second, time left — for ``gouji scan`` and for
``gouji check`` on many files.

Why a wrapper: the scan reports progress in three phases (hashing, checking, writing) from one thread, and must
run silently with ``--quiet``, in a pipe or in CI; this class is the one place that knows whether a bar is shown.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Documents per second over the work done in this run (skipped documents do not count)."""

    def render(self, task: Task) -> Text:
        started = task.fields.get("started")
        done = task.completed - task.fields.get("base", 0)
        if not started or done <= 0:
            return Text("– 份/s docs/s", style="progress.data.speed")
        rate = done / max(time.perf_counter() - started, 1e-9)
        return Text(f"{rate:.1f} 份/s docs/s", style="progress.data.speed")


class ScanProgress:
    """A rich progress bar on stderr when ``enabled``; every method is a no-op otherwise."""

    def __init__(self, total: int, enabled: bool, console: Console | None = None) -> None:
        self.total = total
        self.errors = 0
        self.progress: Progress | None = None
        if enabled:
            self.progress = Progress(
                TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
                TextColumn("{task.fields[errors]} error"), TimeElapsedColumn(), TextColumn("ETA"),
                TimeRemainingColumn(), console=console or Console(stderr=True), transient=False)
            self.task = self.progress.add_task("", total=total, errors=0, base=0, started=None)

    def __enter__(self) -> ScanProgress:
        if self.progress:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress:
            self.progress.stop()

    def phase(self, name: str, done: int | None = None) -> None:
        if not self.progress:
            return
        fields: dict = {"description": name}
        if done is not None:
            # The checking phase restarts the count: skipped documents are done already.
            self.progress.reset(self.task, total=self.total, completed=done, description=name,
                                errors=self.errors, base=done, started=time.perf_counter())
            return
        self.progress.update(self.task, **fields)

    def hashed(self) -> None:
        if self.progress:
            self.progress.advance(self.task)

    def advance(self, error: bool) -> None:
        if error:
            self.errors += 1
        if self.progress:
            self.progress.update(self.task, advance=1, errors=self.errors)


@contextmanager
def document_progress(total: int, label: str = "检查 / checking") -> Iterator[Callable[[], None]]:
    """For ``gouji check`` on many files: a bar on stderr (documents/s, ETA) when stderr is a terminal and there
    is more than one document; yields the function to call after each document. Findings printed to a
    redirected stdout go there untouched; printed to the terminal, they scroll above the bar."""
    if total < 2 or not sys.stderr.isatty():
        yield lambda: None
        return
    progress = Progress(
        TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), RateColumn(), TimeElapsedColumn(),
        TextColumn("ETA"), TimeRemainingColumn(), console=Console(stderr=True), transient=True,
        redirect_stdout=sys.stdout.isatty())
    task = progress.add_task("", total=total, base=0, started=time.perf_counter())
    with progress:
        yield lambda: progress.advance(task)
