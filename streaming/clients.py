"""Kafka clients (kafka-python) with the settings the streaming code relies on, and topic admin.

kafka-python is imported inside each function, so importing ``streaming`` stays light. Connection
failures become :class:`BrokerUnavailable` naming the address, the one error callers handle.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from streaming.errors import BrokerUnavailable

# A dead member is evicted after the session timeout, and tansu completes a join after about half
# of it: 6 s keeps both a crash-restart and a first start quick without flapping under load.
SESSION_TIMEOUT_MS = 6_000
HEARTBEAT_INTERVAL_MS = 1_500
# Also the rebalance timeout. A member that does not poll for this long is dropped and rejoins
# (safe: the table holds the offsets, but the rejoin costs seconds of freshness). Polling goes on
# while a batch is committed, so only a stalled machine gets near it; 300 s (the default) would
# leave a hung member's partitions idle for minutes. Measured on tansu: a restart after SIGKILL
# rejoins in 3-11 s whether this is 10 s or 60 s (the session timeout decides).
MAX_POLL_INTERVAL_MS = 30_000
BOOTSTRAP_TIMEOUT_MS = 10_000
REQUEST_TIMEOUT_MS = 15_000
NULL_TOPIC_ID = "00000000-0000-0000-0000-000000000000"


@contextmanager
def broker_errors(bootstrap: str, action: str) -> Iterator[None]:
    """Turn "no broker answered" into :class:`BrokerUnavailable` naming the address."""
    from kafka.errors import KafkaConnectionError, KafkaTimeoutError

    try:
        yield
    except (KafkaTimeoutError, KafkaConnectionError) as error:
        raise BrokerUnavailable(
            f"Kafka broker at {bootstrap!r} did not answer while trying to {action}: {error}.",
            hint="Start the broker (e.g. `make services`) or pass the right --bootstrap HOST:PORT.",
        ) from error


def admin(bootstrap: str) -> Any:
    from kafka import KafkaAdminClient

    with broker_errors(bootstrap, "connect an admin client"):
        return KafkaAdminClient(
            bootstrap_servers=bootstrap,
            bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
            request_timeout_ms=REQUEST_TIMEOUT_MS,
        )


def producer(bootstrap: str, *, linger_ms: int = 20, idempotent: bool = True) -> Any:
    """A producer (acks=all) that batches and gzips: per-record sends are the cost.

    ``idempotent=False`` for writers whose readers dedupe anyway (the DLQ): such a producer holds
    no producer id, which a broker that restarted with empty memory no longer knows.
    """
    from kafka import KafkaProducer

    with broker_errors(bootstrap, "connect a producer"):
        return KafkaProducer(
            bootstrap_servers=bootstrap,
            acks="all",
            enable_idempotence=idempotent,
            linger_ms=linger_ms,
            batch_size=1024 * 1024,
            compression_type="gzip",  # the only codec kafka-python has without extra packages
            max_request_size=8 * 1024 * 1024,
            bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
            request_timeout_ms=REQUEST_TIMEOUT_MS,
            max_block_ms=REQUEST_TIMEOUT_MS,
        )


def consumer(bootstrap: str, *, group: str | None, max_poll_records: int = 50_000) -> Any:
    """A consumer that never commits on its own and never creates the topic it reads."""
    from kafka import KafkaConsumer

    with broker_errors(bootstrap, f"join consumer group {group!r}"):
        return KafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=group,
            enable_auto_commit=False,  # offsets are committed after the Delta commit, by us
            auto_offset_reset="earliest",
            allow_auto_create_topics=False,
            # Notice a topic created (or re-created) after we subscribed within seconds, not minutes.
            metadata_max_age_ms=5_000,
            max_poll_records=max_poll_records,
            max_partition_fetch_bytes=8 * 1024 * 1024,
            fetch_max_bytes=64 * 1024 * 1024,
            session_timeout_ms=SESSION_TIMEOUT_MS,
            heartbeat_interval_ms=HEARTBEAT_INTERVAL_MS,
            max_poll_interval_ms=MAX_POLL_INTERVAL_MS,
            bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
            request_timeout_ms=REQUEST_TIMEOUT_MS,
        )


def ensure_topic(
    client: Any, topic: str, *, partitions: int, configs: Mapping[str, str] | None = None
) -> bool:
    """Create ``topic`` unless it exists; True when this call created it."""
    from kafka.errors import TopicAlreadyExistsError

    spec = {"num_partitions": partitions, "replication_factor": 1, "configs": dict(configs or {})}
    try:
        client.create_topics({topic: spec}, wait_for_metadata=True)
    except TopicAlreadyExistsError:
        return False
    return True


def describe(client: Any, topic: str) -> dict[str, Any] | None:
    """The topic's metadata (``partitions``, ``topic_id``), or None when it does not exist."""
    from kafka.errors import UnknownTopicOrPartitionError

    try:
        found = client.describe_topics([topic])
    except UnknownTopicOrPartitionError:
        return None
    for info in found:
        if info.get("name") == topic and not info.get("error_code"):
            return info
    return None


def topic_id(info: Mapping[str, Any] | None) -> str | None:
    """The topic's id (Kafka >= 2.8): a re-created topic gets a new one and restarts its offsets."""
    value = None if info is None else info.get("topic_id")
    text = None if value is None else str(value)
    return None if text in (None, "", NULL_TOPIC_ID) else text


def partition_ids(info: Mapping[str, Any] | None) -> list[int]:
    return sorted(int(p["partition_index"]) for p in (info or {}).get("partitions", []))


def log_end_offsets(reader: Any, partitions: list[Any], *, timeout_s: float = 10.0) -> dict[Any, int]:
    """The offset after the last record of each partition, read with a group-less consumer.

    ListOffsets alone is not enough: the tansu broker answers it with the last record batch's
    base offset + 1, not the last record's offset + 1. So for every non-empty partition the
    reader fetches from there and takes the high watermark of the fetch response (both agree on
    Apache Kafka). ``reader`` is left assigned to ``partitions``; its positions are undefined.
    """
    import time

    if not partitions:
        return {}
    reader.assign(partitions)
    listed = reader.end_offsets(partitions)
    starts = reader.beginning_offsets(partitions)
    ends = {tp: listed[tp] for tp in partitions}
    pending = [tp for tp in partitions if listed[tp] > starts[tp]]  # empty: 0 on either broker
    for tp in pending:
        reader.seek(tp, max(starts[tp], listed[tp] - 1))
    deadline = time.monotonic() + timeout_s
    while pending:
        reader.poll(timeout_ms=200, max_records=1)
        for tp in list(pending):
            high = reader.highwater(tp)
            if high is not None:
                ends[tp] = max(ends[tp], high)
                pending.remove(tp)
        if pending and time.monotonic() > deadline:
            raise BrokerUnavailable(
                f"No fetch answer for {sorted(str(tp) for tp in pending)} within {timeout_s:g}s.",
                hint="Check the broker; the partition leader may be down.",
            )
    return ends
