"""Reading and maintaining a Delta table: versions, snapshots, files, vacuum.

Z-order clustering lives in ``warehouse.delta.zorder``.
"""

from __future__ import annotations

from pathlib import Path

from deltalake import DeltaTable
from deltalake.exceptions import DeltaError
import pyarrow.dataset as ds

from retail_insights.errors import UsageError

from warehouse.delta.errors import TableMissing


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


def vacuum(table_path: Path, *, retention_hours: int) -> list[str]:
    """Delete files no snapshot within ``retention_hours`` needs; returns the deleted paths.

    Time travel works only as far back as the retention (settings.pipeline.vacuum_retention_hours).
    """
    return open_table(table_path).vacuum(
        retention_hours=retention_hours, dry_run=False, enforce_retention_duration=False
    )
