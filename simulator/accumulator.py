"""Counters that grow from elapsed time, so ``rate()`` over them is what the scenario says.

Each series has a current rate (per second); reading it integrates the rate over the time
since that series was last read. A scenario switch changes rates, never the values already
counted, so counters stay monotonic across switches.
"""
from __future__ import annotations

import threading
import time
from typing import Callable, Hashable


class Accumulator:
    """Monotonic per-series totals driven by per-series rates."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, head_start: float = 60.0):
        self._clock = clock
        self._lock = threading.Lock()
        self._state: dict[Hashable, tuple[float, float]] = {}  # key -> (value, last read)
        self._head_start = head_start  # a new series starts as if it had run this long

    def read(self, key: Hashable, rate: float) -> float:
        """The total of ``key`` after adding ``rate * elapsed`` since its last read."""
        if rate < 0:
            raise ValueError(f"negative rate for counter {key!r}")
        with self._lock:
            now = self._clock()
            if key not in self._state:
                value = rate * self._head_start
            else:
                value, last = self._state[key]
                value += rate * max(0.0, now - last)
            self._state[key] = (value, now)
            return value
