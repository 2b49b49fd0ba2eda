"""Orders for the Delta commit layer's tests: rows, staged files, commits and what they stored."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from warehouse.delta import CommitResult, commit_table, dataset


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


KEY = ("order_id",)


def row(
    order_id: str,
    *,
    month: int = 1,
    day: int = 1,
    revenue: float = 10.0,
    category: str = "Books",
    state: str = "CA",
) -> dict:
    """One order of 2024-``month``; ``day`` is the day of January its version was written."""
    updated = dt.datetime(2024, 1, day, 12, 0, tzinfo=dt.timezone.utc)
    return dict(
        order_id=order_id,
        updated_at=updated,
        year=2024,
        month=month,
        category=category,
        state=state,
        revenue=revenue,
    )


def orders(*rows: dict, schema: pa.Schema = SCHEMA) -> pa.Table:
    return pa.Table.from_pylist(list(rows), schema=schema)


def stage(folder: Path, *rows: dict) -> list[Path]:
    """What an engine hands over: one Parquet file per (year, month) in a staging folder."""
    folder.mkdir(parents=True, exist_ok=True)
    data = orders(*rows)
    files = []
    for month in sorted(set(data["month"].to_pylist())):
        path = folder / f"month-{month}.parquet"
        pq.write_table(data.filter(ds.field("month") == month), path)
        files.append(path)
    return files


def stored(path: Path, *, version: int | None = None) -> dict[str, dict]:
    return {r["order_id"]: r for r in dataset(path, version=version).to_table().to_pylist()}


def log_adds(path: Path) -> list[dict]:
    adds = []
    for commit in sorted((path / "_delta_log").glob("*.json")):
        adds += [
            json.loads(line)["add"] for line in commit.read_text().splitlines() if '"add"' in line
        ]
    return adds


def commit(path: Path, *rows: dict, version: int, app_id: str = "batch", **options) -> CommitResult:
    return commit_table(path, orders(*rows), key=KEY, app_id=app_id, app_version=version, **options)
