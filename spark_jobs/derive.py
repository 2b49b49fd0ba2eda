"""A dataset's declared fixes and derived columns, evaluated over one partition by DuckDB.

The expressions come compiled from the spec (``warehouse.expressions``): each over the typed source
columns alone, cast to its declared type. They run in one ``SELECT`` over the partition's Arrow
arrays in an in-process DuckDB (row order kept), whichever engine (Dask or Spark) runs the
transform; named functions (``warehouse.functions``) are registered as Arrow UDFs, applied once per
distinct value. Each expression is wrapped in ``TRY``: a value that cannot be computed (a product
that overflows, on a row the suite will quarantine for its absurd quantity) is NULL instead of
failing the batch, and ``failed`` names the rows where an expression gave no value although every
column it reads was given, so the transform can refuse to store such a row as clean.
"""

from __future__ import annotations

import threading

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from spark_jobs.parse import map_values
from warehouse.functions import FUNCTIONS, NamedFunction
from warehouse.schema import arrow_type
from warehouse.spec import DatasetSpec

_SOURCE = "__partition"
_local = threading.local()


def _connection() -> duckdb.DuckDBPyConnection:
    """This thread's DuckDB: UTC (a timestamp's date is its UTC date, SPEC 2), named functions."""
    con = getattr(_local, "con", None)
    if con is None:
        con = duckdb.connect(":memory:")
        con.execute("SET TimeZone = 'UTC'")
        # Shared subexpressions hoisted out of TRY(...) would fail the whole query on one overflow.
        con.execute("SET disabled_optimizers = 'common_subexpressions'")
        for function in FUNCTIONS.values():
            con.create_function(function.name, _udf(function), [duckdb.sqltype("VARCHAR")],
                                duckdb.sqltype("VARCHAR"), type="arrow", null_handling="special")
        _local.con = con
    return con


def _udf(function: NamedFunction):
    def apply(values: pa.Array | pa.ChunkedArray) -> pa.Array:
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        return map_values(values.cast(pa.string()), function.apply)

    return apply


def apply_expressions(spec: DatasetSpec, values: dict[str, pa.Array]) -> dict[str, np.ndarray]:
    """Replace fixed columns and add derived ones in ``values``; returns, per column that failed
    somewhere, the rows where it gave no value from given inputs."""
    compiled = spec.compiled_columns
    rows = len(next(iter(values.values()))) if values else 0
    failed: dict[str, np.ndarray] = {}
    if not compiled:
        return failed
    inputs = list(dict.fromkeys(c for column in compiled for c in column.inputs))
    select = exp.select(*(exp.func("TRY", column.tree).as_(column.name) for column in compiled))
    select = select.from_(_SOURCE)
    con = _connection()
    con.register(_SOURCE, pa.table({c: values[c] for c in inputs}) if inputs else pa.table({"_": [0] * rows}))
    try:
        result = con.sql(select.sql(dialect="duckdb")).to_arrow_table()
    finally:
        con.unregister(_SOURCE)
    for column in compiled:
        computed = result[column.name].combine_chunks().cast(arrow_type(column.type))
        given = [pc.is_valid(values[c]) for c in column.inputs]
        lost = pc.is_null(computed)
        for valid in given:
            lost = pc.and_(lost, valid)
        mask = lost.to_numpy(zero_copy_only=False)
        if mask.any():
            failed[column.name] = mask
        values[column.name] = computed
    return failed
