"""
### Retail daily batch

Loads the day's raw order files into the `retail_sales` Delta tables.

1. **wait_for_files**: a sensor (reschedule mode: it frees its worker slot between pokes) waits up
   to 6 hours for raw files in `<RETAIL_HOME>/landing/`. Writers land files under a dot-name and
   rename them when complete.
2. **ingest**: the run *claims* the waiting files (recorded under `state/landing/` by logical
   date, moved to `landing/processed/<ds>/`), then validates, dedupes and merges them
   (`spark_jobs.ingest`). A retry, or another run for the same logical date, processes exactly
   the files claimed first; ingestion skips content it has committed before, so repeating the
   task never loads a row twice. A run triggered without a logical date claims by its run id.
   Produces the `sales` asset, which triggers `retail_views_hourly`.
3. **dq_report**: the data-quality result of this batch (`dq.report`).
4. **publish_bigquery**: loads the tables into BigQuery, only when `RETAIL_BIGQUERY__PROJECT` is
   set (skipped otherwise).
5. **bump_data_version**: records the silver Delta version in `state/data_version.json` and, with
   Redis configured, announces it, so answer caches stop serving numbers from before this batch.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import logging
from typing import Any

from airflow.sdk import Asset, CronTriggerTimetable, PokeReturnValue, TriggerRule, dag, task

log = logging.getLogger(__name__)

DATASET = "retail_sales"
SALES = Asset(uri="retail://retail_sales/sales", name="retail_sales.sales", group="retail")

DEFAULT_ARGS = {
    "owner": "retail-insights",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "retry_exponential_backoff": True,
}


@dag(
    dag_id="retail_daily_batch",
    schedule=CronTriggerTimetable("0 2 * * *", timezone="UTC"),
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,  # one run claims the landing folder at a time
    dagrun_timeout=timedelta(hours=12),
    default_args=DEFAULT_ARGS,
    tags=["retail", "batch", "delta"],
    doc_md=__doc__,
)
def retail_daily_batch() -> None:
    @task.sensor(poke_interval=300, timeout=6 * 3600, mode="reschedule")
    def wait_for_files(run_id: str | None = None, logical_date: Any = None) -> PokeReturnValue:
        from retail_insights.landing import pending_files, read_claim

        # A repeated run has already claimed (and moved) its files.
        claimed = read_claim(_run_key(run_id, logical_date)) is not None
        return PokeReturnValue(is_done=claimed or bool(pending_files()))

    @task(outlets=[SALES])
    def ingest(run_id: str | None = None, logical_date: Any = None, dag_run: Any = None,
               outlet_events: Any = None) -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowSkipException

        from retail_insights.airflow_local import spawn_safe_main
        from retail_insights.landing import claim
        from retail_insights.settings import get_settings
        from spark_jobs.ingest import ingest as run_ingest

        # Runs triggered without a logical date file their files under the day they ran.
        ds = (logical_date or dag_run.run_after).date().isoformat()
        taken = claim(run_key=_run_key(run_id, logical_date), ds=ds)
        if not taken.files:
            raise AirflowSkipException(f"run {run_id} found no files in the landing folder")
        with spawn_safe_main():  # Dask starts its worker processes with "spawn"
            summary = run_ingest(list(taken.files), dataset=DATASET,
                                 engine=get_settings().pipeline.engine, progress=False)
        outlet_events[SALES].extra = {
            "batch_id": summary.batch_id,
            "delta_version": summary.delta_version,
            "touched_partitions": [list(p) for p in summary.touched_partitions],
        }
        return summary.to_json() | {"claim": taken.to_json()}

    @task
    def dq_report(summary: dict[str, Any]) -> dict[str, Any] | None:
        from dq.report import format_summary, summarize

        if summary["batch_id"] is None:
            log.info("every claimed file was ingested before; no new batch to report")
            return None
        mine = [r for r in summarize(DATASET, last=50) if r["batch_id"] == summary["batch_id"]]
        log.info("data quality of batch %s:\n%s", summary["batch_id"], format_summary(mine))
        return mine[0] if mine else None

    @task
    def publish_bigquery() -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowSkipException

        from retail_insights.settings import get_settings

        if get_settings().bigquery.project is None:
            raise AirflowSkipException("no BigQuery project (RETAIL_BIGQUERY__PROJECT is unset)")
        from warehouse.backends import get_backend

        with get_backend("bigquery", dataset=DATASET) as backend:
            result = backend.publish(DATASET)
        return {"location": result.location, "tables": list(result.tables)}

    @task(trigger_rule=TriggerRule.NONE_FAILED)  # runs when publishing was skipped
    def bump_data_version(run_id: str | None = None) -> dict[str, Any]:
        from warehouse.maintenance import record_data_version

        return record_data_version(DATASET, run_id=run_id).to_json()

    loaded = ingest()
    wait_for_files() >> loaded
    dq_report(loaded) >> publish_bigquery() >> bump_data_version()


def _run_key(run_id: str | None, logical_date: Any) -> str:
    """Claims are per logical date; a run without one (a bare API trigger) claims by its run id."""
    return logical_date.isoformat() if logical_date is not None else str(run_id)


retail_daily_batch()
