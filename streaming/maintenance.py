"""Work after the commits, off the ingest path: view refresh and compaction, in one helper process.

After each micro-batch the consumer hands over the (year, month) partitions it touched. The
helper refreshes the hourly and daily views for them (``warehouse.views.refresh``) at most every
``views_every_s``, and Z-orders the partitions touched since the last time every
``compact_every_s`` (a stream writes a few small files per partition every batch). Partitions
that arrive in between are merged into the next run. Freshness is measured at the Delta commit:
the silver table is queryable from then on, and the views follow within ``views_every_s`` plus
the refresh itself.

Why an interval, a process and a lower CPU priority: a refresh recomputes whole (year, month)
partitions and rewrites the DuckDB file; run after every 2-second batch it would take one of the
two cores for itself and the ingest's freshness would suffer for views nobody reads every 2
seconds. A thread of the consumer would also hold the consumer's GIL while it builds SQL, which
no niceness undoes; so a background thread only schedules, and the work runs in one spawned
process at a lower priority that dies with the consumer.

A failed refresh is recorded and retried with the next partitions; a crash loses the queue,
which the views DAG (``refresh`` without partitions) catches up from the Delta log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
import ctypes
import logging
import multiprocessing
import os
from pathlib import Path
import signal
import threading
import time

log = logging.getLogger("streaming.maintenance")

Partition = tuple[int, ...]
_NICENESS = 10  # the helper process yields the CPU to the ingest
_PR_SET_PDEATHSIG = 1


class Maintenance:
    def __init__(self, dataset: str, table_path: Path, *, refresh_views: bool,
                 views_every_s: float = 30.0, compact_every_s: float | None = 300.0) -> None:
        self.dataset = dataset
        self.table_path = table_path
        self.refresh_views = refresh_views
        self.views_every_s = views_every_s
        self.compact_every_s = compact_every_s
        self.refreshes = 0
        self.compactions = 0
        self.errors: list[str] = []
        self._views: set[Partition] = set()
        self._compact: set[Partition] = set()
        self._last_views = self._last_compact = time.monotonic()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = False
        self._thread: threading.Thread | None = None
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, partitions: Iterable[Partition]) -> None:
        parts = {tuple(p) for p in partitions}
        if not parts or not (self.refresh_views or self.compact_every_s):
            return
        with self._lock:
            if self.refresh_views:
                self._views |= parts
            if self.compact_every_s:
                self._compact |= parts
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="stream-maintenance", daemon=True)
            self._thread.start()
        self._wake.set()

    def close(self) -> None:
        """Refresh the views for what is still queued (not compaction), then stop the thread."""
        self._closing = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        try:
            self._loop()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)

    def _loop(self) -> None:
        while True:
            self._wake.wait(timeout=1.0)
            self._wake.clear()
            now = time.monotonic()
            views = self._take("_views", due=self._closing or now - self._last_views >= self.views_every_s)
            compact = self._take("_compact", due=not self._closing and self.compact_every_s is not None
                                 and now - self._last_compact >= self.compact_every_s)
            if compact:
                self._safely("compact", self._compact_now, compact)
                self._last_compact = time.monotonic()
            if views:
                self._safely("refresh views", self._refresh_now, views)
                self._last_views = time.monotonic()
            with self._lock:
                if self._closing and not self._views:
                    return

    def _call(self, function: Callable[..., None], *args: object) -> None:
        """Run ``function(*args)`` in the helper process (started on first use) and wait for it."""
        if self._pool is None:
            # Created from this thread, so the helper's parent-death signal follows the consumer.
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn"), initializer=_helper_init
            )
        try:
            self._pool.submit(function, *args).result()
        except BrokenProcessPool:
            self._pool = None  # the helper died; the next call starts a new one
            raise

    def _take(self, name: str, *, due: bool) -> set[Partition]:
        with self._lock:
            if not due:
                return set()
            taken = getattr(self, name)
            setattr(self, name, set())
            return taken

    def _safely(self, what: str, action: Callable[[set[Partition]], None],
                partitions: set[Partition]) -> None:
        try:
            action(partitions)
        except Exception as error:  # noqa: BLE001 - recorded and retried; ingest goes on
            message = f"{what} for {sorted(partitions)} failed: {type(error).__name__}: {error}"
            log.warning(message)
            self.errors.append(message[:500])
            if what == "refresh views" and not self._closing:
                with self._lock:
                    self._views |= partitions  # retried with the next partitions

    def _refresh_now(self, partitions: set[Partition]) -> None:
        self._call(_refresh_views, self.dataset, partitions)
        self.refreshes += 1

    def _compact_now(self, partitions: set[Partition]) -> None:
        self._call(_zorder_partitions, self.dataset, self.table_path, partitions)
        self.compactions += 1


# ---- in the helper process --------------------------------------------------------------------


def _helper_init() -> None:
    """Lower the helper's priority and have Linux end it when the consumer dies (even by SIGKILL)."""
    try:
        os.setpriority(os.PRIO_PROCESS, 0, _NICENESS)
    except (AttributeError, OSError):  # not Linux, or not allowed: run at normal priority
        pass
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
    except (AttributeError, OSError):  # not Linux: the helper ends when its queue closes
        pass


def _refresh_views(dataset: str, partitions: set[Partition]) -> None:
    from warehouse.spec import load_dataset
    from warehouse.views import refresh

    semantic = load_dataset(dataset).semantic
    views = [name for name, view in semantic.views.items() if view.grain in ("hour", "day")]
    refresh(dataset, partitions=partitions, views=views)


def _zorder_partitions(dataset: str, table_path: Path, partitions: set[Partition]) -> None:
    from warehouse.delta import zorder
    from warehouse.spec import load_dataset

    spec = load_dataset(dataset).spec
    zorder(table_path, columns=tuple(spec.clustering), partitions=partitions)
