"""Gold views: additive rollups of the silver table per time grain, stored as Delta tables.

Each view sums ``view_columns.measures`` per time bucket (``period_start``, UTC) and per
``view_columns.dimensions``; it is partitioned like the silver table, the yearly view by year only.
A refresh recomputes only the (year, month) partitions whose silver files changed since the silver
version the view last reflected, and replaces exactly those partitions in one commit. That commit
records the silver version in its metadata, so staleness is a comparison of two numbers.
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
import pyarrow.dataset as pads
import sqlglot
from sqlglot import exp

from retail_insights.errors import ConfigError, DataError, RetryableError, UsageError, did_you_mean
from retail_insights.settings import get_settings
from warehouse import catalog, sqlfiles
from warehouse.spec import Dataset, load_dataset

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


# ---- SQL --------------------------------------------------------------------------------------


def _view(ds: Dataset, view: str) -> tuple[str, str]:
    if view not in ds.semantic.views:
        raise UsageError(
            f"dataset {ds.spec.name!r} has no view {view!r}.",
            hint=did_you_mean(view, ds.semantic.views),
        )
    spec = ds.semantic.views[view]
    return spec.grain, spec.table


def partition_columns(dataset: str, view: str) -> tuple[str, ...]:
    """The view's partition columns: the silver ones, but only ``year`` for a yearly view."""
    grain, _ = _view(load_dataset(dataset), view)
    return ("year",) if grain == "year" else tuple(load_dataset(dataset).spec.partitioning)


def _measure(ds: Dataset, name: str, text: str) -> exp.Expression:
    node = sqlglot.parse_one(text, read=sqlfiles.SOURCE_DIALECT)
    types = {c.name: c.type for c in ds.spec.source.columns} | {
        d.name: d.type for d in ds.spec.derived
    }
    summed = node.this if isinstance(node, exp.Sum) else None
    if isinstance(summed, exp.Column) and types.get(summed.name, "").startswith("int"):
        # SUM of an integer is a 128-bit integer in DuckDB; keep the stored type portable.
        node = exp.cast(node, exp.DataType.build("BIGINT"))
    return exp.alias_(node, name)


def view_query(dataset: str, view: str, *, silver: exp.Table | None = None) -> exp.Select:
    """The view's defining query (DuckDB) over ``silver`` (default: the unqualified silver)."""
    ds = load_dataset(dataset)
    grain, _ = _view(ds, view)
    sem = ds.semantic
    substitutions = {
        "grain": exp.var(grain.upper()),
        "time_column": exp.column(sem.time_dimension.column),
        "partitions": [exp.column(c) for c in partition_columns(dataset, view)],
        "dimensions": [exp.column(sem.dimensions[d].column) for d in sem.view_columns.dimensions],
        "measures": [_measure(ds, name, text) for name, text in sem.view_columns.measures.items()],
        "silver": silver if silver is not None else exp.to_table(ds.spec.silver_table),
    }
    query = sqlfiles.render("view_rollup", substitutions)
    if not isinstance(query, exp.Select):
        raise ConfigError(
            f"{sqlfiles.SQL_DIR / 'view_rollup.sql'} must hold one SELECT.",
            hint="Fix: restore the file; views are rendered from it.",
        )
    return query


def view_sql(
    dataset: str, view: str, *, dialect: str = "duckdb", silver: exp.Table | None = None
) -> str:
    """The view's defining query as text in ``dialect`` (``duckdb`` or ``bigquery``)."""
    return sqlfiles.to_sql(view_query(dataset, view, silver=silver), dialect=dialect)


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


def _predicate(partitions: Iterable[Partition], columns: tuple[str, ...]) -> str:
    """Delta predicate selecting exactly these partitions, built as a sqlglot tree."""
    by_year: dict[int, set[int]] = {}
    for part in partitions:
        by_year.setdefault(part[0], set()).update(part[1:])
    terms = []
    for year, months in sorted(by_year.items()):
        term: exp.Expression = exp.column(columns[0]).eq(exp.Literal.number(year))
        if len(columns) > 1:
            term = exp.and_(
                term, exp.column(columns[1]).isin(*(exp.Literal.number(m) for m in sorted(months)))
            )
        terms.append(exp.paren(term, copy=False))
    return exp.or_(*terms).sql(dialect="duckdb")


def _partition_filter(partitions: Iterable[Partition], columns: tuple[str, ...]) -> pads.Expression:
    terms = [pads.scalar(False)]
    for part in partitions:
        term = pads.field(columns[0]) == part[0]
        for column, value in zip(columns[1:], part[1:], strict=True):
            term = term & (pads.field(column) == value)
        terms.append(term)
    combined = terms[0]
    for term in terms[1:]:  # OR over the partitions; the leading FALSE keeps "no partitions" valid
        combined = combined | term
    return combined


