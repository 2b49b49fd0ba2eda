"""generate() and iter_events(): determinism, chunking, formats, the result and bad arguments."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from retail_insights.errors import UsageError
from retail_insights.generator import FIELDS, GenerateResult, generate, iter_events
from retail_insights.generator.writer import _json_lines

ReadRows = Callable[[list[Path]], list[dict[str, str]]]
SPEC_FIELDS = [
    "order_id", "order_ts", "updated_at", "status", "ship_date", "channel", "customer_id",
    "segment", "product_id", "product_name", "category", "sub_category", "city", "state",
    "quantity", "unit_price", "discount", "unit_cost",
]


def _sha256(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _run(out: Path, today: date, **options: object) -> GenerateResult:
    options = {"rows": 5_000, "seed": 3, **options}
    return generate(out=out, progress=False, today=today, **options)  # type: ignore[arg-type]


def test_same_seed_writes_identical_bytes(tmp_path: Path, today: date) -> None:
    first = _run(tmp_path / "a", today)
    second = _run(tmp_path / "b", today)
    assert _sha256(first.files) == _sha256(second.files)


def test_different_seed_writes_different_bytes(tmp_path: Path, today: date) -> None:
    assert _sha256(_run(tmp_path / "a", today).files) != _sha256(
        _run(tmp_path / "b", today, seed=4).files)


def test_header_is_the_spec_fields_in_order(default_result: GenerateResult) -> None:
    assert list(FIELDS) == SPEC_FIELDS
    assert default_result.files[0].read_text().splitlines()[0] == ",".join(SPEC_FIELDS)


def test_chunk_rows_splits_files_without_changing_rows(tmp_path: Path, today: date) -> None:
    # 120,001 rows span three generation blocks; 7,000-row files cut across them.
    whole = _run(tmp_path / "whole", today, rows=120_001, chunk_rows=200_000)
    split = _run(tmp_path / "split", today, rows=120_001, chunk_rows=7_000)
    assert len(whole.files) == 1
    assert [p.name for p in split.files[:2]] == ["orders-00000.csv", "orders-00001.csv"]
    pieces = [p.read_text().splitlines() for p in split.files]
    assert [len(lines) - 1 for lines in pieces] == [7_000] * 17 + [1_001]
    assert {lines[0] for lines in pieces} == {",".join(SPEC_FIELDS)}
    rows = [row for lines in pieces for row in lines[1:]]
    assert rows == whole.files[0].read_text().splitlines()[1:]


def test_iter_events_yields_the_rows_generate_writes(tmp_path: Path, today: date,
                                                     read_rows: ReadRows) -> None:
    written = read_rows(_run(tmp_path, today, rows=2_000).files)
    assert list(iter_events(count=2_000, seed=3, today=today)) == written


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_every_format_holds_the_same_rows(tmp_path: Path, today: date, fmt: str) -> None:
    csv_files = _run(tmp_path / "csv", today, rows=3_000, chunk_rows=1_000).files
    other = _run(tmp_path / fmt, today, rows=3_000, chunk_rows=1_000, fmt=fmt).files
    expected = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in csv_files],
                         ignore_index=True)
    if fmt == "jsonl":
        frames = [pd.read_json(p, lines=True, dtype=False) for p in other]
    else:
        frames = [pd.read_parquet(p) for p in other]
    actual = pd.concat(frames, ignore_index=True).astype(str)
    assert [p.suffix for p in other] == [f".{fmt}"] * 3
    pd.testing.assert_frame_equal(actual, expected.astype(str), check_dtype=False)


def test_json_lines_escape_quotes_and_backslashes() -> None:
    table = pa.table({"a": ['say "hi"', "x"], "b": ["back\\slash", "tab\there"]})
    lines = _json_lines(table).decode().splitlines()
    assert [json.loads(line) for line in lines] == table.to_pylist()


def test_result_counts_what_was_written(default_result: GenerateResult,
                                        default_rows: list[dict[str, str]]) -> None:
    result = default_result
    assert result.rows == len(default_rows) == 20_000
    assert result.bytes == sum(p.stat().st_size for p in result.files)
    assert result.dirty_rows == sum(result.by_kind.values())
    ids = [row["order_id"] for row in default_rows if row["order_id"]]
    assert len(ids) - len(set(ids)) == result.corrections + result.resends > 0


def test_rerun_replaces_the_previous_files(tmp_path: Path, today: date) -> None:
    _run(tmp_path, today, rows=10, chunk_rows=3)
    (tmp_path / "notes.txt").write_text("kept")
    again = _run(tmp_path, today, rows=5, chunk_rows=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "notes.txt", "orders-00000.csv", "orders-00001.csv"]
    assert again.files == [tmp_path / "orders-00000.csv", tmp_path / "orders-00001.csv"]


def test_progress_bar_goes_to_stderr_only(tmp_path: Path, today: date,
                                          capfd: pytest.CaptureFixture[str]) -> None:
    generate(rows=100, seed=1, out=tmp_path, today=today, progress=True)
    captured = capfd.readouterr()
    assert captured.out == ""
    assert "generate" in captured.err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rows": 0}, r"rows must be a whole number of at least 1, got 0"),
        ({"rows": -5}, r"got -5"),
        ({"seed": -1}, r"seed must be a whole number >= 0, got -1"),
        ({"dirty_rate": 1.5}, r"dirty_rate must be between 0 and 1, got 1\.5"),
        ({"dirty_rate": -0.1}, r"dirty_rate must be between 0 and 1, got -0\.1"),
        ({"fmt": "xlsx"}, r"Unknown format 'xlsx'; allowed: csv, jsonl, parquet"),
        ({"fmt": "json"}, r"Did you mean 'jsonl'"),
        ({"chunk_rows": 0}, r"chunk_rows must be a whole number of at least 1, got 0"),
        ({"start": date(2024, 5, 2), "end": date(2024, 5, 1)},
         r"end 2024-05-01 is before start 2024-05-02"),
        ({"end": date(2999, 1, 1)}, r"end 2999-01-01 is after today"),
    ],
)
def test_bad_arguments_raise_usage_error_naming_the_value(
    tmp_path: Path, today: date, options: dict[str, object], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        _run(tmp_path, today, **options)
    assert not any(tmp_path.iterdir())


def test_start_today_leaves_no_day_to_generate(tmp_path: Path, today: date) -> None:
    with pytest.raises(UsageError, match=rf"start {today} leaves no complete day before today"):
        _run(tmp_path, today, start=today)


def test_iter_events_checks_its_arguments(today: date) -> None:
    with pytest.raises(UsageError, match=r"rows must be a whole number of at least 1, got 0"):
        iter_events(count=0, seed=1, today=today)


def test_output_path_that_is_a_file_is_refused(tmp_path: Path, today: date) -> None:
    target = tmp_path / "orders.csv"
    target.write_text("")
    with pytest.raises(UsageError, match=r"is a file, not a directory"):
        _run(target, today)
