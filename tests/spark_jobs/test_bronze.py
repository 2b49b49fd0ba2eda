"""Bronze landing by content hash, batch ids, and the ledger's batch numbers."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from retail_insights.errors import UsageError
from spark_jobs.bronze import Ledger, batch_id_for, land

AT = dt.datetime(2025, 1, 2, tzinfo=dt.UTC)


def test_landing_copies_each_content_once_under_its_hash(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes(b"x\n1\n")
    (tmp_path / "copy.CSV").write_bytes(b"x\n1\n")
    bronze = tmp_path / "bronze"
    first, second = land([tmp_path / "a.csv", tmp_path / "copy.CSV"], bronze_dir=bronze)
    digest = hashlib.sha256(b"x\n1\n").hexdigest()
    assert first.sha256 == second.sha256 == digest
    assert first.bronze == second.bronze == bronze / f"{digest}.csv"
    assert [p.name for p in bronze.iterdir()] == [f"{digest}.csv"]
    assert first.bronze.read_bytes() == b"x\n1\n" and first.source == tmp_path / "a.csv"


def test_landing_refuses_a_file_it_cannot_read_by_extension(tmp_path: Path) -> None:
    (tmp_path / "sales.xlsx").write_bytes(b"PK")
    with pytest.raises(UsageError, match=r"unknown extension '\.xlsx'"):
        land([tmp_path / "sales.xlsx"], bronze_dir=tmp_path / "bronze")


def test_the_batch_id_depends_on_dataset_content_and_file_order() -> None:
    assert batch_id_for("retail_sales", ["h1", "h2"]) == batch_id_for("retail_sales", ["h1", "h2"])
    assert batch_id_for("retail_sales", ["h1", "h2"]) != batch_id_for("retail_sales", ["h2", "h1"])
    assert batch_id_for("retail_sales", ["h1"]) != batch_id_for("superstore", ["h1"])


def landed(tmp_path: Path, content: bytes):
    path = tmp_path / f"{hashlib.md5(content).hexdigest()}.csv"
    path.write_bytes(content)
    return land([path], bronze_dir=tmp_path / "bronze")[0]


def test_a_batch_that_started_but_never_committed_gets_its_number_back(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "state", "retail_sales")
    file = landed(tmp_path, b"a\n")
    assert ledger.sequence_for("b1", at_least=0) == 1
    ledger.started(batch_id="b1", seq=1, files=[file], at=AT)
    assert ledger.sequence_for("b1", at_least=0) == 1
    assert ledger.committed_hashes() == set()
    ledger.committed(batch_id="b1", seq=1, files=[file], summary={})
    assert ledger.committed_hashes() == {file.sha256}
    assert ledger.sequence_for("b1", at_least=0) == 2


def test_a_crashed_batch_rerun_after_a_later_batch_gets_a_new_number(tmp_path: Path) -> None:
    # Reusing 1 after batch 2 committed would make the commit layer skip it as already done.
    ledger = Ledger(tmp_path / "state", "retail_sales")
    ledger.started(batch_id="crashed", seq=1, files=[], at=AT)
    ledger.started(batch_id="later", seq=2, files=[], at=AT)
    ledger.committed(batch_id="later", seq=2, files=[], summary={})
    assert ledger.sequence_for("crashed", at_least=0) == 3


def test_new_numbers_also_pass_what_the_tables_already_committed(tmp_path: Path) -> None:
    # A lost or reset ledger must not hand out a number the tables would skip.
    assert Ledger(tmp_path / "state", "retail_sales").sequence_for("b", at_least=41) == 42


def test_a_torn_last_line_is_ignored_and_the_next_event_starts_on_a_fresh_line(
    tmp_path: Path,
) -> None:
    ledger = Ledger(tmp_path / "state", "retail_sales")
    ledger.started(batch_id="b1", seq=1, files=[], at=AT)
    with open(ledger.path, "a", encoding="utf-8") as f:
        f.write('{"event": "committed", "batch_')
    assert [e["event"] for e in ledger.events()] == ["started"]
    ledger.committed(batch_id="b1", seq=1, files=[], summary={})
    assert [e["event"] for e in ledger.events()] == ["started", "committed"]


def test_the_lock_serialises_batches_of_one_dataset(tmp_path: Path) -> None:
    import fcntl

    ledger = Ledger(tmp_path / "state", "retail_sales")
    with ledger.locked():
        with open(ledger.folder / "retail_sales.lock", "a+b") as other:
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    with open(ledger.folder / "retail_sales.lock", "a+b") as other:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
