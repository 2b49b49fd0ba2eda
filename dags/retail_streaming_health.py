"""
### Retail streaming health

Every 15 minutes, checks the Kafka consumer that merges point-of-sale events into `sales`
(`streaming.health`): consumer lag, event freshness (p95 seconds from event to table) and the number
of events in the dead-letter topic. The run **fails** when a service-level objective is breached
(the freshness SLO is `RETAIL_KAFKA__FRESHNESS_SLO_S`), so the breach shows up as a failed run and
alerts like any other failure; a broker that cannot be reached is retried first. Every report is also
kept under `<RETAIL_HOME>/state/streaming/`, where the service's `/metrics` exports it to Prometheus.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
import logging
from typing import Any

from airflow.sdk import CronTriggerTimetable, dag, task

log = logging.getLogger(__name__)

DEFAULT_ARGS = {
    "owner": "retail-insights",
    "retries": 1,  # for an unreachable broker; a breached SLO fails at once
    "retry_delay": timedelta(minutes=1),
}


@dag(
    dag_id="retail_streaming_health",
    schedule=CronTriggerTimetable("*/15 * * * *", timezone="UTC"),
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=10),
    default_args=DEFAULT_ARGS,
    tags=["retail", "streaming", "kafka", "slo"],
    doc_md=__doc__,
)
def retail_streaming_health() -> None:
    @task(execution_timeout=timedelta(minutes=5))
    def check_slo() -> dict[str, Any]:
        from airflow.sdk.exceptions import AirflowFailException

        from retail_insights.settings import get_settings
        from streaming.health import check, record

        kafka = get_settings().kafka
        report = check(bootstrap=kafka.bootstrap, topic=kafka.topic, group=kafka.group)
        record(report, topic=kafka.topic, group=kafka.group)
        summary = report.to_json()
        log.info("stream %s / group %s: %s", kafka.topic, kafka.group, summary)
        if not report.slo_ok:
            raise AirflowFailException(
                f"streaming SLO ({kafka.freshness_slo_s}s) breached on topic {kafka.topic!r}, "
                f"group {kafka.group!r}: lag {report.lag} events, oldest waiting "
                f"{report.oldest_pending_s}s, freshness p95 {report.freshness_p95_s}s, "
                f"{report.dlq_count} events in the dead-letter topic")
        return summary

    check_slo()


retail_streaming_health()
