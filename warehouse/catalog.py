"""Where every dataset's tables live, and how DuckDB sees them.

Two ways in, the same tables:

- ``connect()`` / ``open_catalog()``: an in-memory DuckDB with one VIEW per Delta table over that
  snapshot's Parquet files, read by DuckDB's own Parquet reader (its delta extension cannot load
  here; ``warehouse.parquet_scan``). DuckDB skips the partitions and row groups a filter rules out,
  and the reads run without the GIL.
  Read-only connections then switch off file access outside the tables' own folders and lock the
  configuration, so nothing run on them can read another file or write outside the warehouse
  (statements other than SELECT are the guard's to refuse, ``warehouse.guard``). What each query
  read comes from DuckDB's profiler (``Catalog.scanned``).
- ``sync_duckdb_file()``: a DuckDB database file at ``settings.duckdb_path`` holding the same
  VIEWs, so any DuckDB client can open it read-only.

Each dataset is a schema (``retail_sales.sales``, ``superstore.quarantine``); the chosen dataset
(default: ``settings.default_dataset``) is also reachable unqualified. A view that was never
refreshed is served live from the silver table, so a query never fails for want of a refresh.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import hashlib
import json
import os
from pathlib import Path
import shutil
import tempfile
import threading
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from deltalake import DeltaTable
import duckdb
import pyarrow as pa
import pyarrow.fs as pafs
from sqlglot import exp

from retail_insights.errors import UsageError, did_you_mean
from retail_insights.settings import get_settings
from warehouse import parquet_scan, sqlfiles
from warehouse.backends.versions import last_data_commit, latest_commit
from warehouse.schema import quarantine_schema, silver_schema
from warehouse.spec import dataset_names, load_dataset
from warehouse.view_definitions import view_query

if TYPE_CHECKING:
    import pyarrow.dataset as pads

TableKind = Literal["silver", "quarantine", "view", "dimension"]
T = TypeVar("T")


@dataclass(frozen=True)
class TableInfo:
    dataset: str
    name: str  # the table's name in DuckDB and BigQuery
    kind: TableKind
    path: Path
    view: str | None = None  # the semantic model's view name, for views
    spec_table: str | None = None  # the dimension table whose spec it follows (None: the fact's)


def dataset_tables(dataset: str) -> list[TableInfo]:
    """Every table of a dataset: silver and quarantine, the dimension tables and their quarantines,
    then the views (coarsest first)."""
    ds = load_dataset(dataset)
    settings = get_settings()
    tables = [
        TableInfo(dataset, name, t.kind, settings.table_path(dataset, name))
        for name, t in ds.spec.tables.items()
    ]
    for dim in ds.spec.dimension_tables:
        tables += [
            TableInfo(dataset, name, "dimension" if t.kind == "silver" else t.kind,
                      settings.table_path(dataset, name), spec_table=dim)
            for name, t in ds.spec.table_spec(dim).tables.items()
        ]
    tables += [
        TableInfo(dataset, v.table, "view", settings.table_path(dataset, v.table), view=name)
        for name, v in ds.semantic.views_by_grain()
    ]
    return tables


def open_table(path: Path, *, version: int | None = None) -> DeltaTable | None:
    """The Delta table at ``path`` (latest or a given version), or None if none was written yet."""
    if not (path / "_delta_log").is_dir():
        return None
    return DeltaTable(str(path), version=version)


def arrow_dataset(table: DeltaTable, *, partitions: pads.Expression | None = None) -> pads.Dataset:
    """A pyarrow dataset over one snapshot, read through pyarrow's native filesystem.

    ``partitions`` keeps only files whose partition matches. The native filesystem matters:
    deltalake's default is implemented in Python, and a scan DuckDB 2.0 runs on its worker threads
    can then deadlock waiting for the GIL.
    """
    root = table.table_uri.removeprefix("file://")
    dataset = table.to_pyarrow_dataset(
        filesystem=pafs.SubTreeFileSystem(root, pafs.LocalFileSystem())
    )
    fragments = list(
        dataset.get_fragments() if partitions is None else dataset.get_fragments(filter=partitions)
    )
    import pyarrow.dataset as pads  # noqa: PLC0415 - 0.2 s to import (pandas); the query path never needs it

    return pads.FileSystemDataset(fragments, dataset.schema, dataset.format, dataset.filesystem)


def empty_schema(info: TableInfo) -> pa.Schema:
    """Schema of a silver or quarantine table that was not written yet."""
    spec = load_dataset(info.dataset).spec.table_spec(info.spec_table)
    return quarantine_schema(spec) if info.kind == "quarantine" else silver_schema(spec)


@dataclass
class Catalog:
    """An open in-memory DuckDB over every dataset, with its table versions."""

    con: duckdb.DuckDBPyConnection
    dataset: str
    versions: dict[tuple[str, str], int | None] = field(default_factory=dict)

    def scanned(self) -> tuple[int, int]:
        """Bytes and rows the connection's last SELECT read from the tables, after pruning.

        From DuckDB's profiler: the bytes its Parquet reader fetched (the projected column chunks
        of the row groups left after partition and statistics pruning; footers are cached per
        catalog) and the rows its scans produced. Counted the same whether or not the bytes came
        from DuckDB's file cache.
        """
        profile = json.loads(self.con.get_profiling_information(format="json"))
        return (
            int(profile.get("io", {}).get("total_bytes_read", 0)),
            int(profile.get("query", {}).get("total_rows_scanned", 0)),
        )

    def columns(self) -> dict[str, dict[str, dict[str, str]]]:
        """schema (dataset) -> table -> column -> DuckDB type, for the SQL guard."""
        query = sqlfiles.to_sql(sqlfiles.render("catalog_columns", {}))
        out: dict[str, dict[str, dict[str, str]]] = {}
        rows = self.con.sql(query, params=[dataset_names()]).fetchall()
        for schema, table, column, dtype in rows:
            out.setdefault(schema, {}).setdefault(table, {})[column] = dtype
        return out

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def set_statement(name: str, value: str | bool | int | list[str]) -> str:
    """`SET name = value`, built by sqlglot."""
    literal = exp.Boolean(this=value) if isinstance(value, bool) else exp.convert(value)
    item = exp.SetItem(this=exp.EQ(this=exp.column(name), expression=literal))
    return sqlfiles.to_sql(exp.Set(expressions=[item]), pretty=False)


def _create_view(schema: str, name: str, query: exp.Query) -> str:
    target = exp.table_(name, db=schema, quoted=True)
    return sqlfiles.to_sql(
        exp.Create(this=target, kind="VIEW", expression=query, replace=True), pretty=False
    )


def _choose(dataset: str | None) -> str:
    chosen = dataset or get_settings().default_dataset
    if chosen not in dataset_names():
        raise UsageError(f"unknown dataset {chosen!r}.", hint=did_you_mean(chosen, dataset_names()))
    return chosen


def _create_tables(
    con: duckdb.DuckDBPyConnection, *, empty: bool = False, datasets: list[str] | None = None
) -> dict[TableInfo, DeltaTable | None]:
    """A schema per dataset (of ``datasets``, default all) and a VIEW per table; returns the
    snapshot each view reads (or None).

    A written table's view reads its current Parquet files; a view never refreshed is served live
    from the silver table; any other table not written yet (or every table, with ``empty``) has the
    columns its spec promises and no rows.
    """
    opened: dict[TableInfo, DeltaTable | None] = {}
    for name in datasets or dataset_names():
        con.execute(sqlfiles.to_sql(
            exp.Create(this=exp.to_identifier(name, quoted=True), kind="SCHEMA", exists=True)
        ))
        dataset = load_dataset(name)
        silver = exp.table_(dataset.spec.silver_table, db=name, quoted=True)
        silver_data: int | None = None     # the last data commit of this snapshot's silver
        for info in dataset_tables(name):
            table = None if empty else open_table(info.path)
            if info.kind == "silver" and info.spec_table is None and table is not None:
                silver_data = last_data_commit(info.path, table.version())
            # A load commits silver first and refreshes its views after: a view whose files miss a
            # data commit of this snapshot's silver is served live from silver until its refresh, so
            # no snapshot answers from a view older than its own silver table.
            live = (info.kind == "view" and table is not None and silver_data is not None
                    and (recorded := _recorded(table)) is not None and recorded < silver_data)
            # The statement is a function of the spec and the snapshot: made once per (table, version),
            # so a new version of one table does not rebuild every other table's SQL (a serving
            # process opens a catalog per new version, next to live questions needing the GIL).
            snapshot = (table.metadata().id, table.version()) if table is not None and not live else None
            key = (info, id(dataset), snapshot)
            statement = _STATEMENTS.get(key)
            if statement is None:
                if table is not None and not live:
                    query = parquet_scan.files_query(con, table)
                elif info.view is not None:
                    query = view_query(name, info.view, silver=silver)
                else:
                    query = parquet_scan.empty_query(con, empty_schema(info))
                statement = _remember(_STATEMENTS, key, _create_view(name, info.name, query))
            con.execute(statement)
            opened[info] = table
    return opened


def _recorded(view: DeltaTable) -> int | None:
    """The silver version ``view`` last recorded reflecting (None: written before views recorded it,
    served as is), read once per view version."""
    key = (view.table_uri, view.version())
    with _STATEMENTS_LOCK:
        if key in _RECORDED:
            return _RECORDED[key]
    from warehouse.views import recorded_source_version  # noqa: PLC0415 - views imports this module

    return _remember(_RECORDED, key, recorded_source_version(view))


_RECORDED: dict[tuple[str, int], int | None] = {}   # (view table, version) -> silver version it reflects
_STATEMENTS: dict[tuple[object, ...], str] = {}   # (table, spec, Delta table id, version) -> CREATE VIEW
_STATEMENTS_KEPT = 1024
_STATEMENTS_LOCK = threading.Lock()


def _remember(cache: dict[Any, T], key: Any, value: T) -> T:
    """Keep ``value`` in one of this module's bounded caches (the oldest entries go first)."""
    with _STATEMENTS_LOCK:
        cache[key] = value
        while len(cache) > _STATEMENTS_KEPT:
            del cache[next(iter(cache))]
    return value


