"""Stage timings: wall and CPU seconds per named stage, carried with each batch and partition result.

Every stage of a batch and of a partition's publish runs inside ``timings.stage(name)``; the
results carry their timings back to the run loop (also from worker processes), which adds them
up and hands them to whoever asked (the benchmark's stage profile). CPU time is the process's
(``time.process_time``: Polars' own threads included), so it is exact when batches run one at a
time in the process, as in the benchmark's profile.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

#: stage name -> [calls, wall seconds, CPU seconds]
Totals = dict[str, list[float]]


class Timings:
    """Wall and CPU time per stage; nested stages count only once, in the innermost stage."""

    def __init__(self) -> None:
        self.totals: Totals = {}
        self._stack: list[list[float]] = []  # per open stage: start wall, start cpu, child wall, child cpu

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        frame = [time.perf_counter(), time.process_time(), 0.0, 0.0]
        self._stack.append(frame)
        try:
            yield
        finally:
            self._stack.pop()
            wall, cpu = time.perf_counter() - frame[0], time.process_time() - frame[1]
            self.add(name, wall - frame[2], cpu - frame[3])
            if self._stack:
                self._stack[-1][2] += wall
                self._stack[-1][3] += cpu

    def add(self, name: str, wall: float, cpu: float, calls: int = 1) -> None:
        total = self.totals.setdefault(name, [0, 0.0, 0.0])
        total[0] += calls
        total[1] += wall
        total[2] += cpu

    def merge(self, totals: Mapping[str, list[float]]) -> None:
        """Add another result's totals (as :attr:`totals` gives them) to these."""
        for name, (calls, wall, cpu) in totals.items():
            self.add(name, wall, cpu, int(calls))
