"""The default backend: DuckDB in this process over the local Delta tables (``warehouse.catalog``).

Every query runs on a fresh read-only catalog connection: DuckDB's own file access is off and its
configuration locked, a timer thread interrupts it at ``settings.sql.timeout_s``, and the guard
caps its rows at ``settings.sql.max_rows``. Bytes and rows read come from the catalog's scan meter:
the Parquet column chunks and row groups the scans read after pruning.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import duckdb
import pyarrow as pa

from retail_insights.settings import get_settings
from warehouse import catalog, guard
from warehouse.backends.base import (
    Backend,
    Capabilities,
    Params,
    PublishResult,
    QueryFailed,
    QueryResult,
    QueryTimeout,
)


def _python_values(column: pa.ChunkedArray) -> list[Any]:
    values = column.to_pylist()
    if pa.types.is_decimal(column.type) and column.type.scale == 0:
        # SUM over integers is a 128-bit integer in DuckDB, which Arrow carries as DECIMAL(38,0).
        return [None if v is None else int(v) for v in values]
    return values


class DuckDBBackend(Backend):
    name = "duckdb"
    capabilities = Capabilities(
        dry_run=False, materialized_views=False, bytes_cap=False, local=True
    )

    def query(self, sql: str, params: Params = None) -> QueryResult:
        settings = get_settings()
        with catalog.open_catalog(self.dataset, read_only=True) as cat:
            safe = guard.check(
                sql, guard.TableCatalog(cat.columns(), cat.dataset), max_rows=settings.sql.max_rows
            )
            cat.meter.reset()
            timer = threading.Timer(settings.sql.timeout_s, cat.con.interrupt)
            started = time.perf_counter()
            timer.start()
            try:
                table = cat.con.sql(safe.sql, params=params).to_arrow_table()
            except duckdb.InterruptException:
                raise QueryTimeout(
                    f"query ran longer than {settings.sql.timeout_s:g}s and was stopped.",
                    hint="Fix: narrow the date range or use a coarser view; "
                    "the limit is RETAIL_SQL__TIMEOUT_S.",
                ) from None
            except duckdb.Error as exc:
                raise QueryFailed(
                    f"DuckDB rejected the query: {str(exc).splitlines()[0]}",
                    hint="Fix: correct the SQL (types, casts, grouping) and retry.",
                ) from None
            finally:
                timer.cancel()
            elapsed_ms = (time.perf_counter() - started) * 1000
            bytes_read, rows_read = cat.meter.bytes, cat.meter.rows
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
