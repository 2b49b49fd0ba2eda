"""Metrics computed when Prometheus scrapes: data health, the LLM budget and Redis.

Two prometheus_client custom collectors that ``monitoring.serving`` adds to the service's ``/metrics``:

``DataHealthCollector`` (from ``monitoring.data_health``; read at most every ``ttl_s`` seconds)
- ``retail_data_version{dataset}``, ``retail_data_last_commit_timestamp_seconds{dataset}``: the silver table;
- ``retail_batch_last_rows{dataset,kind}`` (the last committed batch) and ``retail_batch_rows_total{dataset,kind}``
  (every committed batch), ``kind`` one of input, written, quarantined, duplicate, warning;
- ``retail_batch_last_quarantined_rows{dataset,code}`` and ``retail_batch_quarantined_rows_total{dataset,code}``;
- ``retail_batches_total{dataset,outcome}`` (committed, failed), ``retail_batch_open_since_timestamp_seconds``
  (an attempt not committed yet), ``retail_batch_last_started_timestamp_seconds``;
- ``retail_stream_freshness_p95_seconds``, ``retail_stream_freshness_slo_seconds``,
  ``retail_stream_last_batch_timestamp_seconds``, ``retail_stream_dead_letter_ratio`` (consumer batches)
  and ``retail_stream_lag_events``, ``retail_stream_oldest_pending_seconds``, ``retail_stream_dlq_records``,
  ``retail_stream_slo_ok``, ``retail_stream_health_timestamp_seconds`` (the health DAG's last report),
  all by ``topic`` and ``group``.

``ServiceCollector``
- ``retail_llm_budget_spent_usd`` and ``retail_llm_budget_limit_usd``: today's (UTC) spend of every key
  against ``llm.daily_budget_usd_total``;
- ``retail_redis_up``: 1 when Redis answers a ping, 0 when not (absent when no Redis is configured).

A source that cannot be read is logged and left out; the rest of the scrape still works.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
import logging
import threading
import time
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from monitoring import data_health
from retail_insights.settings import Settings

log = logging.getLogger(__name__)
STREAM_LABELS = ("topic", "group")


class DataHealthCollector:
    """Data health as metrics; the families are rebuilt at most every ``ttl_s`` seconds."""

    def __init__(self, settings: Settings, *, datasets: Sequence[str], ttl_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings, self.datasets, self.ttl_s, self._clock = settings, tuple(datasets), ttl_s, clock
        self._lock = threading.Lock()
        self._built_at: float | None = None
        self._families: list[Metric] = []

    def describe(self) -> list[Metric]:
        return []   # names are known only once collected; registering must not read files

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            now = self._clock()
            if self._built_at is None or now - self._built_at >= self.ttl_s:
                self._families, self._built_at = self._build(), now
            return iter(list(self._families))

    def _build(self) -> list[Metric]:
        families: list[Metric] = []
        for name, read, to_metrics in self._sources():
            try:
                families += to_metrics(read())
            except Exception:  # noqa: BLE001 - one broken record must not take the whole scrape down
                log.warning("data health: could not read %s", name, exc_info=True)
        return merged(families)

    def _sources(self) -> Iterator[tuple[str, Callable[[], Any], Callable[[Any], list[Metric]]]]:
        for dataset in self.datasets:
            yield (f"the {dataset} table", lambda d=dataset: data_health.table_freshness(self.settings, d),
                   freshness_metrics)
            yield f"the {dataset} ledger", lambda d=dataset: data_health.batch_health(self.settings, d), batch_metrics
        yield "the stream", lambda: data_health.stream_health(self.settings), stream_metrics


def merged(families: list[Metric]) -> list[Metric]:
    """One family per name (the exposition format allows one), holding every dataset's samples."""
    by_name: dict[str, Metric] = {}
    for family in families:
        if family.name in by_name:
            by_name[family.name].samples.extend(family.samples)
        else:
            by_name[family.name] = family
    return list(by_name.values())


def freshness_metrics(table: data_health.TableFreshness | None) -> list[Metric]:
    if table is None:
        return []
    version = GaugeMetricFamily("retail_data_version", "Silver table's data version: its newest Delta commit "
                                "that changed rows (upkeep commits do not count).", labels=["dataset"])
    version.add_metric([table.dataset], table.version)
    at = GaugeMetricFamily("retail_data_last_commit_timestamp_seconds", "When the silver table's data "
                           "version was committed (Unix seconds).", labels=["dataset"])
    at.add_metric([table.dataset], table.committed_at)
    return [version, at]


