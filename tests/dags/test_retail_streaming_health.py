"""``retail_streaming_health`` with ``dag.test()`` against the session's Kafka-protocol broker."""

from __future__ import annotations

import time
import uuid

import pytest

from retail_insights.settings import get_settings
from tests.dags.airflow_support import run_dag

pytestmark = pytest.mark.airflow


@pytest.fixture
def stream(kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh topic and group, configured through the environment as the DAG reads them."""
    topic = f"health-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("RETAIL_KAFKA__BOOTSTRAP", kafka_bootstrap)
    monkeypatch.setenv("RETAIL_KAFKA__TOPIC", topic)
    monkeypatch.setenv("RETAIL_KAFKA__GROUP", f"{topic}-group")
    get_settings.cache_clear()
    return topic


def test_a_caught_up_stream_passes_the_health_check(airflow_home, stream: str,
                                                    kafka_bootstrap: str) -> None:
    from streaming import clients

    admin = clients.admin(kafka_bootstrap)
    try:
        clients.ensure_topic(admin, stream, partitions=2)
    finally:
        admin.close()
    result = run_dag("retail_streaming_health")
    assert result.state == "success"
    report = result.xcoms["check_slo"]
    assert (report["lag"], report["dlq_count"], report["slo_ok"]) == (0, 0, True)
    from streaming.health import latest

    kept = latest(stream, f"{stream}-group")   # for Prometheus (monitoring.exporter)
    assert (kept["lag"], kept["slo_ok"]) == (0, True)


def test_events_waiting_longer_than_the_slo_fail_the_run(
        airflow_home, stream: str, kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch,
        capfd) -> None:
    from streaming.producer import produce

    monkeypatch.setenv("RETAIL_KAFKA__FRESHNESS_SLO_S", "0.001")
    produce(bootstrap=kafka_bootstrap, topic=stream, count=20, seed=3, partitions=2)
    time.sleep(0.05)  # the oldest event is now older than the 1 ms SLO; nobody consumes it
    result = run_dag("retail_streaming_health")
    assert result.state == "failed"
    assert result.task_states == {"check_slo": "failed"}
    assert "check_slo" not in result.xcoms
    logged = "".join(capfd.readouterr())
    assert "streaming SLO (0.001s) breached" in logged and "lag 20 events" in logged
    from streaming.health import latest

    kept = latest(stream, f"{stream}-group")   # kept before the run failed, so the breach reaches Prometheus
    assert (kept["lag"], kept["slo_ok"]) == (20, False)
