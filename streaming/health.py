"""Is the stream healthy? Lag, freshness and dead letters, for the Airflow health DAG.

Lag is counted against the Delta table (the offsets its commits recorded), not Kafka's
committed offsets, since the table is what queries see. Freshness is the worst per-batch p95 of
the last five minutes of batches (else the latest batch) from the consumer's metrics file; on
top, ``oldest_pending_s`` is the age of the oldest event the table does not hold yet, which
catches a consumer that stopped (its last batches may have looked fine).

The SLO holds when both are within ``settings.kafka.freshness_slo_s``. ``record`` keeps the latest
report beside the consumer's metrics file, where ``monitoring.exporter`` reads it for Prometheus.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
import json
import os
from pathlib import Path
import time
from typing import Any

from retail_insights.settings import get_settings
from streaming import clients, dlq, metrics, offsets

_RECENT = timedelta(minutes=5)


@dataclass(frozen=True)
class HealthReport:
    lag: int  # events in the topic the table does not hold yet
    freshness_p95_s: float | None  # worst of the last 5 min of batches, else the latest batch
    dlq_count: int  # records in the dead-letter topic (a crash replay may add a copy)
    slo_ok: bool
    oldest_pending_s: float | None = None  # None: nothing pending
    lag_by_partition: dict[int, int] | None = None
    last_batch_at: str | None = None
    slo_s: float = 5.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def check(*, bootstrap: str, topic: str, group: str, dataset: str = "retail_sales") -> HealthReport:
    """Lag, freshness p95, DLQ size and whether the freshness SLO holds for one consumer group."""
    from kafka import TopicPartition

    from warehouse.spec import load_dataset

    settings = get_settings()
    table_path = settings.table_path(dataset, load_dataset(dataset).spec.silver_table)
    admin = clients.admin(bootstrap)
    try:
        info = clients.describe(admin, topic)
    finally:
        admin.close()
    parts = [TopicPartition(topic, p) for p in clients.partition_ids(info)]
    done = offsets.delta_offsets(table_path, group=group, topic=topic,
                                 topic_id=clients.topic_id(info), partitions=[p.partition for p in parts])
    reader = clients.consumer(bootstrap, group=None)
    try:
        starts = reader.beginning_offsets(parts) if parts else {}
        ends = clients.log_end_offsets(reader, parts)
        pending = {tp: starts[tp] if done[tp.partition] is None else max(starts[tp], done[tp.partition] + 1)
                   for tp in parts}
        lag = {tp.partition: max(0, ends[tp] - pending[tp]) for tp in parts}
        oldest = _oldest_pending(reader, {tp: pending[tp] for tp in parts if lag[tp.partition]})
    finally:
        reader.close(autocommit=False)
    p95, recent_p95, last_at = freshness(metrics.recent(metrics.metrics_path(topic, group),
                                                         limit=200))
    slo = settings.kafka.freshness_slo_s
    # An old slow batch (a backlog caught up hours ago) says nothing about now: judge recent ones.
    ok = (recent_p95 is None or recent_p95 <= slo) and (oldest is None or oldest <= slo)
    return HealthReport(lag=sum(lag.values()), freshness_p95_s=p95,
                        dlq_count=dlq.dlq_count(bootstrap, topic), slo_ok=ok,
                        oldest_pending_s=oldest, lag_by_partition=lag, last_batch_at=last_at,
                        slo_s=slo)


def _oldest_pending(reader: Any, positions: dict[Any, int], *, timeout_s: float = 10.0) -> float | None:
    """Age in seconds of the oldest first-pending record across partitions (None: none pending)."""
    if not positions:
        return None
    reader.assign(list(positions))
    for tp, offset in positions.items():
        reader.seek(tp, offset)
    first: dict[Any, int] = {}
    deadline = time.monotonic() + timeout_s
    while len(first) < len(positions) and time.monotonic() < deadline:
        for tp, records in reader.poll(timeout_ms=200).items():
            if tp not in first and records:
                first[tp] = records[0].timestamp
                reader.pause(tp)
    if not first:
        return None
    return round(max(0.0, time.time() - min(first.values()) / 1000.0), 3)


def report_path(topic: str, group: str) -> Path:
    """Where ``record`` keeps the latest report of one consumer group."""
    return metrics.metrics_path(topic, group).with_suffix(".health.json")


def record(report: HealthReport, *, topic: str, group: str, at: datetime | None = None) -> Path:
    """Keep ``report`` (and when it was taken) as the group's latest; readers never see half a file."""
    path = report_path(topic, group)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = report.to_json() | {"topic": topic, "group": group,
                               "checked_at": (at or datetime.now(UTC)).isoformat()}
    scratch = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    scratch.write_text(json.dumps(body, sort_keys=True), encoding="utf-8")
    os.replace(scratch, path)
    return path


def latest(topic: str, group: str) -> dict[str, Any] | None:
    """The report ``record`` kept last for the group, or None before the first check."""
    try:
        return json.loads(report_path(topic, group).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def freshness(batches: list[dict[str, Any]]) -> tuple[float | None, float | None, str | None]:
    """(reported p95, p95 of the last five minutes or None, when the latest batch finished).

    The reported p95 is the worst of the recent batches, else the latest batch's.
    """
    if not batches:
        return None, None, None
    since = datetime.now(UTC) - _RECENT
    recent = [b["freshness_p95_s"] for b in batches
              if datetime.fromisoformat(b["finished_at"]) >= since and b["freshness_p95_s"] is not None]
    recent_p95 = max(recent) if recent else None
    reported = recent_p95 if recent_p95 is not None else batches[-1]["freshness_p95_s"]
    return reported, recent_p95, batches[-1]["finished_at"]
