"""The Delta commit layer: every writer (Dask, Spark, the Kafka consumer) commits through here.

Engines write plain Parquet into a staging folder, one file per partition (see
``warehouse.delta.staged`` for the contract); :func:`commit_staged` turns a batch of such
files into one exactly-once Delta version with SPEC 1.2 dedupe, per-file statistics and
Hive-style partition folders. Spark never writes the Delta root.

Typical load::

    result = commit_staged(path, files, schema=schema, key=("order_id",),
                           app_id="batch", app_version=42)
    zorder(path, partitions=result.touched_partitions)
"""

from warehouse.delta.batch import Mode
from warehouse.delta.zorder import is_clustered, write_clustered, zorder, zorder_order
from warehouse.delta.commit import CommitResult, commit_staged, commit_table
from warehouse.delta.errors import CommitConflict, TableMissing
from warehouse.delta.table import (
    current_files,
    dataset,
    last_app_version,
    open_table,
    read_version,
    table_exists,
    vacuum,
)

__all__ = [
    "CommitConflict",
    "CommitResult",
    "Mode",
    "TableMissing",
    "commit_staged",
    "commit_table",
    "current_files",
    "dataset",
    "is_clustered",
    "last_app_version",
    "open_table",
    "read_version",
    "table_exists",
    "vacuum",
    "write_clustered",
    "zorder",
    "zorder_order",
]
