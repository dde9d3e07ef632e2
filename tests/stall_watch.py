"""Where the test process stalls: garbage-collection pauses and event-loop lag, each with the
test that was running. A few timing tests (a gateway answering within 2 s) failed once in
several clean-clone runs by about 2 s; these records name what the process was doing then.

Reported at the end of the session (pauses above REPORT_SECONDS) and written to
.run/stalls-<pid>.json; nothing here fails a test.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPORT_SECONDS = 0.25
LAG_PROBE_SECONDS = 0.05


@dataclass
class Stall:
    kind: str  # "gc" (a collection of generation `generation`) or "loop" (event-loop lag)
    seconds: float
    test: str
    generation: int | None = None
    collected: int | None = None


@dataclass
class StallWatch:
    current_test: str = "(session set-up)"
    stalls: list[Stall] = field(default_factory=list)
    _gc_started: float = 0.0
    _probe: asyncio.Task[None] | None = None

    def start(self) -> None:
        gc.callbacks.append(self._on_gc)

    def stop(self) -> None:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._probe is not None:
            self._probe.cancel()

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
            return
        seconds = time.perf_counter() - self._gc_started
        if seconds >= REPORT_SECONDS:
            self.stalls.append(
                Stall(
                    "gc",
                    round(seconds, 3),
                    self.current_test,
                    generation=info.get("generation"),
                    collected=info.get("collected"),
                )
            )

    def watch_loop(self) -> None:
        """Starts the lag probe on the running (session) loop, once."""
        if self._probe is None or self._probe.done():
            self._probe = asyncio.get_running_loop().create_task(self._measure_lag())

    async def _measure_lag(self) -> None:
        while True:
            before, test = time.perf_counter(), self.current_test
            await asyncio.sleep(LAG_PROBE_SECONDS)
            lag = time.perf_counter() - before - LAG_PROBE_SECONDS
            if lag >= REPORT_SECONDS:
                # The loop only runs during async tests and fixtures: a lag that spans tests
                # is mostly the loop not running at all (sync tests), named as such.
                where = test if test == self.current_test else f"{test} .. {self.current_test}"
                self.stalls.append(Stall("loop", round(lag, 3), where))

    def report_lines(self) -> list[str]:
        ordered = sorted(self.stalls, key=lambda s: -s.seconds)
        return [
            f"{s.seconds:7.3f} s  {s.kind}"
            + (f" gen{s.generation} collected {s.collected}" if s.kind == "gc" else "")
            + f"  {s.test}"
            for s in ordered[:30]
        ]

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([asdict(s) for s in self.stalls], indent=1))
