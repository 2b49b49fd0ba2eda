"""Delta table versions, read cheaply and remembered briefly: what caches and open catalogs key on.

Opening a ``DeltaTable`` to ask for its version costs milliseconds per table; a request needs it for
every table. Here the latest version is the highest ``NNNNNNNNNNNNNNNNNNNN.json`` commit file in the
table's ``_delta_log`` folder (one directory listing), and it is remembered for ``ttl_s``
(``settings.cache.version_ttl_s``), so a busy process lists each log at most that often.

Two numbers per table:

- ``latest``: the newest commit. An open catalog is bound to the files of one snapshot, so it is
  reopened whenever this moves (after OPTIMIZE and VACUUM the old files may be gone).
- ``data``: the newest commit that changed what a query returns (added or removed rows, or changed
  the schema). OPTIMIZE, Z-order and VACUUM commits mark their actions ``dataChange: false`` or have
  none, so answers cached under ``data`` survive table upkeep. Only commits not yet seen are read.

Where a commit file was already cleaned up, the oldest version still on disk stands in for it: a
possible needless cache miss, never a stale answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
import json
import os
from pathlib import Path
import re
import threading
import time

_COMMIT = re.compile(r"^(\d{20})\.json$")
_DATA_ACTIONS = ("add", "remove", "cdc")


@dataclass(frozen=True)
class TableVersion:
    latest: int  # newest commit
    data: int  # newest commit that changed rows or schema


def latest_commit(table_path: Path) -> int | None:
    """The newest commit version in the table's log, or None when there is no table yet."""
    try:
        with os.scandir(table_path / "_delta_log") as entries:
            found = [int(m.group(1)) for e in entries if (m := _COMMIT.match(e.name))]
    except FileNotFoundError:
        return None
    return max(found) if found else None


def data_changes(table_path: Path, version: int) -> list[dict] | None:
    """What commit ``version`` changed: its data actions (add, remove, cdc: a missing ``dataChange``
    counts as a change, only upkeep says false), with ``{"metaData": ...}`` for a schema change; None
    when its file is gone."""
    try:
        text = (table_path / "_delta_log" / f"{version:020d}.json").read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    changes: list[dict] = []
    for line in text.splitlines():
        action = json.loads(line) if line.strip() else {}
        if "metaData" in action:
            changes.append({"metaData": action["metaData"]})
        changes += [action[kind] for kind in _DATA_ACTIONS if kind in action and action[kind].get("dataChange", True)]
    return changes


def changes_data(table_path: Path, version: int) -> bool | None:
    """Whether commit ``version`` changed rows or schema; None when its file is gone."""
    changes = data_changes(table_path, version)
    return None if changes is None else bool(changes)


def commit_time(table_path: Path, version: int) -> datetime | None:
    """When commit ``version`` was written: its ``commitInfo.timestamp``, else the commit file's
    modification time; None when the file is gone."""
    log_file = table_path / "_delta_log" / f"{version:020d}.json"
    try:
        text = log_file.read_text(encoding="utf-8")
        modified = log_file.stat().st_mtime
    except FileNotFoundError:
        return None
    for line in text.splitlines():
        stamp = json.loads(line).get("commitInfo", {}).get("timestamp") if line.strip() else None
        if isinstance(stamp, int):
            return datetime.fromtimestamp(stamp / 1000, UTC)
    return datetime.fromtimestamp(modified, UTC)



@dataclass(frozen=True)
class Freshness:
    data: int                         # the table's data version (what answers carry as data_version)
    committed_at: datetime | None     # when that commit was written; None when its file is gone


def freshness(table_path: Path) -> Freshness | None:
    """How fresh a table's data is: its newest data commit (not upkeep) and when it was written; None
    before the first commit. The one reading behind ``GET /v1/health/data`` and the metrics exporter."""
    version = shared_reader().read(table_path)
    if version is None:
        return None
    return Freshness(version.data, commit_time(table_path, version.data))

class VersionReader:
    """``read(path)`` -> TableVersion or None, each table's log listed at most once per ``ttl_s``.

    Thread-safe. ``ttl_s=0`` lists on every call. ``clock`` is injectable so tests need not sleep.
    """

    def __init__(self, *, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[Path, tuple[float, TableVersion | None]] = {}

    def read(self, table_path: Path) -> TableVersion | None:
        now = self._clock()
        with self._lock:
            cached = self._seen.get(table_path)
        if cached is not None and now - cached[0] < self.ttl_s:
            return cached[1]
        previous = cached[1] if cached is not None else None
        version = self._advance(table_path, previous)
        with self._lock:
            self._seen[table_path] = (now, version)
        return version

    def forget(self) -> None:
        """Drop everything remembered (the next read lists every log again)."""
        with self._lock:
            self._seen.clear()

    @staticmethod
    def _advance(table_path: Path, previous: TableVersion | None) -> TableVersion | None:
        latest = latest_commit(table_path)
        if latest is None:
            return None
        if previous is not None and previous.latest == latest:
            return previous
        # Walk back from the newest commit, stopping at what was already known (a table rewritten
        # from scratch has a lower version: start over).
        floor = previous.latest if previous is not None and previous.latest < latest else -1
        known = previous.data if previous is not None and floor >= 0 else 0
        return TableVersion(latest, last_data_commit(table_path, latest, floor=floor, known=known))


def last_data_commit(table_path: Path, version: int, *, floor: int = -1, known: int = 0) -> int:
    """The newest commit up to ``version`` that changed rows or schema, looking back no further than
    ``floor`` (``known`` when none after it did). A commit file cleaned up stands in with the oldest
    commit still on disk: a possible needless miss, never a stale answer."""
    for v in range(version, floor, -1):
        changed = changes_data(table_path, v)
        if changed is None:
            return v + 1 if v < version else version
        if changed:
            return v
    return known


_shared: tuple[object, VersionReader] | None = None
_shared_lock = threading.Lock()


def shared_reader() -> VersionReader:
    """The process's reader (TTL ``settings.cache.version_ttl_s``): backends and caches agree on versions.

    A new settings object (``get_settings.cache_clear()``) gets a new reader with its TTL.
    """
    global _shared
    from retail_insights.settings import get_settings

    settings = get_settings()
    with _shared_lock:
        if _shared is None or _shared[0] is not settings:
            _shared = (settings, VersionReader(ttl_s=settings.cache.version_ttl_s))
        return _shared[1]
