"""The two worker stages of a micro-batch, each on a thread of its own: prepare, then commit.

``prepare``: check the topic is the same incarnation, drop records the table already holds,
decode and validate (``streaming.batch.prepare``). ``commit``: look up again what the table holds
(the previous batch may have committed in the meantime), send the dead letters, commit to Delta
(``streaming.batch.commit``). Neither touches the Kafka consumer, which belongs to the main thread.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from retail_insights.errors import RetryableError
from streaming import batch, clients, offsets


@dataclass(frozen=True)
class Result:
    """A batch between stages, or what the main thread learns about it at the end."""

    partitions: frozenset[int]
    started: float  # monotonic time the batch's first record arrived
    submitted: float  # ... and the time its collection ended
    replayed: int = 0  # records dropped because the table already held them
    prepared: batch.Prepared | None = None
    outcome: batch.Outcome | None = None
    abandoned: str | None = None  # why the batch was given up (it will be replayed)
    topic_id: str | None = None  # set when the topic turned out to be re-created
    renew_producer: bool = False


def prepare(records: dict[int, list[Any]], *, stream: batch.Stream, admin: Any, started: float,
            submitted: float) -> Result:
    from kafka.errors import KafkaError

    result = Result(frozenset(records), started, submitted)
    try:
        topic_id = clients.topic_id(clients.describe(admin, stream.topic))
    except (KafkaError, RetryableError) as error:
        return replace(result, abandoned=f"cannot describe topic {stream.topic!r}: {error}")
    if topic_id != stream.topic_id:
        # Re-created: its offsets restart, so positions must be looked up again under the new
        # incarnation's app ids (nothing recorded yet: from the beginning).
        return replace(result, abandoned=f"topic {stream.topic!r} was re-created", topic_id=topic_id)
    held = offsets.delta_offsets(stream.table_path, group=stream.group, topic=stream.topic,
                                 topic_id=topic_id, partitions=records)
    ordered = [r for p in sorted(records) for r in sorted(records[p], key=lambda r: r.offset)]
    fresh = [r for r in ordered if held[r.partition] is None or r.offset > held[r.partition]]
    result = replace(result, replayed=len(ordered) - len(fresh))
    if not fresh:
        return result
    events = batch.Events(
        partition=np.fromiter((r.partition for r in fresh), np.int64, len(fresh)),
        offset=np.fromiter((r.offset for r in fresh), np.int64, len(fresh)),
        timestamp_ms=np.fromiter((r.timestamp for r in fresh), np.int64, len(fresh)),
        payloads=[r.value for r in fresh],
    )
    return replace(result, prepared=batch.prepare(events, stream=stream,
                                                  ingested_at=datetime.now(UTC)))


def commit(result: Result, *, producer: Any) -> Result:
    from kafka.errors import KafkaError

    prepared = result.prepared
    assert prepared is not None
    stream = prepared.stream
    held = offsets.delta_offsets(stream.table_path, group=stream.group, topic=stream.topic,
                                 topic_id=stream.topic_id, partitions=result.partitions)
    try:
        outcome = batch.commit(prepared, producer=producer, held=held)
    except KafkaError as error:  # the DLQ producer may be unusable now (e.g. broker restarted)
        return replace(result, abandoned=f"dead letters not sent: {error}", renew_producer=True)
    except RetryableError as error:
        return replace(result, abandoned=str(error))
    return replace(result, outcome=outcome,
                   replayed=result.replayed + len(prepared.events) - outcome.events)
