"""Staged clean files -> one clustered file per partition, with the batch's losing rows dropped.

Every chunk stages one file per (year, month) it touched, and dirty or old rows scatter over
hundreds of months, so a 10M-row batch stages thousands of files, most holding a row or two.
Handing those to the commit layer would make the merge read thousands of footers, the log
carry thousands of add actions, and Z-order rewrite every partition again afterwards.

This pass reads each partition's staged files once, drops the rows that lost to a later
version (``spark_jobs.dedupe.find_losers``), and writes one file per partition laid out along
the Z-order curve of the dataset's clustering columns (``warehouse.delta.write_clustered``).
The commit layer then links these files into the table as they are, and ``zorder`` after the
merge has nothing left to do in partitions the table did not hold before. Partitions are
independent, so a few threads work at once (Parquet I/O and Arrow kernels release the GIL);
memory holds a few partitions, never the batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq


def compact_staged(
    files: Sequence[Path],
    *,
    losers: Mapping[int, np.ndarray],
    schema: pa.Schema,
    partition_by: Sequence[str],
    cluster_by: Sequence[str],
    out_dir: Path,
    threads: int = 2,
) -> dict[tuple[int, ...], Path]:
    """One clustered file per partition in ``out_dir`` (by partition), without ``losers`` rows.

    ``losers`` maps a position in ``files`` to the ``source_line`` values of its rows that
    lost; ``files`` are in arrival order and each holds one partition (the staged contract of
    ``warehouse.delta.staged``, checked from the footers first). Within a partition, rows with
    equal clustering values stay in arrival order. The inputs are deleted once their partition
    is written.
    """
    from warehouse.delta import write_clustered
    from warehouse.delta.files import discard
    from warehouse.delta.staged import inspect_staged

    if not files:
        return {}
    staged = inspect_staged(files, schema=schema, partition_by=partition_by)
    position = {Path(f): i for i, f in enumerate(files)}
    groups: dict[tuple[int, ...], list[Path]] = {}
    for file in staged:
        groups.setdefault(file.partition, []).append(file.path)
    out_dir.mkdir(parents=True, exist_ok=True)

    def one(item: tuple[tuple[int, ...], list[Path]]) -> Path | None:
        partition, paths = item
        pieces = [_without(path, losers.get(position[path]), schema) for path in paths]
        data = pa.concat_tables(pieces)
        if data.num_rows == 0:  # every row of the partition lost to a version in another one
            discard(paths)
            return None
        name = "-".join(str(v) for v in partition) or "all"
        target = write_clustered(data, out_dir / f"part-{name}.parquet", columns=cluster_by)
        discard(paths)
        return target

    ordered = sorted(groups.items())
    with ThreadPoolExecutor(max_workers=max(1, min(threads, len(groups)))) as pool:
        written = list(pool.map(one, ordered))
    return {p: path for (p, _), path in zip(ordered, written, strict=True) if path is not None}


def _without(path: Path, lines: np.ndarray | None, schema: pa.Schema) -> pa.Table:
    # ParquetFile.read without Arrow's own threads: the pool above already uses the cores, and
    # read_table's dataset machinery costs more than the read for the many one-row files.
    data = pq.ParquetFile(path).read(use_threads=False)
    if lines is not None and len(lines):
        dropped = pc.is_in(data["source_line"], value_set=pa.array(lines, pa.int64()))
        data = data.filter(pc.invert(dropped))
    return data.select(schema.names).cast(schema)
