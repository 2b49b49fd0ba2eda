"""Cold work off the request path: a bounded pool, a bounded queue, and one computation per question.

A request whose answer is cached never waits here (``/v1/ask`` serves it straight from
``Assistant.prepare``). Everything else (the query, the semantic tier, the LLM) runs in this pool:

- **bounded**: ``workers`` threads (DuckDB and the embedding model release the GIL while they
  work; the rules hold it for about a millisecond). At most ``max_queued`` questions wait for a
  thread; one more is ``Overloaded`` (503 with ``Retry-After``), so a burst of new questions sheds
  load instead of making every caller wait.
- **single flight**: a question whose key is already being computed does not queue again; it waits
  for that computation (``Flight.leader`` is False) and is then answered from it.

Each call runs in a copy of the caller's context, so the LLM budget's caller scope and the request
id follow the work into the pool thread.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
import contextvars
from dataclasses import dataclass
import threading
from typing import Generic, TypeVar

from retail_insights.errors import RetryableError

T = TypeVar("T")


class Overloaded(RetryableError):
    """More new questions are waiting than the pool may queue; the caller should retry shortly."""

    retry_after_s = 1


@dataclass(frozen=True)
class Flight(Generic[T]):
    future: Future[T]
    leader: bool      # False: another request started this computation; its result is shared


class ColdPool:
    def __init__(self, *, workers: int, max_queued: int) -> None:
        if workers < 1 or max_queued < 0:
            raise ValueError(f"workers={workers} must be >= 1 and max_queued={max_queued} >= 0")
        self.workers, self.max_queued = workers, max_queued
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="cold")
        self._lock = threading.Lock()
        self._flying: dict[str, tuple[object, Future[object]]] = {}
        self._pending = 0            # submitted and not finished (running + queued)
        self.shared = 0              # requests answered from another request's computation
        self.shed = 0                # requests refused because the queue was full

    @property
    def queued(self) -> int:
        """Questions waiting for a thread (not counting those running)."""
        with self._lock:
            return max(0, self._pending - self.workers)

    def run(self, key: str | None, work: Callable[[], T]) -> Flight[T]:
        """Start ``work`` (or join the computation already running under ``key``)."""
        context = contextvars.copy_context()
        token = object()

        def task() -> T:
            try:
                return context.run(work)
            finally:   # before the result is published: a later request starts a fresh computation
                self._landed(key, token)

        with self._lock:
            if key is not None and key in self._flying:
                self.shared += 1
                return Flight(self._flying[key][1], leader=False)  # type: ignore[arg-type]
            if self._pending >= self.workers + self.max_queued:
                self.shed += 1
                raise Overloaded(f"{self._pending - self.workers} new questions are already waiting "
                                 f"(the limit is {self.max_queued}).",
                                 hint="Retry after a few seconds; cached questions are still answered.")
            self._pending += 1
            future = self._executor.submit(task)
            if key is not None:
                self._flying[key] = (token, future)   # type: ignore[assignment]
        return Flight(future, leader=True)

    def _landed(self, key: str | None, token: object) -> None:
        with self._lock:
            self._pending -= 1
            if key is not None and key in self._flying and self._flying[key][0] is token:
                del self._flying[key]

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
