"""Dedupe within a batch over staged files: SPEC 1.2's latest version, ties to the last arrival."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from spark_jobs.dedupe import find_losers


def at(day: int) -> dt.datetime:
    return dt.datetime(2024, 1, day, tzinfo=dt.UTC)


def staged(folder: Path, name: str, rows: list[tuple[str, int, int]]) -> Path:
    """A staged file of (order_id, updated_at day, source_line) rows."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    pq.write_table(
        pa.table(
            {
                "order_id": [r[0] for r in rows],
                "updated_at": pa.array([at(r[1]) for r in rows], pa.timestamp("us", tz="UTC")),
                "source_line": pa.array([r[2] for r in rows], pa.int64()),
            }
        ),
        path,
    )
    return path


def losers(files: list[Path], file_index: list[int], *, key=("order_id",),
           order_by: str | None = "updated_at", spill_dir: Path) -> dict[int, list[int]]:
    """{position in files: losing source lines}, as plain lists."""
    found = find_losers(
        files, file_index=file_index, key=key, order_by=order_by, spill_dir=spill_dir
    )
    return {number: sorted(lines.tolist()) for number, lines in found.items()}


def test_the_latest_updated_at_wins_whatever_arrives_last(tmp_path: Path) -> None:
    a = staged(tmp_path, "f0-a.parquet", [("o1", 5, 2), ("o2", 1, 3)])
    b = staged(tmp_path, "f1-a.parquet", [("o1", 4, 2), ("o2", 2, 3)])
    # o1 of day 4 (b, line 2) and o2 of day 1 (a, line 3) lose
    assert losers([a, b], [0, 1], spill_dir=tmp_path / "spill") == {0: [3], 1: [2]}


def test_a_tie_goes_to_the_later_file_then_the_later_line(tmp_path: Path) -> None:
    # Same source file split over two staged files (two months): the line decides, not the name.
    late_line = staged(tmp_path, "f0-c0-202401.parquet", [("o1", 1, 90), ("o2", 1, 5)])
    early_line = staged(tmp_path, "f0-c0-202402.parquet", [("o1", 1, 10), ("o2", 1, 6)])
    next_file = staged(tmp_path, "f1-c0-202401.parquet", [("o3", 1, 2)])
    first_file = staged(tmp_path, "f0-c1-202401.parquet", [("o3", 1, 500)])
    found = losers(
        [late_line, early_line, first_file, next_file], [0, 0, 0, 1], spill_dir=tmp_path / "spill"
    )
    assert found == {0: [5], 1: [10], 2: [500]}


def test_without_a_version_column_the_last_arrival_wins(tmp_path: Path) -> None:
    a = staged(tmp_path, "f0.parquet", [("o1", 9, 2)])
    b = staged(tmp_path, "f1.parquet", [("o1", 1, 2)])
    assert losers([a, b], [0, 1], order_by=None, spill_dir=tmp_path / "spill") == {0: [2]}


def test_only_files_holding_a_loser_are_named_and_no_file_is_changed(tmp_path: Path) -> None:
    clean = staged(tmp_path, "f0.parquet", [("unique", 1, 2)])
    loser_only = staged(tmp_path, "f1.parquet", [("o1", 1, 2)])
    winner = staged(tmp_path, "f2.parquet", [("o1", 2, 2)])
    files = [clean, loser_only, winner]
    before = [(f.stat().st_mtime_ns, f.stat().st_ino) for f in files]
    assert losers(files, [0, 1, 2], spill_dir=tmp_path / "spill") == {1: [2]}
    assert [(f.stat().st_mtime_ns, f.stat().st_ino) for f in files] == before


def test_composite_keys_compare_every_key_column(tmp_path: Path) -> None:
    path = tmp_path / "f0.parquet"
    pq.write_table(
        pa.table({"store": ["s1", "s1", "s2"], "line": [1, 1, 1], "source_line": [2, 3, 4]}), path
    )
    found = losers([path], [0], key=("store", "line"), order_by=None, spill_dir=tmp_path / "spill")
    assert found == {0: [2]}


def test_no_files_means_nothing_to_do(tmp_path: Path) -> None:
    assert losers([], [], spill_dir=tmp_path) == {}
