"""Reading and maintaining a Delta table: versions, snapshots, files, Z-order and vacuum."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
import random
import time

from deltalake import DeltaTable
from deltalake.exceptions import CommitFailedError, DeltaError
import pyarrow.dataset as ds

from retail_insights.errors import UsageError

from warehouse.delta.errors import CommitConflict, TableMissing


def table_exists(table_path: Path) -> bool:
    return DeltaTable.is_deltatable(str(Path(table_path).resolve()))


def open_table(table_path: Path, *, version: int | None = None) -> DeltaTable:
    """The table at its latest version, or at ``version`` (time travel)."""
    root = Path(table_path).resolve()
    if not DeltaTable.is_deltatable(str(root)):
        raise TableMissing(
            f"No Delta table at {str(root)!r}.",
            hint="Commit a batch to it first (warehouse.delta.commit_staged).",
        )
    table = DeltaTable(str(root))
    if version is not None and version != table.version():
        if not 0 <= version <= table.version():
            raise UsageError(
                f"Table {str(root)!r} has no version {version}; "
                f"it has versions 0 to {table.version()}.",
                hint="Pick a version from that range (see the table's history).",
            )
        try:
            table.load_as_version(version)
        except DeltaError as error:  # the log before a checkpoint was cleaned up
            raise UsageError(
                f"Version {version} of {str(root)!r} can no longer be read: {error}.",
                hint="Pick a later version; older logs were removed by log retention.",
            ) from error
    return table


def read_version(table_path: Path) -> int | None:
    """Latest version, or None when there is no table yet."""
    return open_table(table_path).version() if table_exists(table_path) else None


def last_app_version(table_path: Path, app_id: str) -> int | None:
    """Highest batch version committed by ``app_id``, or None if it never committed here."""
    return open_table(table_path).transaction_version(app_id) if table_exists(table_path) else None


def dataset(table_path: Path, *, version: int | None = None) -> ds.Dataset:
    """The snapshot as a pyarrow dataset (DuckDB can register it); ``version`` = time travel."""
    return open_table(table_path, version=version).to_pyarrow_dataset()


def current_files(table_path: Path) -> list[str]:
    """Absolute paths of the snapshot's Parquet files, for engines that read plain Parquet.

    They sit in Hive folders (``year=2024/month=3/``) and not every file stores the partition
    columns, so read them with Hive partitioning: DuckDB ``hive_partitioning = true``, Spark
    ``basePath`` = the table root, pyarrow ``partitioning="hive"``.
    """
    return open_table(table_path).file_uris()


def zorder(
    table_path: Path,
    *,
    columns: Sequence[str] = ("category", "state"),
    partitions: Iterable[tuple[int, ...]] | None = None,
    max_retries: int = 5,
) -> None:
    """Cluster files by a Z-order curve over ``columns``; only ``partitions`` when given.

    One commit per partition, so a conflict costs one partition's rewrite. Rows and versions of
    keys are untouched (the commit carries no data change).
    """
    table = open_table(table_path)
    names = table.metadata().partition_columns
    targets = [None] if partitions is None else sorted(set(partitions))
    for partition in targets:
        filters = (
            None
            if partition is None
            else [(c, "=", str(v)) for c, v in zip(names, partition, strict=True)]
        )
        for attempt in range(1, max_retries + 2):
            try:
                table.optimize.z_order(list(columns), partition_filters=filters)
                break
            except CommitFailedError:  # a concurrent commit removed a file we were rewriting
                time.sleep(random.uniform(0, 0.02 * 2**attempt))
                table = open_table(table_path)
        else:
            raise CommitConflict(
                f"Z-order of {str(table_path)!r} partition {partition} lost "
                f"{max_retries + 1} races.",
                hint="Run zorder again later; it is safe to repeat.",
            )


def vacuum(table_path: Path, *, retention_hours: int) -> list[str]:
    """Delete files no snapshot within ``retention_hours`` needs; returns the deleted paths.

    Time travel works only as far back as the retention (settings.pipeline.vacuum_retention_hours).
    """
    return open_table(table_path).vacuum(
        retention_hours=retention_hours, dry_run=False, enforce_retention_duration=False
    )
