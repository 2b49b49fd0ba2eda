"""Z-order clustering: one clustered file per touched partition, all in one commit, rows kept."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from deltalake import DeltaTable, write_deltalake
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from retail_insights.errors import UsageError
from warehouse.delta import (
    TableMissing,
    commit_table,
    current_files,
    dataset,
    is_clustered,
    read_version,
    write_clustered,
    zorder,
    zorder_order,
)

from tests.warehouse.delta.delta_support import commit, row

SCHEMA = pa.schema([("order_id", pa.string()), ("updated_at", pa.timestamp("us", tz="UTC")),
                    ("year", pa.int32()), ("month", pa.int32()), ("category", pa.string()),
                    ("state", pa.string())])
CATEGORIES = ("Books", "Toys", "Home", "Beauty")
STATES = ("CA", "NY", "TX", "WA")


def batch(prefix: str, months: tuple[int, ...], *, per_month: int = 16) -> pa.Table:
    rows = []
    for month in months:
        for i in range(per_month):
            rows.append(dict(order_id=f"{prefix}-{month}-{i}",
                             updated_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC), year=2024,
                             month=month, category=CATEGORIES[i % 4], state=STATES[(i // 4) % 4]))
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def load(path: Path, *batches: pa.Table) -> None:
    for version, data in enumerate(batches, start=1):
        commit_table(path, data, key=("order_id",), app_id="b", app_version=version)


def files_by_month(path: Path) -> dict[int, int]:
    counts: dict[int, int] = {}
    for uri in current_files(path):
        month = int(uri.split("month=")[1].split("/")[0])
        counts[month] = counts.get(month, 0) + 1
    return counts


def test_zorder_order_interleaves_both_columns_so_neither_dominates() -> None:
    data = pa.table({"a": [1, 1, 0, 0], "b": [1, 0, 1, 0]})
    assert zorder_order(data, ["a", "b"]).tolist() == [3, 2, 1, 0]
    data = pa.table({"a": [0, 0, 0, 0, 1, 1, 1, 1], "b": [0, 1, 2, 3, 0, 1, 2, 3]})
    # A plain sort would run through b = 0..3 within a = 0; the curve fills 2x2 squares first.
    assert zorder_order(data, ["a", "b"]).tolist() == [0, 1, 4, 5, 2, 3, 6, 7]


def test_zorder_order_keeps_row_order_among_equal_values_and_handles_nulls() -> None:
    data = pa.table({"a": ["x", None, "x", "w"], "b": [1, 1, 1, None]})
    order = zorder_order(data, ["a", "b"]).tolist()
    assert order.index(0) < order.index(2)
    assert sorted(order) == [0, 1, 2, 3]


def test_a_clustered_file_is_marked_and_a_plain_one_is_not(tmp_path: Path) -> None:
    data = batch("o", (1,))
    write_clustered(data, tmp_path / "c.parquet", columns=["category", "state"])
    pq.write_table(data, tmp_path / "plain.parquet")
    assert is_clustered(tmp_path / "c.parquet", columns=["category", "state"])
    assert not is_clustered(tmp_path / "c.parquet", columns=["state"])
    assert not is_clustered(tmp_path / "plain.parquet", columns=["category", "state"])
    assert pq.read_table(tmp_path / "c.parquet").sort_by("order_id").equals(
        data.sort_by("order_id"))


def test_touched_partitions_become_one_clustered_file_each_in_one_commit(tmp_path: Path) -> None:
    path = tmp_path / "sales"
    load(path, batch("a", (1, 2, 3)), batch("b", (1, 2, 3)), batch("c", (1, 2)))
    before = dataset(path).to_table().sort_by("order_id")
    version = read_version(path)

    written = zorder(path, columns=("category", "state"), partitions={(2024, 1), (2024, 2)})

    assert written == version + 1 == read_version(path)  # one commit for both partitions
    assert files_by_month(path) == {1: 1, 2: 1, 3: 2}  # month 3 was not asked for
    assert dataset(path).to_table().sort_by("order_id").equals(before)
    for uri in current_files(path):
        if "month=3" not in uri:
            assert is_clustered(Path(uri), columns=["category", "state"])
    entries = [json.loads(line) for line in
               (path / "_delta_log" / f"{written:020d}.json").read_text().splitlines()]
    changes = [e.get("add", e.get("remove")) for e in entries if "add" in e or "remove" in e]
    assert len(changes) == 2 + 6 and not any(c["dataChange"] for c in changes)
    assert DeltaTable(str(path)).history(1)[0]["retailInsightsMaintenance"]["operation"] == "ZORDER"


def test_a_partition_that_is_one_clustered_file_is_not_rewritten_again(tmp_path: Path) -> None:
    path = tmp_path / "sales"
    load(path, batch("a", (1, 2)), batch("b", (1, 2)))
    zorder(path, columns=("category", "state"))
    version, files = read_version(path), sorted(current_files(path))

    assert zorder(path, columns=("category", "state")) is None
    assert (read_version(path), sorted(current_files(path))) == (version, files)
    assert zorder(path, columns=("state",)) == version + 1  # other columns: cluster again


def test_files_without_their_partition_columns_are_clustered_with_the_partition_values(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sales"
    for prefix in ("a", "b"):  # delta-rs leaves partition columns out of its files
        write_deltalake(str(path), batch(prefix, (4,)), partition_by=["year", "month"],
                        mode="append")
    zorder(path, columns=("category", "state"))
    data = dataset(path).to_table()
    assert data.num_rows == 32 and set(data["month"].to_pylist()) == {4}
    assert files_by_month(path) == {4: 1}


def test_bad_columns_and_a_missing_table_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"columns must be a non-empty sequence .* columns=\("):
        zorder(tmp_path, columns="category")
    with pytest.raises(TableMissing, match="No Delta table at .* Commit a batch to it first"):
        zorder(tmp_path / "nothing", columns=("category",))


def test_zorder_clusters_the_touched_partitions_and_keeps_every_row(tmp_path):
    path = tmp_path / "sales"
    touched = set()
    for version, states in enumerate([("TX", "CA"), ("NY", "WA"), ("CA", "FL")], start=1):
        rows = [
            row(f"o{version}-{s}", state=s, category=c) for s in states for c in ("Toys", "Books")
        ]
        touched |= commit(path, *rows, version=version).touched_partitions
    before = dataset(path).to_table().sort_by("order_id")

    zorder(path, partitions=touched)

    assert dataset(path).to_table().sort_by("order_id").equals(before)
    assert len(current_files(path)) == 1
    assert DeltaTable(str(path)).history(1)[0]["retailInsightsMaintenance"]["operation"] == "ZORDER"
