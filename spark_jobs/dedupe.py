"""Dedupe within a batch, over the staged files, before they go to the commit layer.

Why DuckDB over the staged files and not a shuffle in the engine: the rule (latest
``updated_at``; on a tie the row that arrived last, i.e. the higher (file order, line)) needs
every version of a key side by side, but only four narrow columns of them. DuckDB reads just
those columns from the Parquet files, hashes keys on all cores, spills to disk beyond its memory
limit, and finds that most keys occur once; the few losing rows are named by (file, line) and
``spark_jobs.compact`` leaves them out while it writes the clustered files. A Dask or Spark hash
shuffle would move every column of every row between workers to drop a handful of them, and
would have to be written twice (once per engine). The query is ``warehouse/sql/batch_losers.sql``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
from sqlglot import exp

from warehouse import sqlfiles

_MEMORY_LIMIT = "2GB"


def find_losers(
    files: Sequence[Path],
    *,
    file_index: Sequence[int],
    key: Sequence[str],
    order_by: str | None,
    spill_dir: Path,
) -> dict[int, np.ndarray]:
    """``{position in files: source lines of its rows that lose}``; files without losers absent."""
    if not files:
        return {}
    import duckdb

    spill_dir.mkdir(parents=True, exist_ok=True)
    names = [str(f) for f in files]
    con = duckdb.connect(
        config={
            "memory_limit": _MEMORY_LIMIT,
            "temp_directory": str(spill_dir),
            "threads": max(1, os.cpu_count() or 1),
        }
    )
    try:
        con.execute("SET enable_progress_bar = false")  # a local setting; not allowed in config
        arrival = {"filename": names, "file_no": range(len(names)), "file_index": list(file_index)}
        con.register("arrival", pa.table({k: list(v) for k, v in arrival.items()}))
        losers = con.sql(_losers_sql(tuple(key), order_by), params=[names]).to_arrow_table()
    finally:
        con.close()
    if losers.num_rows == 0:
        return {}
    grouped = losers.group_by("file_no").aggregate([("source_line", "list")]).to_pydict()
    return {
        int(number): np.asarray(lines, dtype=np.int64)
        for number, lines in zip(grouped["file_no"], grouped["source_line_list"], strict=True)
    }


@lru_cache(maxsize=8)
def _losers_sql(key: tuple[str, ...], order_by: str | None) -> str:
    """``warehouse/sql/batch_losers.sql`` with the dataset's key and version columns."""
    query = sqlfiles.render(
        "batch_losers",
        {
            "key": [exp.column(name, quoted=True) for name in key],
            "order": exp.column(order_by, quoted=True) if order_by else exp.Null(),
        },
    )
    return sqlfiles.to_sql(query, pretty=False)
