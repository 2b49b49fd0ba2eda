"""The Delta commit layer on real tables in tmp_path: creation, stats, exactly-once,
SPEC 1.2 dedupe, time travel, concurrent writers and Z-order."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
import datetime as dt
import json
import re
from pathlib import Path
import threading

from deltalake import DeltaTable
import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from retail_insights.errors import DataError, RetryableError, UsageError
from warehouse.delta import (
    CommitConflict,
    CommitResult,
    TableMissing,
    commit_staged,
    commit_table,
    current_files,
    dataset,
    last_app_version,
    read_version,
    table_exists,
    zorder,
)

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


def test_every_added_file_carries_min_max_and_null_count_statistics_in_the_log(tmp_path):
    path = tmp_path / "sales"
    commit(path, row("o1", revenue=5.0, day=3), row("o2", revenue=7.5, day=9), version=1)

    (add,) = log_adds(path)
    stats = json.loads(add["stats"])
    assert add["partitionValues"] == {"year": "2024", "month": "1"}
    assert stats["numRecords"] == 2
    assert stats["minValues"]["order_id"] == "o1" and stats["maxValues"]["order_id"] == "o2"
    assert stats["minValues"]["revenue"] == 5.0 and stats["maxValues"]["revenue"] == 7.5
    assert stats["minValues"]["updated_at"] == "2024-01-03T12:00:00.000Z"
    assert stats["maxValues"]["updated_at"] == "2024-01-09T12:00:00.000Z"
    assert stats["nullCount"]["state"] == 0 and "year" not in stats["nullCount"]


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


def test_a_correction_with_newer_updated_at_replaces_the_row_and_time_travel_shows_the_old_value(
    tmp_path,
):
    path = tmp_path / "sales"
    commit(path, row("o1", revenue=10.0, day=1), row("o2", revenue=20.0, day=1), version=1)

    result = commit(path, row("o1", revenue=11.0, day=2), version=2)

    assert (result.inserted_rows, result.updated_rows, result.duplicate_rows) == (0, 1, 0)
    assert stored(path)["o1"]["revenue"] == 11.0 and stored(path)["o2"]["revenue"] == 20.0
    assert stored(path, version=result.version - 1)["o1"]["revenue"] == 10.0
    assert dataset(path).count_rows() == 2


def test_an_older_version_counts_as_a_duplicate_and_is_not_written(tmp_path):
    path = tmp_path / "sales"
    commit(path, row("o1", revenue=10.0, day=5), version=1)
    files_before = current_files(path)

    result = commit(path, row("o1", revenue=1.0, day=4), row("o2"), version=2)

    assert (result.inserted_rows, result.updated_rows, result.duplicate_rows) == (1, 0, 1)
    assert stored(path)["o1"]["revenue"] == 10.0 and dataset(path).count_rows() == 2
    assert set(files_before) <= set(current_files(path))  # the stored file was not rewritten


def test_a_tie_on_updated_at_goes_to_the_later_batch(tmp_path):
    path = tmp_path / "sales"
    commit(path, row("o1", revenue=10.0, day=5), version=1)

    result = commit(path, row("o1", revenue=12.0, day=5), version=2)

    assert (result.updated_rows, result.duplicate_rows) == (1, 0)
    assert stored(path)["o1"]["revenue"] == 12.0


def test_within_a_batch_the_later_row_wins_a_tie_unless_a_sequence_column_says_otherwise(tmp_path):
    seq_schema = SCHEMA.append(pa.field("seq", pa.int64()))
    first, second = row("o1", revenue=1.0) | {"seq": 2}, row("o1", revenue=2.0) | {"seq": 1}

    by_position = commit_table(
        tmp_path / "a",
        orders(first, second, schema=seq_schema),
        schema=seq_schema,
        key=KEY,
        app_id="b",
        app_version=1,
    )
    by_sequence = commit_table(
        tmp_path / "b",
        orders(first, second, schema=seq_schema),
        schema=seq_schema,
        key=KEY,
        sequence_by="seq",
        app_id="b",
        app_version=1,
    )

    assert stored(tmp_path / "a")["o1"]["revenue"] == 2.0 and by_position.duplicate_rows == 1
    assert stored(tmp_path / "b")["o1"]["revenue"] == 1.0 and by_sequence.duplicate_rows == 1


def test_staged_files_with_several_versions_of_a_key_keep_the_latest_across_files(tmp_path):
    path = tmp_path / "sales"
    files = stage(tmp_path / "s1", row("o1", month=1, day=3, revenue=3.0)) + stage(
        tmp_path / "s2", row("o1", month=2, day=2, revenue=2.0), row("o2", month=2)
    )

    result = commit_staged(path, files, schema=SCHEMA, key=KEY, app_id="b", app_version=1)

    assert (result.inserted_rows, result.duplicate_rows) == (2, 1)
    assert stored(path)["o1"]["revenue"] == 3.0 and dataset(path).count_rows() == 2


def test_a_correction_that_moves_an_order_to_another_month_leaves_exactly_one_row(tmp_path):
    path = tmp_path / "sales"
    commit(path, row("o1", month=1, day=1), row("o2", month=1), version=1)

    result = commit(path, row("o1", month=3, day=2, revenue=30.0), version=2)

    rows = dataset(path).to_table().filter(ds.field("order_id") == "o1").to_pylist()
    assert [(r["month"], r["revenue"]) for r in rows] == [(3, 30.0)]
    assert result.touched_partitions == {(2024, 1), (2024, 3)}
    assert dataset(path).count_rows() == 2


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


def test_a_staged_file_spanning_two_months_is_rejected(tmp_path):
    staged = tmp_path / "mixed.parquet"
    pq.write_table(orders(row("o1", month=1), row("o2", month=2)), staged)

    with pytest.raises(DataError, match=r"must hold exactly one integer 'month', found 1\.\.2"):
        commit_staged(
            tmp_path / "sales", [staged], schema=SCHEMA, key=KEY, app_id="b", app_version=1
        )
    assert staged.exists() and not table_exists(tmp_path / "sales")


def test_rows_without_updated_at_are_rejected_before_anything_is_written(tmp_path):
    staged = stage(tmp_path / "staging", row("o1") | {"updated_at": None})

    with pytest.raises(
        DataError, match=r"1 staged rows have no 'updated_at'.*Fill updated_at from order_ts"
    ):
        commit_staged(tmp_path / "sales", staged, schema=SCHEMA, key=KEY, app_id="b", app_version=1)
    assert not table_exists(tmp_path / "sales")


def test_bad_options_name_the_value_and_the_fix(tmp_path):
    with pytest.raises(UsageError, match=r"Unknown commit mode 'merg'\. Did you mean 'merge'\?"):
        commit(tmp_path / "sales", row("o1"), version=1, mode="merg")
    with pytest.raises(
        UsageError, match=r"Column 'order' is not in the table schema\. Did you mean 'order_id'\?"
    ):
        commit_table(
            tmp_path / "sales", orders(row("o1")), key=("order",), app_id="b", app_version=1
        )


def test_a_batch_with_another_schema_is_refused_by_an_existing_table(tmp_path):
    path = tmp_path / "sales"
    commit(path, row("o1"), version=1)
    wider = SCHEMA.append(pa.field("channel", pa.string()))

    with pytest.raises(DataError, match=r"migrate the table first"):
        commit_table(
            path,
            orders(row("o2") | {"channel": "Online"}, schema=wider),
            key=KEY,
            app_id="b",
            app_version=2,
        )


def test_reading_a_missing_table_or_version_says_what_exists(tmp_path):
    with pytest.raises(TableMissing, match=r"No Delta table at .*Commit a batch to it first"):
        dataset(tmp_path / "nowhere")
    commit(tmp_path / "sales", row("o1"), version=1)
    with pytest.raises(UsageError, match=r"has no version 5; it has versions 0 to 0"):
        dataset(tmp_path / "sales", version=5)
