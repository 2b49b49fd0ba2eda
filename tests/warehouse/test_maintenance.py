"""warehouse.maintenance on the tables the daily batch loaded (a private copy per test)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import json
from pathlib import Path

import pytest

from retail_insights.errors import RetryableError, UsageError
from retail_insights.services import free_port
from retail_insights.settings import get_settings
from tests.dags.airflow_support import commit_correction, silver_path
from warehouse import maintenance

pytestmark = pytest.mark.airflow  # the tables come from the session's batch DAG run


def silver_rows() -> list[tuple]:
    from warehouse.delta import open_table

    data = open_table(silver_path()).to_pyarrow_table(columns=["order_id", "updated_at", "revenue"])
    return sorted(data.to_pylist(), key=lambda r: r["order_id"])


def by_table(results: list) -> dict:
    return {r.table: r for r in results}


def test_optimize_zorders_only_fragmented_partitions_and_a_repeat_rewrites_nothing(
        copied_home) -> None:
    part = commit_correction()
    before = silver_rows()
    first = by_table(maintenance.optimize("retail_sales"))
    assert first["sales"].action == "zorder"
    assert first["sales"].partitions == (part,)
    assert first["sales"].files_after == first["sales"].files_before - 1
    assert first["quarantine"].partitions == ()
    assert silver_rows() == before
    second = by_table(maintenance.optimize("retail_sales"))
    assert second["sales"].partitions == ()
    assert second["sales"].version == first["sales"].version


def test_optimize_without_tables_reports_nothing_to_do() -> None:
    results = maintenance.optimize("retail_sales")
    assert {(r.table, r.version, r.partitions) for r in results} == {("sales", None, ()),
                                                                     ("quarantine", None, ())}


def test_optimize_refuses_a_minimum_below_two_files() -> None:
    with pytest.raises(UsageError, match="min_files must be at least 2, got 1.*already compact"):
        maintenance.optimize("retail_sales", min_files=1)


def test_vacuum_takes_its_retention_from_settings_and_keeps_recent_files(
        copied_home, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETAIL_PIPELINE__VACUUM_RETENTION_HOURS", "48")
    get_settings.cache_clear()
    commit_correction()
    maintenance.optimize("retail_sales")
    results = by_table(maintenance.vacuum("retail_sales"))
    assert {r.retention_hours for r in results.values()} == {48}
    assert results["sales"].deleted_files == 0


def test_vacuum_with_zero_retention_deletes_the_files_optimize_replaced(copied_home) -> None:
    commit_correction()
    before = silver_rows()
    maintenance.optimize("retail_sales")
    results = by_table(maintenance.vacuum("retail_sales", retention_hours=0))
    assert results["sales"].deleted_files >= 2  # the two fragments (and what the batch rewrote)
    assert silver_rows() == before
    again = by_table(maintenance.vacuum("retail_sales", retention_hours=0))
    assert again["sales"].deleted_files == 0


def test_vacuum_refuses_a_negative_retention() -> None:
    with pytest.raises(UsageError, match="retention_hours must be >= 0, got -1"):
        maintenance.vacuum("retail_sales", retention_hours=-1)


def test_quarantine_summary_counts_the_batch_by_reason_code(batch_run, loaded_home) -> None:
    ingested = batch_run.result.xcoms["ingest"]
    summary = maintenance.quarantine_summary("retail_sales")
    assert summary.rows == summary.total_rows == ingested["quarantined_rows"]
    assert summary.by_code == ingested["quarantined_by_code"]
    assert summary.by_batch == {ingested["batch_id"]: ingested["quarantined_rows"]}


def test_quarantine_summary_leaves_out_rows_ingested_outside_its_window(batch_run,
                                                                       loaded_home) -> None:
    after = batch_run.logical_date + timedelta(days=1)
    summary = maintenance.quarantine_summary("retail_sales", start=after,
                                             end=after + timedelta(days=1))
    assert (summary.rows, summary.by_code) == (0, {})
    assert summary.total_rows == batch_run.result.xcoms["ingest"]["quarantined_rows"]
    assert summary.start == after.isoformat()


def test_quarantine_summary_refuses_a_naive_bound() -> None:
    with pytest.raises(UsageError, match=r"start 2025-01-01T00:00:00 has no time zone"):
        maintenance.quarantine_summary("retail_sales", start=datetime(2025, 1, 1))


def test_data_version_is_recorded_per_dataset_next_to_the_others(copied_home) -> None:
    from warehouse.delta import read_version

    state = get_settings().state_dir / "data_version.json"
    recorded = json.loads(state.read_text())
    recorded["superstore"] = {"version": 7, "run_id": "earlier"}
    state.write_text(json.dumps(recorded))
    result = maintenance.record_data_version("retail_sales", run_id="now")
    assert result.version == read_version(silver_path())
    assert json.loads(state.read_text()) == {
        "retail_sales": {"version": result.version, "run_id": "now"},
        "superstore": {"version": 7, "run_id": "earlier"},
    }


def test_data_version_before_any_load_is_none() -> None:
    assert maintenance.record_data_version("retail_sales").version is None


def test_data_version_is_announced_on_redis_when_configured(
        copied_home, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import redis

    monkeypatch.setenv("RETAIL_REDIS__URL", redis_url)
    get_settings.cache_clear()
    client = redis.Redis.from_url(redis_url)
    listener = client.pubsub()
    listener.subscribe(maintenance.REDIS_VERSION_CHANNEL)
    assert listener.get_message(timeout=5)["type"] == "subscribe"
    result = maintenance.record_data_version("retail_sales")
    message = listener.get_message(timeout=5)
    listener.close()
    assert result.published is True
    assert json.loads(message["data"]) == {"dataset": "retail_sales", "version": result.version}
    assert json.loads(client.get("retail:data_version:retail_sales")) == result.version
    client.close()


def test_an_unreachable_redis_is_retryable_and_the_version_is_still_on_disk(
        copied_home, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETAIL_REDIS__URL", f"redis://127.0.0.1:{free_port()}/0")
    get_settings.cache_clear()
    wanted = r"could not announce data version \d+ of 'retail_sales'.*RETAIL_REDIS__URL"
    with pytest.raises(RetryableError, match=wanted):
        maintenance.record_data_version("retail_sales", run_id="down")
    state = json.loads((get_settings().state_dir / "data_version.json").read_text())
    assert state["retail_sales"]["run_id"] == "down"
