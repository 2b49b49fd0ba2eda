"""Loading a staged batch: dedupe, the two commits, and the row accounting (SPEC 1.2).

``input_rows = written_rows + quarantined_rows + duplicate_rows`` is checked for every batch,
and so is every step on the way (chunk in = clean + quarantined; staged after dedupe = clean -
batch duplicates; committed = inserted + updated + lost to the table). A mismatch raises
``DataError`` with the numbers; nothing is reported as done that did not add up. What follows
the load (Z-order, views, DQ results) is ``spark_jobs.finish``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from retail_insights.errors import DataError
from retail_insights.settings import get_settings
from spark_jobs.stage import ChunkStats
from spark_jobs.stopwatch import Stopwatch
from warehouse.spec import DatasetSpec

_HISTORY_DEPTH = 100  # commits searched for the counts of a batch that was committed before a crash


@dataclass(frozen=True)
class Tables:
    """The dataset's silver and quarantine tables and the app ids batches commit under."""

    spec: DatasetSpec
    silver: Path
    quarantine: Path
    app_id: str
    quarantine_app_id: str

    @classmethod
    def of(cls, dataset: str, spec: DatasetSpec, *, table: str | None = None) -> Tables:
        """The fact's tables, or with ``table`` a dimension table's (its own app ids)."""
        settings = get_settings()
        app = f"batch:{dataset}" if table is None else f"batch:{dataset}:{table}"
        return cls(
            spec,
            settings.table_path(dataset, spec.silver_table),
            settings.table_path(dataset, spec.quarantine_table),
            app,
            f"{app}:quarantine",
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
        partition_by=spec.partitioning,
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
