"""Dedupe within a batch, over the staged files, before they go to the commit layer.

Why DuckDB over the staged files and not a shuffle in the engine: the rule (latest
``updated_at``; on a tie the row that arrived last, i.e. the higher (file order, line)) needs
every version of a key side by side, but only four narrow columns of them. DuckDB reads just
those columns from the Parquet files, hashes keys on all cores, spills to disk beyond its memory
limit, and finds that most keys occur once; only the few files that hold a losing row are
rewritten. A Dask or Spark hash shuffle would move every column of every row between workers to
drop a handful of them, and would have to be written twice (once per engine).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp

_SQL = Path(__file__).parent / "sql" / "batch_losers.sql"
_MEMORY_LIMIT = "2GB"


@dataclass(frozen=True)
class Deduped:
    files: list[Path]  # staged files after dropping losers, in arrival order
    duplicate_rows: int  # rows that lost to a later version within the batch


def dedupe_staged(
    files: Sequence[Path],
    *,
    file_index: Sequence[int],
    key: Sequence[str],
    order_by: str | None,
    spill_dir: Path,
) -> Deduped:
    """Drop every row that loses to another version of its key within these staged files.

    ``file_index`` gives each staged file's source file position (the arrival order). Only
    files that hold a loser are rewritten (``spark_jobs.compact`` instead rewrites them all,
    clustered, in one pass with the dropping).
    """
    losers = find_losers(
        files, file_index=file_index, key=key, order_by=order_by, spill_dir=spill_dir
    )
    kept = []
    for number, name in enumerate(files):
        lines = losers.get(number)
        kept += _drop_lines(Path(name), pa.array(lines, pa.int64())) if lines is not None else [
            Path(name)
        ]
    return Deduped(kept, sum(len(v) for v in losers.values()))


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


def _drop_lines(path: Path, lines: pa.Array) -> list[Path]:
    """Rewrite ``path`` without the rows at ``lines`` (a file holds each line once)."""
    table = pq.read_table(path)
    keep = pc.invert(pc.is_in(table["source_line"], value_set=lines))
    table = table.filter(keep)
    if table.num_rows == 0:
        path.unlink()
        return []
    partial = path.with_name(f".{path.name}.partial")
    pq.write_table(table, partial)
    os.replace(partial, path)
    return [path]


@lru_cache(maxsize=8)
def _losers_sql(key: tuple[str, ...], order_by: str | None) -> str:
    """The query of ``sql/batch_losers.sql`` with the dataset's columns put in by sqlglot."""
    tree = sqlglot.parse_one(_SQL.read_text(encoding="utf-8"), read="duckdb")
    for node in tree.walk():
        node.comments = None  # the file's comments document the template
    columns = [exp.column(name, quoted=True) for name in key]
    order = exp.column(order_by, quoted=True) if order_by else exp.Null()
    for node in list(tree.find_all(exp.Placeholder)):
        if node.name == "key":
            parent, arg = node.parent, node.arg_key
            siblings = parent.args[arg]
            at = next(i for i, item in enumerate(siblings) if item is node)
            parent.set(arg, [*siblings[:at], *(c.copy() for c in columns), *siblings[at + 1 :]])
        elif node.name == "order":
            node.replace(order.copy())
    return tree.sql(dialect="duckdb")
