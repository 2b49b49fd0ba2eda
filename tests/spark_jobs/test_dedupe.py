"""Dedupe within a batch over staged files: SPEC 1.2's latest version, ties to the last arrival."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from spark_jobs.dedupe import dedupe_staged


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


def survivors(files: list[Path]) -> dict[str, tuple[str, int, int]]:
    out = {}
    for path in files:
        for row in pq.read_table(path).to_pylist():
            assert row["order_id"] not in out, "a key survived twice"
            out[row["order_id"]] = (path.name, row["updated_at"].day, row["source_line"])
    return out


def test_the_latest_updated_at_wins_whatever_arrives_last(tmp_path: Path) -> None:
    a = staged(tmp_path, "f0-a.parquet", [("o1", 5, 2), ("o2", 1, 3)])
    b = staged(tmp_path, "f1-a.parquet", [("o1", 4, 2), ("o2", 2, 3)])
    result = dedupe_staged(
        [a, b],
        file_index=[0, 1],
        key=["order_id"],
        order_by="updated_at",
        spill_dir=tmp_path / "spill",
    )
    assert result.duplicate_rows == 2
    assert survivors(result.files) == {"o1": ("f0-a.parquet", 5, 2), "o2": ("f1-a.parquet", 2, 3)}


def test_a_tie_goes_to_the_later_file_then_the_later_line(tmp_path: Path) -> None:
    # Same source file split over two staged files (two months): the line decides, not the name.
    late_line = staged(tmp_path, "f0-c0-202401.parquet", [("o1", 1, 90), ("o2", 1, 5)])
    early_line = staged(tmp_path, "f0-c0-202402.parquet", [("o1", 1, 10), ("o2", 1, 6)])
    next_file = staged(tmp_path, "f1-c0-202401.parquet", [("o3", 1, 2)])
    first_file = staged(tmp_path, "f0-c1-202401.parquet", [("o3", 1, 500)])
    result = dedupe_staged(
        [late_line, early_line, first_file, next_file],
        file_index=[0, 0, 0, 1],
        key=["order_id"],
        order_by="updated_at",
        spill_dir=tmp_path / "spill",
    )
    assert result.duplicate_rows == 3
    assert survivors(result.files) == {
        "o1": ("f0-c0-202401.parquet", 1, 90),
        "o2": ("f0-c0-202402.parquet", 1, 6),
        "o3": ("f1-c0-202401.parquet", 1, 2),
    }


def test_without_a_version_column_the_last_arrival_wins(tmp_path: Path) -> None:
    a = staged(tmp_path, "f0.parquet", [("o1", 9, 2)])
    b = staged(tmp_path, "f1.parquet", [("o1", 1, 2)])
    result = dedupe_staged(
        [a, b], file_index=[0, 1], key=["order_id"], order_by=None, spill_dir=tmp_path / "spill"
    )
    assert survivors(result.files) == {"o1": ("f1.parquet", 1, 2)}


def test_only_files_holding_a_loser_are_rewritten_and_emptied_ones_are_removed(
    tmp_path: Path,
) -> None:
    clean = staged(tmp_path, "f0.parquet", [("unique", 1, 2)])
    loser_only = staged(tmp_path, "f1.parquet", [("o1", 1, 2)])
    winner = staged(tmp_path, "f2.parquet", [("o1", 2, 2)])
    before = clean.stat().st_mtime_ns, clean.stat().st_ino
    result = dedupe_staged(
        [clean, loser_only, winner],
        file_index=[0, 1, 2],
        key=["order_id"],
        order_by="updated_at",
        spill_dir=tmp_path / "spill",
    )
    assert result.files == [clean, winner] and result.duplicate_rows == 1
    assert not loser_only.exists()
    assert (clean.stat().st_mtime_ns, clean.stat().st_ino) == before


def test_composite_keys_compare_every_key_column(tmp_path: Path) -> None:
    path = tmp_path / "f0.parquet"
    pq.write_table(
        pa.table({"store": ["s1", "s1", "s2"], "line": [1, 1, 1], "source_line": [2, 3, 4]}), path
    )
    result = dedupe_staged(
        [path], file_index=[0], key=["store", "line"], order_by=None, spill_dir=tmp_path / "spill"
    )
    assert result.duplicate_rows == 1
    assert pq.read_table(path).to_pydict() == {
        "store": ["s1", "s2"],
        "line": [1, 1],
        "source_line": [3, 4],
    }


def test_no_files_means_nothing_to_do(tmp_path: Path) -> None:
    result = dedupe_staged(
        [], file_index=[], key=["order_id"], order_by="updated_at", spill_dir=tmp_path
    )
    assert (result.files, result.duplicate_rows) == ([], 0)
