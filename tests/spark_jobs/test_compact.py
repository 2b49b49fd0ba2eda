"""Compaction of staged clean files: one clustered file per partition, losers dropped, rows kept."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from retail_insights.errors import DataError
from spark_jobs.compact import compact_staged
from warehouse.delta import is_clustered

SCHEMA = pa.schema([("order_id", pa.string()), ("year", pa.int32()), ("month", pa.int32()),
                    ("category", pa.string()), ("state", pa.string()),
                    ("source_line", pa.int64())])


def staged(folder: Path, name: str, month: int, rows: list[tuple[str, str, str, int]]) -> Path:
    """A staged file of one month: (order_id, category, state, source_line) rows."""
    folder.mkdir(parents=True, exist_ok=True)
    data = pa.table({"order_id": [r[0] for r in rows], "year": [2024] * len(rows),
                     "month": [month] * len(rows), "category": [r[1] for r in rows],
                     "state": [r[2] for r in rows], "source_line": [r[3] for r in rows]},
                    schema=SCHEMA)
    pq.write_table(data, folder / name)
    return folder / name


def compact(files: list[Path], losers: dict[int, list[int]], out: Path) -> dict:
    return compact_staged(files, losers={k: np.array(v) for k, v in losers.items()},
                          schema=SCHEMA, partition_by=("year", "month"),
                          cluster_by=("category", "state"), out_dir=out)


def test_each_partition_becomes_one_clustered_file_without_the_losing_rows(tmp_path: Path) -> None:
    jan_a = staged(tmp_path, "c0-01.parquet", 1,
                   [("o1", "Toys", "TX", 2), ("o2", "Books", "CA", 3)])
    feb_a = staged(tmp_path, "c0-02.parquet", 2, [("o3", "Toys", "CA", 4)])
    jan_b = staged(tmp_path, "c1-01.parquet", 1,
                   [("o1", "Toys", "NY", 2), ("o4", "Books", "CA", 9)])

    result = compact([jan_a, feb_a, jan_b], {0: [2]}, tmp_path / "out")

    assert sorted(result) == [(2024, 1), (2024, 2)]
    january = pq.read_table(result[(2024, 1)])
    assert january["order_id"].to_pylist() == ["o2", "o4", "o1"]  # Books before Toys, arrival kept
    assert january["state"].to_pylist() == ["CA", "CA", "NY"]  # the losing o1 (TX) is gone
    assert pq.read_table(result[(2024, 2)])["order_id"].to_pylist() == ["o3"]
    assert all(is_clustered(p, columns=["category", "state"]) for p in result.values())
    assert not any(p.exists() for p in (jan_a, feb_a, jan_b))  # inputs are consumed


def test_a_partition_whose_rows_all_lost_writes_no_file(tmp_path: Path) -> None:
    jan = staged(tmp_path, "c0-01.parquet", 1, [("o1", "Toys", "TX", 2)])
    feb = staged(tmp_path, "c0-02.parquet", 2, [("o1", "Toys", "TX", 3)])

    result = compact([jan, feb], {0: [2]}, tmp_path / "out")

    assert list(result) == [(2024, 2)] and not jan.exists()


def test_a_staged_file_holding_two_months_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "mixed.parquet"
    pq.write_table(pa.table({"order_id": ["a", "b"], "year": [2024, 2024], "month": [1, 2],
                             "category": ["x", "x"], "state": ["CA", "CA"], "source_line": [2, 3]},
                            schema=SCHEMA), path)
    with pytest.raises(DataError,
                       match=r"mixed.parquet.* exactly one integer 'month'.*one file per"):
        compact([path], {}, tmp_path / "out")


def test_no_files_means_nothing_to_write(tmp_path: Path) -> None:
    assert compact([], {}, tmp_path / "out") == {}
