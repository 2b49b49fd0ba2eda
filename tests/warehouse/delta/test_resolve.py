"""Which version of a key wins (SPEC 1.2), as a commit applies it: the latest updated_at, ties to
the later arrival, across batches, files and months."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from retail_insights.errors import DataError
from warehouse.delta import commit_staged, commit_table, current_files, dataset, table_exists

from tests.warehouse.delta.delta_support import KEY, SCHEMA, commit, orders, row, stage, stored


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


def test_rows_without_updated_at_are_rejected_before_anything_is_written(tmp_path):
    staged = stage(tmp_path / "staging", row("o1") | {"updated_at": None})

    with pytest.raises(
        DataError, match=r"1 staged rows have no 'updated_at'.*Fill updated_at from order_ts"
    ):
        commit_staged(tmp_path / "sales", staged, schema=SCHEMA, key=KEY, app_id="b", app_version=1)
    assert not table_exists(tmp_path / "sales")
