"""Benchmark what monitoring costs: ``report cost`` over a full query log, and a /metrics scrape with data health.

    .venv/bin/python benchmarks/bench_monitoring.py                 # a full 64 MiB log, a 1,000-batch ledger
    .venv/bin/python benchmarks/bench_monitoring.py --lines 50000

The query log is written by the real ``QueryLog.append`` up to its rotation size (64 MiB, the most a
report ever reads besides the one rotated file), with a realistic mix of tiers; the report is timed
end to end (``monitoring.cost_command.run``, the CLI's code) and its figures printed. The ingest
ledger gets ``--batches`` committed batches through ``spark_jobs.bronze.Ledger`` and the consumer's
file ``--stream-batches`` batches through ``streaming.metrics.append``; the data-health collector is
timed building its families and served from its cache. Last, ``GET /metrics`` is scraped in process
(Starlette's TestClient) from the assistant's own app (the baseline) and from the app
``retail-insights serve`` runs, with the data health rebuilt on every scrape: Prometheus scrapes every
15 s and the collector keeps its families 10 s, so a deployed scrape always rebuilds them.
Median of --repeat runs (of --scrapes for the scrapes). Prints, never asserts.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
import os
from pathlib import Path
import random
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

NO_QUESTIONS = object()   # the scrape benchmark asks nothing: an assistant given to create_app skips warm-up
VIEWS = ("sales_monthly", "sales_by_region_monthly", "superstore_monthly", "superstore_by_category_monthly")
TIERS = (("cache_l1", 0.45), ("cache_l2", 0.10), ("metadata", 0.33), ("semantic", 0.04), ("llm", 0.05), (None, 0.03))


def answer(rng: random.Random) -> dict:
    tier = rng.choices([t for t, _ in TIERS], weights=[w for _, w in TIERS])[0]
    llm = tier == "llm"
    reads = tier in ("metadata", "semantic", "llm")
    return {"status": "answered" if tier else "clarify", "tier": tier, "dataset": rng.choice(("retail_sales", "superstore")),
            "question": f"revenue by region in {rng.randint(2014, 2025)} number {rng.randint(0, 10**6)}",
            "latency_ms": rng.uniform(1, 900), "bytes_read": rng.randint(10**4, 5 * 10**7) if reads else 0,
            "llm_calls": 1 if llm else 0, "cost_usd": rng.uniform(0.001, 0.006) if llm else 0.0, "data_version": 7,
            "source": rng.choice(VIEWS), "answer_id": f"{rng.getrandbits(64):016x}",
            "sql": "SELECT ..." if reads else None,
            "interpretation": {"llm": {"tokens": rng.randint(1200, 2600)}} if llm else {"source_kind": "view"}}


def timed(work, repeat: int) -> tuple[float, object]:
    runs, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=None, help="query-log lines (default: up to 64 MiB)")
    parser.add_argument("--batches", type=int, default=1000, help="committed batches in the ingest ledger")
    parser.add_argument("--stream-batches", type=int, default=2000, help="consumer batches in its metrics file")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scrapes", type=int, default=50)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-monitoring-"))
    os.environ["RETAIL_HOME"] = str(home)
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        measure(args)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def measure(args: argparse.Namespace) -> None:
    from assistant.querylog import MAX_BYTES, query_log
    from monitoring.cost_command import run
    from monitoring.exporter import DataHealthCollector
    from retail_insights.settings import get_settings
    from spark_jobs.bronze import Ledger

    rng = random.Random(1)
    log = query_log()
    started, lines = time.perf_counter(), 0
    while (args.lines is None and (not log.path.exists() or log.path.stat().st_size < MAX_BYTES - 4096)) or \
            (args.lines is not None and lines < args.lines):
        log.append(answer(rng))
        lines += 1
    write_s = time.perf_counter() - started
    size = log.path.stat().st_size
    report_s, (payload, _) = timed(lambda: run(since=None, qpd=10_000), args.repeat)
    print(f"query log: {lines:,} lines, {size / 2**20:.1f} MiB, appended in {write_s:.1f} s "
          f"({lines / write_s:,.0f} lines/s)")
    print(f"report cost --project 10000: {report_s:.2f} s median of {args.repeat} "
          f"({lines / report_s:,.0f} lines/s); queries {payload['queries']:,}, cache hit rate "
          f"{payload['cache_hit_rate']:.1%}, LLM cost ${payload['cost_usd']:,.2f}, "
          f"${payload['cost_per_query_usd']:.5f} per question, {payload['bytes_read'] / 2**30:,.1f} GiB read")

    ledger = Ledger(get_settings().state_dir, "retail_sales")
    for i in range(args.batches):
        ledger.started(batch_id=f"b{i}", seq=i, files=[], at=datetime.now(UTC))
        ledger.committed(batch_id=f"b{i}", seq=i, files=[], summary={
            "input_rows": 100_000, "written_rows": 97_000, "quarantined_rows": 2_000, "duplicate_rows": 1_000,
            "warning_rows": 300, "quarantined_by_code": {"BAD_STATE": 1200, "BAD_PRICE": 800}})
    stream_records(args.stream_batches)
    collector = DataHealthCollector(get_settings(), datasets=["retail_sales", "superstore"], ttl_s=0)
    build_s, _ = timed(lambda: list(collector.collect()), args.repeat)
    cached = DataHealthCollector(get_settings(), datasets=["retail_sales", "superstore"], ttl_s=3600)
    list(cached.collect())
    cached_s, _ = timed(lambda: list(cached.collect()), max(args.repeat, 100))
    print(f"data health over a {args.batches:,}-batch ledger and {args.stream_batches:,} consumer batches: "
          f"{build_s * 1000:.1f} ms to build, {cached_s * 1e6:.0f} us from the cache")
    scrape_cost(args.scrapes)


def stream_records(batches: int) -> None:
    """The consumer's metrics file and the health DAG's last report, written by their own writers."""
    from retail_insights.settings import get_settings
    from streaming import health, metrics

    kafka = get_settings().kafka
    path = metrics.metrics_path(kafka.topic, kafka.group)
    now = datetime.now(UTC)
    for i in range(batches):
        finished = (now - timedelta(seconds=10 * (batches - i))).isoformat()
        metrics.append(path, metrics.BatchStats(
            batch=i, finished_at=finished, events=500, replayed=0, written=495, duplicates=2, dlq=3, malformed=0,
            partitions=(0, 1), delta_versions=(i,), freshness_p50_s=0.8, freshness_p95_s=1.9, seconds=1.5,
            touched=((2024, 6),)))
    health.record(health.HealthReport(lag=40, freshness_p95_s=1.9, dlq_count=3 * batches, slo_ok=True,
                                      oldest_pending_s=0.7), topic=kafka.topic, group=kafka.group)


def scrape_cost(scrapes: int) -> None:
    """``GET /metrics`` from the assistant's app against the app ``serve`` runs, data health uncached."""
    from fastapi.testclient import TestClient

    from assistant.http.app import create_app as assistant_app
    from monitoring.exporter import DataHealthCollector, ServiceCollector
    from retail_insights.settings import get_settings
    from warehouse.spec import dataset_names

    settings = get_settings()
    baseline = assistant_app(settings, NO_QUESTIONS)
    served = assistant_app(settings, NO_QUESTIONS)
    services = served.state.services   # what monitoring.serving.create_app adds, with ttl_s=0
    services.metrics.add_collector(ServiceCollector(settings, redis_status=services.redis_status))
    services.metrics.add_collector(DataHealthCollector(settings, datasets=dataset_names(), ttl_s=0))
    rng = random.Random(2)
    for _ in range(2000):   # the same traffic in both, so each exports every tier's and view's series
        given = answer(rng)
        for app in (baseline, served):
            app.state.services.metrics.observe_answer(given, endpoint="/v1/ask")
            app.state.services.metrics.observe_request(endpoint="/v1/ask", method="POST", status=200,
                                                       seconds=given["latency_ms"] / 1000, tier=given["tier"])
    figures = {}
    for name, app in (("assistant only", baseline), ("with data health", served)):
        with TestClient(app) as http:
            body = http.get("/metrics").text
            seconds, _ = timed(lambda: http.get("/metrics").raise_for_status(), scrapes)
        figures[name] = seconds
        print(f"GET /metrics, {name}: {seconds * 1000:.2f} ms median of {scrapes}, "
              f"{len(body.encode()) / 1024:.1f} KiB, {sum(not line.startswith('#') for line in body.splitlines()):,} samples")
    ratio = figures["with data health"] / figures["assistant only"]
    print(f"data health makes a scrape {ratio:.1f}x the assistant's own "
          f"(+{(figures['with data health'] - figures['assistant only']) * 1000:.2f} ms, every 15 s)")


if __name__ == "__main__":
    main()
