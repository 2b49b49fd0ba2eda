"""Batch ingest: raw files -> bronze -> staged chunks -> one deduplicated Delta commit per table.

Steps, each bound to the batch and safe to repeat:

1. land the files in bronze and skip content already committed (``spark_jobs.bronze``);
2. plan chunks and stage them on the engine, Dask (default) or Spark (``spark_jobs.stage``);
3. drop rows that lose to a later version within the batch (``spark_jobs.dedupe``);
4. commit the clean rows (merge against the table) and the quarantine rows (append), each with
   the batch's sequence number as the app version, so a re-run never commits twice;
5. check the row accounting (steps 3-5: ``spark_jobs.load``), then cluster the touched
   partitions, refresh views, record DQ results (``spark_jobs.finish``), and mark the batch
   committed in the ledger.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
import fnmatch
from datetime import UTC, datetime
from pathlib import Path
import shutil
import time
from typing import Any, Literal, get_args

from retail_insights.errors import UsageError, did_you_mean
from retail_insights.settings import get_settings
from spark_jobs.bronze import Landed, Ledger, batch_id_for, land
from spark_jobs.finish import finish
from spark_jobs.headers import check_columns
from spark_jobs.load import Outcome, Tables, commit_batch
from spark_jobs.readers import EXTENSIONS, Chunk, file_format, plan_file
from spark_jobs.stage import ChunkStats, StageJob
from spark_jobs.stopwatch import Stopwatch
from warehouse.spec import DatasetSpec, load_dataset

Engine = Literal["dask", "spark"]


@dataclass(frozen=True)
class IngestSummary:
    dataset: str
    batch_id: str | None  # None when every file was already ingested
    engine: str
    input_rows: int  # = written_rows + quarantined_rows + duplicate_rows
    written_rows: int  # new keys + corrections that replaced a stored version
    quarantined_rows: int  # rows that broke a critical rule, malformed lines included
    duplicate_rows: int  # versions that lost to a later one (in the batch or the table)
    warning_rows: int  # written or not, rows that carry a warning code
    quarantined_by_code: dict[str, int]  # a row with several codes counts under each
    delta_version: int | None  # silver table version after the batch
    quarantine_version: int | None
    duration_s: float
    files: tuple[str, ...]  # files ingested by this batch
    skipped_files: tuple[str, ...]  # files whose content was ingested before
    touched_partitions: tuple[tuple[int, ...], ...]
    phases_s: dict[str, float] = field(
        default_factory=dict
    )  # seconds per phase (land, stage, merge, ...)
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)  # dimension table -> its summary
    ignored_files: tuple[str, ...] = ()  # files of a folder that no table of the dataset reads
    # where the chunks were staged: "in-process", "local" (the process's Dask LocalCluster), the
    # Dask scheduler's address or the Spark master; None when nothing was staged
    scheduler: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["files"], data["skipped_files"] = list(self.files), list(self.skipped_files)
        data["ignored_files"] = list(self.ignored_files)
        data["touched_partitions"] = [list(p) for p in self.touched_partitions]
        return data


def ingest(
    paths: Sequence[Path],
    *,
    dataset: str,
    engine: Engine = "dask",
    spark_master: str | None = None,
    dask_scheduler: str | None = None,
    workers: int | None = None,
    progress: bool = True,
    now: datetime | None = None,
    refresh_views: bool = True,
) -> IngestSummary:
    """Ingest raw files (or folders of them) into ``dataset``'s tables as one batch.

    A dataset with dimension tables (a star schema) routes each file to the table whose ``files``
    glob matches its name and ingests the dimension tables first, each as its own batch, then the
    fact, whose suite checks its references against their keys. Files no table reads are
    listed as ``ignored_files``; the dimension tables' summaries are in ``tables``.

    ``dask_scheduler`` (or ``settings.pipeline.dask_scheduler``), ``tcp://host:port``, runs the Dask
    work on that existing cluster, whatever the batch's size; without it a small batch is staged
    in this process and a larger one on a LocalCluster this process starts.

    ``refresh_views=False`` leaves the views to a later ``retail-insights views refresh``
    (which picks up every partition changed since; bulk backfills of many batches use it).
    """
    if engine not in get_args(Engine):
        raise UsageError(f"unknown engine {engine!r}.", hint=did_you_mean(engine, get_args(Engine)))
    if dask_scheduler:
        from spark_jobs.dask_engine import check_address

        check_address(dask_scheduler)
    spec = load_dataset(dataset).spec
    files = expand_paths(paths)
    options = {"engine": engine, "spark_master": spark_master, "dask_scheduler": dask_scheduler,
               "workers": workers, "progress": progress,
               "ingested_at": _utc(now or datetime.now(UTC))}
    if not spec.dimension_tables:
        return _ingest_table(files, dataset=dataset, table=None, refresh_views=refresh_views, **options)
    routed, ignored = route_files(spec, files)
    dims = {table: _ingest_table(routed[table], dataset=dataset, table=table, refresh_views=False, **options)
            for table in spec.dimension_tables if routed[table]}
    # Views group by dimension columns: new dimension rows change every partition's rollups.
    dims_changed = any(d.written_rows for d in dims.values())
    fact = _ingest_table(routed[None], dataset=dataset, table=None, keys=reference_keys(dataset),
                         refresh_views=refresh_views and not dims_changed, **options)
    if refresh_views and dims_changed and fact.delta_version is not None:
        from warehouse.views import refresh

        refresh(dataset, full=True)
    return replace(fact, tables={t: d.to_json() for t, d in dims.items()},
                   ignored_files=tuple(str(f) for f in ignored))


def route_files(spec: DatasetSpec, files: list[Path]) -> tuple[dict[str | None, list[Path]], list[Path]]:
    """Files by the table that reads them (by the tables' ``files`` globs; None = the fact), and the
    files no table reads (other tables of the same export)."""
    routed: dict[str | None, list[Path]] = {None: [], **{t: [] for t in spec.dimension_tables}}
    ignored = []
    patterns = [(t, d.files) for t, d in spec.dimension_tables.items()] + [(None, spec.files or "*")]
    for file in files:
        table = next((t for t, pattern in patterns if fnmatch.fnmatch(file.name, pattern)), "")
        if table == "":
            ignored.append(file)
        else:
            routed[table].append(file)
    return routed, ignored


def reference_keys(dataset: str) -> dict[str, list[Any]]:
    """The key values of each dimension table written so far, by table (for the fact's references)."""
    from warehouse.delta import table_exists

    spec = load_dataset(dataset).spec
    out: dict[str, list[Any]] = {}
    for table in spec.dimension_tables:
        path = get_settings().table_path(dataset, table)
        if table_exists(path):
            from deltalake import DeltaTable

            key = spec.table_spec(table).key[0]
            values = DeltaTable(str(path)).to_pyarrow_dataset().to_table(columns=[key])[key]
            out[table] = values.unique().drop_null().to_pylist()
    return out


def _ingest_table(
    files: list[Path],
    *,
    dataset: str,
    table: str | None,
    engine: Engine,
    spark_master: str | None,
    dask_scheduler: str | None,
    workers: int | None,
    progress: bool,
    ingested_at: datetime,
    refresh_views: bool,
    keys: dict[str, list[Any]] | None = None,
) -> IngestSummary:
    """One table's batch: the fact's (``table=None``) or a dimension table's, with its own ledger."""
    started = time.perf_counter()
    spec = load_dataset(dataset).spec.table_spec(table)
    settings = get_settings()
    ledger = Ledger(settings.state_dir, dataset if table is None else f"{dataset}.{table}")
    tables = Tables.of(dataset, spec, table=table)
    clock = Stopwatch()
    with ledger.locked():
        with clock.lap("land"):
            landed = land(files, bronze_dir=settings.bronze_dir / dataset)
        new, skipped = _split_new(landed, ledger.committed_hashes())
        if not new:
            nothing = Outcome(0, 0, 0, 0, frozenset())
            return _summary(None, engine, nothing, [], tables, new, skipped, started, clock)
        batch_id = batch_id_for(dataset if table is None else f"{dataset}.{table}", [f.sha256 for f in new])
        seq = ledger.sequence_for(batch_id, at_least=tables.last_batch())
        ledger.started(batch_id=batch_id, seq=seq, files=new, at=ingested_at)
        staging = settings.staging_dir / batch_id
        shutil.rmtree(staging, ignore_errors=True)  # leftovers of a crashed attempt
        job = StageJob(dataset=dataset, batch_id=batch_id, ingested_at=ingested_at,
                       staging=str(staging), table=table, keys=keys)
        chunks = _plan(new, spec=spec, chunk_rows=settings.pipeline.chunk_rows)
        where = _where(engine, new, spark_master=spark_master or settings.spark.master,
                       dask_scheduler=dask_scheduler or settings.pipeline.dask_scheduler)
        n_workers = workers or settings.pipeline.workers
        if engine == "dask" and where != "in-process":
            from spark_jobs import dask_engine

            with clock.lap("engine_start"):  # once per process: a warm cluster costs nothing here
                if where == "local":
                    dask_engine.connect(n_workers)
                else:
                    dask_engine.connect_to(where)
        bar = _progress_bar(f"{dataset}{'' if table is None else '.' + table} [{engine}]", enabled=progress)
        with bar as on_progress, clock.lap("stage"):
            stats = _run(engine, chunks, job, where=where, workers=n_workers, on_progress=on_progress)
        outcome = commit_batch(stats, tables=tables, seq=seq, staging=staging, clock=clock)
        finish(outcome, tables=tables, stats=stats, batch_id=batch_id, clock=clock,
               refresh_views=refresh_views)
        summary = _summary(batch_id, engine, outcome, stats, tables, new, skipped, started, clock,
                           scheduler=where)
        ledger.committed(batch_id=batch_id, seq=seq, files=new, summary=summary.to_json())
        shutil.rmtree(staging, ignore_errors=True)
        return summary


def _summary(batch_id: str | None, engine: str, outcome: Outcome,
             stats: list[ChunkStats], tables: Tables, new: list[Landed],
             skipped: list[Landed], started: float, clock: Stopwatch, *,
             scheduler: str | None = None) -> IngestSummary:
    return IngestSummary(
        dataset=tables.spec.name,
        batch_id=batch_id,
        engine=engine,
        input_rows=outcome.input_rows,
        written_rows=outcome.written_rows,
        quarantined_rows=outcome.quarantined_rows,
        duplicate_rows=outcome.duplicate_rows,
        warning_rows=sum(s.warning_rows for s in stats),
        quarantined_by_code=_sum_codes(stats),
        delta_version=tables.silver_version(),
        quarantine_version=tables.quarantine_version(),
        duration_s=round(time.perf_counter() - started, 3),
        files=tuple(str(f.source) for f in new),
        skipped_files=tuple(str(f.source) for f in skipped),
        touched_partitions=tuple(sorted(outcome.touched_partitions)),
        phases_s=dict(clock.laps),
        scheduler=scheduler,
    )


def expand_paths(paths: Sequence[Path]) -> list[Path]:
    """Files as given, folders as their raw files (sorted by path); unknown or missing fail."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(
                f
                for f in path.rglob("*")
                if f.is_file() and f.suffix.lower() in EXTENSIONS and not f.name.startswith(".")
            )
        elif path.is_file():
            file_format(path)  # an unknown extension fails here, naming the allowed ones
            files.append(path)
        else:
            raise UsageError(f"no such file or folder: {str(path)!r}.", hint="Fix: check the path.")
    if not files:
        raise UsageError(
            f"no raw files in {[str(p) for p in paths]}.",
            hint=f"Raw files end in {', '.join(EXTENSIONS)}.",
        )
    return files


def _split_new(landed: list[Landed], committed: set[str]) -> tuple[list[Landed], list[Landed]]:
    new, skipped, seen = [], [], set(committed)
    for file in landed:
        (skipped if file.sha256 in seen else new).append(file)
        seen.add(file.sha256)
    return new, skipped


def _plan(files: list[Landed], *, spec: Any, chunk_rows: int) -> Iterator[Chunk]:
    """Chunks of every file in batch order; a file without a required column fails at its header."""
    for index, file in enumerate(files):
        first = True
        for chunk in plan_file(
            file.bronze,
            fmt=file.fmt,
            file_index=index,
            source_file=str(file.source.resolve()),  # lineage: an absolute path
            chunk_rows=chunk_rows,
        ):
            if first:
                check_columns(chunk, spec=spec)
                first = False
            yield chunk


def _where(engine: Engine, files: list[Landed], *, spark_master: str, dask_scheduler: str | None) -> str:
    """Where the batch's chunks are staged: Spark on its master; Dask on the given scheduler, else a
    small batch in this process (no cluster start, ``settings.pipeline.in_process_max_bytes``) and a
    larger one on the LocalCluster."""
    if engine == "spark":
        return spark_master
    if dask_scheduler:
        return dask_scheduler
    limit = get_settings().pipeline.in_process_max_bytes
    return "in-process" if limit and sum(f.size for f in files) <= limit else "local"


def _run(
    engine: Engine,
    chunks: Iterator[Chunk],
    job: StageJob,
    *,
    where: str,
    workers: int,
    on_progress: Any,
) -> list[ChunkStats]:
    if engine == "spark":
        from spark_jobs import spark_engine

        return spark_engine.run(chunks, job, master=where, on_progress=on_progress)
    from spark_jobs import dask_engine

    return dask_engine.run(chunks, job, workers=workers, where=where, on_progress=on_progress)


def _sum_codes(stats: list[ChunkStats]) -> dict[str, int]:
    total: dict[str, int] = {}
    for s in stats:
        for code, count in s.quarantined_by_code.items():
            total[code] = total.get(code, 0) + count
    return dict(sorted(total.items()))


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class _progress_bar:
    """A rich progress bar over chunks on stderr (stdout stays clean for --json)."""

    def __init__(self, description: str, *, enabled: bool) -> None:
        self.description, self.enabled = description, enabled
        self.bar: Any = None

    def __enter__(self):
        if not self.enabled:
            return lambda done, total: None
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("chunks"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
        )
        self.bar.start()
        task = self.bar.add_task(self.description, total=None)
        return lambda done, total: self.bar.update(task, completed=done, total=total)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
