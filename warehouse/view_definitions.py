"""A gold view's definition: its grain, its partition columns and its defining query.

The one place a view's SQL comes from: ``warehouse.views`` materializes it per partition,
``warehouse.catalog`` serves a view that was never refreshed live from it, and the BigQuery
backend creates its materialized views from it (transpiled at the edge).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlglot import exp

from retail_insights.errors import UsageError, did_you_mean
from warehouse import rollups, sqlfiles
from warehouse.spec import Dataset, load_dataset


def view_shape(ds: Dataset, view: str) -> tuple[str, str]:
    """The view's grain and table name; an unknown view names the dataset's views."""
    if view not in ds.semantic.views:
        raise UsageError(
            f"dataset {ds.spec.name!r} has no view {view!r}.",
            hint=did_you_mean(view, ds.semantic.views),
        )
    spec = ds.semantic.views[view]
    return spec.grain, spec.table


def grain_partitions(grain: str, partitioning: Sequence[str]) -> tuple[str, ...]:
    """A view's partition columns given silver's ``partitioning``: silver's, but only ``year`` for a
    yearly or quarterly view and none for an all-time one."""
    if grain == "all":
        return ()
    return ("year",) if grain in ("year", "quarter") else tuple(partitioning)


def partition_columns(dataset: str, view: str) -> tuple[str, ...]:
    """The view's partition columns (``grain_partitions``)."""
    ds = load_dataset(dataset)
    grain, _ = view_shape(ds, view)
    return grain_partitions(grain, ds.spec.partitioning)


def view_query(dataset: str, view: str, *, silver: exp.Table | None = None,
               tables: Mapping[str, exp.Table] | None = None) -> exp.Select:
    """The view's defining query (DuckDB) over ``silver`` (default: the unqualified silver) and,
    for dimensions of joined tables, ``tables`` (default: each beside ``silver``)."""
    ds = load_dataset(dataset)
    view_shape(ds, view)
    spec = ds.semantic.views[view]
    return rollups.rollup_query(
        ds,
        grain=spec.grain,
        dimensions=spec.dims,
        partition_by=partition_columns(dataset, view),
        silver=silver if silver is not None else exp.to_table(ds.spec.silver_table),
        tables=tables,
        exact=spec.exact,
    )


def view_sql(
    dataset: str, view: str, *, dialect: str = "duckdb", silver: exp.Table | None = None,
    tables: Mapping[str, exp.Table] | None = None,
) -> str:
    """The view's defining query as text in ``dialect`` (``duckdb`` or ``bigquery``)."""
    return sqlfiles.to_sql(view_query(dataset, view, silver=silver, tables=tables), dialect=dialect)
