"""Commit staged Parquet files to a Delta table: one atomic, exactly-once version per batch.

Every writer goes through here. A batch is identified by ``(app_id, app_version)``; the pair
is stored in the commit itself (a Delta app transaction), so re-running a committed batch
is a no-op. Each attempt reads one snapshot, decides, and commits with no silent rebase:
if another writer got the next version first, the attempt is undone and redone against
the new snapshot, so key dedupe always sees every earlier batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
import random
import tempfile
import time
from urllib.parse import unquote

from deltalake import CommitProperties, DeltaTable, Schema as DeltaSchema, Transaction
from deltalake.exceptions import CommitFailedError, DeltaError
from deltalake.transaction import AddAction, RemoveAction, create_table_with_add_actions
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from retail_insights.errors import DataError, UsageError

from warehouse.delta.batch import Batch, Mode
from warehouse.delta.errors import CommitConflict
from warehouse.delta.files import (
    Partition,
    add_action,
    discard,
    link,
    new_table_file,
    partition_values,
    stage_by_partition,
    unreferenced,
)
from warehouse.delta.resolve import MergePlan, latest_per_key, plan_merge
from warehouse.delta.staged import StagedFile, inspect_staged


@dataclass(frozen=True)
class CommitResult:
    version: int | None  # Delta version written; None when skipped
    skipped: bool  # the app transaction already had this version or later
    inserted_rows: int  # rows with a key the table did not hold
    updated_rows: int  # incoming rows that replaced a stored version (corrections)
    duplicate_rows: int  # incoming rows that lost to a newer (or later-arrived) version
    touched_partitions: frozenset[Partition]
    attempts: int = 1  # commit attempts; more than 1 means another writer won a race

    @property
    def written_rows(self) -> int:
        return self.inserted_rows + self.updated_rows


def commit_staged(
    table_path: Path,
    staged_files: Sequence[Path],
    *,
    schema: pa.Schema,
    key: Sequence[str],
    order_by: str = "updated_at",
    sequence_by: str | None = None,
    partition_by: Sequence[str] = ("year", "month"),
    app_id: str,
    app_version: int,
    mode: Mode = "merge",
    max_retries: int = 5,
) -> CommitResult:
    """Commit the staged files as one table version, keeping the latest version of each key.

    ``mode="merge"`` applies SPEC 1.2 dedupe (within the batch and against the table);
    ``mode="append"`` trusts the caller that every key is new and reads only file footers.
    Staged files are consumed: gone after a commit or a skip, untouched after an error.
    Files that need no change are hard-linked into the table, not rewritten.
    """
    root = Path(table_path).resolve()
    batch = Batch.of(schema, key, order_by, sequence_by, partition_by, app_id, app_version, mode)
    if max_retries < 0:
        raise UsageError(f"max_retries must be >= 0, got {max_retries}.", hint="Use e.g. 5.")
    staged = inspect_staged(staged_files, schema=batch.schema, partition_by=batch.partition_by)
    for attempt in range(1, max_retries + 2):
        table = DeltaTable(str(root)) if DeltaTable.is_deltatable(str(root)) else None
        if table is not None:
            batch.check_table(table)
            done = table.transaction_version(app_id)
            if done is not None and done >= app_version:
                discard(staged_files)
                return CommitResult(None, True, 0, 0, 0, frozenset(), attempt)
        written: list[Path] = []
        try:
            result = _attempt(root, table, staged, written, batch)
        except BaseException as error:
            discard(unreferenced(root, written))
            if not (isinstance(error, (CommitFailedError, DeltaError)) and _lost_race(root, table)):
                raise
            # Jittered backoff so two writers that collided do not collide again in lockstep.
            time.sleep(random.uniform(0, 0.02 * 2**attempt))
            continue
        discard(staged_files)
        return replace(result, attempts=attempt)
    raise CommitConflict(
        f"Table {str(root)!r}: other writers won the next version {max_retries + 1} times in a row "
        f"for app {app_id!r} version {app_version}.",
        hint="Run the batch again (it is idempotent) or raise max_retries.",
    )


def commit_table(
    table_path: Path,
    data: pa.Table,
    *,
    schema: pa.Schema | None = None,
    key: Sequence[str],
    order_by: str = "updated_at",
    sequence_by: str | None = None,
    partition_by: Sequence[str] = ("year", "month"),
    app_id: str,
    app_version: int,
    mode: Mode = "merge",
    max_retries: int = 5,
) -> CommitResult:
    """Stage an in-memory table (one file per partition) and commit it with :func:`commit_staged`.

    ``schema`` defaults to the table's own; the other options are those of ``commit_staged``.
    """
    root = Path(table_path).resolve()
    schema = schema or data.schema
    batch = Batch.of(schema, key, order_by, sequence_by, partition_by, app_id, app_version, mode)
    if sorted(data.column_names) == sorted(schema.names):  # else staging names the difference
        data = data.select(schema.names).cast(schema)
    beaten = 0
    if mode == "merge":
        # Dedupe before splitting by partition: the split would lose the arrival order of rows.
        _require_values(data, [*batch.key, order_by])
        winners = latest_per_key(data, key=batch.key, order_by=order_by, sequence_by=sequence_by)
        beaten = data.num_rows - len(winners)
        data = data.take(pa.array(winners)) if beaten else data
    root.parent.mkdir(parents=True, exist_ok=True)
    # Stage beside the table so that committing is a hard link on the same file system.
    with tempfile.TemporaryDirectory(dir=root.parent, prefix=f".{root.name}-staging-") as folder:
        files = stage_by_partition(data, Path(folder), partition_by=batch.partition_by)
        result = commit_staged(
            root,
            files,
            schema=schema,
            key=key,
            order_by=order_by,
            sequence_by=sequence_by,
            partition_by=partition_by,
            app_id=app_id,
            app_version=app_version,
            mode=mode,
            max_retries=max_retries,
        )
    return (
        result if result.skipped else replace(result, duplicate_rows=result.duplicate_rows + beaten)
    )


def _attempt(
    root: Path,
    table: DeltaTable | None,
    staged: list[StagedFile],
    written: list[Path],
    batch: Batch,
) -> CommitResult:
    """One read-decide-commit against the snapshot ``table`` (None: no table yet).

    Every file put into the table root is listed in ``written``, so a failed attempt can be undone.
    """
    if batch.mode == "append":
        plan = MergePlan(sum(f.rows for f in staged), 0, 0, {}, {})
    else:
        plan = plan_merge(
            staged,
            table,
            root=root,
            schema=batch.schema,
            key=batch.key,
            order_by=batch.order_by,
            sequence_by=batch.sequence_by,
            partition_by=batch.partition_by,
        )
    actions: list[AddAction | RemoveAction] = []
    touched: set[Partition] = set()
    parts = batch.partition_by
    for index, file in enumerate(staged):
        if _place_staged(root, file, plan.drop_staged.get(index), written, batch):
            actions.append(add_action(root, written[-1], parts, file.partition))
            touched.add(file.partition)
    removed_at = time.time_ns() // 1_000_000
    for stored, replaced in plan.delete_stored.items():
        values = partition_values(parts, stored.partition)
        actions.append(RemoveAction(stored.path, True, removed_at, stored.size, values))
        touched.add(stored.partition)
        if len(replaced) == stored.rows:
            continue
        keep = np.ones(stored.rows, dtype=bool)
        keep[replaced] = False
        written.append(new_table_file(root, parts, stored.partition))
        pq.write_table(
            pq.read_table(root / unquote(stored.path)).filter(pa.array(keep)), written[-1]
        )
        actions.append(add_action(root, written[-1], parts, stored.partition))
    _commit(root, table, actions, batch, plan)
    version = 0 if table is None else table.version() + 1
    return CommitResult(
        version, False, plan.inserted, plan.updated, plan.duplicates, frozenset(touched)
    )


def _place_staged(
    root: Path, file: StagedFile, lost: np.ndarray | None, written: list[Path], batch: Batch
) -> bool:
    """Put a staged file's winning rows into the table root; False when no row of it won."""
    if lost is not None and len(lost) == file.rows:
        return False
    written.append(new_table_file(root, batch.partition_by, file.partition))
    if lost is None and not file.needs_cast:
        link(file.path, written[-1])
        return True
    keep = np.ones(file.rows, dtype=bool)
    if lost is not None:
        keep[lost] = False
    data = pq.read_table(file.path).filter(pa.array(keep))
    pq.write_table(data.select(batch.schema.names).cast(batch.schema), written[-1])
    return True


