"""After staging: dedupe, the two commits, and the row accounting that must add up (SPEC 1.2).

``input_rows = written_rows + quarantined_rows + duplicate_rows`` is checked for every batch,
and so is every step on the way (chunk in = clean + quarantined; staged after dedupe = clean -
batch duplicates; committed = inserted + updated + lost to the table). A mismatch raises
``DataError`` with the numbers; nothing is reported as done that did not add up.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
import time
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from retail_insights.errors import DataError
from retail_insights.settings import get_settings
from spark_jobs.readers import Chunk
from spark_jobs.stage import ChunkStats
from warehouse.spec import DatasetSpec

_HISTORY_DEPTH = 100  # commits searched for the counts of a batch that was committed before a crash


@dataclass
class Stopwatch:
    """Seconds spent per phase of a batch (reported in the summary; benchmarks read them)."""

    laps: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def lap(self, name: str) -> Iterator[None]:
        began = time.perf_counter()
        try:
            yield
        finally:
            self.laps[name] = round(self.laps.get(name, 0.0) + time.perf_counter() - began, 3)


@dataclass(frozen=True)
class Tables:
    """The dataset's silver and quarantine tables and the app ids batches commit under."""

    spec: DatasetSpec
    silver: Path
    quarantine: Path
    app_id: str
    quarantine_app_id: str

    @classmethod
    def of(cls, dataset: str, spec: DatasetSpec) -> Tables:
        settings = get_settings()
        quarantine = next(name for name, t in spec.tables.items() if t.kind == "quarantine")
        return cls(
            spec,
            settings.table_path(dataset, spec.silver_table),
            settings.table_path(dataset, quarantine),
            f"batch:{dataset}",
            f"batch:{dataset}:quarantine",
        )

    def silver_version(self) -> int | None:
        from warehouse.delta import read_version

        return read_version(self.silver)

    def quarantine_version(self) -> int | None:
        from warehouse.delta import read_version

        return read_version(self.quarantine)

    def last_batch(self) -> int:
        """Highest batch number either table has committed (guards against a lost ledger)."""
        from warehouse.delta import last_app_version

        return max(
            last_app_version(self.silver, self.app_id) or 0,
            last_app_version(self.quarantine, self.quarantine_app_id) or 0,
        )


@dataclass(frozen=True)
class Outcome:
    input_rows: int
    written_rows: int
    quarantined_rows: int
    duplicate_rows: int
    touched_partitions: frozenset[tuple[int, ...]]


def check_columns(chunk: Chunk, *, spec: DatasetSpec) -> None:
    """Fail before any work if a CSV header or Parquet schema lacks a required column."""
    from spark_jobs.headers import normalize_headers

    if chunk.fmt == "csv":
        names = list(chunk.header)
    elif chunk.fmt == "parquet":
        names = pq.read_schema(chunk.path).names
    else:
        return
    try:
        normalize_headers(pd.DataFrame(columns=names), spec)
    except DataError as exc:
        raise DataError(f"{chunk.source_file!r}: {exc}") from exc


def commit_batch(
    stats: Sequence[ChunkStats],
    *,
    tables: Tables,
    seq: int,
    staging: Path,
    clock: Stopwatch | None = None,
) -> Outcome:
    """Dedupe the staged files, commit both tables, and prove the accounting."""
    from spark_jobs.compact import compact_staged
    from spark_jobs.dedupe import find_losers
    from warehouse.delta import commit_staged
    from warehouse.schema import quarantine_schema, silver_schema

    clock = clock or Stopwatch()
    spec = tables.spec
    stats = sorted(stats, key=lambda s: (s.file_index, s.chunk_index))
    input_rows = sum(s.input_rows for s in stats)
    clean = sum(s.clean_rows for s in stats)
    quarantined = sum(s.quarantined_rows for s in stats)
    _require(
        input_rows == clean + quarantined,
        f"{input_rows} rows were read but {clean} came out clean and {quarantined} quarantined",
    )

    # Arrival order: file, then chunk; each staged file holds its rows in line order.
    staged = [(s.file_index, Path(f)) for s in stats for f in s.clean_files]
    files = [p for _, p in staged]
    with clock.lap("dedupe"):
        losers = find_losers(
            files,
            file_index=[i for i, _ in staged],
            key=spec.key,
            order_by=spec.dedupe_order,
            spill_dir=staging / "spill",
        )
    batch_duplicates = sum(len(lines) for lines in losers.values())
    with clock.lap("cluster"):
        # One Z-ordered file per partition: the merge links few files, Z-order rewrites none.
        compacted = compact_staged(
            files,
            losers=losers,
            schema=silver_schema(spec),
            partition_by=spec.partitioning,
            cluster_by=spec.clustering,
            out_dir=staging / "compacted",
            threads=get_settings().pipeline.workers,
        )
    kept = sum(pq.read_metadata(p).num_rows for p in compacted.values())
    _require(
        kept == clean - batch_duplicates,
        f"{clean} clean rows minus {batch_duplicates} batch duplicates should leave "
        f"{clean - batch_duplicates} staged rows, found {kept}",
    )
    written, lost_to_table, touched = 0, 0, frozenset(compacted)
    if compacted:
        with clock.lap("merge"):
            written, lost_to_table, touched = _merge(compacted, kept, tables=tables, seq=seq)

    quarantine_files = [Path(f) for s in stats for f in s.quarantine_files]
    if quarantine_files:
        with clock.lap("quarantine"):
            result = commit_staged(
                tables.quarantine,
                quarantine_files,
                schema=quarantine_schema(spec),
                key=spec.key,
                order_by="ingested_at",
                app_id=tables.quarantine_app_id,
                app_version=seq,
                mode="append",
            )
        _require(
            result.skipped or result.inserted_rows == quarantined,
            f"{quarantined} quarantined rows were staged but {result.inserted_rows} appended",
        )

    duplicates = batch_duplicates + lost_to_table
    _require(
        input_rows == written + quarantined + duplicates,
        f"input {input_rows} != written {written} + quarantined {quarantined} "
        f"+ duplicates {duplicates}",
    )
    return Outcome(input_rows, written, quarantined, duplicates, touched)


