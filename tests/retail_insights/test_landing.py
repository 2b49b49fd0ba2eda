"""retail_insights.landing: which files wait, and how a run claims exactly its own (no Airflow)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from retail_insights.errors import DataError, UsageError
from retail_insights.landing import claim, landing_dir, pending_files, processed_dir, read_claim

KEY = "2025-03-04T02:00:00+00:00"


def land(name: str, text: str = "order_id\n1\n", *, mtime_ns: int | None = None) -> Path:
    path = landing_dir() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


def test_landing_folder_is_under_retail_home(retail_home: Path) -> None:
    assert landing_dir() == retail_home.resolve() / "landing"
    assert processed_dir("2025-03-04") == landing_dir() / "processed" / "2025-03-04"


def test_no_landing_folder_means_nothing_pending() -> None:
    assert pending_files() == []


def test_pending_files_skip_dot_files_unknown_formats_and_sub_folders() -> None:
    wanted = [land("a.csv", mtime_ns=3_000_000_000), land("b.jsonl", mtime_ns=1_000_000_000),
              land("c.parquet", mtime_ns=2_000_000_000)]
    land(".d.csv.tmp")
    land("notes.txt")
    (landing_dir() / "processed" / "2025-01-01").mkdir(parents=True)
    land("processed/2025-01-01/old.csv")
    assert pending_files() == [wanted[1], wanted[2], wanted[0]]  # oldest first: arrival order


def test_claim_moves_pending_files_to_the_processed_folder_of_its_date() -> None:
    land("a.csv", mtime_ns=1_000_000_000)
    land("b.csv", mtime_ns=2_000_000_000)
    taken = claim(run_key=KEY, ds="2025-03-04")
    target = processed_dir("2025-03-04")
    assert taken.files == (target / "a.csv", target / "b.csv")
    assert all(f.is_file() for f in taken.files)
    assert pending_files() == []
    assert read_claim(KEY) == taken


def test_claiming_again_with_the_same_key_returns_the_same_files_not_new_arrivals() -> None:
    land("a.csv")
    first = claim(run_key=KEY, ds="2025-03-04")
    late = land("late.csv")
    assert claim(run_key=KEY, ds="2025-03-04") == first
    assert pending_files() == [late]
    nxt = claim(run_key="2025-03-05T02:00:00+00:00", ds="2025-03-05")
    assert nxt.files == (processed_dir("2025-03-05") / "late.csv",)


def test_a_claim_with_nothing_pending_is_empty_and_stays_empty() -> None:
    assert claim(run_key=KEY, ds="2025-03-04").files == ()
    land("a.csv")
    assert claim(run_key=KEY, ds="2025-03-04").files == ()


def test_a_name_already_processed_that_day_gets_a_numbered_target() -> None:
    land("orders.csv", "order_id\n1\n")
    claim(run_key=KEY, ds="2025-03-04")
    land("orders.csv", "order_id\n2\n")
    second = claim(run_key="manual__2025-03-04T09:00:00+00:00", ds="2025-03-04")
    assert second.files == (processed_dir("2025-03-04") / "orders-1.csv",)
    assert second.files[0].read_text() == "order_id\n2\n"
    assert (processed_dir("2025-03-04") / "orders.csv").read_text() == "order_id\n1\n"


def test_a_claim_interrupted_halfway_finishes_its_moves_when_repeated() -> None:
    land("a.csv", mtime_ns=1_000_000_000)
    land("b.csv", mtime_ns=2_000_000_000)
    taken = claim(run_key=KEY, ds="2025-03-04")
    # As if the process died after writing the manifest and moving only the first file.
    os.replace(taken.files[1], landing_dir() / "b.csv")
    assert claim(run_key=KEY, ds="2025-03-04").files == taken.files
    assert all(f.is_file() for f in taken.files)


def test_a_claimed_file_that_vanished_fails_naming_it_and_the_fix() -> None:
    land("a.csv")
    land("b.csv")
    manifest = claim(run_key=KEY, ds="2025-03-04").manifest
    data = json.loads(manifest.read_text())
    data["files"][1]["target"] = str(processed_dir("2025-03-04") / "gone.csv")
    manifest.write_text(json.dumps(data))
    wanted = r"b\.csv.*neither in the landing folder nor at.*gone\.csv.*delete the run's claim"
    with pytest.raises(DataError, match=wanted):
        claim(run_key=KEY, ds="2025-03-04")


def test_a_file_rewritten_after_the_claim_fails_instead_of_loading_other_bytes() -> None:
    land("a.csv", mtime_ns=1_000_000_000)
    taken = claim(run_key=KEY, ds="2025-03-04")
    os.replace(taken.files[0], landing_dir() / "a.csv")
    land("a.csv", "order_id\n1\n2\n")
    with pytest.raises(DataError, match=r"a\.csv' changed after the run claimed it .*dot-name"):
        claim(run_key=KEY, ds="2025-03-04")


def test_a_logical_date_that_is_not_a_date_is_refused() -> None:
    with pytest.raises(UsageError, match=r"ds '2025-13-01' is not a date.*YYYY-MM-DD"):
        claim(run_key=KEY, ds="2025-13-01")


def test_an_empty_run_key_is_refused() -> None:
    with pytest.raises(UsageError, match="run_key must not be empty"):
        claim(run_key="", ds="2025-03-04")
