"""Per-file statistics in the Delta log: the bounds readers skip files by."""

from __future__ import annotations

import json

from tests.warehouse.delta.delta_support import commit, log_adds, row


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
