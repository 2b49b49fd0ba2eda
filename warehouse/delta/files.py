"""Files in and around a Delta table: staging by partition, placing files, add actions, cleanup."""

from __future__ import annotations

from collections.abc import Sequence
import functools
import os
from pathlib import Path
import shutil
import uuid

from deltalake import DeltaTable
from deltalake.transaction import AddAction
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from warehouse.delta.stats import delta_stats

Partition = tuple[int, ...]


def stage_by_partition(data: pa.Table, folder: Path, *, partition_by: Sequence[str]) -> list[Path]:
    """One Parquet file per partition, in the staged-file contract."""
    if not partition_by:
        pq.write_table(data, folder / "part-0.parquet")
        return [folder / "part-0.parquet"]
    files = []
    groups = (
        data.select(list(partition_by))
        .group_by(list(partition_by), use_threads=False)
        .aggregate([])
    )
    for index, values in enumerate(groups.to_pylist()):
        masks = [pc.equal(data[c], values[c]) for c in partition_by]
        path = folder / f"part-{index}.parquet"
        pq.write_table(data.filter(functools.reduce(pc.and_, masks)), path)
        files.append(path)
    return files


def new_table_file(root: Path, partition_by: Sequence[str], partition: Partition) -> Path:
    folder = root.joinpath(*(f"{c}={v}" for c, v in zip(partition_by, partition, strict=True)))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"part-{uuid.uuid4().hex}.parquet"


def add_action(
    root: Path,
    path: Path,
    partition_by: Sequence[str],
    partition: Partition,
    *,
    data_change: bool = True,
) -> AddAction:
    """The log entry adding ``path``; ``data_change=False`` for rewrites that keep every row."""
    info = path.stat()
    stats = delta_stats(pq.read_metadata(path), exclude=partition_by)
    return AddAction(
        path.relative_to(root).as_posix(),
        info.st_size,
        partition_values(partition_by, partition),
        info.st_mtime_ns // 1_000_000,
        data_change,
        stats,
    )


def partition_values(partition_by: Sequence[str], partition: Partition) -> dict[str, str | None]:
    return {c: str(v) for c, v in zip(partition_by, partition, strict=True)}


def link(source: Path, dest: Path) -> None:
    """Hard link: free, and the staged name stays valid until the commit succeeded."""
    try:
        os.link(source, dest)
    except OSError:  # another file system, or links not supported
        shutil.copyfile(source, dest)


def discard(paths: Sequence[Path]) -> None:
    for path in paths:
        Path(path).unlink(missing_ok=True)


def unreferenced(root: Path, written: list[Path]) -> list[Path]:
    """Files of a failed attempt that no snapshot points at, so deleting them is safe.

    An error raised after the log entry was written (a post-commit hook) leaves our files
    live; they are kept, and the next attempt sees the app transaction and reports a skip.
    """
    if not written or not DeltaTable.is_deltatable(str(root)):
        return written
    live = set(pa.table(DeltaTable(str(root)).get_add_actions()).column("path").to_pylist())
    return [path for path in written if path.relative_to(root).as_posix() not in live]
