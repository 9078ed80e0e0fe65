"""Per-stage progress with throughput (docs/s, MB/s), on a terminal or as plain log lines."""

from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

console = Console(stderr=True, highlight=False)
if not console.is_terminal:  # logs of CI and Ray jobs: wide enough for the summary tables
    console = Console(stderr=True, highlight=False, width=140)


def log(msg: str) -> None:
    console.print(msg)


class StageProgress:
    """Counts parts as they finish and shows documents and bytes per second of the stage."""

    def __init__(self, label: str, total_parts: int, unit: str = "docs"):
        self.label = label
        self.total = total_parts
        self.unit = unit
        self.docs = 0
        self.nbytes = 0
        self.done = 0
        self.t0 = time.perf_counter()
        self._last_log = 0.0
        self._progress: Progress | None = None
        if console.is_terminal:
            self._progress = Progress(
                TextColumn("[bold]{task.description:<10}"),
                BarColumn(bar_width=24),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                console=console,
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task(label, total=max(total_parts, 1), rate="")

    def rate(self) -> str:
        dt = max(time.perf_counter() - self.t0, 1e-9)
        return f"{self.docs / dt:,.0f} {self.unit}/s  {self.nbytes / dt / 1e6:,.2f} MB/s"

    def advance(self, docs: int, nbytes: int) -> None:
        self.done += 1
        self.docs += docs
        self.nbytes += nbytes
        if self._progress is not None:
            self._progress.update(self._task, completed=self.done, rate=self.rate())
        elif time.perf_counter() - self._last_log > 2 or self.done == self.total:
            self._last_log = time.perf_counter()
            print(f"[{self.label}] {self.done}/{self.total} parts  {self.docs:,} {self.unit}  {self.rate()}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=max(self.total, 1), rate=self.rate())
            self._progress.stop()
