"""``retail_maintenance`` with ``dag.test()``: optimize, vacuum and the day's quarantine summary."""

from __future__ import annotations

import pytest

from tests.dags.airflow_support import commit_correction, run_dag

pytestmark = pytest.mark.airflow


def test_maintenance_optimizes_vacuums_and_summarizes_the_day(batch_run, copied_home) -> None:
    year, month = commit_correction()
    result = run_dag("retail_maintenance", conf={"retention_hours": 0})
    assert result.state == "success"
    optimized = {(r["dataset"], r["table"]): r for r in result.xcoms["optimize"]}
    assert optimized[("retail_sales", "sales")]["partitions"] == [[year, month]]
    assert optimized[("superstore", "superstore")]["version"] is None  # never loaded here
    vacuumed = {(r["dataset"], r["table"]): r for r in result.xcoms["vacuum"]}
    assert vacuumed[("retail_sales", "sales")]["retention_hours"] == 0
    assert vacuumed[("retail_sales", "sales")]["deleted_files"] >= 2
    summary = {s["dataset"]: s for s in result.xcoms["quarantine_summary"]}
    ingested = batch_run.result.xcoms["ingest"]
    # The batch ran minutes ago: inside the 24 hours before this run.
    assert summary["retail_sales"]["rows"] == ingested["quarantined_rows"]
    assert summary["retail_sales"]["by_code"] == ingested["quarantined_by_code"]
    assert summary["superstore"]["rows"] == 0


def test_maintenance_vacuum_keeps_the_configured_retention_by_default(copied_home,
                                                                      monkeypatch) -> None:
    monkeypatch.setenv("RETAIL_PIPELINE__VACUUM_RETENTION_HOURS", "72")
    result = run_dag("retail_maintenance")
    assert result.state == "success"
    assert {r["retention_hours"] for r in result.xcoms["vacuum"]} == {72}
    assert {r["deleted_files"] for r in result.xcoms["vacuum"]} == {0}
