"""The default backend: DuckDB in this process over the local Delta tables (``warehouse.catalog``).

Queries run on a read-only catalog connection: DuckDB's own file access is off and its configuration
locked, the watchdog thread interrupts it at ``settings.sql.timeout_s``, and the guard caps its rows at
``settings.sql.max_rows``. Bytes and rows read come from DuckDB's profiler (``Catalog.scanned``): what
its Parquet reader fetched after partition and row-group pruning.

Opening a catalog costs 0.15-0.7 s, so one stays open per process and dataset (``_Snapshots``) and
is reopened only when a table's latest Delta commit moves on (``warehouse.backends.versions``, listed
at most every ``settings.cache.version_ttl_s``), or when a query finds a file of its snapshot gone
(an overwrite then VACUUM under a running service): then once more on the current snapshot.
A dataset's catalog holds its own tables only, so an ingest into one dataset reopens that dataset's
catalog and no other; SQL that names another dataset's schema runs on a catalog of every dataset,
kept and reopened the same way.
One connection runs one query at a time: a DuckDB connection is not safe to share between threads,
and its profile must describe one query only.
The guard's verdict is kept per SQL text.
"""

from __future__ import annotations

import atexit
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
import threading
import time
from typing import Any

import duckdb
import pyarrow as pa
import sqlglot
from sqlglot import exp

from retail_insights.settings import get_settings
from warehouse import catalog, guard
from warehouse.backends.base import (
    BACKGROUND,
    Backend,
    Capabilities,
    Params,
    PublishResult,
    QueryFailed,
    QueryResult,
    QueryTimeout,
)
from warehouse.backends.versions import shared_reader
from warehouse.backends.watchdog import WATCHDOG
from warehouse.spec import dataset_names

GUARDED_SQL_KEPT = 1024  # checked SQL texts remembered per open catalog
REOPENS = 3              # snapshots opened again for a query whose files were replaced under it


def _python_values(column: pa.ChunkedArray) -> list[Any]:
    values = column.to_pylist()
    if pa.types.is_decimal(column.type) and column.type.scale == 0:
        # SUM over integers is a 128-bit integer in DuckDB, which Arrow carries as DECIMAL(38,0).
        return [None if v is None else int(v) for v in values]
    return values


class _TurnLock:
    """One query at a time on a connection, live requests first: a background query (``in_background``,
    the warm-up of a new data version) waits while a live one holds or waits for the connection, so a
    64-intent warm-up never queues in front of a user's question."""

    def __init__(self) -> None:
        self._turn = threading.Condition()
        self._held = False
        self._live_waiting = 0

    def acquire(self, *, background: bool = False) -> None:
        with self._turn:
            if background:
                while self._held or self._live_waiting:
                    self._turn.wait()
            else:
                self._live_waiting += 1
                try:
                    while self._held:
                        self._turn.wait()
                finally:
                    self._live_waiting -= 1
            self._held = True

    def release(self) -> None:
        with self._turn:
            self._held = False
            self._turn.notify_all()

    def __enter__(self) -> _TurnLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


@dataclass
class _Open:
    """One open catalog, the snapshot it was opened for, and what was learnt about it."""

    cat: catalog.Catalog
    key: tuple[int | None, ...]
    lock: _TurnLock = field(default_factory=_TurnLock)
    closed: bool = False
    tables: guard.TableCatalog | None = None
    checked: OrderedDict[tuple[str, int], guard.SafeQuery] = field(default_factory=OrderedDict)

    def guarded(self, sql: str, max_rows: int) -> guard.SafeQuery:
        """The guard's verdict on ``sql`` (call with ``lock`` held); a refusal is never kept."""
        found = self.checked.get((sql, max_rows))
        if found is not None:
            self.checked.move_to_end((sql, max_rows))
            return found
        if self.tables is None:
            self.tables = guard.TableCatalog(self.cat.columns(), self.cat.dataset)
        safe = guard.check(sql, self.tables, max_rows=max_rows)
        self.checked[(sql, max_rows)] = safe
        while len(self.checked) > GUARDED_SQL_KEPT:
            self.checked.popitem(last=False)
        return safe


class _FilesGone(Exception):
    """A file of the open snapshot could not be read (removed after a newer commit)."""


