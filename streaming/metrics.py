"""Per-batch numbers of the consumer: freshness (event time -> queryable) and throughput.

Every micro-batch appends one JSON line to ``settings.state_dir / "streaming" /
"{topic}.{group}.jsonl"``; the health check reads the latest lines. Freshness of an event is the
time from its Kafka record timestamp (set when it was produced) to the end of the Delta commit
that made it queryable; order_ts is not used, it is business time and may be days old.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
import json
import os
from pathlib import Path
import re
from typing import Any

import numpy as np

from retail_insights.settings import get_settings

_MAX_FILE_BYTES = 16 * 1024 * 1024  # then the file is rotated to ``.1`` (one old generation kept)


@dataclass(frozen=True)
class BatchStats:
    batch: int  # micro-batch number in this run, from 1
    finished_at: str  # ISO time (UTC) the batch's last commit ended
    events: int  # records processed (after dropping those the table already held)
    replayed: int  # records dropped because the table already held them (replay after a crash)
    written: int  # rows inserted or replacing a stored version
    duplicates: int  # rows that lost to a newer version (in the batch or in the table)
    dlq: int  # events sent to the dead-letter topic (invalid + malformed)
    malformed: int
    partitions: tuple[int, ...]  # Kafka partitions in the batch
    delta_versions: tuple[int, ...]  # table versions written
    freshness_p50_s: float | None  # of the events written by this batch
    freshness_p95_s: float | None
    seconds: float  # from the first record received to the end of the last commit
    touched: tuple[tuple[int, ...], ...]  # (year, month) partitions of the table
    stage_seconds: dict[str, float] | None = None  # collect, decode, validate, dlq, commit, process

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["touched"] = [list(p) for p in self.touched]
        return data


def quantiles(latencies: np.ndarray) -> tuple[float | None, float | None]:
    if latencies.size == 0:
        return None, None
    p50, p95 = np.percentile(latencies, [50, 95])
    return round(float(p50), 3), round(float(p95), 3)


class LatencyHistogram:
    """Quantiles of every latency of a run in bounded memory (log buckets, ~5% wide, 1 ms..1 day)."""

    _EDGES = np.geomspace(1e-3, 86_400.0, 400)

    def __init__(self) -> None:
        self.counts = np.zeros(len(self._EDGES) + 1, dtype=np.int64)

    def add(self, latencies: np.ndarray) -> None:
        buckets = np.searchsorted(self._EDGES, np.maximum(latencies, 0.0))
        self.counts += np.bincount(buckets, minlength=len(self.counts))

    def quantile(self, q: float) -> float | None:
        total = int(self.counts.sum())
        if total == 0:
            return None
        bucket = int(np.searchsorted(np.cumsum(self.counts), q * total))
        # The bucket's upper edge: a reported p95 is never below the true one.
        return round(float(self._EDGES[min(bucket, len(self._EDGES) - 1)]), 3)


def metrics_path(topic: str, group: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", f"{topic}.{group}")
    return get_settings().state_dir / "streaming" / f"{safe}.jsonl"


def append(path: Path, stats: BatchStats) -> None:
    """One line per batch; O_APPEND keeps lines whole when several consumers share the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.stat().st_size > _MAX_FILE_BYTES:
        os.replace(path, path.with_suffix(".jsonl.1"))
    line = json.dumps(stats.to_json(), separators=(",", ":")) + "\n"
    with path.open("a", encoding="utf-8") as out:
        out.write(line)


def recent(path: Path, *, limit: int = 50) -> list[dict[str, Any]]:
    """The last ``limit`` batch records (oldest first); a torn last line is skipped."""
    if not path.exists():
        return []
    with path.open("rb") as source:
        source.seek(0, os.SEEK_END)
        size = source.tell()
        source.seek(max(0, size - limit * 2048))
        lines = source.read().splitlines()
    records = []
    for line in lines[-limit:]:
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records


def percentile_of(values: Sequence[float], q: float) -> float | None:
    return None if not values else round(float(np.percentile(np.asarray(values), q)), 3)
