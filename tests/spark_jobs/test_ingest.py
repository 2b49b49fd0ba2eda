"""Batch ingest end to end on Dask: accounting, idempotency, corrections, dirt, Superstore."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from retail_insights.errors import DataError, UsageError
from retail_insights.settings import get_settings
from spark_jobs.ingest import ingest
from warehouse.delta import open_table, read_version, table_exists
from warehouse.spec import load_dataset

HEADER = (
    "order_id,order_ts,updated_at,status,ship_date,channel,customer_id,segment,product_id,product_name,"
    "category,sub_category,city,state,quantity,unit_price,discount,unit_cost"
)


def order(
    order_id: str, *, quantity: int = 2, updated: str = "2025-01-05T10:00:00Z", state: str = "CA"
) -> str:
    return (
        f"{order_id},2025-01-03T09:00:00Z,{updated},Shipped,2025-01-04,Online,C-1,Consumer,P-1,Lamp,Home,"
        f"Lighting,Fresno,{state},{quantity},10.00,0,4.00"
    )


def write_csv(folder: Path, name: str, lines: list[str], *, end: str = "\n") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes((HEADER + end + end.join(lines) + end).encode())
    return path


def tables(dataset: str = "retail_sales") -> tuple[Path, Path]:
    settings = get_settings()
    return settings.table_path(
        dataset, load_dataset(dataset).spec.silver_table
    ), settings.table_path(dataset, "quarantine")


def rows_in(path: Path) -> int:
    return open_table(path).to_pyarrow_dataset().count_rows()


def test_dirty_generated_data_adds_up_and_both_tables_hold_what_the_summary_says(
    generated: Path, now
) -> None:
    summary = ingest([generated], dataset="retail_sales", now=now, progress=False)
    assert summary.input_rows == 3000
    assert (
        summary.input_rows
        == summary.written_rows + summary.quarantined_rows + summary.duplicate_rows
    )
    assert summary.duplicate_rows > 0 and summary.quarantined_rows > 0 and summary.warning_rows > 0
    assert sum(summary.quarantined_by_code.values()) >= summary.quarantined_rows
    silver, quarantine = tables()
    assert rows_in(silver) == summary.written_rows
    assert rows_in(quarantine) == summary.quarantined_rows
    # DuckDB reads the committed snapshot through a pyarrow dataset
    con = duckdb.connect()
    con.register("sales", open_table(silver).to_pyarrow_dataset())
    assert (
        con.execute("SELECT count(DISTINCT order_id), count(*) FROM sales").fetchone()
        == (summary.written_rows,) * 2
    )
    result = json.loads(
        (get_settings().dq_dir / "retail_sales" / f"{summary.batch_id}.json").read_text()
    )
    assert (
        result["input_rows"] == summary.input_rows
        and result["quarantined_rows"] == summary.quarantined_rows
    )


def test_ingesting_the_same_content_again_is_a_no_op(tmp_path: Path, now) -> None:
    first = ingest(
        [write_csv(tmp_path / "a", "orders.csv", [order("o1"), order("o2")])],
        dataset="retail_sales",
        now=now,
        progress=False,
    )
    copy = write_csv(tmp_path / "b", "same-bytes-other-name.csv", [order("o1"), order("o2")])
    again = ingest([copy], dataset="retail_sales", now=now, progress=False)
    assert (first.input_rows, first.written_rows) == (2, 2)
    assert (again.input_rows, again.written_rows, again.batch_id, again.files) == (0, 0, None, ())
    assert again.skipped_files == (str(copy),)
    assert again.delta_version == first.delta_version == read_version(tables()[0])


def test_a_correction_batch_updates_stored_orders_and_time_travel_shows_the_old_values(
    tmp_path: Path, now, table_rows
) -> None:
    first = ingest(
        [write_csv(tmp_path, "day1.csv", [order("o1", quantity=2), order("o2", quantity=1)])],
        dataset="retail_sales",
        now=now,
        progress=False,
    )
    fixes = [
        order("o1", quantity=5, updated="2025-01-06T10:00:00Z"),  # a correction: newer version
        order("o2", quantity=9, updated="2025-01-04T10:00:00Z"),  # stale: older than the stored one
        order("o3"),
    ]
    second = ingest(
        [write_csv(tmp_path, "day2.csv", fixes)], dataset="retail_sales", now=now, progress=False
    )
    assert (second.input_rows, second.written_rows, second.duplicate_rows) == (3, 2, 1)
    silver = tables()[0]
    now_rows = {r["order_id"]: r["quantity"] for r in table_rows(silver).to_pylist()}
    then_rows = {
        r["order_id"]: r["quantity"]
        for r in table_rows(silver, version=first.delta_version).to_pylist()
    }
    assert now_rows == {"o1": 5, "o2": 1, "o3": 2}
    assert then_rows == {"o1": 2, "o2": 1}


def test_within_a_batch_the_latest_version_wins_and_a_tie_goes_to_the_later_line(
    tmp_path: Path, now, table_rows
) -> None:
    lines = [
        order("o1", quantity=1, updated="2025-01-07T00:00:00Z"),
        order("o1", quantity=2),
        order("o2", quantity=3),
        order("o2", quantity=4),
    ]
    summary = ingest(
        [write_csv(tmp_path, "dupes.csv", lines)], dataset="retail_sales", now=now, progress=False
    )
    assert (summary.written_rows, summary.duplicate_rows) == (2, 2)
    assert {r["order_id"]: r["quantity"] for r in table_rows(tables()[0]).to_pylist()} == {
        "o1": 1,
        "o2": 4,
    }


def test_malformed_lines_are_quarantined_with_their_raw_text_and_nothing_is_lost(
    tmp_path: Path, now, table_rows
) -> None:
    lines = [
        order("o1"),
        "o2,short,row",
        order("o3") + ",extra",
        order("o4").replace("Lamp", "L\xe4mp"),
        "",
        order("o5", state="Narnia"),
        'o6,"never closed',
        order("o7"),
    ]
    path = write_csv(tmp_path, "dirty.csv", lines, end="\r\n")
    raw = path.read_bytes().replace("L\xe4mp".encode(), b"L\xe4mp")  # a Latin-1 byte: not UTF-8
    path.write_bytes(raw)
    jsonl = tmp_path / "more.jsonl"
    jsonl.write_text(
        json.dumps(
            {
                "order_id": "o8",
                "order_ts": "2025-01-03T09:00:00Z",
                "status": "Pending",
                "channel": "Store",
                "state": "NY",
                "quantity": 1,
                "unit_price": 3.5,
            }
        )
        + "\n{oops\n"
    )
    summary = ingest([path, jsonl], dataset="retail_sales", now=now, progress=False)
    assert summary.input_rows == 9
    assert (summary.written_rows, summary.quarantined_rows, summary.duplicate_rows) == (3, 6, 0)
    assert summary.quarantined_by_code == {"BAD_STATE": 1, "MALFORMED_ROW": 5}
    quarantine = table_rows(tables()[1], order=())
    malformed = [r for r in quarantine.to_pylist() if r["reason_codes"] == ["MALFORMED_ROW"]]
    assert sorted(r["source_line"] for r in malformed) == [2, 3, 4, 5, 8]
    texts = " ".join(r["reasons"] for r in malformed)
    for raw_line in (
        "o2,short,row",
        order("o3") + ",extra",
        "L\\xe4mp",
        'o6,"never closed',
        "{oops",
    ):
        assert raw_line in texts
    assert {r["order_id"] for r in table_rows(tables()[0]).to_pylist()} == {"o1", "o7", "o8"}


def test_both_superstore_files_ingest_into_one_table_with_identical_content(
    now, table_rows
) -> None:
    folder = get_settings().superstore_dir
    clean = ingest(
        [folder / "superstore_2014_2017.csv"], dataset="superstore", now=now, progress=False
    )
    silver = tables("superstore")[0]
    before = table_rows(silver, order=("row_id",))
    messy = ingest(
        [folder / "superstore_2014_2017_messy_mixed_dates.csv"],
        dataset="superstore",
        now=now,
        progress=False,
    )
    assert (clean.input_rows, clean.written_rows, clean.quarantined_rows) == (9994, 9994, 0)
    # every row of the second file replaces its twin: same key, later arrival
    assert (messy.input_rows, messy.written_rows, messy.quarantined_rows, messy.duplicate_rows) == (
        9994,
        9994,
        0,
        0,
    )
    after = table_rows(silver, order=("row_id",))
    assert after.num_rows == 9994
    assert after.equals(before)


def test_a_file_without_a_required_column_fails_before_anything_is_committed(
    tmp_path: Path, now
) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("id,when\n1,2025-01-01\n")
    with pytest.raises(DataError, match=r"wrong\.csv.*no column 'order_id'"):
        ingest([path], dataset="retail_sales", now=now, progress=False)
    assert not table_exists(tables()[0])


def test_a_batch_rerun_after_a_crash_before_the_ledger_commits_nothing_twice(
    tmp_path: Path, now
) -> None:
    path = write_csv(tmp_path, "orders.csv", [order("o1"), order("o1", quantity=3), "bad,row"])
    first = ingest([path], dataset="retail_sales", now=now, progress=False)
    ledger = get_settings().state_dir / "ingest" / "retail_sales.jsonl"
    lines = ledger.read_text().splitlines()
    ledger.write_text(
        "\n".join(lines[:-1]) + "\n"
    )  # the crash: commits done, "committed" never written
    again = ingest([path], dataset="retail_sales", now=now, progress=False)
    assert again.batch_id == first.batch_id
    assert (again.input_rows, again.written_rows, again.quarantined_rows, again.duplicate_rows) == (
        3,
        1,
        1,
        1,
    )
    silver, quarantine = tables()
    commits = [c for c in open_table(silver).history() if "retailInsights" in c]
    assert [c["retailInsights"]["appVersion"] for c in commits] == [1]
    assert rows_in(silver) == 1 and rows_in(quarantine) == 1


def test_an_unknown_engine_is_refused_with_the_allowed_ones(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"unknown engine 'flink'.*'dask', 'spark'"):
        ingest(
            [write_csv(tmp_path, "a.csv", [order("o1")])], dataset="retail_sales", engine="flink"
        )  # type: ignore[arg-type]


def test_a_missing_path_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"no such file or folder: '.*nowhere\.csv'"):
        ingest([tmp_path / "nowhere.csv"], dataset="retail_sales")


def test_staged_files_are_cleaned_up_after_the_batch(tmp_path: Path, now) -> None:
    ingest(
        [write_csv(tmp_path, "a.csv", [order("o1")])],
        dataset="retail_sales",
        now=now,
        progress=False,
    )
    staging = get_settings().staging_dir
    assert not staging.exists() or not any(p for p in staging.rglob("*.parquet"))
    assert all(pq.read_metadata(f).num_rows for f in open_table(tables()[0]).file_uris())


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_json_lines_and_parquet_of_the_same_orders_give_the_csv_table(
    tmp_path: Path, fmt: str, now, table_rows, use_home
) -> None:
    from retail_insights.generator import generate

    def load(kind: str) -> object:
        out = tmp_path / kind
        generate(
            rows=1500,
            seed=5,
            out=out,
            fmt=kind,
            dirty_rate=0.05,
            start=now.date().replace(month=1, day=1),
            end=now.date().replace(month=2, day=1),
            today=now.date(),
            progress=False,
        )
        use_home(tmp_path / f"home-{kind}")
        summary = ingest([out], dataset="retail_sales", now=now, progress=False)
        # source_line is the CSV's physical line but the row number in Parquet/JSON Lines
        return summary.written_rows, table_rows(tables()[0]).drop_columns(["source_line"])

    assert load(fmt) == load("csv")


def test_an_empty_file_is_a_batch_of_nothing(tmp_path: Path, now) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    summary = ingest([tmp_path / "empty.csv"], dataset="retail_sales", now=now, progress=False)
    assert (summary.input_rows, summary.written_rows, summary.delta_version) == (0, 0, None)
    assert summary.files == (str(tmp_path / "empty.csv"),)


def test_every_touched_partition_ends_as_one_clustered_file_and_views_can_wait(
    tmp_path: Path, generated: Path, now
) -> None:
    from warehouse.delta import current_files, is_clustered

    first = ingest([generated], dataset="retail_sales", now=now, progress=False,
                   refresh_views=False)
    silver, _ = tables()
    files = current_files(silver)
    assert len(files) == len(first.touched_partitions)  # one file per partition
    assert all(is_clustered(Path(f), columns=["category", "state"]) for f in files)
    assert "views" not in first.phases_s and {"cluster", "zorder"} <= set(first.phases_s)

    before = rows_in(silver)
    correction = [order("o-new"), order("o-new-2", updated="2025-01-06T10:00:00Z")]
    second = ingest([write_csv(tmp_path, "more.csv", correction)], dataset="retail_sales",
                    now=now, progress=False, refresh_views=False)
    assert second.touched_partitions == ((2025, 1),)
    january = [f for f in current_files(silver) if "/year=2025/month=1/" in f]
    assert len(january) == 1 and is_clustered(Path(january[0]), columns=["category", "state"])
    assert rows_in(silver) == before + 2


def test_a_small_batch_is_staged_in_process_and_adds_up_like_the_cluster_run(
    generated: Path, now, tmp_path: Path, use_home, table_rows, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_home(tmp_path / "in-process")
    small = ingest([generated], dataset="retail_sales", now=now, progress=False)
    in_process = [table_rows(path) for path in tables()]
    use_home(tmp_path / "cluster")
    monkeypatch.setenv("RETAIL_PIPELINE__IN_PROCESS_MAX_BYTES", "0")  # 0 = always the cluster
    get_settings.cache_clear()
    large = ingest([generated], dataset="retail_sales", now=now, progress=False)
    assert (small.scheduler, large.scheduler) == ("in-process", "local")
    assert "engine_start" in large.phases_s and "engine_start" not in small.phases_s
    counts = ("input_rows", "written_rows", "quarantined_rows", "duplicate_rows", "warning_rows",
              "quarantined_by_code", "touched_partitions")
    assert [getattr(small, c) for c in counts] == [getattr(large, c) for c in counts]
    assert [table_rows(path) for path in tables()] == in_process


def test_a_batch_over_the_in_process_limit_runs_on_the_cluster(
    tmp_path: Path, now, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv(tmp_path, "orders.csv", [order("o1"), order("o2")])
    monkeypatch.setenv("RETAIL_PIPELINE__IN_PROCESS_MAX_BYTES", str(path.stat().st_size - 1))
    get_settings.cache_clear()
    summary = ingest([path], dataset="retail_sales", now=now, progress=False)
    assert (summary.scheduler, summary.input_rows, summary.written_rows) == ("local", 2, 2)
