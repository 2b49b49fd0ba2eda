"""monitoring.data_health: freshness, batch accounting and the stream, read from the records writers keep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitoring.data_health import batch_health, batch_health_of, stream_health, table_freshness
from retail_insights.settings import get_settings

AT = "2026-03-01T02:00:00+00:00"


def _summary(input_rows: int, quarantined: int, codes: dict[str, int]) -> dict:
    return {"input_rows": input_rows, "written_rows": input_rows - quarantined - 1, "quarantined_rows": quarantined,
            "duplicate_rows": 1, "warning_rows": 3, "quarantined_by_code": codes}


def test_committed_batches_add_up_and_the_last_one_is_kept_apart() -> None:
    events = [{"event": "started", "batch_id": "a", "at": AT},
              {"event": "committed", "batch_id": "a", "summary": _summary(100, 5, {"BAD_STATE": 5})},
              {"event": "started", "batch_id": "b", "at": "2026-03-02T02:00:00+00:00"},
              {"event": "committed", "batch_id": "b", "summary": _summary(50, 2, {"BAD_STATE": 1, "BAD_PRICE": 2})}]
    health = batch_health_of(events, "retail_sales")
    assert (health.committed, health.failed, health.open_since) == (2, 0, None)
    assert health.last_rows == {"input": 50, "written": 47, "quarantined": 2, "duplicate": 1, "warning": 3}
    assert health.total_rows["input"] == 150 and health.total_rows["quarantined"] == 7
    assert health.last_quarantined == {"BAD_STATE": 1, "BAD_PRICE": 2}
    assert health.total_quarantined == {"BAD_STATE": 6, "BAD_PRICE": 2}
    assert health.last_started_at == datetime(2026, 3, 2, 2, tzinfo=UTC).timestamp()


def test_an_attempt_replaced_before_committing_is_failed_and_the_last_uncommitted_one_is_open() -> None:
    events = [{"event": "started", "batch_id": "a", "at": AT},            # crashed
              {"event": "started", "batch_id": "a", "at": "2026-03-01T02:10:00+00:00"},
              {"event": "committed", "batch_id": "a", "summary": _summary(10, 0, {})},
              {"event": "started", "batch_id": "b", "at": "2026-03-02T02:00:00+00:00"}]   # running
    health = batch_health_of(events, "retail_sales")
    assert (health.committed, health.failed) == (1, 1)
    assert health.open_since == datetime(2026, 3, 2, 2, tzinfo=UTC).timestamp()
    assert health.last_started_at == datetime(2026, 3, 1, 2, 10, tzinfo=UTC).timestamp()


def test_no_ledger_means_no_batches() -> None:
    health = batch_health(get_settings(), "retail_sales")
    assert (health.committed, health.failed, health.open_since, health.last_rows) == (0, 0, None, {})


@pytest.mark.airflow
def test_the_real_daily_batch_reads_back_from_its_ledger(loaded_home: Path, batch_run) -> None:
    health = batch_health(get_settings(), "retail_sales")
    summary = batch_run.result.xcoms["ingest"]
    assert health.committed == 1 and health.failed == 0
    assert health.last_rows["input"] == summary["input_rows"] == 2000
    assert health.last_rows["written"] + health.last_rows["quarantined"] + health.last_rows["duplicate"] == 2000
    assert health.last_quarantined == summary["quarantined_by_code"]


@pytest.mark.airflow
def test_freshness_is_the_silver_tables_last_data_commit(loaded_home: Path, batch_run) -> None:
    from warehouse.backends.versions import VersionReader

    table = table_freshness(get_settings(), "retail_sales")
    assert table is not None
    assert table.version == VersionReader(ttl_s=0).read(get_settings().table_path("retail_sales", "sales")).data
    # The DAG ran after the fixture read the clock for its logical date, and before now.
    assert batch_run.logical_date.timestamp() <= table.committed_at <= datetime.now(UTC).timestamp()
    assert table_freshness(get_settings(), "superstore") is None


def _batch(finished: datetime, events: int, dlq: int, p95: float):
    from streaming.metrics import BatchStats

    return BatchStats(batch=1, finished_at=finished.isoformat(), events=events, replayed=0, written=events - dlq,
                      duplicates=0, dlq=dlq, malformed=0, partitions=(0,), delta_versions=(1,),
                      freshness_p50_s=p95 / 2, freshness_p95_s=p95, seconds=1.0, touched=((2026, 3),))


def test_the_stream_reports_recent_dead_letters_freshness_and_the_last_health_check() -> None:
    from streaming import health, metrics

    kafka = get_settings().kafka
    path = metrics.metrics_path(kafka.topic, kafka.group)
    now = datetime.now(UTC)
    metrics.append(path, _batch(now - timedelta(hours=1), 1000, 900, 30.0))     # old: not in the window
    metrics.append(path, _batch(now - timedelta(minutes=2), 300, 3, 2.5))
    metrics.append(path, _batch(now - timedelta(minutes=1), 100, 7, 1.5))
    health.record(health.HealthReport(lag=40, freshness_p95_s=2.5, dlq_count=910, slo_ok=True), topic=kafka.topic,
                  group=kafka.group, at=now)
    stream = stream_health(get_settings(), now=now)
    assert stream.dead_letter_ratio == pytest.approx(10 / 400)
    assert stream.freshness_p95_s == 2.5
    assert stream.last_batch_at == pytest.approx((now - timedelta(minutes=1)).timestamp())
    assert stream.report["lag"] == 40 and stream.report["checked_at"] == now.isoformat()


def test_a_stream_without_records_has_only_its_slo() -> None:
    stream = stream_health(get_settings())
    assert (stream.last_batch_at, stream.freshness_p95_s, stream.dead_letter_ratio, stream.report) == (None,) * 4
    assert stream.slo_s == get_settings().kafka.freshness_slo_s