def open_catalog(
    dataset: str | None = None, *, read_only: bool = True, empty: bool = False, only: bool = False
) -> Catalog:
    """An in-memory DuckDB with every dataset's tables; ``dataset`` is reachable unqualified.

    ``empty`` registers every table without rows (the columns the specs promise), for callers that
    need only names and types, such as the guard in front of a remote backend. ``only`` registers
    ``dataset``'s tables alone: a third of the work to open, and a commit to another dataset does
    not make it stale (the serving backend's catalog for questions on one dataset).
    """
    chosen = _choose(dataset)
    con = duckdb.connect(":memory:")
    catalog = Catalog(con=con, dataset=chosen)
    try:
        con.execute(set_statement("TimeZone", "UTC"))  # buckets and dates are UTC (SPEC 2)
        con.execute(set_statement("enable_profiling", "no_output"))  # for Catalog.scanned
        # Footers are read once per catalog (a snapshot's files never change), not per query.
        con.execute(set_statement("parquet_metadata_cache", True))
        opened = _create_tables(con, empty=empty, datasets=[chosen] if only else None)
        catalog.versions = {(i.dataset, i.name): t.version() if t else None for i, t in opened.items()}
        readable = [f"{i.path.resolve()}{os.sep}" for i, t in opened.items() if t is not None]
        con.execute(set_statement("search_path", chosen))
        if read_only:
            if readable:
                con.execute(set_statement("allowed_directories", readable))
            con.execute(set_statement("enable_external_access", False))
            con.execute(set_statement("lock_configuration", True))
    except BaseException:
        con.close()
        raise
    return catalog


