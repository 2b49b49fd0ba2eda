"""The dead-letter topic ``{topic}.dlq``: events that broke a critical rule or could not be read.

Each DLQ record carries the reason codes, the reasons, the original payload and where the event
came from (topic, topic id, partition, offset). Exactly once in effect: DLQ records are sent and
flushed before the Delta commit, so a crash in between re-sends them on replay; the record key is
the source identity (``topic/topic_id/partition/offset``), :func:`read_dlq` keeps the first record
of each identity, and the topic is created compacted so Kafka drops the copies in time as well.
(The alternative, a DLQ high-water mark in the Delta commit, cannot know about records flushed by
a run that crashed before committing, so it would still need a reader that dedupes.)
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
import json
import time
from typing import Any

from streaming import clients
from streaming.errors import BrokerUnavailable

DLQ_PARTITIONS = 1  # low volume; one partition keeps a reader's order simple
_DLQ_CONFIGS = {"cleanup.policy": "compact"}


@dataclass(frozen=True)
class DlqRecord:
    source_topic: str
    source_topic_id: str | None
    partition: int
    offset: int
    reason_codes: tuple[str, ...]
    reasons: str
    payload: bytes  # the event exactly as it arrived
    event_timestamp_ms: int | None  # the source record's Kafka timestamp
    group: str

    @property
    def identity(self) -> tuple[str, str | None, int, int]:
        return (self.source_topic, self.source_topic_id, self.partition, self.offset)

    def key(self) -> bytes:
        return f"{self.source_topic}/{self.source_topic_id or '-'}/{self.partition}/{self.offset}".encode()

    def encode(self) -> bytes:
        try:
            payload: dict[str, str] = {"payload": self.payload.decode("utf-8")}
        except UnicodeDecodeError:
            payload = {"payload_base64": base64.b64encode(self.payload).decode("ascii")}
        body = {
            "source": {
                "topic": self.source_topic,
                "topic_id": self.source_topic_id,
                "partition": self.partition,
                "offset": self.offset,
                "timestamp_ms": self.event_timestamp_ms,
            },
            "reason_codes": list(self.reason_codes),
            "reasons": self.reasons,
            "group": self.group,
            **payload,
        }
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    @classmethod
    def decode(cls, value: bytes) -> DlqRecord:
        body = json.loads(value)
        source = body["source"]
        if "payload_base64" in body:
            payload = base64.b64decode(body["payload_base64"])
        else:
            payload = body["payload"].encode("utf-8")
        return cls(
            source_topic=source["topic"],
            source_topic_id=source.get("topic_id"),
            partition=int(source["partition"]),
            offset=int(source["offset"]),
            reason_codes=tuple(body["reason_codes"]),
            reasons=body["reasons"],
            payload=payload,
            event_timestamp_ms=source.get("timestamp_ms"),
            group=body.get("group", ""),
        )


def dlq_topic(topic: str) -> str:
    return f"{topic}.dlq"


def ensure_dlq_topic(admin: Any, topic: str) -> bool:
    """Create the dead-letter topic of ``topic`` unless it exists (compacted, keyed by source)."""
    return clients.ensure_topic(
        admin, dlq_topic(topic), partitions=DLQ_PARTITIONS, configs=_DLQ_CONFIGS
    )


def send(producer: Any, topic: str, records: Iterable[DlqRecord]) -> int:
    """Send DLQ records and wait until the broker has them all (before any Delta commit)."""
    futures = [producer.send(dlq_topic(topic), key=r.key(), value=r.encode()) for r in records]
    if futures:
        producer.flush()
        for future in futures:
            future.get()  # raises if the broker refused a record: the batch must not commit
    return len(futures)


def read_dlq(*, bootstrap: str, topic: str, timeout_s: float = 30.0) -> list[DlqRecord]:
    """Every distinct DLQ record of ``topic`` (first copy of each source event), in DLQ order.

    Reads ``{topic}.dlq`` from its beginning up to the end offsets at the time of the call.
    """
    name = dlq_topic(topic)
    seen: set[tuple[str, str | None, int, int]] = set()
    out: list[DlqRecord] = []
    for value in _read_all(bootstrap, name, timeout_s=timeout_s):
        record = DlqRecord.decode(value)
        if record.identity not in seen:
            seen.add(record.identity)
            out.append(record)
    return out


def dlq_count(bootstrap: str, topic: str) -> int:
    """Records in the DLQ topic by its offsets: cheap; a replay after a crash may add a copy."""
    return sum(end - start for start, end in _bounds(bootstrap, dlq_topic(topic)).values())


def _bounds(bootstrap: str, name: str) -> dict[Any, tuple[int, int]]:
    """(first, end) offset of each partition of ``name``; {} when the topic does not exist."""
    from kafka import TopicPartition

    admin_client = clients.admin(bootstrap)
    try:
        info = clients.describe(admin_client, name)
    finally:
        admin_client.close()
    parts = [TopicPartition(name, p) for p in clients.partition_ids(info)]
    if not parts:
        return {}
    reader = clients.consumer(bootstrap, group=None)
    try:
        starts = reader.beginning_offsets(parts)
        ends = clients.log_end_offsets(reader, parts)
    finally:
        reader.close(autocommit=False)
    return {tp: (starts[tp], ends[tp]) for tp in parts}


def _read_all(bootstrap: str, name: str, *, timeout_s: float) -> Sequence[bytes]:
    bounds = _bounds(bootstrap, name)
    parts = [tp for tp, (start, end) in bounds.items() if end > start]
    if not parts:
        return []
    reader = clients.consumer(bootstrap, group=None)
    try:
        reader.assign(parts)
        reader.seek_to_beginning(*parts)
        values: list[bytes] = []
        deadline = time.monotonic() + timeout_s
        while any(reader.position(tp) < bounds[tp][1] for tp in parts):
            if time.monotonic() > deadline:
                raise BrokerUnavailable(
                    f"Reading {name!r} to its end offsets took over {timeout_s:g}s.",
                    hint="Check the broker, or pass a larger timeout_s.",
                )
            for tp, batch in reader.poll(timeout_ms=500).items():
                values += [r.value for r in batch if r.offset < bounds[tp][1]]
        return values
    finally:
        reader.close(autocommit=False)
