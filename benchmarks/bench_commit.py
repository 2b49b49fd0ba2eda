"""Time the Delta commit layer on ~2M synthetic orders: fast path (links) versus merge (rewrites).

Prints, never asserts. Run: ``.venv/bin/python benchmarks/bench_commit.py [--rows 2000000]``.
Staging (writing the engines' Parquet files) is timed separately from the commits.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
import datetime as dt
from pathlib import Path
import shutil
import tempfile
import time
from typing import TypeVar

from deltalake import DeltaTable
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from warehouse.delta import Mode, commit_staged, current_files, zorder

SCHEMA = pa.schema(
    [
        ("order_id", pa.string()),
        ("updated_at", pa.timestamp("us", tz="UTC")),
        ("year", pa.int32()),
        ("month", pa.int32()),
        ("category", pa.string()),
        ("state", pa.string()),
        ("revenue", pa.float64()),
    ]
)
T = TypeVar("T")
CATEGORIES = ["Electronics", "Clothing", "Home", "Grocery", "Sports", "Beauty", "Toys", "Books"]
STATES = ["CA", "TX", "NY", "FL", "WA", "IL", "PA", "OH", "GA", "NC"]


def orders(first_id: int, n: int, *, day: int, seed: int) -> pa.Table:
    """n orders with ids from first_id over 24 months, their versions written on January ``day``."""
    rng = np.random.default_rng(seed)
    ids = np.arange(first_id, first_id + n)
    months = ids % 24
    updated = np.datetime64(dt.datetime(2025, 1, day), "us") + rng.integers(
        0, 3_600_000_000, n
    ).astype("timedelta64[us]")
    return pa.table(
        {
            "order_id": pa.array(np.char.add("O", ids.astype(str).astype(object)).astype(str)),
            "updated_at": pa.array(updated).cast(pa.timestamp("us", tz="UTC")),
            "year": pa.array(2023 + months // 12, pa.int32()),
            "month": pa.array(months % 12 + 1, pa.int32()),
            "category": pa.array(np.array(CATEGORIES)[rng.integers(0, len(CATEGORIES), n)]),
            "state": pa.array(np.array(STATES)[rng.integers(0, len(STATES), n)]),
            "revenue": pa.array(np.round(rng.uniform(1, 500, n), 2)),
        },
        schema=SCHEMA,
    )


def stage(data: pa.Table, folder: Path) -> list[Path]:
    """One file per (year, month), as the engines hand them over."""
    folder.mkdir(parents=True)
    files = []
    for year, month in sorted(
        {(r["year"], r["month"]) for r in data.select(["year", "month"]).to_pylist()}
    ):
        part = data.filter(pc.and_(pc.equal(data["year"], year), pc.equal(data["month"], month)))
        files.append(folder / f"{year}-{month}.parquet")
        pq.write_table(part, files[-1])
    return files


def timed(label: str, action: Callable[..., T], *args: object) -> T:
    """Run ``action(*args)`` and print how long it took, with a short summary of its result."""
    start = time.perf_counter()
    result = action(*args)
    seconds = time.perf_counter() - start
    summary = f"{len(result)} files" if isinstance(result, list) else (result or "")
    print(f"{label:<58} {seconds:7.2f} s   {summary}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000_000)
    rows = parser.parse_args().rows
    work = Path(tempfile.mkdtemp(prefix="bench-commit-"))
    key = ("order_id",)
    try:
        first = orders(0, rows, day=1, seed=1)
        new = orders(rows, rows, day=2, seed=2)
        # Corrections: a random tenth of the stored keys get a newer version, in every month.
        picked = np.sort(np.random.default_rng(5).choice(rows, rows // 10, replace=False))
        fixes = orders(0, rows, day=3, seed=3).take(pa.array(picked))
        everything = orders(0, rows, day=4, seed=4)
        batches: dict[str, list[Path]] = {}
        for name, data in [
            ("first", first),
            ("new", new),
            ("fixes", fixes),
            ("everything", everything),
        ]:
            batches[name] = timed(
                f"stage {name} ({data.num_rows:,} rows)", stage, data, work / name
            )
        print()

        def commit(name: str, into: Path, version: int, mode: Mode = "merge") -> str:
            r = commit_staged(
                into,
                batches[name],
                schema=SCHEMA,
                key=key,
                app_id="bench",
                app_version=version,
                mode=mode,
            )
            counts = f"inserted={r.inserted_rows:,} updated={r.updated_rows:,}"
            return f"v{r.version} {counts} dup={r.duplicate_rows:,}"

        loaded = work / "sales"
        timed(
            f"fast path, append mode, empty table ({rows:,})", commit, "first", loaded, 1, "append"
        )
        # Each merge below starts from a copy of the same 2M-row table.
        copies = {name: work / f"sales-{name}" for name in ("new", "fixes", "everything", "native")}
        for copy in copies.values():
            shutil.copytree(loaded, copy)
        timed(f"fast path, merge mode, all {rows:,} keys new", commit, "new", copies["new"], 2)
        timed(
            f"merge, {fixes.num_rows:,} corrections over 24 months",
            commit,
            "fixes",
            copies["fixes"],
            2,
        )
        timed(f"merge, all {rows:,} keys corrected", commit, "everything", copies["everything"], 2)

        def native() -> str:
            merger = DeltaTable(str(copies["native"])).merge(
                fixes, predicate="t.order_id = s.order_id", source_alias="s", target_alias="t"
            )
            metrics = (
                merger.when_matched_update_all(predicate="s.updated_at >= t.updated_at")
                .when_not_matched_insert_all()
                .execute()
            )
            return f"updated={metrics['num_target_rows_updated']:,}"

        timed(f"reference: delta-rs MERGE of the {fixes.num_rows:,} corrections", native)

        def cluster() -> str:
            zorder(copies["new"])
            return f"{len(current_files(copies['new']))} files"

        timed(f"zorder(category, state), {2 * rows:,} rows in 24 partitions", cluster)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
