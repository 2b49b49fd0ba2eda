"""Process-wide counters of the LLM tier, for metrics endpoints and benchmarks to read.

Each answer also carries its own numbers (``llm_calls``, ``cost_usd``, ``interpretation["llm"]["tokens"]``),
which is what ``assistant.http.metrics`` counts per request; these counters add what an answer does
not show: provider failures, fallbacks, retries, repairs and refusals by reason. ``snapshot()``
returns plain numbers; ``reset()`` is for tests and benchmarks.
"""

from __future__ import annotations

from collections import Counter
import threading
from typing import Any


class LLMUsage:
    """Thread-safe running totals since the process started (or the last ``reset``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._numbers: Counter[str] = Counter()
            self._cost_usd = 0.0
            self._outcomes: Counter[str] = Counter()
            self._reasons: Counter[str] = Counter()

    def add_call(self, *, model: str, outcome: str, prompt_tokens: int, completion_tokens: int,
                 cost_usd: float) -> None:
        with self._lock:
            self._numbers["calls"] += 1
            self._numbers[f"calls_{outcome}"] += 1
            self._numbers["prompt_tokens"] += prompt_tokens
            self._numbers["completion_tokens"] += completion_tokens
            self._cost_usd += cost_usd

    def add(self, name: str, amount: int = 1) -> None:
        """Count an event: ``fallbacks``, ``retries``, ``repairs``, ``proposals``, ``promotions``."""
        with self._lock:
            self._numbers[name] += amount

    def add_result(self, *, status: str, reason: str | None) -> None:
        with self._lock:
            self._outcomes[status] += 1
            if reason:
                self._reasons[reason] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            numbers = dict(self._numbers)
            return {
                "calls": numbers.pop("calls", 0),
                "prompt_tokens": numbers.pop("prompt_tokens", 0),
                "completion_tokens": numbers.pop("completion_tokens", 0),
                "cost_usd": round(self._cost_usd, 8),
                "events": numbers,
                "results": dict(self._outcomes),
                "reasons": dict(self._reasons),
            }


USAGE = LLMUsage()


def snapshot() -> dict[str, Any]:
    """``USAGE.snapshot()``: calls, tokens, cost, events, results by status and reasons."""
    return USAGE.snapshot()
