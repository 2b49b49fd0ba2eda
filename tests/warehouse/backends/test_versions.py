"""Table versions from the Delta log: upkeep commits keep the data version, a TTL bounds the listing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from deltalake import DeltaTable

from warehouse.backends.versions import TableVersion, VersionReader, latest_commit


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_folder_without_a_table_has_no_version(tmp_path: Path) -> None:
    assert latest_commit(tmp_path / "nothing") is None
    assert VersionReader(ttl_s=0).read(tmp_path / "nothing") is None


def test_compaction_and_vacuum_move_the_latest_commit_but_not_the_data_version(
    make_silver: Any, write_silver: Any
) -> None:
    path = write_silver("retail_sales", make_silver("retail_sales", 40, seed=1))
    write_silver("retail_sales", make_silver("retail_sales", 40, seed=2))
    reader = VersionReader(ttl_s=0)
    assert reader.read(path) == TableVersion(latest=1, data=1)
    DeltaTable(str(path)).optimize.compact()
    DeltaTable(str(path)).vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
    after_upkeep = reader.read(path)
    assert after_upkeep is not None and after_upkeep.latest > 1 and after_upkeep.data == 1
    # A reader that never saw the table before walks back over the upkeep commits too.
    assert VersionReader(ttl_s=0).read(path) == after_upkeep
    write_silver("retail_sales", make_silver("retail_sales", 5, seed=3))
    latest = latest_commit(path)
    assert reader.read(path) == TableVersion(latest=latest, data=latest)


def test_a_version_is_trusted_for_the_ttl_then_listed_again(make_silver: Any, write_silver: Any) -> None:
    path = write_silver("retail_sales", make_silver("retail_sales", 10, seed=1))
    clock = Clock()
    reader = VersionReader(ttl_s=5.0, clock=clock)
    assert reader.read(path) == TableVersion(0, 0)
    write_silver("retail_sales", make_silver("retail_sales", 10, seed=2))
    clock.now = 4.9
    assert reader.read(path) == TableVersion(0, 0)
    clock.now = 5.0
    assert reader.read(path) == TableVersion(1, 1)


def test_a_table_rewritten_from_scratch_is_read_from_its_new_log(
    make_silver: Any, write_silver: Any
) -> None:
    path = write_silver("retail_sales", make_silver("retail_sales", 10, seed=1))
    write_silver("retail_sales", make_silver("retail_sales", 10, seed=2))
    reader = VersionReader(ttl_s=0)
    assert reader.read(path) == TableVersion(1, 1)
    for commit in (path / "_delta_log").glob("*.json"):
        commit.unlink()
    write_silver("retail_sales", make_silver("retail_sales", 10, seed=3))
    assert reader.read(path) == TableVersion(0, 0)
