"""The simulation clock: frozen (tests, golden files) or following wall time (the demo)."""

from __future__ import annotations

import datetime as dt
import threading
import time

FROZEN_EPOCH = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)


class SimClock:
    def __init__(self, start: dt.datetime | None = None, *, frozen: bool = True, speed: float = 1.0) -> None:
        if start is None:
            start = FROZEN_EPOCH if frozen else dt.datetime.now(dt.UTC).replace(microsecond=0)
        self.start = start
        self.frozen = frozen
        self.speed = speed
        self._t0 = time.monotonic()
        self._offset = 0.0
        self._lock = threading.Lock()

    def elapsed(self) -> float:
        """Simulated seconds since start."""
        with self._lock:
            wall = 0.0 if self.frozen else (time.monotonic() - self._t0) * self.speed
            return wall + self._offset

    def now(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self.elapsed())

    def advanced(self) -> float:
        """Seconds moved forward by hand (``advance``), on top of any wall time that passed."""
        with self._lock:
            return self._offset

    def advance(self, seconds: float) -> None:
        """Move simulated time forward (frozen or not)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds


def iso(t: dt.datetime) -> str:
    """ISO-8601 UTC with a Z, as Azure writes it."""
    t = t.astimezone(dt.UTC)
    if t.microsecond:
        return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")
