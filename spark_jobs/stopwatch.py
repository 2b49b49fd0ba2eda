"""Where a batch's time went: seconds per phase, summed over repeated laps of one name."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
import time


@dataclass
class Stopwatch:
    """Seconds spent per phase of a batch (reported in the summary; benchmarks read them)."""

    laps: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def lap(self, name: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            self.laps[name] = round(self.laps.get(name, 0.0) + time.perf_counter() - began, 3)
