"""Every metric an alert rule or a dashboard reads is exported by a running ``retail-insights serve``.

The server runs with two workers (Prometheus' multiprocess mode) and Redis, over the HTTP tests'
warehouse, with the ingest ledger of the session's real daily-batch DAG run and the stream's records
written by their own writers; it answers a few questions before it is scraped.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
import shutil

import httpx
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from retail_insights.settings import get_settings
from tests.monitoring.promql import DASHBOARDS, dashboard_queries, metric_names, promtool, rules

pytestmark = [pytest.mark.airflow, pytest.mark.redis]   # the ledger comes from the session's batch DAG run

OWN_REDIS_DB = 11
PROMETHEUS_OWN = {"up"}   # made by Prometheus for every scrape target
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count"),
            "gauge": ("",), "unknown": ("",)}


def exported(exposition: str) -> tuple[set[str], set[str]]:
    """(names with samples, names of every declared family's series)."""
    sampled, declared = set(), set()
    for family in text_string_to_metric_families(exposition):
        sampled |= {s.name for s in family.samples}
        declared |= {family.name + suffix for suffix in SUFFIXES[family.type]}
    return sampled, sampled | declared


@pytest.fixture
def pipeline_records(warehouse_home: Path, batch_run) -> Path:
    """The daily batch's ledger with a new batch under way, a consumer batch and a health report, in this
    test's RETAIL_HOME."""
    from spark_jobs.bronze import Ledger
    from streaming import health, metrics

    shutil.copytree(batch_run.home / "state" / "ingest", warehouse_home / "state" / "ingest")
    Ledger(get_settings().state_dir, "retail_sales").started(batch_id="retail_sales-next", seq=99, files=[],
                                                              at=datetime.now(UTC))
    kafka = get_settings().kafka
    now = datetime.now(UTC).isoformat()
    metrics.append(metrics.metrics_path(kafka.topic, kafka.group), metrics.BatchStats(
        batch=1, finished_at=now, events=200, replayed=0, written=190, duplicates=2, dlq=8, malformed=1,
        partitions=(0,), delta_versions=(1,), freshness_p50_s=0.8, freshness_p95_s=1.9, seconds=2.0,
        touched=((2024, 6),)))
    health.record(health.HealthReport(lag=12, freshness_p95_s=1.9, dlq_count=8, slo_ok=True, oldest_pending_s=0.7),
                  topic=kafka.topic, group=kafka.group)
    return warehouse_home


@pytest.fixture
def own_redis(redis_url: str) -> str:
    """A database of the session's Redis that only this module uses, emptied: answers other tests left in
    the shared L2 cache would turn the questions below into cache hits and run no query."""
    url = f"{redis_url.rsplit('/', 1)[0]}/{OWN_REDIS_DB}"
    with redis.Redis.from_url(url) as client:
        client.flushdb()
    return url


@pytest.fixture
def scraped(serve, pipeline_records: Path, own_redis: str) -> str:
    server = serve(workers=2, env={"RETAIL_REDIS__URL": own_redis})
    with httpx.Client(base_url=server.url, timeout=120) as http:
        for question, dataset in (("total sales in 2016", "superstore"), ("total sales in 2016", "superstore"),
                                  ("revenue by region in 2023", "retail_sales"), ("what about the weather", "superstore")):
            assert http.post("/v1/ask", json={"question": question, "dataset": dataset}).status_code == 200
        assert http.post("/v1/sql", json={"sql": "DROP TABLE superstore", "dataset": "superstore"}).status_code == 400
        return http.get("/metrics").text


@pytest.mark.slow
def test_a_running_serve_exports_every_metric_the_rules_and_dashboards_read(scraped: str, promtool_path: str) -> None:
    sampled, names = exported(scraped)
    read_by = {}
    for path in DASHBOARDS:
        for where, expr in dashboard_queries(path):
            read_by.update({name: where for name in metric_names(expr)})
    for rule in rules():
        read_by.update({name: f"alert {rule['alert']}" for name in metric_names(rule["expr"])})
    ours = {name: where for name, where in read_by.items() if not name.startswith("airflow_")}
    missing = {name: where for name, where in ours.items() if name not in names | PROMETHEUS_OWN}
    assert not missing, f"read but not exported by serve: {missing}"
    # And each has samples: the traffic above, the ledger, the stream records, Redis, counters made at start.
    assert not set(ours) - sampled - PROMETHEUS_OWN
    checked = promtool(promtool_path, "check", "metrics", stdin=scraped)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.slow
def test_the_scrape_holds_the_data_health_budget_redis_and_view_usage(scraped: str) -> None:
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(scraped) for s in family.samples}
    stream = (("group", "retail-ingest"), ("topic", "pos-events"))
    assert samples[("retail_stream_lag_events", stream)] == 12
    assert samples[("retail_stream_dead_letter_ratio", stream)] == pytest.approx(8 / 200)
    assert samples[("retail_batches_total", (("dataset", "retail_sales"), ("outcome", "committed")))] == 1
    assert samples[("retail_batch_last_rows", (("dataset", "retail_sales"), ("kind", "input")))] == 2000
    assert samples[("retail_batch_open_since_timestamp_seconds", (("dataset", "retail_sales"),))] > 0
    assert samples[("retail_redis_up", ())] == 1
    assert samples[("retail_llm_budget_limit_usd", ())] == get_settings().llm.daily_budget_usd_total
    views = {dict(labels)["table"]: value for (name, labels), value in samples.items()
             if name == "retail_source_queries_total" and dict(labels)["kind"] == "view"}
    # Every answer the rules tier gave ran one query over a view (a repeat on the same worker is a cache hit).
    answers = {dict(labels)["tier"]: value for (name, labels), value in samples.items()
               if name == "retail_answers_total" and dict(labels)["status"] == "answered"}
    ran = sum(value for tier, value in answers.items() if tier not in ("cache_l1", "cache_l2"))
    assert sum(views.values()) == ran >= 2, (views, answers)
    assert all(t.startswith(("superstore_", "sales_")) for t in views), views