def _commit(
    root: Path,
    table: DeltaTable | None,
    actions: list[AddAction | RemoveAction],
    batch: Batch,
    plan: MergePlan,
) -> None:
    """Write the next log entry, or fail if another writer already did (no silent rebase)."""
    counts = {"inserted": plan.inserted, "updated": plan.updated, "duplicates": plan.duplicates}
    audit = {"appId": batch.app_id, "appVersion": batch.app_version, "mode": batch.mode, **counts}
    properties = CommitProperties(
        custom_metadata={"retailInsights": audit},
        # A rebase onto a newer snapshot would bypass our key checks; the caller redoes the attempt.
        max_commit_retries=0,
        app_transactions=[Transaction(batch.app_id, batch.app_version)],
    )
    if table is None:
        root.mkdir(parents=True, exist_ok=True)
        create_table_with_add_actions(
            str(root),
            DeltaSchema.from_arrow(batch.schema),
            actions,
            mode="error",
            partition_by=list(batch.partition_by),
            commit_properties=properties,
        )
    else:
        table.create_write_transaction(
            actions,
            mode="append",
            schema=table.schema(),
            partition_by=list(batch.partition_by),
            commit_properties=properties,
        )


def _lost_race(root: Path, table: DeltaTable | None) -> bool:
    """Did the failed commit fail because another writer took the version we aimed at?"""
    if not DeltaTable.is_deltatable(str(root)):
        return False
    return table is None or DeltaTable(str(root)).version() > table.version()


def _require_values(data: pa.Table, columns: list[str]) -> None:
    for column in columns:
        if data[column].null_count:
            raise DataError(
                f"{data[column].null_count} rows have no {column!r}; key and order columns must "
                "be set on every row.",
                hint="Fill updated_at from order_ts and quarantine rows without a key first.",
            )