def batch_metrics(batches: data_health.BatchHealth) -> list[Metric]:
    d = batches.dataset
    last = GaugeMetricFamily("retail_batch_last_rows", "Rows of the last committed batch, by kind.", labels=["dataset", "kind"])
    total = CounterMetricFamily("retail_batch_rows", "Rows of every committed batch, by kind.",
                                labels=["dataset", "kind"])
    for kind in data_health.ROW_KINDS:
        if batches.last_rows:
            last.add_metric([d, kind], batches.last_rows[kind])
        total.add_metric([d, kind], batches.total_rows.get(kind, 0))
    codes = GaugeMetricFamily("retail_batch_last_quarantined_rows", "Quarantined rows of the last committed batch, "
                              "by reason code (a row with two codes counts under both).", labels=["dataset", "code"])
    for code, rows in sorted(batches.last_quarantined.items()):
        codes.add_metric([d, code], rows)
    all_codes = CounterMetricFamily("retail_batch_quarantined_rows", "Quarantined rows of every committed batch, "
                                    "by reason code.", labels=["dataset", "code"])
    for code, rows in sorted(batches.total_quarantined.items()):
        all_codes.add_metric([d, code], rows)
    outcomes = CounterMetricFamily("retail_batches", "Batch attempts by outcome: committed, or failed (replaced "
                                   "by a later attempt before committing).", labels=["dataset", "outcome"])
    outcomes.add_metric([d, "committed"], batches.committed)
    outcomes.add_metric([d, "failed"], batches.failed)
    families: list[Metric] = [last, total, codes, all_codes, outcomes]
    families += _gauge("retail_batch_open_since_timestamp_seconds", "When the batch attempt that has not "
                       "committed (yet) started (Unix seconds).", ["dataset"], [d], batches.open_since)
    families += _gauge("retail_batch_last_started_timestamp_seconds", "When the last committed batch started "
                       "(Unix seconds).", ["dataset"], [d], batches.last_started_at)
    return families


def stream_metrics(stream: data_health.StreamHealth) -> list[Metric]:
    key = [stream.topic, stream.group]
    report = stream.report or {}
    checked_at = data_health.timestamp_of(report.get("checked_at"))
    slo_ok = None if "slo_ok" not in report else float(bool(report["slo_ok"]))
    found = [
        ("retail_stream_freshness_slo_seconds", "The freshness SLO (kafka.freshness_slo_s).", stream.slo_s),
        ("retail_stream_freshness_p95_seconds", "Event-to-table p95 of the last five minutes of consumer "
         "batches (else of the latest batch).", stream.freshness_p95_s),
        ("retail_stream_last_batch_timestamp_seconds", "When the consumer's latest batch finished.",
         stream.last_batch_at),
        ("retail_stream_dead_letter_ratio", "Dead letters per event over the last five minutes of batches.",
         stream.dead_letter_ratio),
        ("retail_stream_lag_events", "Events the table does not hold yet (health DAG).", report.get("lag")),
        ("retail_stream_oldest_pending_seconds", "Age of the oldest event the table lacks (health DAG; 0 when "
         "none waits).", report.get("oldest_pending_s") or (0.0 if report else None)),
        ("retail_stream_dlq_records", "Records in the dead-letter topic (health DAG).", report.get("dlq_count")),
        ("retail_stream_slo_ok", "1 when the last health check met the freshness SLO.", slo_ok),
        ("retail_stream_health_timestamp_seconds", "When the health DAG last checked the stream.", checked_at),
    ]
    return [family for name, doc, value in found for family in _gauge(name, doc, list(STREAM_LABELS), key, value)]


class ServiceCollector:
    """Today's LLM spend against its cap, and whether Redis answers."""

    def __init__(self, settings: Settings, *, redis_status: Callable[[], str]) -> None:
        from assistant.llm.budget import Budget

        self.settings, self._redis_status = settings, redis_status
        self.budget = Budget.from_settings(settings)

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        spent = self.budget.check().spent_total_usd
        yield from _gauge("retail_llm_budget_spent_usd", "LLM spend today (UTC) over every key.", [], [], spent)
        yield from _gauge("retail_llm_budget_limit_usd", "The daily LLM budget for everyone "
                          "(llm.daily_budget_usd_total).", [], [], self.settings.llm.daily_budget_usd_total)
        status = self._redis_status()
        if status != "off":
            yield from _gauge("retail_redis_up", "1 when Redis answers a ping.", [], [], float(status == "up"))


def _gauge(name: str, doc: str, labels: list[str], values: list[str], value: float | None) -> list[Metric]:
    """A one-sample gauge family, or nothing when the value is unknown."""
    if value is None:
        return []
    family = GaugeMetricFamily(name, doc, labels=labels)
    family.add_metric(values, float(value))
    return [family]
