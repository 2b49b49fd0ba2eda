"""SQL that reads a Delta snapshot's Parquet files directly with DuckDB.

DuckDB cannot load its delta extension here, and its own Parquet reader decodes several times
faster than a scan through a pyarrow dataset, without the GIL. delta-rs writes no deletion vectors,
so the file list is the whole snapshot. A partitioned table whose files sit in hive-style folders
matching the Delta log's partition values (``year=2024/month=6/``, what delta-rs and this project
write) is one ``read_parquet`` with hive partitioning: DuckDB skips the files a filter on a partition
column rules out, and a query plans in a few milliseconds. Otherwise the query has one branch per
partition with the log's values as typed constants (planning such a UNION takes ~15 ms per query
at 24 partitions, so it is only the fallback). Used by the catalog and the DuckDB database file
(``warehouse.catalog``) and by the view refresh (``warehouse.rollups``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from deltalake import DeltaTable
import duckdb
import pyarrow as pa
from sqlglot import exp

from warehouse import sqlfiles


def duckdb_types(con: duckdb.DuckDBPyConnection, schema: pa.Schema) -> dict[str, exp.DataType]:
    """Each column's DuckDB type, as DuckDB itself maps the Arrow schema."""
    relation = con.from_arrow(schema.empty_table())
    return {
        name: exp.DataType.build(str(t), dialect="duckdb")
        for name, t in zip(relation.columns, relation.types, strict=True)
    }


def empty_query(con: duckdb.DuckDBPyConnection, schema: pa.Schema) -> exp.Query:
    """The schema's columns, typed, and no rows."""
    types = duckdb_types(con, schema)
    columns = [exp.alias_(exp.cast(exp.null(), types[c]), c, quoted=True) for c in schema.names]
    return sqlfiles.render("empty_relation", {"columns": columns})  # type: ignore[return-value]


def files_query(
    con: duckdb.DuckDBPyConnection,
    table: DeltaTable,
    wanted: Callable[[tuple[Any, ...]], bool] | None = None,
) -> exp.Query:
    """SELECT over the snapshot's files in the partitions ``wanted`` accepts (None: all of them).

    ``wanted`` gets a partition's values in the order of the table's partition columns.
    """
    schema = pa.schema(table.schema().to_arrow())
    partition_by = table.metadata().partition_columns
    root = Path(table.table_uri.removeprefix("file://"))
    groups: dict[tuple[Any, ...], list[str]] = {}
    keys = [f"partition.{c}" for c in partition_by]
    actions = pa.table(table.get_add_actions(flatten=True)).select(["path", *keys])
    for action in actions.to_pylist():
        key = tuple(action[k] for k in keys)
        if wanted is None or wanted(key):
            # The log URL-encodes paths.
            groups.setdefault(key, []).append(str(root / unquote(action["path"])))
    if not groups:
        return empty_query(con, schema)
    types = duckdb_types(con, schema)
    if partition_by and all(_in_hive_folders(root, partition_by, key, files) for key, files in groups.items()):
        hive_types = exp.Struct(expressions=[
            exp.PropertyEQ(this=exp.Literal.string(c), expression=exp.Literal.string(types[c].sql("duckdb")))
            for c in partition_by
        ])
        every_file = sorted(f for files in groups.values() for f in files)
        return sqlfiles.render("parquet_snapshot", {  # type: ignore[return-value]
            "columns": [exp.column(c, quoted=True) for c in schema.names],
            "files": exp.Array(expressions=[exp.Literal.string(f) for f in every_file]),
            "hive_types": hive_types,
        })
    query: exp.Query | None = None
    for key, files in sorted(groups.items(), key=lambda item: str(item[0])):
        values = dict(zip(partition_by, key, strict=True))
        columns = [
            exp.alias_(exp.cast(exp.convert(values[c]), types[c]), c, quoted=True)
            if c in values
            else exp.column(c, quoted=True)
            for c in schema.names
        ]
        array = exp.Array(expressions=[exp.Literal.string(f) for f in sorted(files)])
        branch = sqlfiles.render("parquet_files", {"columns": columns, "files": array})
        # copy=False: copying the growing tree at every step made this quadratic (minutes at
        # a few hundred partitions).
        query = branch if query is None else exp.union(query, branch, distinct=False, copy=False)
    assert query is not None
    return query


def _in_hive_folders(root: Path, partition_by: list[str], key: tuple[Any, ...], files: list[str]) -> bool:
    """Whether every file sits in ``root/col=value/...`` folders spelling the log's partition values."""
    if any(value is None for value in key):
        return False  # a null partition's folder name is a writer's convention, not a value
    folders = [f"{c}={v}" for c, v in zip(partition_by, key, strict=True)]
    return all(list(Path(f).relative_to(root).parts[:-1]) == folders for f in files)
