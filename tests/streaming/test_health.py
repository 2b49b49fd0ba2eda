"""The health check: lag against the table, freshness from the metrics, dead letters, the SLO."""

from __future__ import annotations

from datetime import UTC, datetime
import time

from retail_insights.settings import get_settings
from streaming.consumer import consume
from streaming.health import HealthReport, check, latest, record, report_path
from streaming.producer import produce

from tests.streaming.stream_support import GARBAGE, send_raw


def test_a_caught_up_stream_has_no_lag_and_meets_the_slo(kafka_bootstrap, topic) -> None:
    produce(bootstrap=kafka_bootstrap, topic=topic, count=300, seed=9, dirty_rate=0.1)
    send_raw(kafka_bootstrap, topic, GARBAGE)
    stats = consume(bootstrap=kafka_bootstrap, topic=topic, group="ingest", idle_exit=3, refresh_views=False)

    report = check(bootstrap=kafka_bootstrap, topic=topic, group="ingest")
    assert report.lag == 0 and report.oldest_pending_s is None
    assert report.dlq_count == stats.dlq > len(GARBAGE)
    assert report.freshness_p95_s == max(b.freshness_p95_s for b in stats.batch_stats)
    assert report.slo_ok is (report.freshness_p95_s <= report.slo_s)


def test_events_the_table_lacks_are_lag_and_break_the_slo_once_older_than_it(
    kafka_bootstrap, topic, monkeypatch
) -> None:
    monkeypatch.setenv("RETAIL_KAFKA__FRESHNESS_SLO_S", "0.5")
    get_settings.cache_clear()
    produce(bootstrap=kafka_bootstrap, topic=topic, count=120, seed=10)
    time.sleep(0.6)  # the oldest pending event is now older than the SLO

    report = check(bootstrap=kafka_bootstrap, topic=topic, group="nobody-consumes")
    assert report.lag == 120 and sum(report.lag_by_partition.values()) == 120
    assert report.oldest_pending_s >= 0.5
    assert report.freshness_p95_s is None and report.dlq_count == 0
    assert report.slo_ok is False


def test_the_latest_recorded_report_is_kept_beside_the_consumers_metrics() -> None:
    assert latest("pos-events", "ingest") is None
    at = datetime(2026, 3, 1, 12, tzinfo=UTC)
    record(HealthReport(lag=3, freshness_p95_s=1.2, dlq_count=1, slo_ok=True), topic="pos-events", group="ingest", at=at)
    record(HealthReport(lag=9, freshness_p95_s=None, dlq_count=2, slo_ok=False), topic="pos-events", group="ingest",
           at=at)
    kept = latest("pos-events", "ingest")
    assert (kept["lag"], kept["dlq_count"], kept["slo_ok"]) == (9, 2, False)
    assert (kept["topic"], kept["group"], kept["checked_at"]) == ("pos-events", "ingest", at.isoformat())
    assert report_path("pos-events", "ingest").parent == get_settings().state_dir / "streaming"
    assert latest("pos-events", "another-group") is None
