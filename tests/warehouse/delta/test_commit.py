"""Committing staged files: a partitioned table readers see, exactly once, files linked not
rewritten, types cast, and concurrent writers that both land."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
import re
import threading

from deltalake import DeltaTable
import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from retail_insights.errors import RetryableError
from warehouse.delta import (
    CommitConflict,
    CommitResult,
    commit_staged,
    current_files,
    dataset,
    last_app_version,
    read_version,
)

from tests.warehouse.delta.delta_support import KEY, SCHEMA, commit, orders, row, stage, stored


def test_first_commit_creates_a_partitioned_table_that_duckdb_and_plain_parquet_readers_see(
    tmp_path,
):
    files = stage(tmp_path / "staging", row("o1", month=1), row("o2", month=1), row("o3", month=2))
    path = tmp_path / "sales"

    result = commit_staged(path, files, schema=SCHEMA, key=KEY, app_id="batch", app_version=1)

    assert (result.version, result.skipped, result.inserted_rows, result.duplicate_rows) == (
        0,
        False,
        3,
        0,
    )
    assert result.touched_partitions == {(2024, 1), (2024, 2)}
    assert DeltaTable(str(path)).metadata().partition_columns == ["year", "month"]
    assert not any(f.exists() for f in files)  # staged files are consumed
    con = duckdb.connect()
    con.register("sales", dataset(path))
    counts = con.execute(
        "SELECT year, month, count(*) FROM sales GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert counts == [(2024, 1, 2), (2024, 2, 1)]
    plain = ds.dataset(
        current_files(path), format="parquet", partitioning="hive", partition_base_dir=str(path)
    )
    assert sorted(
        plain.to_table(columns=["order_id", "month"]).to_pylist(), key=lambda r: r["order_id"]
    ) == [
        {"order_id": "o1", "month": 1},
        {"order_id": "o2", "month": 1},
        {"order_id": "o3", "month": 2},
    ]
    assert all("/year=2024/month=" in f for f in current_files(path))


def test_recommitting_the_same_app_version_is_a_no_op_that_discards_the_staged_files(tmp_path):
    path = tmp_path / "sales"
    commit(path, row("o1"), version=7)
    again = stage(tmp_path / "retry", row("o1", revenue=99.0, day=20), row("o9"))

    result = commit_staged(path, again, schema=SCHEMA, key=KEY, app_id="batch", app_version=7)
    older = commit(path, row("o8"), version=6)

    assert result.skipped and result.version is None and older.skipped
    assert read_version(path) == 0 and last_app_version(path, "batch") == 7
    assert stored(path)["o1"]["revenue"] == 10.0 and set(stored(path)) == {"o1"}
    assert not any(f.exists() for f in again)


@pytest.mark.parametrize("mode", ["merge", "append"])
def test_unchanged_staged_files_are_linked_into_the_table_not_rewritten(tmp_path, mode):
    path = tmp_path / "sales"
    commit(path, row("o0"), version=1)
    files = stage(tmp_path / "staging", row("o1"), row("o2"))
    inode = files[0].stat().st_ino

    result = commit_staged(
        path, files, schema=SCHEMA, key=KEY, app_id="b", app_version=2, mode=mode
    )

    assert inode in [Path(f).stat().st_ino for f in current_files(path)]
    assert (result.inserted_rows, result.version) == (2, 1)


def test_staged_files_with_other_physical_types_are_cast_to_the_table_schema(tmp_path):
    loose = pa.schema(
        [
            f.with_type(pa.timestamp("ns", tz="UTC"))
            if f.name == "updated_at"
            else f.with_type(pa.int64())
            if f.name in ("year", "month")
            else f
            for f in SCHEMA
        ]
    )
    staged = tmp_path / "spark.parquet"
    pq.write_table(orders(row("o1"), schema=loose), staged)

    commit_staged(tmp_path / "sales", [staged], schema=SCHEMA, key=KEY, app_id="b", app_version=1)

    (file,) = current_files(tmp_path / "sales")
    assert pq.read_schema(file).field("updated_at").type == pa.timestamp("us", tz="UTC")
    assert stored(tmp_path / "sales")["o1"]["month"] == 1


def test_string_flavours_in_staged_files_are_linked_as_is_and_still_merge(tmp_path):
    # pandas and Spark write large_string or dictionary columns: the Parquet bytes are the same.
    data = orders(row("o1"), row("o2", state="TX"))
    wide = data["order_id"].cast(pa.large_string())
    data = data.set_column(0, pa.field("order_id", pa.large_string()), wide)
    data = data.set_column(5, "state", data["state"].dictionary_encode())
    staged = tmp_path / "pandas.parquet"
    pq.write_table(data, staged)
    inode, path = staged.stat().st_ino, tmp_path / "sales"

    commit_staged(path, [staged], schema=SCHEMA, key=KEY, app_id="b", app_version=1)
    linked = [Path(f).stat().st_ino for f in current_files(path)]
    result = commit(path, row("o1", day=3, revenue=30.0), version=2)

    assert linked == [inode]
    assert result.updated_rows == 1 and stored(path)["o1"]["revenue"] == 30.0
    assert stored(path)["o2"]["state"] == "TX" and dataset(path).count_rows() == 2


def _in_lockstep(monkeypatch, parties: int) -> None:
    """Every writer reads the same snapshot before any of them commits: a real race, every run."""
    barrier, seen = threading.Barrier(parties, timeout=60), threading.local()
    original = DeltaTable.create_write_transaction

    def commit_after_everyone_read(self, *args, **kwargs):
        if not getattr(seen, "waited", False):
            seen.waited = True
            barrier.wait()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(DeltaTable, "create_write_transaction", commit_after_everyone_read)


def test_concurrent_commits_from_two_writers_both_land_and_the_newer_version_of_a_shared_key_wins(
    tmp_path, monkeypatch
):
    path = tmp_path / "sales"
    commit(path, row("o1"), version=1, app_id="seed")
    _in_lockstep(monkeypatch, 2)
    batch = [row("a1"), row("shared", day=5, revenue=5.0)]
    stream = [row("s1", month=2), row("shared", day=7, revenue=7.0)]

    with ThreadPoolExecutor(2) as pool:
        results = list(
            pool.map(
                lambda job: commit(path, *job[1], version=1, app_id=job[0]),
                [("batch", batch), ("stream", stream)],
            )
        )

    assert sorted(r.attempts for r in results) == [1, 2]
    assert sorted(r.version for r in results) == [1, 2]
    assert set(stored(path)) == {"o1", "a1", "s1", "shared"}
    assert stored(path)["shared"]["revenue"] == 7.0 and dataset(path).count_rows() == 4
    assert sum(r.written_rows + r.duplicate_rows for r in results) == 4
    assert (last_app_version(path, "batch"), last_app_version(path, "stream")) == (1, 1)


def test_the_same_batch_committed_by_two_writers_at_once_lands_once(tmp_path, monkeypatch):
    path = tmp_path / "sales"
    commit(path, row("o1"), version=1)
    _in_lockstep(monkeypatch, 2)

    with ThreadPoolExecutor(2) as pool:
        results = list(
            pool.map(
                lambda revenue: commit(path, row("o2", revenue=revenue), version=2), [1.0, 2.0]
            )
        )

    assert sorted(r.skipped for r in results) == [False, True]
    assert read_version(path) == 1 and dataset(path).count_rows() == 2
    on_disk = {str(p) for p in path.rglob("*.parquet")}
    assert on_disk == set(current_files(path))  # the loser removed the files it had placed


def test_a_writer_that_keeps_losing_races_fails_with_a_retryable_error(tmp_path, monkeypatch):
    path = tmp_path / "sales"
    commit(path, row("o1"), version=1, app_id="seed")
    _in_lockstep(monkeypatch, 2)

    def write(app_id: str) -> CommitResult | CommitConflict:
        try:
            return commit(path, row(f"{app_id}-1"), version=1, app_id=app_id, max_retries=0)
        except CommitConflict as error:
            return error

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(write, ["batch", "stream"]))

    (error,) = [o for o in outcomes if isinstance(o, CommitConflict)]
    assert isinstance(error, RetryableError)
    assert re.search(r"won the next version 1 times in a row .* Run the batch again", str(error))
    assert dataset(path).count_rows() == 2 and read_version(path) == 1


