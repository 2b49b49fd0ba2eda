"""
### Retail views, hourly

Brings the gold views of `retail_sales` (hourly, daily, monthly, yearly rollups) up to date with the
silver `sales` table. Runs when the daily batch updates the `sales` asset, and every hour for what
the Kafka consumer merged in between.

Each view records the silver version it reflects, so a refresh recomputes exactly the (year, month)
partitions whose silver files changed since then: the partitions the batch or the stream touched,
nothing else. Repeating a run finds nothing to do. Skipped while there is no `sales` table yet.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import logging
from typing import Any

from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, dag, task

log = logging.getLogger(__name__)

DATASET = "retail_sales"
SALES = Asset(uri="retail://retail_sales/sales", name="retail_sales.sales", group="retail")

DEFAULT_ARGS = {
    "owner": "retail-insights",
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
}


@dag(
    dag_id="retail_views_hourly",
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable("0 * * * *", timezone="UTC"),
                                 assets=[SALES]),
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,  # two refreshes of one view would race for the same Delta version
    dagrun_timeout=timedelta(hours=1),
    default_args=DEFAULT_ARGS,
    tags=["retail", "views", "delta"],
    doc_md=__doc__,
)
def retail_views_hourly() -> None:
    @task
    def refresh_views(triggering_asset_events: Any = None) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowSkipException

        from warehouse.maintenance import silver_version
        from warehouse.views import refresh

        for event in (triggering_asset_events or {}).get(SALES, []):
            log.info("triggered by %s: %s", event.asset.uri, event.extra)
        if silver_version(DATASET) is None:
            raise AirflowSkipException(f"{DATASET} has no sales table yet; nothing to refresh")
        result = refresh(DATASET)
        return {
            "source_version": result.source_version,
            "views": {v.name: {"mode": v.mode, "partitions": [list(p) for p in v.partitions],
                               "rows_written": v.rows_written} for v in result.views},
        }

    refresh_views()


retail_views_hourly()
