"""
### Retail maintenance

Daily upkeep of every dataset's Delta tables (`warehouse.maintenance`):

- **optimize**: Z-orders the silver tables by their clustering columns (category, state) and
  compacts the quarantine tables, in fragmented partitions only (two files or more), so a second
  run finds nothing to do;
- **vacuum** (after optimize): deletes files no table version inside the retention needs;
  the retention is `RETAIL_PIPELINE__VACUUM_RETENTION_HOURS` (default 168 hours), or the
  `retention_hours` param of a manual run; time travel reaches back that far;
- **quarantine_summary**: quarantined rows by reason code and batch for the rows ingested in the
  run's data interval (the 24 hours before the run), so each run reports one fixed day.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import logging
from typing import Any

from airflow.sdk import CronTriggerTimetable, Param, dag, task

log = logging.getLogger(__name__)

DEFAULT_ARGS = {
    "owner": "retail-insights",
    "retries": 2,
    "retry_delay": timedelta(minutes=10),
}


@dag(
    dag_id="retail_maintenance",
    schedule=CronTriggerTimetable("30 3 * * *", timezone="UTC", interval=timedelta(days=1)),
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(hours=6),
    default_args=DEFAULT_ARGS,
    params={"retention_hours": Param(None, type=["null", "integer"], minimum=0,
                                     description="vacuum retention; empty = the configured one")},
    tags=["retail", "maintenance", "delta"],
    doc_md=__doc__,
)
def retail_maintenance() -> None:
    @task
    def optimize() -> list[dict[str, Any]]:
        from warehouse.maintenance import optimize as optimize_dataset
        from warehouse.spec import dataset_names

        return [r.to_json() for name in dataset_names() for r in optimize_dataset(name)]

    @task
    def vacuum(params: Any = None) -> list[dict[str, Any]]:
        from dataclasses import asdict

        from warehouse.maintenance import vacuum as vacuum_dataset
        from warehouse.spec import dataset_names

        hours = (params or {}).get("retention_hours")
        return [asdict(r) for name in dataset_names()
                for r in vacuum_dataset(name, retention_hours=hours)]

    @task
    def quarantine_summary(data_interval_start: Any = None,
                           data_interval_end: Any = None) -> list[dict[str, Any]]:
        from warehouse.maintenance import quarantine_summary as summarize
        from warehouse.spec import dataset_names

        summaries = [summarize(name, start=data_interval_start, end=data_interval_end)
                     for name in dataset_names()]
        for s in summaries:
            log.info("%s: %d rows quarantined in [%s, %s): %s",
                     s.dataset, s.rows, s.start, s.end, s.by_code)
        return [s.to_json() for s in summaries]

    optimize() >> vacuum()
    quarantine_summary()


retail_maintenance()
