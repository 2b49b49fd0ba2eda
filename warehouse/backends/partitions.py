"""Which data commits touched each (year, month) partition of a Delta table: what lets an answer
about 2015 outlive a load of December 2017.

``PartitionChanges.scope(through, at)`` is the newest data commit, up to table version ``at``, that
touched any partition up to month ``through`` (a year and month). Two table versions with the same
scope for a month hold the same rows in every partition up to that month, so an answer that reads
only those rows may be cached under the scope instead of the whole table's data version. Everything
before the month counts, not only the month itself: a measure defined by history (a first order)
stays right.

Read from the Delta log's commit files, oldest first, each once per process, and at first sight only
the newest ``HISTORY`` of them (a streaming table has thousands; the first question must not read them
all). What the log cannot place counts as touching every partition: a schema change (``metaData``), a
data action without partition values, commits whose files were already cleaned up, and the commits
before the history read. When the few changes kept per partition do not reach back to ``at``, or
``at`` is older than the history read, the answer is ``at`` itself: a needless cache miss at worst,
never a stale answer.
"""

from __future__ import annotations

from bisect import bisect_right
from pathlib import Path
import threading

from warehouse.backends.versions import data_changes, latest_commit

Month = tuple[int, int]
KEPT_CHANGES = 8          # data commits remembered per partition
MEMO_SIZE = 4096          # scopes remembered between commits
HISTORY = 256             # commits read back when a table is first seen


class PartitionChanges:
    """The data commits per (year, month) partition of one table, read up to its newest commit."""

    def __init__(self, table_path: Path, *, year: str = "year", month: str = "month",
                 kept: int = KEPT_CHANGES) -> None:
        self.table_path, self.year, self.month, self.kept = table_path, year, month, kept
        self._lock = threading.Lock()
        self._reset()

    def scope(self, through: Month, at: int) -> int:
        """The newest commit <= ``at`` that touched a partition <= ``through``: ``at`` when that is
        unknown, -1 when no commit up to ``at`` touched one."""
        with self._lock:
            if at > self._read_to:
                self._advance()
            if at > self._read_to or at < self._first:   # a version this process cannot see, or did not read
                return at
            memo = self._memo.get((through, at))
            if memo is None:
                memo = self._memo[(through, at)] = self._scope(through, at)
                if len(self._memo) > MEMO_SIZE:
                    self._memo.clear()
            return memo

    def _scope(self, through: Month, at: int) -> int:
        found = _newest_until(self._everywhere, at)
        for month, versions in self._changes.items():
            if month > through:
                continue
            newest = _newest_until(versions, at)
            if newest is None and month in self._forgot:
                return at           # its change before ``at`` is no longer kept
            if newest is not None and (found is None or newest > found):
                found = newest
        return found if found is not None else -1

    def _reset(self) -> None:
        self._changes: dict[Month, list[int]] = {}   # partition -> its newest data commits, ascending
        self._forgot: set[Month] = set()              # partitions whose older commits were dropped from _changes
        self._everywhere: list[int] = []            # commits that touched every partition, ascending
        self._memo: dict[tuple[Month, int], int] = {}
        self._read_to = -1
        self._first = 0                               # the oldest commit read

    def _advance(self) -> None:
        latest = latest_commit(self.table_path)
        if latest is None or latest <= self._read_to:
            if latest is not None and latest < self._read_to:   # rewritten from scratch: start over
                self._reset()
                self._advance()
            return
        if self._read_to < 0 and latest >= HISTORY:     # first sight of a long log: its newest commits only
            self._first = latest - HISTORY + 1
            self._everywhere.append(self._first - 1)
            self._read_to = self._first - 1
        for version in range(self._read_to + 1, latest + 1):
            touched = self._touched(version)
            if touched is None:
                self._everywhere.append(version)
                continue
            for month in touched:
                versions = self._changes.setdefault(month, [])
                versions.append(version)
                if len(versions) > self.kept:
                    versions.pop(0)
                    self._forgot.add(month)
        self._read_to = latest
        self._memo.clear()

    def _touched(self, version: int) -> set[Month] | None:
        """The partitions commit ``version`` changed; None when it changed (or may have changed) all."""
        changes = data_changes(self.table_path, version)
        if changes is None:
            return None
        touched: set[Month] = set()
        for change in changes:
            month = None if "metaData" in change else self._month(change.get("partitionValues") or {})
            if month is None:
                return None
            touched.add(month)
        return touched

    def _month(self, values: dict[str, str | None]) -> Month | None:
        try:
            return int(values[self.year]), int(values[self.month])   # type: ignore[arg-type]
        except (KeyError, TypeError, ValueError):
            return None


def _newest_until(versions: list[int], at: int) -> int | None:
    i = bisect_right(versions, at)
    return versions[i - 1] if i else None


_tables: dict[Path, PartitionChanges] = {}
_tables_lock = threading.Lock()


def partition_changes(table_path: Path) -> PartitionChanges:
    """The process's tracker for ``table_path`` (one per table, shared by every thread)."""
    with _tables_lock:
        tracker = _tables.get(table_path)
        if tracker is None:
            tracker = _tables[table_path] = PartitionChanges(table_path)
        return tracker
