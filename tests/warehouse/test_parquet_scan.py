"""DuckDB's direct scan of a Delta snapshot's Parquet files (``warehouse.parquet_scan``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from deltalake import DeltaTable, write_deltalake
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from warehouse import parquet_scan, sqlfiles
from warehouse.delta.files import add_action


def _rows(con: duckdb.DuckDBPyConnection, query: Any) -> list[tuple[Any, ...]]:
    return con.sql(
        f"SELECT year, month, order_id FROM ({sqlfiles.to_sql(query, pretty=False)}) ORDER BY 3"
    ).fetchall()


def test_the_scan_returns_the_snapshot_rows_of_the_wanted_partitions_with_typed_values(
    make_silver: Any, write_silver: Any
) -> None:
    # Two years of daily orders: 24 partitions in hive-style folders, read in one scan.
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


def test_files_outside_hive_folders_take_their_partition_values_from_the_log(tmp_path: Path) -> None:
    # The log, not the folder name, says which partition a file is in; a file that does not sit in
    # matching hive-style folders is read through the per-partition branches instead.
    schema = pa.schema([("order_id", pa.string()), ("year", pa.int32()), ("month", pa.int32())])
    root = tmp_path / "table"
    write_deltalake(str(root), schema.empty_table(), partition_by=["year", "month"])
    table = DeltaTable(str(root))
    actions = []
    for index, partition in enumerate([(2024, 1), (2024, 2)]):
        path = root / f"flat-{index}.parquet"
        pq.write_table(pa.table({"order_id": [f"o{index}"]}), path)
        actions.append(add_action(root, path, ["year", "month"], partition))
    table.create_write_transaction(actions, mode="append", schema=table.schema(),
                                   partition_by=["year", "month"])
    table = DeltaTable(str(root))
    with duckdb.connect() as con:
        assert _rows(con, parquet_scan.files_query(con, table)) == [(2024, 1, "o0"), (2024, 2, "o1")]
        february = parquet_scan.files_query(con, table, lambda key: key == (2024, 2))
        assert _rows(con, february) == [(2024, 2, "o1")]