class _Snapshots:
    """The open catalog per (RETAIL_HOME, dataset, every dataset or its own), reopened when a table it
    holds gets a new latest commit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: dict[tuple[Path, str, bool], _Open] = {}
        self._opening: dict[tuple[Path, str, bool], threading.Lock] = {}

    def acquire(self, dataset: str, *, every: bool = False) -> _Open:
        """The current catalog for ``dataset`` with its lock held; release with ``entry.lock.release()``.
        ``every``: with every dataset's tables (for SQL naming another dataset), else its own only.
        Background work (``in_background``) gets it only when no live request is waiting."""
        while True:
            entry = self._current(dataset, every)
            entry.lock.acquire(background=BACKGROUND.get())
            if not entry.closed:
                return entry
            entry.lock.release()  # replaced and closed while this thread waited: take the new one

    def _current(self, dataset: str, every: bool) -> _Open:
        home = get_settings().home.resolve()
        slot = (home, dataset, every)
        key = _snapshot_key(home, None if every else dataset)
        with self._lock:
            entry = self._open.get(slot)
            if entry is not None and entry.key == key:
                return entry
            # Another RETAIL_HOME (tests switch it): its catalogs will not be asked for again.
            elsewhere = [self._open.pop(s) for s in list(self._open) if s[0] != home]
        for old in elsewhere:
            _close_when_idle(old)
        # One thread per dataset opens while the others wait for it (no herd of 0.5 s opens after a
        # commit); other datasets keep serving meanwhile. Waiters may not use the old catalog: their
        # cache keys already name the new version.
        with self._lock:
            opening = self._opening.setdefault(slot, threading.Lock())
        with opening:
            with self._lock:
                entry = self._open.get(slot)
                if entry is not None and entry.key == key:
                    return entry
            fresh = _Open(catalog.open_catalog(dataset, read_only=True, only=not every), key)
            with self._lock:
                stale, self._open[slot] = self._open.get(slot), fresh
        if stale is not None:
            _close_when_idle(stale)
        return fresh

    def discard(self, dataset: str) -> None:
        """Forget the open catalogs of ``dataset``: the next query opens the current snapshot."""
        home = get_settings().home.resolve()
        with self._lock:
            stale = [self._open.pop(slot) for slot in list(self._open) if slot[:2] == (home, dataset)]
        for entry in stale:
            _close_when_idle(entry)

    def close_all(self) -> None:
        with self._lock:
            entries, self._open = list(self._open.values()), {}
        for entry in entries:
            _close_when_idle(entry)


def _close_when_idle(entry: _Open) -> None:
    with entry.lock:  # a query running on it finishes first
        entry.closed = True
        entry.cat.close()


@lru_cache(maxsize=16)
def _table_paths(home: Path, dataset: str | None) -> tuple[Path, ...]:
    """Every table a catalog registers: ``dataset``'s, or every dataset's (None)."""
    names = dataset_names() if dataset is None else [dataset]
    return tuple(info.path for name in names for info in catalog.dataset_tables(name))


def _snapshot_key(home: Path, dataset: str | None) -> tuple[int | None, ...]:
    """The latest commit of every table of ``dataset`` (None: of all) under ``home``: a new one means
    a new catalog."""
    reader = shared_reader()
    return tuple(None if (v := reader.read(path)) is None else v.latest for path in _table_paths(home, dataset))


@lru_cache(maxsize=4096)
def _schemas_named(sql: str) -> frozenset[str]:
    """The schema of every qualified table ``sql`` reads (``superstore`` in ``superstore.superstore``);
    empty when it does not parse (the guard then says why, on the dataset's own catalog)."""
    try:
        trees = sqlglot.parse(sql, read="duckdb")
    except sqlglot.errors.SqlglotError:
        return frozenset()
    return frozenset(table.db for tree in trees if tree is not None for table in tree.find_all(exp.Table) if table.db)


SNAPSHOTS = _Snapshots()
atexit.register(SNAPSHOTS.close_all)   # connections close before the interpreter tears down


class DuckDBBackend(Backend):
    name = "duckdb"
    capabilities = Capabilities(
        dry_run=False, materialized_views=False, bytes_cap=False, local=True
    )

    def query(self, sql: str, params: Params = None) -> QueryResult:
        try:
            return self._query(sql, params)
        except _FilesGone:
            pass
        # The snapshot's files were replaced under it (an overwrite then VACUUM): list the Delta logs
        # again, open the current snapshot and run the query there. Tables rewritten one after another
        # can pull the files from under that snapshot too, so a few times before giving up.
        for attempt in range(1, REOPENS + 1):
            shared_reader().forget()
            SNAPSHOTS.discard(self.dataset)
            try:
                return self._query(sql, params)
            except (_FilesGone, duckdb.IOException) as exc:   # also when opening the snapshot
                if attempt == REOPENS:
                    raise QueryFailed(f"the table files are missing: {str(exc).splitlines()[0]}",
                                      hint="Fix: the table lost files outside a Delta commit; rerun the load "
                                           "(`retail-insights run`) to rewrite it.") from None
                time.sleep(0.05 * attempt)                      # let a rewrite in progress finish
        raise AssertionError("unreachable")

    def _query(self, sql: str, params: Params) -> QueryResult:
        settings = get_settings()
        others = _schemas_named(sql) - {self.dataset}
        entry = SNAPSHOTS.acquire(self.dataset, every=bool(others & set(dataset_names())))
        try:
            safe = entry.guarded(sql, settings.sql.max_rows)
            cat = entry.cat
            timer = WATCHDOG.arm(settings.sql.timeout_s, cat.con.interrupt)
            started = time.perf_counter()
            try:
                table = cat.con.sql(safe.sql, params=params).to_arrow_table()
            except duckdb.InterruptException:
                raise QueryTimeout(
                    f"query ran longer than {settings.sql.timeout_s:g}s and was stopped.",
                    hint="Fix: narrow the date range or use a coarser view; "
                    "the limit is RETAIL_SQL__TIMEOUT_S.",
                ) from None
            except duckdb.IOException as exc:
                raise _FilesGone(str(exc).splitlines()[0]) from None
            except duckdb.Error as exc:
                raise QueryFailed(
                    f"DuckDB rejected the query: {str(exc).splitlines()[0]}",
                    hint="Fix: correct the SQL (types, casts, grouping) and retry.",
                ) from None
            finally:
                WATCHDOG.disarm(timer)
            elapsed_ms = (time.perf_counter() - started) * 1000
            bytes_read, rows_read = cat.scanned()
        finally:
            entry.lock.release()
        columns = [_python_values(column) for column in table.columns]
        return QueryResult(
            columns=tuple(table.column_names),
            rows=list(zip(*columns, strict=True)) if columns else [],
            bytes_read=bytes_read,
            rows_read=rows_read,
            elapsed_ms=elapsed_ms,
            sql=safe.sql,
        )

    def publish(self, dataset: str | None = None) -> PublishResult:
        """Rewrite the DuckDB database file so it points at the current Delta files."""
        chosen = dataset or self.dataset
        path = catalog.sync_duckdb_file()
        tables = tuple(f"{info.dataset}.{info.name}" for info in catalog.dataset_tables(chosen))
        return PublishResult(self.name, chosen, tables, str(path))
