"""``retail_daily_batch`` end to end with ``dag.test()``: files in, tables and version out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retail_insights.settings import get_settings
from tests.dags.airflow_support import run_dag

pytestmark = pytest.mark.airflow

SALES_URI = "retail://retail_sales/sales"


def test_batch_run_succeeds_and_skips_bigquery_when_it_is_not_configured(batch_run) -> None:
    assert batch_run.result.state == "success"
    assert batch_run.result.task_states == {
        "wait_for_files": "success", "ingest": "success", "dq_report": "success",
        "publish_bigquery": "skipped", "bump_data_version": "success",
    }


def test_batch_ingests_every_generated_row_and_the_accounting_adds_up(batch_run) -> None:
    summary = batch_run.result.xcoms["ingest"]
    assert summary["input_rows"] == 2000
    assert summary["written_rows"] > 0 and summary["quarantined_rows"] > 0
    assert summary["input_rows"] == (summary["written_rows"] + summary["quarantined_rows"]
                                     + summary["duplicate_rows"])


def test_batch_moves_the_files_it_claimed_to_the_processed_folder_of_its_date(batch_run) -> None:
    ds = batch_run.logical_date.date().isoformat()
    landing = batch_run.home / "landing"
    processed = landing / "processed" / ds
    moved = sorted(p.name for p in processed.iterdir())
    assert moved == sorted(f.name for f in batch_run.generated)
    assert not any(p.is_file() for p in landing.iterdir())
    ingested = batch_run.result.xcoms["ingest"]["files"]
    assert ingested == [str(processed / f.name) for f in batch_run.generated]


def test_dq_report_is_the_one_of_the_batch_just_ingested(batch_run) -> None:
    summary, report = batch_run.result.xcoms["ingest"], batch_run.result.xcoms["dq_report"]
    assert report["batch_id"] == summary["batch_id"]
    assert report["input_rows"] == 2000
    assert report["quarantined_rows"] == summary["quarantined_rows"]


def test_data_version_file_holds_the_silver_delta_version(batch_run, loaded_home: Path) -> None:
    from warehouse.delta import read_version

    recorded = json.loads((loaded_home / "state" / "data_version.json").read_text())
    silver = read_version(get_settings().table_path("retail_sales", "sales"))
    assert recorded["retail_sales"] == {"version": silver, "run_id": batch_run.result.run_id}
    assert batch_run.result.xcoms["bump_data_version"]["version"] == silver
    assert batch_run.result.xcoms["bump_data_version"]["published"] is False


def test_ingest_emits_a_sales_asset_event_that_queues_the_views_dag(batch_run) -> None:
    from airflow.models.asset import AssetDagRunQueue, AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        asset = session.query(AssetModel).filter_by(uri=SALES_URI).one()
        events = session.query(AssetEvent).filter_by(
            asset_id=asset.id, source_run_id=batch_run.result.run_id).all()
        queue = session.query(AssetDagRunQueue).filter_by(asset_id=asset.id)
        queued = {q.target_dag_id for q in queue}
    assert [e.source_task_id for e in events] == ["ingest"]
    summary = batch_run.result.xcoms["ingest"]
    assert events[0].extra == {"batch_id": summary["batch_id"],
                               "delta_version": summary["delta_version"],
                               "touched_partitions": summary["touched_partitions"]}
    assert queued == {"retail_views_hourly"}


def test_running_the_same_logical_date_again_loads_nothing_twice(batch_run, copied_home) -> None:
    from warehouse.delta import read_version

    silver = get_settings().table_path("retail_sales", "sales")
    before = read_version(silver)
    # A file landing meanwhile belongs to the next logical date, not to a repeat of this one.
    first = batch_run.result.xcoms["ingest"]["files"][0]
    claimed = Path(first.replace(str(batch_run.home), str(copied_home)))
    late = copied_home / "landing" / "late.csv"
    late.write_text(claimed.read_text().splitlines()[0] + "\n")
    again = run_dag("retail_daily_batch", logical_date=batch_run.logical_date)
    assert again.run_id != batch_run.result.run_id
    assert again.state == "success"
    assert again.xcoms["ingest"]["batch_id"] is None
    assert again.xcoms["ingest"]["skipped_files"] == batch_run.result.xcoms["ingest"]["files"]
    assert read_version(silver) == before
    assert late.is_file()


def test_with_bigquery_configured_the_run_publishes_the_tables(batch_run, copied_home, bq_emulator,
                                                               monkeypatch) -> None:
    from warehouse.backends import get_backend
    from warehouse.delta import open_table

    monkeypatch.setenv("RETAIL_BIGQUERY__PROJECT", bq_emulator.project)
    monkeypatch.setenv("RETAIL_BIGQUERY__API_ENDPOINT", bq_emulator.endpoint)
    monkeypatch.setenv("RETAIL_BIGQUERY__DATASET_PREFIX", "dagtest")
    # The same logical date again: nothing new to ingest, then the publish step runs for real.
    again = run_dag("retail_daily_batch", logical_date=batch_run.logical_date)
    assert again.state == "success"
    assert again.task_states["publish_bigquery"] == "success"
    published = again.xcoms["publish_bigquery"]
    assert published["location"] == f"{bq_emulator.project}.dagtest_retail_sales"
    assert "sales" in published["tables"]
    with get_backend("bigquery", dataset="retail_sales") as backend:
        rows = backend.query("SELECT COUNT(*) FROM sales").rows
    assert rows == [(open_table(get_settings().table_path("retail_sales", "sales")).count(),)]
