"""One timer thread for every query's time limit, instead of a new ``threading.Timer`` per query.

Starting a thread per query costs about a millisecond on a busy two-core machine, which is most of a
cached warehouse query. ``WATCHDOG.arm(seconds, action)`` schedules ``action`` (an interrupt) and
returns a token; ``disarm(token)`` cancels it once the query is back. The thread starts on first use
and sleeps until the nearest deadline.
"""

from __future__ import annotations

from collections.abc import Callable
import heapq
import itertools
import logging
import threading
import time

log = logging.getLogger(__name__)


class Watchdog:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._wake = threading.Condition()
        self._heap: list[tuple[float, int]] = []
        self._actions: dict[int, Callable[[], object]] = {}
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float, action: Callable[[], object]) -> int:
        """Run ``action`` in ``seconds`` unless disarmed first; the token for ``disarm``."""
        token = next(self._ids)
        with self._wake:
            self._actions[token] = action
            heapq.heappush(self._heap, (self._clock() + seconds, token))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="query-watchdog", daemon=True)
                self._thread.start()
            self._wake.notify()
        return token

    def disarm(self, token: int) -> None:
        with self._wake:
            self._actions.pop(token, None)   # its heap entry is skipped when it comes due

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._heap or self._heap[0][0] > self._clock():
                    timeout = None if not self._heap else self._heap[0][0] - self._clock()
                    self._wake.wait(timeout)
                _, token = heapq.heappop(self._heap)
                action = self._actions.pop(token, None)
            if action is not None:
                try:
                    action()
                except Exception:  # noqa: BLE001 - one failed interrupt must not stop the watchdog
                    log.warning("query time-limit action failed", exc_info=True)


WATCHDOG = Watchdog()