def connect(dataset: str | None = None, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection over every dataset's tables (see ``open_catalog``)."""
    return open_catalog(dataset, read_only=read_only).con


# ---- the DuckDB database file -------------------------------------------------------------------


def sync_duckdb_file(*, path: Path | None = None) -> Path:
    """Bring the DuckDB file's views up to every table's current files; returns its path.

    Only the datasets whose tables moved on (or whose YAML or view SQL changed) since the file was
    written get new views; the others' are kept (the file records what each dataset's views were
    written from, in ``_retail.synced``). Built in a copy beside the target and moved into place, so a
    reader never sees a half-written file (clients that hold the old file open keep reading the old
    snapshot). Two syncs at once may each replace the other's file: each copy records only what it
    holds, so the next sync rewrites whatever the last move dropped.
    """
    settings = get_settings()
    target = path or settings.duckdb_path
    target.parent.mkdir(parents=True, exist_ok=True)
    view_sql = _digest(sorted(sqlfiles.SQL_DIR.glob("*.sql")))
    wanted = {name: _sync_state(name, view_sql) for name in dataset_names()}
    if target.exists() and _synced(target) == wanted:
        return target
    fd, scratch = tempfile.mkstemp(prefix=".retail-", suffix=".duckdb", dir=target.parent)
    os.close(fd)
    os.unlink(scratch)  # DuckDB wants to create the file itself, or gets a copy of the current one
    try:
        written: dict[str, str] = {}
        if target.exists():
            shutil.copyfile(target, scratch)
            written = _synced(Path(scratch))      # what this copy holds, whatever replaced the target since
            if not written:                       # written before it recorded this: built whole
                os.unlink(scratch)
        stale = [name for name, state in wanted.items() if written.get(name) != state]
        # DuckDB 2.0 writes a storage format 1.x clients cannot open; the views need nothing newer.
        with duckdb.connect(scratch, config={"storage_compatibility_version": "v1.0.0"}) as con:
            for gone in set(written) - set(wanted):      # a dataset no longer known
                con.execute(f'DROP SCHEMA IF EXISTS "{gone}" CASCADE')
            _create_tables(con, datasets=stale)
            default = settings.default_dataset
            if default in stale:          # the default dataset's tables, unqualified
                for (name,) in con.sql("SELECT view_name FROM duckdb_views() WHERE schema_name = 'main' "
                                       "AND database_name = current_database() AND NOT internal").fetchall():
                    con.execute(f'DROP VIEW "main"."{name}"')
                for info in dataset_tables(default):
                    query = exp.select("*").from_(exp.table_(info.name, db=default, quoted=True))
                    con.execute(_create_view("main", info.name, query))
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {_SYNCED_SCHEMA}")
            con.execute(f"CREATE OR REPLACE TABLE {_SYNCED_SCHEMA}.synced (dataset VARCHAR, state VARCHAR)")
            con.executemany(f"INSERT INTO {_SYNCED_SCHEMA}.synced VALUES (?, ?)", list(wanted.items()))
        os.replace(scratch, target)
    finally:
        for leftover in (Path(scratch), Path(scratch + ".wal")):
            leftover.unlink(missing_ok=True)
    return target


_SYNCED_SCHEMA = "_retail"


def _sync_state(dataset: str, view_sql: str) -> str:
    """What a dataset's views in the file are written from: each table's latest commit, and digests
    of the dataset's YAML and of the view SQL (a changed spec rewrites them without a new commit)."""
    commits = [latest_commit(info.path) for info in dataset_tables(dataset)]
    files = _digest(sorted(load_dataset(dataset).folder.glob("*.yaml"))) + view_sql
    return json.dumps({"commits": commits, "files": files, "default": get_settings().default_dataset == dataset})


def _digest(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for file in files:
        digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def _synced(target: Path) -> dict[str, str]:
    """What the file at ``target`` was written from, per dataset; empty when it is missing, unreadable
    or written before it recorded this (then it is rebuilt whole)."""
    if not target.exists():
        return {}
    try:
        with duckdb.connect(str(target), read_only=True) as con:
            return dict(con.sql(f"SELECT dataset, state FROM {_SYNCED_SCHEMA}.synced").fetchall())
    except duckdb.Error:
        return {}
