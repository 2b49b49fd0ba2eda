"""SQL that reads a Delta snapshot's Parquet files directly with DuckDB.

DuckDB cannot load its delta extension here, and its own Parquet reader decodes several times
faster than a scan through a pyarrow dataset, without the GIL. The query has one branch per
partition, its partition values typed constants taken from the Delta log (not folder names), so
DuckDB drops the branches a filter on a partition column rules out. delta-rs writes no deletion
vectors, so the file list is the whole snapshot. Used by the DuckDB database file
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
