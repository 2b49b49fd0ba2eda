"""Z-order clustering: one file per partition, rows along a Z-order curve, one commit for all.

Readers skip row groups (and files) by min/max statistics; rows laid out along a Z-order curve
over the clustering columns (SPEC 1.3: category, state) keep both columns' ranges narrow in
every row group, where a plain sort would narrow only the first column.

The curve is computed here with numpy (dense ranks of each column's values, bits
interleaved), so clustering is a read, an argsort and a write per partition, done by a few
threads at once (Parquet I/O and Arrow kernels release the GIL). :func:`zorder` replaces all
the touched partitions' files in ONE Delta commit whose actions carry ``dataChange=false``;
delta-rs's own ``optimize.z_order`` commits once per call, i.e. once per partition.

Every file written here records the columns it is clustered by in its Parquet key-value
metadata, so a partition that already is one clustered file is left alone (a repeat is free,
and a batch whose staged files were clustered on the way in costs no rewrite at all).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import random
import time
from urllib.parse import unquote

from deltalake import CommitProperties, DeltaTable
from deltalake.exceptions import CommitFailedError, DeltaError
from deltalake.transaction import AddAction, RemoveAction
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from retail_insights.errors import UsageError

from warehouse.delta.errors import CommitConflict, TableMissing
from warehouse.delta.files import (
    Partition,
    add_action,
    discard,
    new_table_file,
    partition_values,
    unreferenced,
)

CLUSTERED_BY = b"retail_insights.zorder"  # Parquet key-value metadata: "category,state"
MAINTENANCE_KEY = "retailInsightsMaintenance"  # commit metadata of a Z-order commit
# Small enough that a row group spans a narrow stretch of the curve (skipping works inside a
# file), large enough that reading stays sequential.
ROW_GROUP_ROWS = 128 * 1024
_THREADS = 2


def zorder_order(data: pa.Table, columns: Sequence[str]) -> np.ndarray:
    """Row positions of ``data`` along a Z-order curve over ``columns`` (ties keep row order)."""
    n = data.num_rows
    if n == 0 or not columns:
        return np.arange(n)
    ranks = []
    for name in columns:
        column = data[name]
        values = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        # Dense ranks (0..distinct-1, nulls last) turn any sortable type into small integers.
        dense = pc.rank(values, sort_keys="ascending", tiebreaker="dense").to_numpy()
        ranks.append(dense - np.uint64(1))
    width = max(int(r.max()).bit_length() for r in ranks)
    # Interleaving must fit 64 bits: with more distinct values, keep each rank's high bits.
    shift = max(0, width - 64 // len(ranks))
    z = np.zeros(n, dtype=np.uint64)
    for bit in range(width - shift):
        for offset, rank in enumerate(reversed(ranks)):  # the first column is the high bit
            plane = ((rank >> np.uint64(bit + shift)) & np.uint64(1)).astype(np.uint64)
            z |= plane << np.uint64(bit * len(ranks) + offset)
    return np.argsort(z, kind="stable")


def write_clustered(data: pa.Table, path: Path, *, columns: Sequence[str]) -> Path:
    """Write ``data`` to ``path`` in Z-order over ``columns``, marked as clustered by them."""
    ordered = data.take(pa.array(zorder_order(data, columns)))
    metadata = {**(ordered.schema.metadata or {}), CLUSTERED_BY: ",".join(columns).encode()}
    pq.write_table(ordered.replace_schema_metadata(metadata), path, row_group_size=ROW_GROUP_ROWS)
    return path


def is_clustered(path: Path, *, columns: Sequence[str]) -> bool:
    """Was ``path`` written by :func:`write_clustered` over exactly ``columns``?"""
    marker = pq.read_metadata(path).metadata or {}
    return marker.get(CLUSTERED_BY) == ",".join(columns).encode()


def zorder(
    table_path: Path,
    *,
    columns: Sequence[str] = ("category", "state"),
    partitions: Iterable[tuple[int, ...]] | None = None,
    max_retries: int = 5,
) -> int | None:
    """Cluster ``partitions`` (all when None) into one Z-ordered file each, in one commit.

    Rows and versions of keys are untouched (the commit carries no data change). A partition
    that already is a single file clustered by ``columns`` is skipped. Returns the version
    written, or None when nothing needed clustering. If another writer commits first, the
    work is redone against the new snapshot (up to ``max_retries`` times).
    """
    if not columns or isinstance(columns, str):
        raise UsageError(f"columns must be a non-empty sequence of names, got {columns!r}.",
                         hint="Pass e.g. columns=('category', 'state').")
    root = Path(table_path).resolve()
    wanted = None if partitions is None else {tuple(int(v) for v in p) for p in partitions}
    for attempt in range(1, max_retries + 2):
        if not DeltaTable.is_deltatable(str(root)):
            raise TableMissing(f"No Delta table at {str(root)!r}.",
                               hint="Commit a batch to it first (warehouse.delta.commit_staged).")
        table = DeltaTable(str(root))
        todo = _fragmented(table, root, columns=columns, wanted=wanted)
        if not todo:
            return None
        written: list[Path] = []
        try:
            _rewrite(table, root, todo, columns=columns, written=written)
            return table.version() + 1
        except BaseException as error:
            discard(unreferenced(root, written))
            moved = DeltaTable(str(root)).version() > table.version()
            if not (isinstance(error, (CommitFailedError, DeltaError)) and moved):
                raise
            time.sleep(random.uniform(0, 0.02 * 2**attempt))  # a concurrent commit won; redo
    raise CommitConflict(
        f"Z-order of {str(root)!r} lost {max_retries + 1} races with other writers.",
        hint="Run zorder again later; it is safe to repeat.",
    )


_Stored = tuple[str, int]  # (path relative to the root, as in the log; size in bytes)


def _fragmented(
    table: DeltaTable, root: Path, *, columns: Sequence[str], wanted: set[Partition] | None
) -> dict[Partition, list[_Stored]]:
    """Files of each wanted partition that is not already one clustered file."""
    names = table.metadata().partition_columns
    actions = pa.table(table.get_add_actions(flatten=True))
    keys = [actions[f"partition.{c}"].to_pylist() for c in names] if names else []
    by_partition: dict[Partition, list[_Stored]] = {}
    for row, (path, size) in enumerate(
        zip(actions["path"].to_pylist(), actions["size_bytes"].to_pylist(), strict=True)
    ):
        partition = tuple(int(k[row]) for k in keys)
        if wanted is None or partition in wanted:
            by_partition.setdefault(partition, []).append((path, int(size)))
    return {
        partition: files
        for partition, files in sorted(by_partition.items())
        if len(files) > 1 or not is_clustered(root / unquote(files[0][0]), columns=columns)
    }


def _rewrite(
    table: DeltaTable,
    root: Path,
    todo: dict[Partition, list[_Stored]],
    *,
    columns: Sequence[str],
    written: list[Path],
) -> None:
    names = list(table.metadata().partition_columns)
    schema = pa.schema(table.schema().to_arrow())

    def one(item: tuple[Partition, list[_Stored]]) -> Path:
        partition, files = item
        pieces = [_read_stored(root / unquote(path), schema, names, partition) for path, _ in files]
        target = new_table_file(root, names, partition)
        written.append(target)  # list.append is atomic: threads may share the list
        return write_clustered(pa.concat_tables(pieces), target, columns=columns)

    with ThreadPoolExecutor(max_workers=min(_THREADS, len(todo))) as pool:
        outputs = list(pool.map(one, todo.items()))
    removed_at = time.time_ns() // 1_000_000
    actions: list[AddAction | RemoveAction] = []
    for (partition, files), output in zip(todo.items(), outputs, strict=True):
        values = partition_values(names, partition)
        actions += [RemoveAction(path, False, removed_at, size, values) for path, size in files]
        actions.append(add_action(root, output, names, partition, data_change=False))
    audit = {"operation": "ZORDER", "columns": list(columns), "partitions": len(todo),
             "filesRemoved": sum(len(f) for f in todo.values())}
    table.create_write_transaction(
        actions,
        mode="append",
        schema=table.schema(),
        partition_by=names,
        # No silent rebase: a concurrent commit may have removed a file we rewrote.
        # Not under "retailInsights": readers take those commits for data commits with an appId.
        commit_properties=CommitProperties(custom_metadata={MAINTENANCE_KEY: audit},
                                           max_commit_retries=0),
    )


def _read_stored(path: Path, schema: pa.Schema, names: list[str], partition: Partition) -> pa.Table:
    """A table file with the table's columns; partition columns it does not store come from
    the partition values (delta-rs leaves them out of the files it writes)."""
    data = pq.ParquetFile(path).read(use_threads=False)  # the pool's threads use the cores
    for name, value in zip(names, partition, strict=True):
        if name not in data.column_names:
            data = data.append_column(name, pa.array(np.full(data.num_rows, value)))
    return data.select(schema.names).cast(schema)
