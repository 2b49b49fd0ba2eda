"""Gold views: additive rollups of the silver table per time grain, stored as Delta tables.

Each view sums ``view_columns.measures`` per time bucket (``period_start``, UTC) and per its
dimensions (``view_columns.dimensions``, or a rollup view's subset); it is partitioned like the
silver table, a yearly view by year only. A refresh recomputes only the (year, month) partitions
whose silver files changed since the silver version each view last reflected, computes every view
from one scan of those partitions (``warehouse.rollups``), and replaces exactly those partitions in
one commit per view. That commit records the silver version in its metadata, so staleness is a
comparison of two numbers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
import json
from pathlib import Path
from typing import Literal

from deltalake import CommitProperties, DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError
import duckdb
import pyarrow as pa
from sqlglot import exp

from retail_insights.errors import DataError, RetryableError, UsageError
from retail_insights.settings import get_settings
from warehouse import catalog, rollups, sqlfiles
from warehouse.schema import silver_schema
from warehouse.spec import load_dataset
from warehouse.view_definitions import partition_columns, view_shape, view_sql

SOURCE_VERSION_KEY = "retail.source_version"
_HISTORY_DEPTH = (
    50  # commits searched for the recorded source version (maintenance commits carry none)
)

Partition = tuple[int, ...]


@dataclass(frozen=True)
class ViewRefresh:
    name: str
    mode: Literal["full", "incremental", "unchanged"]
    partitions: tuple[Partition, ...]  # recomputed: (year, month), or (year,) for the yearly view
    rows_written: int
    source_version: int | None  # silver version the view reflects after this refresh
    table_version: int


@dataclass(frozen=True)
class RefreshResult:
    dataset: str
    source_version: int
    views: tuple[ViewRefresh, ...]


@dataclass(frozen=True)
class ViewStatus:
    name: str
    source_version: int | None  # silver version the view reflects; None = never refreshed
    table_version: int | None  # the view table's own Delta version
    stale: bool


# ---- state ------------------------------------------------------------------------------------


def recorded_source_version(table: DeltaTable) -> int | None:
    """The silver version the view reflects, from the latest commit that recorded one."""
    for commit in table.history(limit=_HISTORY_DEPTH):
        if SOURCE_VERSION_KEY in commit:
            return int(commit[SOURCE_VERSION_KEY])
    return None


def changed_partitions(
    table_path: Path, *, since: int, until: int, partition_by: tuple[str, ...] = ("year", "month")
) -> set[Partition] | None:
    """Partitions with files added or removed by commits ``since`` < v <= ``until``.

    None means "cannot tell": a commit file is gone (log cleanup), the table's metadata changed
    (schema or partitioning), or an action carries no partition values. Callers then refresh fully.
    """
    touched: set[Partition] = set()
    for version in range(since + 1, until + 1):
        commit = table_path / "_delta_log" / f"{version:020d}.json"
        if not commit.is_file():
            return None
        for line in commit.read_text(encoding="utf-8").splitlines():
            action = json.loads(line) if line.strip() else {}
            if "metaData" in action:
                return None
            change = action.get("add") or action.get("remove")
            if change is None:
                continue
            values = change.get("partitionValues") or {}
            if any(values.get(c) in (None, "") for c in partition_by):
                return None
            touched.add(tuple(int(values[c]) for c in partition_by))
    return touched


def view_status(dataset: str) -> list[ViewStatus]:
    """Per view: the silver version it reflects, its own version, whether silver moved on since."""
    ds = load_dataset(dataset)
    settings = get_settings()
    silver = catalog.open_table(settings.table_path(dataset, ds.spec.silver_table))
    current = silver.version() if silver else None
    out = []
    for name, spec in ds.semantic.views_by_grain():
        table = catalog.open_table(settings.table_path(dataset, spec.table))
        recorded = recorded_source_version(table) if table else None
        stale = current is not None and recorded != current
        out.append(ViewStatus(name, recorded, table.version() if table else None, stale))
    return out


# ---- refresh ----------------------------------------------------------------------------------


def _expected_schema(con: duckdb.DuckDBPyConnection, dataset: str, view: str) -> pa.Schema:
    """Columns and types the view's defining query yields (run over no rows)."""
    ds = load_dataset(dataset)
    empty = {f"__empty_{dataset}": silver_schema(ds.spec)}
    tables = {}
    for name in rollups.joined_tables(ds, ds.semantic.views[view].dims):
        table = ds.semantic.tables[name].table
        empty[f"__empty_{dataset}_{table}"] = silver_schema(ds.spec.table_spec(table))
        tables[name] = exp.to_table(f"__empty_{dataset}_{table}")
    for name, schema in empty.items():
        con.register(name, schema.empty_table())
    try:
        sql = view_sql(dataset, view, silver=exp.to_table(f"__empty_{dataset}"), tables=tables)
        return con.sql(sql).to_arrow_table().schema
    finally:
        for name in empty:
            con.unregister(name)


