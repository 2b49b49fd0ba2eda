"""How the pipeline runs SQL: the ``QueryRunner`` slot, and a catalog runner for evaluations.

The pipeline needs one method, ``query(sql, params) -> QueryResult``, which is what
``warehouse.backends.get_backend(name)`` returns (``assistant.factory.runner_factory``; there is no
fallback). ``CatalogRunner`` runs the compiled SQL of golden sets and benchmarks straight on one
``warehouse.catalog.open_catalog`` (no guard, no watchdog: the SQL is the compiler's own), reopening
the catalog when the given version moves on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
import threading
import time
import warnings
from typing import Any, Protocol

from retail_insights.errors import RetailError
from warehouse.backends.base import QueryFailed, QueryResult


class QueryRunner(Protocol):
    def query(self, sql: str, params: Sequence[Any] = ...) -> Any: ...


class CatalogRunner:
    """Runs read-only SQL on ``warehouse.catalog``; one open catalog per data version."""

    def __init__(self, *, version_of: Callable[[], Any]) -> None:
        self._version_of = version_of
        self._lock = threading.Lock()
        self._catalog: Any = None
        self._version: Any = None

    def _current(self) -> Any:
        from warehouse.catalog import open_catalog

        version = self._version_of()
        if self._catalog is None or version != self._version:
            if self._catalog is not None:
                self._catalog.close()
            self._catalog, self._version = open_catalog(), version
        return self._catalog

    def query(self, sql: str, params: Sequence[Any] = ()) -> QueryResult:
        with self._lock:
            catalog = self._current()
            started = time.perf_counter()
            try:
                # Through Arrow: timestamps with time zone arrive as aware datetimes without pytz.
                # execute() rather than the relation API: the relation path intermittently hung
                # while scanning the catalog's Python-filesystem datasets in this DuckDB build.
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")
                    table = catalog.con.execute(sql, list(params)).to_arrow_table()
                columns = tuple(table.column_names)
                rows = list(zip(*(c.to_pylist() for c in table.columns))) if table.num_columns else []
            except Exception as exc:  # duckdb raises its own hierarchy; name the SQL in ours
                if isinstance(exc, RetailError):
                    raise
                raise QueryFailed(f"the warehouse rejected the query: {exc}",
                                  hint="Fix: report it with the SQL shown in the answer.") from exc
            elapsed = (time.perf_counter() - started) * 1000
            return QueryResult(columns, rows, *catalog.scanned(), elapsed, sql)

    def close(self) -> None:
        with self._lock:
            if self._catalog is not None:
                self._catalog.close()
                self._catalog = None
