"""Which commits touched each (year, month) partition, read from real Delta logs (``deltalake`` writes them)."""

from __future__ import annotations

from pathlib import Path

from deltalake import DeltaTable, write_deltalake
import pyarrow as pa

from warehouse.backends.partitions import PartitionChanges


def _rows(months: list[tuple[int, int]], *, amount: float = 1.0, extra: bool = False) -> pa.Table:
    data = {"year": [y for y, _ in months], "month": [m for _, m in months], "sales": [amount] * len(months)}
    if extra:
        data["note"] = ["x"] * len(months)
    return pa.table(data)


def _write(path: Path, months: list[tuple[int, int]], **kwargs: object) -> int:
    extra = bool(kwargs.pop("extra", False))
    write_deltalake(str(path), _rows(months, extra=extra), partition_by=["year", "month"], mode="append", **kwargs)
    return DeltaTable(str(path)).version()


def test_a_load_of_new_months_keeps_the_scope_of_older_ones(tmp_path: Path) -> None:
    path = tmp_path / "sales"
    first = _write(path, [(2016, m) for m in range(1, 13)])
    late = _write(path, [(2017, 12)])
    changes = PartitionChanges(path)
    assert changes.scope((2016, 12), late) == first          # nothing up to 2016 changed since the first load
    assert changes.scope((2017, 12), late) == late
    assert changes.scope((2016, 12), first) == first          # as of an earlier version too
    assert changes.scope((2015, 6), late) == first            # nothing there since the table was created


def test_a_delete_in_one_month_moves_that_month_and_later_ones_only(tmp_path: Path) -> None:
    path = tmp_path / "sales"
    first = _write(path, [(2016, m) for m in range(1, 13)])
    DeltaTable(str(path)).delete("year = 2016 AND month = 3")
    deleted = DeltaTable(str(path)).version()
    changes = PartitionChanges(path)
    assert changes.scope((2016, 2), deleted) == first
    assert changes.scope((2016, 3), deleted) == deleted
    assert changes.scope((2016, 12), deleted) == deleted


def test_compaction_keeps_every_scope_and_a_schema_change_moves_all(tmp_path: Path) -> None:
    path = tmp_path / "sales"
    first = _write(path, [(2016, 1), (2016, 1), (2016, 2)])
    _write(path, [(2016, 1)])
    table = DeltaTable(str(path))
    table.optimize.compact()                                   # dataChange false: no answer changes
    compacted = DeltaTable(str(path)).version()
    changes = PartitionChanges(path)
    assert changes.scope((2016, 2), compacted) == first + 1
    widened = _write(path, [(2017, 1)], extra=True, schema_mode="merge")
    assert changes.scope((2016, 1), widened) == widened       # a new column: every answer may change


def test_changes_it_no_longer_keeps_or_cannot_read_count_as_the_version_asked(tmp_path: Path) -> None:
    path = tmp_path / "sales"
    versions = [_write(path, [(2016, 1)]) for _ in range(4)]
    changes = PartitionChanges(path, kept=2)
    assert changes.scope((2016, 1), versions[-1]) == versions[-1]
    assert changes.scope((2016, 1), versions[1]) == versions[1]   # its own change was forgotten: the version asked
    other = tmp_path / "other"
    _write(other, [(2015, 1)])
    _write(other, [(2017, 1)])
    (other / "_delta_log" / f"{0:020d}.json").unlink()          # cleaned up: may have touched anything
    assert PartitionChanges(other).scope((2016, 6), 1) == 0


def test_a_version_not_yet_on_disk_is_its_own_scope(tmp_path: Path) -> None:
    path = tmp_path / "sales"
    _write(path, [(2016, 1)])
    assert PartitionChanges(path).scope((2016, 1), 7) == 7