def _same_columns(table: DeltaTable, schema: pa.Schema) -> bool:
    stored = pa.schema(table.schema().to_arrow())
    return [(f.name, f.type) for f in stored] == [(f.name, f.type) for f in schema]


def _rows_added(path: Path) -> int:
    metrics = DeltaTable(str(path)).history(limit=1)[0].get("operationMetrics") or {}
    return int(metrics.get("num_added_rows", 0))


def _plan(
    silver: DeltaTable, recorded: int | None, *, full: bool, partitions: set[tuple[int, int]] | None
) -> tuple[str, set[Partition] | None, bool]:
    """(mode, silver partitions to recompute or None for all, whether the view ends up current)."""
    version = silver.version()
    if full or recorded is None or recorded > version:
        return "full", None, True
    changed = changed_partitions(
        Path(silver.table_uri.removeprefix("file://")), since=recorded, until=version
    )
    if partitions is not None:
        # Only the partitions asked for; the view is current only if nothing else changed.
        current = changed is not None and changed <= set(partitions)
        return ("incremental" if partitions else "unchanged"), set(partitions), current
    if changed is None:
        return "full", None, True
    return ("incremental" if changed else "unchanged"), changed, True


@dataclass(frozen=True)
class _ViewPlan:
    name: str
    path: Path
    columns: tuple[str, ...]  # partition columns
    table: DeltaTable | None
    recorded: int | None
    mode: Literal["full", "incremental", "unchanged"]
    touched: frozenset[Partition] | None  # view partitions to recompute; None = all
    source_version: int | None


def _plan_view(
    con: duckdb.DuckDBPyConnection,
    dataset: str,
    view: str,
    silver: DeltaTable,
    *,
    full: bool,
    partitions: set[tuple[int, int]] | None,
) -> _ViewPlan:
    _, table_name = view_shape(load_dataset(dataset), view)
    path = get_settings().table_path(dataset, table_name)
    columns = partition_columns(dataset, view)
    table = catalog.open_table(path)
    recorded = recorded_source_version(table) if table else None
    mode, wanted, current = _plan(silver, recorded, full=full, partitions=partitions)
    touched = None if wanted is None else frozenset(p[: len(columns)] for p in wanted)
    if mode == "unchanged" and table is None:
        mode, touched = "incremental", frozenset()  # nothing to compute, but create the table
    if not columns and mode != "unchanged":   # an all-time view has no partitions: rewrite it whole
        mode, touched, current = "full", None, True
    if mode != "full" and table is not None and not _same_columns(
        table, _expected_schema(con, dataset, view)
    ):
        mode, touched = "full", None  # the semantic model changed the view's columns
    source_version = silver.version() if current else recorded
    return _ViewPlan(view, path, columns, table, recorded, mode, touched, source_version)


def _record_only(plan: _ViewPlan) -> ViewRefresh:
    """Nothing to recompute; if the view now reflects a newer silver version, commit just that."""
    assert plan.table is not None
    if plan.recorded != plan.source_version:
        plan.table.create_write_transaction(
            [],
            mode="append",
            schema=pa.schema(plan.table.schema().to_arrow()),
            partition_by=list(plan.columns),
            commit_properties=_properties(plan.source_version),
        )
    version = catalog.open_table(plan.path).version()  # type: ignore[union-attr]
    return ViewRefresh(plan.name, "unchanged", (), 0, plan.source_version, version)


def _properties(source_version: int | None) -> CommitProperties:
    return CommitProperties(custom_metadata={SOURCE_VERSION_KEY: str(source_version)})


