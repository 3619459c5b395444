"""The command's progress line on a terminal."""

from __future__ import annotations

import time
from typing import Any

from exports.runs import Run


class Progress:
    """A one-line progress report on a terminal: rows done of the total, and the rate."""

    def __init__(self, stream: Any, run: Run) -> None:
        self.stream = stream
        self.run = run
        #: Counted in the first update, which comes before the first row inside the run's snapshot, so that it agrees
        #: with the rows written (and runs before a COPY takes the connection).
        self.total: int | None = None
        self.started = time.monotonic()
        self.last = 0.0

    def update(self, run: Run) -> None:
        if self.total is None:
            self.total = run.request.count()
        now = time.monotonic()
        if now - self.last < 0.2:
            return
        self.last = now
        self._write(run.rows_sent, now)

    def finish(self) -> None:
        self._write(self.run.rows_sent, time.monotonic())
        self.stream.write("\n")
        self.stream.flush()

    def _write(self, rows: int, now: float) -> None:
        elapsed = max(now - self.started, 1e-6)
        total = f" / {self.total:,}" if self.total is not None else ""
        percent = f" ({rows / self.total:.0%})" if self.total else ""
        self.stream.write(f"\r{rows:,}{total} rows{percent}, {rows / elapsed:,.0f} rows/s ")
        self.stream.flush()
