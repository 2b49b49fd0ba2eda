"""``retail_views_hourly`` with ``dag.test()``: recomputes exactly what the silver table changed."""

from __future__ import annotations

import pytest

from tests.dags.airflow_support import commit_correction, run_dag

pytestmark = pytest.mark.airflow


def test_views_refresh_only_the_partition_a_correction_touched(copied_home) -> None:
    from warehouse.delta import read_version
    from warehouse.maintenance import silver_version
    from warehouse.views import view_status

    year, month = commit_correction()
    assert any(v.stale for v in view_status("retail_sales"))
    result = run_dag("retail_views_hourly")
    assert result.state == "success"
    refreshed = result.xcoms["refresh_views"]
    assert refreshed["source_version"] == silver_version("retail_sales")
    assert {name: (v["mode"], v["partitions"]) for name, v in refreshed["views"].items()} == {
        "sales_hourly": ("incremental", [[year, month]]),
        "sales_daily": ("incremental", [[year, month]]),
        "sales_monthly": ("incremental", [[year, month]]),
        "sales_yearly": ("incremental", [[year]]),
        **{rollup: ("incremental", [[year, month]]) for rollup in (
            "sales_monthly_geo", "sales_monthly_channel", "sales_monthly_product", "sales_daily_totals",
            "sales_daily_geo", "sales_daily_mix")},
    }
    assert not any(v.stale for v in view_status("retail_sales"))
    silver = copied_home.resolve() / "warehouse" / "retail_sales" / "sales"
    assert read_version(silver) == refreshed["source_version"]


def test_a_second_views_run_finds_nothing_to_recompute(copied_home) -> None:
    commit_correction()
    run_dag("retail_views_hourly")
    again = run_dag("retail_views_hourly")
    assert again.state == "success"
    assert {v["mode"] for v in again.xcoms["refresh_views"]["views"].values()} == {"unchanged"}


def test_views_run_is_skipped_before_the_first_load(airflow_home) -> None:
    result = run_dag("retail_views_hourly")
    assert result.state == "success"
    assert result.task_states == {"refresh_views": "skipped"}
