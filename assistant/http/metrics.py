"""Prometheus metrics of the service, served at ``GET /metrics``.

Each app has its own registry, so several apps in one process (tests) do not collide. With more
than one uvicorn worker, ``assistant.http.server.run`` turns on prometheus_client's multiprocess
mode (``PROMETHEUS_MULTIPROC_DIR``) and ``render`` then sums every worker's samples.

- ``retail_http_request_duration_seconds{endpoint,tier}``: latency per route and answer tier
  (``tier="none"`` for requests that are not answers);
- ``retail_http_requests_total{endpoint,method,status}``;
- ``retail_answers_total{tier,status}`` and ``retail_cache_hits_total{tier}`` (``cache_l1``/``cache_l2``);
- ``retail_llm_calls_total``, ``retail_llm_tokens_total``, ``retail_llm_cost_usd_total``;
- ``retail_bytes_read_total{endpoint}``: bytes the warehouse read for answers and SQL;
- ``retail_errors_total{endpoint,kind}``: error responses by kind, and answers with status error;
- ``retail_quota_rejections_total{reason}``;
- ``retail_cold_queue_depth``, ``retail_cold_shed_total``, ``retail_single_flight_shared_total``: the
  cold pool (``assistant.http.coldpool``);
- ``retail_query_bytes_read{dataset,kind}``: bytes per warehouse query an answer ran (``kind``: ``view``,
  ``base`` or ``llm``), and ``retail_source_queries_total{dataset,table,kind}``: which table answered.

``add_collector`` adds metrics computed when scraped (``monitoring.exporter``); they are served in
multiprocess mode too, by the worker that answers the scrape.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, values
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
CACHE_TIERS = ("cache_l1", "cache_l2")
QUOTA_REASONS = ("rate_limit", "daily_quota", "unavailable")   # assistant.http.quotas.Reason, less ok/off
# 1 KiB .. 100 GiB: a footer-only query reads a few KiB, a full scan of a large base table tens of GiB.
BYTES_BUCKETS = tuple(float(1024 * 4**i) for i in range(14))


def llm_tokens(answer: dict[str, Any]) -> int:
    """Tokens the LLM tier used for an answer: ``interpretation["llm"]["tokens"]`` (0 for other tiers)."""
    interpretation = answer.get("interpretation") or {}
    details = interpretation.get("llm") if isinstance(interpretation, dict) else None
    tokens = details.get("tokens") if isinstance(details, dict) else None
    return int(tokens or 0)


def source_kind(answer: dict[str, Any]) -> str:
    """``view`` or ``base`` for a compiled query (``interpretation["source_kind"]``), ``llm`` for LLM SQL."""
    if answer.get("tier") == "llm":
        return "llm"
    interpretation = answer.get("interpretation") or {}
    kind = interpretation.get("source_kind") if isinstance(interpretation, dict) else None
    return str(kind or "unknown")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.latency = Histogram("retail_http_request_duration_seconds", "Request latency by route and answer tier.",
                                 ["endpoint", "tier"], buckets=LATENCY_BUCKETS, registry=r)
        self.requests = Counter("retail_http_requests_total", "Requests by route, method and status code.",
                                ["endpoint", "method", "status"], registry=r)
        self.answers = Counter("retail_answers_total", "Answers by tier and status.", ["tier", "status"], registry=r)
        self.cache_hits = Counter("retail_cache_hits_total", "Answers served from a cache, by tier.", ["tier"],
                                  registry=r)
        self.llm_calls = Counter("retail_llm_calls_total", "LLM calls made for answers.", registry=r)
        self.llm_tokens = Counter("retail_llm_tokens_total", "LLM tokens used for answers.", registry=r)
        self.llm_cost = Counter("retail_llm_cost_usd_total", "LLM cost of answers in USD.", registry=r)
        self.bytes_read = Counter("retail_bytes_read_total", "Bytes the warehouse read.", ["endpoint"], registry=r)
        self.errors = Counter("retail_errors_total", "Error responses and failed answers, by kind.",
                              ["endpoint", "kind"], registry=r)
        self.quota_rejections = Counter("retail_quota_rejections_total", "Requests refused by quotas, by reason.",
                                        ["reason"], registry=r)
        self.cold_queued = Gauge("retail_cold_queue_depth", "Questions waiting for a cold-pool thread.",
                                 multiprocess_mode="livesum", registry=r)
        self.cold_shed = Counter("retail_cold_shed_total", "New questions refused (503) because the cold queue "
                                 "was full.", registry=r)
        self.cold_shared = Counter("retail_single_flight_shared_total", "Answers shared from an identical "
                                   "question already being computed.", registry=r)
        self.query_bytes = Histogram("retail_query_bytes_read", "Bytes the warehouse read per query run for an "
                                     "answer, by dataset and kind of table.", ["dataset", "kind"],
                                     buckets=BYTES_BUCKETS, registry=r)
        self.source_queries = Counter("retail_source_queries_total", "Queries run for answers, by dataset and "
                                      "table (a view or the base table).", ["dataset", "table", "kind"], registry=r)
        self._collectors: list[Any] = []
        for tier in CACHE_TIERS:   # present from the start, so a dashboard sees 0 rather than nothing
            self.cache_hits.labels(tier)
        for reason in QUOTA_REASONS:
            self.quota_rejections.labels(reason)

    def add_collector(self, collector: Any) -> None:
        """Serve ``collector``'s metrics (a prometheus_client custom collector) at ``/metrics`` too."""
        self.registry.register(collector)
        self._collectors.append(collector)

    def observe_request(self, *, endpoint: str, method: str, status: int, seconds: float, tier: str | None) -> None:
        self.latency.labels(endpoint, tier or "none").observe(seconds)
        self.requests.labels(endpoint, method, str(status)).inc()
        if status >= 500:
            self.errors.labels(endpoint, f"http_{status}").inc()

    def observe_answer(self, answer: dict[str, Any], *, endpoint: str) -> None:
        tier = answer.get("tier") or "none"
        self.answers.labels(tier, answer.get("status") or "unknown").inc()
        if tier in CACHE_TIERS:
            self.cache_hits.labels(tier).inc()
        self.llm_calls.inc(int(answer.get("llm_calls") or 0))
        self.llm_cost.inc(max(0.0, float(answer.get("cost_usd") or 0.0)))
        self.llm_tokens.inc(llm_tokens(answer))
        self.bytes_read.labels(endpoint).inc(int(answer.get("bytes_read") or 0))
        if answer.get("status") == "error":
            self.errors.labels(endpoint, "answer_error").inc()
        if tier not in CACHE_TIERS and answer.get("status") == "answered" and answer.get("sql"):
            dataset, kind = answer.get("dataset") or "unknown", source_kind(answer)
            self.query_bytes.labels(dataset, kind).observe(int(answer.get("bytes_read") or 0))
            self.source_queries.labels(dataset, answer.get("source") or kind, kind).inc()

    def observe_error(self, *, endpoint: str, kind: str) -> None:
        self.errors.labels(endpoint, kind).inc()

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        if values.ValueClass is not values.MutexValue:   # multiprocess mode: read every worker's files
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            for collector in self._collectors:
                registry.register(collector)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
