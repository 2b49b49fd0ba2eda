"""Data health from the pipeline's own records: how fresh each dataset is, what the batches did, the stream.

Nothing here queries the data or a broker: each number is read from a record a writer already keeps,
so a scrape stays cheap.

- freshness: the silver table's newest data commit (its data version and time; ``warehouse.backends.versions``);
- batches: the ingest ledger (``spark_jobs.bronze.Ledger``): every committed batch's row accounting
  and quarantine codes, attempts that never committed, and an attempt still open;
- stream: the consumer's per-batch file (``streaming.metrics``) for freshness and dead letters of the
  last five minutes, and the health DAG's last report (``streaming.health.record``) for lag.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from retail_insights.settings import Settings

ROW_KINDS = ("input", "written", "quarantined", "duplicate", "warning")
RECENT = timedelta(minutes=5)   # the window streaming.health judges freshness over


@dataclass(frozen=True)
class TableFreshness:
    dataset: str
    version: int
    committed_at: float   # Unix seconds of the latest commit


@dataclass(frozen=True)
class BatchHealth:
    dataset: str
    committed: int                                     # batches committed
    failed: int                                        # attempts a later attempt replaced before they committed
    open_since: float | None                           # Unix seconds an attempt not committed (yet) started
    last_rows: dict[str, int] = field(default_factory=dict)          # the last committed batch, by ROW_KINDS
    total_rows: dict[str, int] = field(default_factory=dict)         # every committed batch, by ROW_KINDS
    last_quarantined: dict[str, int] = field(default_factory=dict)   # the last committed batch, by code
    total_quarantined: dict[str, int] = field(default_factory=dict)  # every committed batch, by code
    last_started_at: float | None = None               # Unix seconds the last committed batch started


@dataclass(frozen=True)
class StreamHealth:
    topic: str
    group: str
    slo_s: float
    last_batch_at: float | None = None         # Unix seconds the consumer's latest batch finished
    freshness_p95_s: float | None = None       # worst p95 of the last five minutes, else the latest batch's
    dead_letter_ratio: float | None = None     # dead letters / events over the last five minutes of batches
    report: dict[str, Any] | None = None       # the health DAG's last report (lag, dlq_count, slo_ok, ...)


def table_freshness(settings: Settings, dataset: str) -> TableFreshness | None:
    """The silver table's data version (its newest commit that changed rows, as answers carry it) and
    when that commit was written; None before its first commit. Upkeep commits (OPTIMIZE, Z-order,
    VACUUM) do not make stale data look fresh."""
    from warehouse.backends.versions import freshness
    from warehouse.spec import load_dataset

    fresh = freshness(settings.table_path(dataset, load_dataset(dataset).spec.silver_table))
    if fresh is None or fresh.committed_at is None:
        return None
    return TableFreshness(dataset, fresh.data, fresh.committed_at.timestamp())


def batch_health(settings: Settings, dataset: str) -> BatchHealth:
    """The ledger's story of ``dataset``'s batches (see ``spark_jobs.bronze.Ledger``)."""
    from spark_jobs.bronze import Ledger

    return batch_health_of(Ledger(settings.state_dir, dataset).events(), dataset)


def batch_health_of(events: list[dict[str, Any]], dataset: str) -> BatchHealth:
    """``batch_health`` over ledger events: ``started`` then ``committed``, per attempt.

    An attempt is failed when another ``started`` follows it before its ``committed`` (a retry or the
    next batch); the last attempt, if it has not committed, is open (running, or crashed unretried).
    """
    totals: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    committed = failed = 0
    open_attempt: dict[str, Any] | None = None
    last: dict[str, Any] | None = None
    for event in events:
        if event.get("event") == "started":
            failed += open_attempt is not None
            open_attempt = event
        elif event.get("event") == "committed":
            summary = event.get("summary") or {}
            totals.update(_rows(summary))
            codes.update(summary.get("quarantined_by_code") or {})
            committed += 1
            last = {"summary": summary, "started": open_attempt}
            open_attempt = None
    if last is None:
        return BatchHealth(dataset, committed, failed, _seconds(open_attempt))
    summary = last["summary"]
    return BatchHealth(dataset, committed, failed, _seconds(open_attempt), _rows(summary), dict(totals),
                       dict(summary.get("quarantined_by_code") or {}), dict(codes), _seconds(last["started"]))


def stream_health(settings: Settings, *, now: datetime | None = None) -> StreamHealth:
    """The configured consumer group's recent batches and its last health report."""
    from streaming import health, metrics

    kafka = settings.kafka
    batches = metrics.recent(metrics.metrics_path(kafka.topic, kafka.group), limit=200)
    report = health.latest(kafka.topic, kafka.group)
    if not batches:
        return StreamHealth(kafka.topic, kafka.group, kafka.freshness_slo_s, report=report)
    p95, _, last_at = health.freshness(batches)
    since = (now or datetime.now(UTC)) - RECENT
    recent = [b for b in batches if datetime.fromisoformat(b["finished_at"]) >= since]
    events = sum(int(b.get("events") or 0) for b in recent)
    ratio = sum(int(b.get("dlq") or 0) for b in recent) / events if events else None
    return StreamHealth(kafka.topic, kafka.group, kafka.freshness_slo_s, timestamp_of(last_at), p95, ratio, report)


def _rows(summary: dict[str, Any]) -> dict[str, int]:
    return {kind: int(summary.get(f"{kind}_rows") or 0) for kind in ROW_KINDS}


def _seconds(event: dict[str, Any] | None) -> float | None:
    return timestamp_of(event.get("at")) if event else None


def timestamp_of(iso: str | None) -> float | None:
    if not iso:
        return None
    when = datetime.fromisoformat(iso)
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