def _computed(
    con: duckdb.DuckDBPyConnection,
    dataset: str,
    view: str,
    silver: DeltaTable,
    partitions: set[Partition] | None,
) -> pa.RecordBatchReader:
    """The view's rows for some partitions (None = all) from a pinned silver snapshot, streamed.

    The stream goes from DuckDB straight into the Delta writer, with no Python generator in between
    that DuckDB's and delta-rs's worker threads would have to take the GIL for.
    """
    ds = load_dataset(dataset)
    columns = partition_columns(dataset, view)
    where = None if partitions is None else _partition_filter(sorted(partitions), columns)
    con.register(ds.spec.silver_table, catalog.arrow_dataset(silver, partitions=where))
    return con.sql(view_sql(dataset, view)).to_arrow_reader()


def _same_columns(table: DeltaTable, reader: pa.RecordBatchReader) -> bool:
    stored = pa.schema(table.schema().to_arrow())
    return [(f.name, f.type) for f in stored] == [(f.name, f.type) for f in reader.schema]


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


def _refresh_view(
    con: duckdb.DuckDBPyConnection,
    dataset: str,
    view: str,
    silver: DeltaTable,
    *,
    full: bool,
    partitions: set[tuple[int, int]] | None,
) -> ViewRefresh:
    _, table_name = _view(load_dataset(dataset), view)
    path = get_settings().table_path(dataset, table_name)
    columns = partition_columns(dataset, view)
    table = catalog.open_table(path)
    recorded = recorded_source_version(table) if table else None
    mode, wanted, current = _plan(silver, recorded, full=full, partitions=partitions)
    source_version = silver.version() if current else recorded
    properties = CommitProperties(custom_metadata={SOURCE_VERSION_KEY: str(source_version)})
    if mode == "unchanged" and table is not None:
        if recorded != source_version:
            # Nothing to recompute, but the view now reflects a newer silver version: record that.
            table.create_write_transaction(
                [],
                mode="append",
                schema=pa.schema(table.schema().to_arrow()),
                partition_by=list(columns),
                commit_properties=properties,
            )
        return ViewRefresh(view, mode, (), 0, source_version, catalog.open_table(path).version())
    touched = None if wanted is None else {p[: len(columns)] for p in wanted}
    if (
        touched is not None
        and table is not None
        and not _same_columns(table, _computed(con, dataset, view, silver, set()))
    ):
        mode, touched = "full", None  # the semantic model changed the view's columns
    reader = _computed(con, dataset, view, silver, touched)
    if touched is None:
        write_deltalake(
            str(path),
            reader,
            mode="overwrite",
            schema_mode="overwrite",
            partition_by=list(columns),
            commit_properties=properties,
        )
    else:
        write_deltalake(
            str(path),
            reader,
            mode="overwrite",
            predicate=_predicate(touched, columns),
            partition_by=list(columns),
            commit_properties=properties,
        )
    done = (
        touched
        if touched is not None
        else {tuple(int(v[c]) for c in columns) for v in catalog.open_table(path).partitions()}
    )
    return ViewRefresh(
        view,
        mode,
        tuple(sorted(done)),
        _rows_added(path),
        source_version,
        catalog.open_table(path).version(),
    )


def refresh(
    dataset: str,
    *,
    partitions: set[tuple[int, int]] | None = None,
    full: bool = False,
    views: Iterable[str] | None = None,
) -> RefreshResult:
    """Bring the dataset's views up to date with its silver table.

    ``partitions`` recomputes just those (year, month) partitions (the yearly view: their years);
    ``full`` recomputes everything; neither recomputes the partitions changed since each view's
    recorded silver version. Every view is computed from one pinned silver snapshot, and each
    view's change is a single Delta commit. The DuckDB database file is re-synced afterwards.
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
        _view(ds, name)
    if partitions is not None and any(len(p) != 2 for p in partitions):
        raise UsageError(
            f"partitions must be (year, month) pairs, got {sorted(partitions)}.",
            hint="Fix: pass e.g. {(2024, 3)}.",
        )
    with duckdb.connect(":memory:") as con:
        con.execute(catalog.set_statement("TimeZone", "UTC"))  # buckets are UTC (SPEC 2)
        try:
            results = tuple(
                _refresh_view(con, dataset, name, silver, full=full, partitions=partitions)
                for name in names
            )
        except CommitFailedError as exc:
            raise RetryableError(
                f"a view of {dataset!r} changed while it was being refreshed ({exc}).",
                hint="Run the refresh again; it recomputes what is still stale.",
            ) from exc
    catalog.sync_duckdb_file()
    return RefreshResult(dataset, silver.version(), results)
