"""DuckDB's direct scan of a Delta snapshot's Parquet files (``warehouse.parquet_scan``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from deltalake import DeltaTable
import duckdb
import pyarrow as pa

from warehouse import parquet_scan, sqlfiles


def _rows(con: duckdb.DuckDBPyConnection, query: Any) -> list[tuple[Any, ...]]:
    return con.sql(
        f"SELECT year, month, order_id FROM ({sqlfiles.to_sql(query, pretty=False)}) ORDER BY 3"
    ).fetchall()


def test_the_scan_returns_the_snapshot_rows_of_the_wanted_partitions_with_typed_values(
    make_silver: Any, write_silver: Any
) -> None:
    # Two years of daily orders: 24 partitions, so the UNION has many branches.
    rows = make_silver("retail_sales", 400, seed=11, start=dt.date(2023, 1, 1), days=730)
    path = write_silver("retail_sales", rows)
    table = DeltaTable(str(path))
    assert len(table.partitions()) == 24
    expected = sorted(zip(rows["year"].to_pylist(), rows["month"].to_pylist(),
                          rows["order_id"].to_pylist(), strict=True), key=lambda r: r[2])
    with duckdb.connect() as con:
        assert _rows(con, parquet_scan.files_query(con, table)) == expected
        spring = parquet_scan.files_query(con, table, lambda key: key[1] in (3, 4))
        assert _rows(con, spring) == [r for r in expected if r[1] in (3, 4)]
        described = con.sql(
            f"DESCRIBE {sqlfiles.to_sql(parquet_scan.files_query(con, table), pretty=False)}"
        ).fetchall()
        types = {r[0]: r[1] for r in described}
        silver = con.from_arrow(pa.schema(table.schema().to_arrow()).empty_table())
        assert types == {n: str(t) for n, t in zip(silver.columns, silver.types, strict=True)}


def test_no_wanted_partition_gives_the_columns_and_no_rows(
    make_silver: Any, write_silver: Any
) -> None:
    path = write_silver("retail_sales", make_silver("retail_sales", 20, seed=3))
    table = DeltaTable(str(path))
    with duckdb.connect() as con:
        query = parquet_scan.files_query(con, table, lambda key: False)
        relation = con.sql(sqlfiles.to_sql(query, pretty=False))
        assert relation.fetchall() == []
        assert relation.columns == pa.schema(table.schema().to_arrow()).names