def _write(con: duckdb.DuckDBPyConnection, plan: _ViewPlan, rows: exp.Select) -> ViewRefresh:
    """Replace the view's touched partitions (or all of it) with ``rows``, in one commit."""
    reader = con.sql(sqlfiles.to_sql(rows, pretty=False)).to_arrow_reader()
    if plan.touched is None:
        write_deltalake(
            str(plan.path),
            reader,
            mode="overwrite",
            schema_mode="overwrite",
            partition_by=list(plan.columns),
            commit_properties=_properties(plan.source_version),
        )
    else:
        predicate = rollups.partition_condition(sorted(plan.touched), plan.columns)
        write_deltalake(
            str(plan.path),
            reader,
            mode="overwrite",
            predicate=predicate.sql(dialect="duckdb"),
            partition_by=list(plan.columns),
            commit_properties=_properties(plan.source_version),
        )
    table = catalog.open_table(plan.path)
    assert table is not None
    done = (
        plan.touched
        if plan.touched is not None
        else {tuple(int(v[c]) for c in plan.columns) for v in table.partitions()}
    )
    return ViewRefresh(
        plan.name,
        plan.mode,
        tuple(sorted(done)),
        _rows_added(plan.path),
        plan.source_version,
        table.version(),
    )


def _refresh_views(
    con: duckdb.DuckDBPyConnection,
    dataset: str,
    names: list[str],
    silver: DeltaTable,
    *,
    full: bool,
    partitions: set[tuple[int, int]] | None,
) -> tuple[ViewRefresh, ...]:
    ds = load_dataset(dataset)
    plans = [
        _plan_view(con, dataset, name, silver, full=full, partitions=partitions) for name in names
    ]
    jobs = [
        rollups.Job(
            view=p.name,
            grain=ds.semantic.views[p.name].grain,
            dimensions=ds.semantic.views[p.name].dims,
            partition_by=p.columns,
            partitions=p.touched,
            exact=ds.semantic.views[p.name].exact,
        )
        for p in plans
        if p.mode != "unchanged"
    ]
    computed = rollups.compute(con, ds, silver, jobs) if jobs else {}
    return tuple(
        _record_only(p) if p.mode == "unchanged" else _write(con, p, computed[p.name])
        for p in plans
    )


def refresh(
    dataset: str,
    *,
    partitions: set[tuple[int, int]] | None = None,
    full: bool = False,
    views: Iterable[str] | None = None,
) -> RefreshResult:
    """Bring the dataset's views up to date with its silver table.

    ``partitions`` recomputes just those (year, month) partitions (a yearly view: their years);
    ``full`` recomputes everything; neither recomputes the partitions changed since each view's
    recorded silver version. Every view is computed from one pinned silver snapshot, read once
    (``warehouse.rollups``), and each view's change is a single Delta commit. The DuckDB database
    file is re-synced afterwards.
    """
    ds = load_dataset(dataset)
    settings = get_settings()
    silver = catalog.open_table(settings.table_path(dataset, ds.spec.silver_table))
    if silver is None:
        raise DataError(
            f"dataset {dataset!r} has no {ds.spec.silver_table!r} table yet at "
            f"{settings.table_path(dataset, ds.spec.silver_table)}.",
            hint="Fix: ingest data first; views are computed from the silver table.",
        )
    names = list(views) if views is not None else [name for name, _ in ds.semantic.views_by_grain()]
    for name in names:
        view_shape(ds, name)
    if partitions is not None and any(len(p) != 2 for p in partitions):
        raise UsageError(
            f"partitions must be (year, month) pairs, got {sorted(partitions)}.",
            hint="Fix: pass e.g. {(2024, 3)}.",
        )
    with duckdb.connect(":memory:") as con:
        con.execute(catalog.set_statement("TimeZone", "UTC"))  # buckets are UTC (SPEC 2)
        # Row order within a view is irrelevant; not keeping it lets big aggregates stream.
        con.execute(catalog.set_statement("preserve_insertion_order", False))
        try:
            results = _refresh_views(
                con, dataset, names, silver, full=full, partitions=partitions
            )
        except CommitFailedError as exc:
            raise RetryableError(
                f"a view of {dataset!r} changed while it was being refreshed ({exc}).",
                hint="Run the refresh again; it recomputes what is still stale.",
            ) from exc
    catalog.sync_duckdb_file()
    return RefreshResult(dataset, silver.version(), results)