def _merge(
    files: dict[tuple[int, ...], Path], kept: int, *, tables: Tables, seq: int
) -> tuple[int, int, Any]:
    """Merge the deduped files (by partition) into silver: (written, lost to a stored version,
    partitions)."""
    from warehouse.delta import commit_staged
    from warehouse.schema import silver_schema

    spec = tables.spec
    result = commit_staged(
        tables.silver,
        list(files.values()),
        schema=silver_schema(spec),
        key=spec.key,
        # Without a version column every row ties and the later arrival wins.
        order_by=spec.dedupe_order or "ingested_at",
        app_id=tables.app_id,
        app_version=seq,
        mode="merge",
    )
    touched = result.touched_partitions
    counts = {"inserted": result.inserted_rows, "updated": result.updated_rows,
              "duplicates": result.duplicate_rows}
    if result.skipped:  # committed before a crash: the commit's own record has the counts
        touched = frozenset(files)
        # ... unless it fell out of the history; then all of it landed
        counts = _recorded(tables.silver, tables.app_id, seq) or {
            "inserted": kept, "updated": 0, "duplicates": 0}
    written = counts["inserted"] + counts["updated"]
    _require(
        written + counts["duplicates"] == kept,
        f"{kept} staged rows were committed as {counts['inserted']} inserted + "
        f"{counts['updated']} updated + {counts['duplicates']} older than the stored version",
    )
    return written, counts["duplicates"], touched


def finish(
    outcome: Outcome,
    *,
    tables: Tables,
    stats: Sequence[ChunkStats],
    batch_id: str,
    clock: Stopwatch | None = None,
    refresh_views: bool = True,
) -> None:
    """Cluster the touched partitions, refresh the views over them, record the DQ results."""
    from warehouse.delta import table_exists, zorder

    clock = clock or Stopwatch()
    partitions = set(outcome.touched_partitions)
    if partitions and table_exists(tables.silver):
        with clock.lap("zorder"):
            zorder(tables.silver, columns=tables.spec.clustering, partitions=partitions)
    if refresh_views and partitions and _importable("warehouse.views"):
        from warehouse.views import refresh

        with clock.lap("views"):
            refresh(tables.spec.name, partitions=partitions)
    if _importable("dq.results"):
        from dq.results import write_batch_result

        with clock.lap("dq_results"):
            write_batch_result(
                tables.spec.name, batch_id, [_Validated(s.validation) for s in stats]
            )


@dataclass(frozen=True)
class _Validated:
    """What ``dq.results`` reads of a partition: its validation summary (the rows are committed)."""

    validation: dict[str, Any]


def _recorded(table: Path, app_id: str, app_version: int) -> dict[str, int] | None:
    """The counts a commit of this batch stored in its metadata (a re-run after a crash)."""
    from warehouse.delta import open_table

    for commit in open_table(table).history(limit=_HISTORY_DEPTH):
        info = commit.get("retailInsights") or {}
        if info.get("appId") == app_id and info.get("appVersion") == app_version:
            return {k: int(info.get(k, 0)) for k in ("inserted", "updated", "duplicates")}
    return None


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise DataError(
            f"Row accounting failed: {message}.",
            hint="The batch is not marked as ingested. This is a bug: report it with the files; "
            "ingesting them again is safe (commits already made are recognised).",
        )


def _importable(module: str) -> bool:
    """Views and DQ results are written by other packages; skip a step whose module is absent."""
    from importlib.util import find_spec

    try:
        return find_spec(module) is not None
    except ModuleNotFoundError:
        return False
