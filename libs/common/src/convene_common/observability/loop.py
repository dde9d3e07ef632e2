"""Event-loop lag and garbage-collection pauses, the two ways a service stalls every request
at once while its own code looks idle.

``watch_loop_lag`` runs in each app's lifespan: it asks to wake every ``interval`` seconds
and records how late it woke (``convene_event_loop_lag_seconds``): a request that holds the
loop (a blocking call, a CPU-heavy pass) delays every other request by that much. GC pauses
are timed through ``gc.callbacks`` once per process (``convene_gc_pause_seconds`` by
generation, served by every app of the process).
"""

from __future__ import annotations

import asyncio
import gc
import threading
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import Histogram

LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
GC_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
LAG_INTERVAL_SECONDS = 0.1


async def watch_loop_lag(histogram: Histogram, *, interval: float = LAG_INTERVAL_SECONDS) -> None:
    """Forever: sleep ``interval`` and record the lateness of the wake-up. Cancel to stop."""
    loop = asyncio.get_running_loop()
    while True:
        expected = loop.time() + interval
        await asyncio.sleep(interval)
        histogram.observe(max(0.0, loop.time() - expected))


GcRecorder = Callable[[str, float], None]
"""Called with (generation, pause seconds) after each collection."""


class _GcTimer:
    """One per process: gc.callbacks is process-wide; each pause goes to every registered
    recorder (one per app: tests run several apps in one process)."""

    def __init__(self) -> None:
        self._recorders: list[GcRecorder] = []
        self._started: float | None = None
        self._lock = threading.Lock()

    def add(self, recorder: GcRecorder) -> None:
        with self._lock:
            if not self._recorders:
                gc.callbacks.append(self._callback)
            self._recorders.append(recorder)

    def remove(self, recorder: GcRecorder) -> None:
        with self._lock:
            if recorder in self._recorders:
                self._recorders.remove(recorder)
            if not self._recorders and self._callback in gc.callbacks:
                gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        if self._started is None:
            return
        pause, self._started = time.perf_counter() - self._started, None
        generation = str(info.get("generation", "?"))
        for record in list(self._recorders):
            record(generation, pause)


GC_TIMER = _GcTimer()
