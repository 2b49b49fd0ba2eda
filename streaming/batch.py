"""One micro-batch: decode -> validate (the batch rules) -> dead-letter -> Delta commits.

The order is what makes a crash at any point safe: DLQ records are flushed first, then each
topic-partition's rows are committed to Delta together with its last offset (an app
transaction), and only after that may the caller commit Kafka offsets. A replay after a crash
re-sends DLQ records (deduped by the reader, see ``streaming.dlq``) and is skipped by the table.

One Delta commit per topic-partition: ``warehouse.delta.commit_table`` takes one app
transaction (``app_id``/``app_version``) per commit, so several partitions cannot share one.
Since the producer keys events by order_id, all versions of an order are in one partition,
and the per-partition commits never race each other over a key.

Validation runs once for the whole batch (``transform_partition`` costs most of a second per
call, whatever the size); lineage is set per row afterwards: ``source_file`` =
``kafka://{topic}/{partition}``, ``source_line`` = the Kafka offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
import time
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from retail_insights.errors import DataError
from streaming import codec, dlq
from streaming.offsets import app_id


@dataclass(frozen=True)
class Stream:
    """What every batch of one consumer shares."""

    dataset: str
    table_path: Path
    group: str
    topic: str
    topic_id: str | None


@dataclass(frozen=True)
class Events:
    """Records of one batch, sorted by (partition, offset), none already in the table."""

    partition: np.ndarray  # int64
    offset: np.ndarray  # int64
    timestamp_ms: np.ndarray  # int64, the Kafka record timestamp
    payloads: list[bytes | None]

    def __len__(self) -> int:
        return len(self.payloads)


@dataclass(frozen=True)
class Outcome:
    written: int
    duplicates: int
    dlq: int
    malformed: int
    already_committed: int  # rows of commits another consumer had made first (skipped)
    last_offsets: dict[int, int]  # partition -> last offset now held by the table
    delta_versions: tuple[int, ...]
    latencies_s: np.ndarray  # per valid event: record timestamp -> end of its Delta commit
    touched: frozenset[tuple[int, ...]]
    stage_seconds: dict[str, float]  # decode, validate, dlq, commit
    events: int = 0  # events committed or dead-lettered by this batch


@dataclass(frozen=True)
class Prepared:
    """A validated batch, ready to be dead-lettered and committed."""

    stream: Stream
    events: Events
    clean: pa.Table  # silver rows; lineage set: source_line = offset, source_file per partition
    clean_event: np.ndarray  # index into ``events`` of each clean row
    dead: tuple[dlq.DlqRecord, ...]
    stage_seconds: dict[str, float]  # decode, validate


def process(events: Events, *, stream: Stream, producer: Any, ingested_at: datetime) -> Outcome:
    """Validate, dead-letter and commit one batch (:func:`prepare`, then :func:`commit`)."""
    return commit(prepare(events, stream=stream, ingested_at=ingested_at), producer=producer)


def prepare(events: Events, *, stream: Stream, ingested_at: datetime) -> Prepared:
    """Decode and validate a batch; nothing is sent or committed yet."""
    from warehouse.schema import silver_schema
    from warehouse.spec import load_dataset

    spec = load_dataset(stream.dataset).spec
    batch_id = f"stream:{stream.group}@{stream.topic}:{ingested_at.strftime('%Y%m%dT%H%M%S.%fZ')}"
    clock = _Clock()
    decoded = codec.decode(events.payloads, fields=[c.name for c in spec.source.columns])
    clock.lap("decode")
    clean, rejected = _validate(decoded, stream=stream, batch_id=batch_id, ingested_at=ingested_at,
                                schema=silver_schema(spec))
    # Map transform rows back to events: source_line was the row's position in ``decoded``.
    clean_event = decoded.index[clean["source_line"].to_numpy()]
    clean = _lineage(clean, clean_event, events, topic=stream.topic)
    dead = [_dlq_record(events, decoded.index[row], stream, codes, reasons)
            for row, codes, reasons in rejected]
    dead += [_dlq_record(events, m.index, stream, (codec.MALFORMED_EVENT,),
                         f"{codec.MALFORMED_EVENT}: {m.reason}") for m in decoded.malformed]
    clock.lap("validate")
    return Prepared(stream, events, clean, clean_event, tuple(dead), clock.laps)


def commit(prepared: Prepared, *, producer: Any, held: dict[int, int | None] | None = None) -> Outcome:
    """Send the dead letters, then commit each topic-partition's rows with its last offset.

    ``held``: offsets the table holds by now (a batch prepared while the previous one was being
    committed may overlap it after a rebalance); those events are left out. Raises before any
    Delta commit if the DLQ cannot be written.
    """
    from warehouse.schema import silver_schema
    from warehouse.spec import load_dataset

    stream, events = prepared.stream, prepared.events
    spec = load_dataset(stream.dataset).spec
    schema = silver_schema(spec)
    clock = _Clock()
    held = held or {}
    fresh = events.offset > np.array([_floor(held, int(p)) for p in events.partition], np.int64)
    dead = [d for d in prepared.dead if d.offset > _floor(held, d.partition)]
    keep = fresh[prepared.clean_event]
    clean, clean_event = prepared.clean.filter(pa.array(keep)), prepared.clean_event[keep]
    dlq.send(producer, stream.topic, dead)
    clock.lap("dlq")

    written = duplicates = already = 0
    versions: list[int] = []
    latencies: list[np.ndarray] = []
    touched: set[tuple[int, ...]] = set()
    last_offsets: dict[int, int] = {}
    clean_partition = events.partition[clean_event]
    for partition in np.unique(events.partition[fresh]):
        rows_mask = clean_partition == partition
        rows = clean.filter(pa.array(rows_mask))
        last = int(events.offset[fresh & (events.partition == partition)].max())
        result = _commit(rows, stream=stream, spec=spec, schema=schema, partition=int(partition),
                         last_offset=last)
        done_at = time.time()
        last_offsets[int(partition)] = last
        if result.skipped:
            already += rows.num_rows
            continue
        written += result.written_rows
        duplicates += result.duplicate_rows
        if result.version is not None:
            versions.append(result.version)
        touched |= set(result.touched_partitions)
        latencies.append(done_at - events.timestamp_ms[clean_event[rows_mask]] / 1000.0)
    clock.lap("commit")
    malformed = sum(1 for d in dead if d.reason_codes == (codec.MALFORMED_EVENT,))
    outcome = Outcome(written, duplicates, len(dead), malformed, already, last_offsets,
                      tuple(versions), np.concatenate(latencies) if latencies else np.empty(0),
                      frozenset(touched), {**prepared.stage_seconds, **clock.laps},
                      events=int(fresh.sum()))
    _check_accounting(outcome.events, outcome)
    return outcome


def _floor(held: dict[int, int | None], partition: int) -> int:
    """Offsets up to this one are in the table already (-1: none)."""
    last = held.get(partition)
    return -1 if last is None else last


class _Clock:
    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 3)
        self._last = now


def warm_up(dataset: str) -> None:
    """Run the validation once on a one-row frame: its first call loads Great Expectations
    (seconds), which must not happen inside the first batch, after joining the consumer group."""
    import pandas as pd

    from spark_jobs.transform import transform_partition
    from warehouse.spec import load_dataset

    spec = load_dataset(dataset).spec
    frame = pd.DataFrame({c.name: [""] for c in spec.source.columns})
    frame["source_line"] = [0]
    transform_partition(frame, dataset=dataset, batch_id="warm-up", source_file="warm-up",
                        ingested_at=datetime.now(UTC))


def _validate(
    decoded: codec.Decoded, *, stream: Stream, batch_id: str, ingested_at: datetime,
    schema: pa.Schema,
) -> tuple[pa.Table, list[tuple[int, tuple[str, ...], str]]]:
    """Clean rows (source_line = row in ``decoded``) and (row, reason codes, reasons) of the rest."""
    if decoded.rows.num_rows == 0:
        return schema.empty_table(), []
    import pandas as pd

    from spark_jobs.transform import transform_partition

    frame = decoded.rows.to_pandas(types_mapper=pd.ArrowDtype)
    frame["source_line"] = np.arange(len(frame), dtype=np.int64)
    result = transform_partition(frame, dataset=stream.dataset, batch_id=batch_id,
                                 source_file=f"kafka://{stream.topic}", ingested_at=ingested_at)
    quarantine = result.quarantine
    rejected = list(zip(quarantine["source_line"].to_pylist(),
                        [tuple(c) for c in quarantine["reason_codes"].to_pylist()],
                        quarantine["reasons"].to_pylist()))
    return result.clean, rejected


def _lineage(clean: pa.Table, event_index: np.ndarray, events: Events, *, topic: str) -> pa.Table:
    """Per row: the Kafka offset as source_line and kafka://topic/partition as source_file."""
    partitions = events.partition[event_index]
    labels = np.unique(events.partition)
    names = pa.array([f"kafka://{topic}/{p}" for p in labels], pa.string())
    files = pc.take(names, pa.array(np.searchsorted(labels, partitions)))
    offsets = pa.array(events.offset[event_index], pa.int64())
    clean = clean.set_column(clean.schema.get_field_index("source_line"), "source_line", offsets)
    return clean.set_column(clean.schema.get_field_index("source_file"), "source_file", files)


def _dlq_record(events: Events, index: int, stream: Stream, codes: tuple[str, ...],
                reasons: str) -> dlq.DlqRecord:
    return dlq.DlqRecord(
        source_topic=stream.topic, source_topic_id=stream.topic_id,
        partition=int(events.partition[index]), offset=int(events.offset[index]),
        reason_codes=tuple(codes), reasons=reasons, payload=events.payloads[index] or b"",
        event_timestamp_ms=int(events.timestamp_ms[index]), group=stream.group,
    )


def _commit(rows: pa.Table, *, stream: Stream, spec: Any, schema: pa.Schema, partition: int,
            last_offset: int) -> Any:
    from warehouse.delta import commit_table

    # A partition whose events all went to the DLQ still commits (no rows): the table must
    # record that its offsets are done, or health would count them as lag and a restart
    # would send them to the DLQ again.
    return commit_table(
        stream.table_path, rows, schema=schema, key=tuple(spec.key),
        order_by=spec.dedupe_order or "ingested_at", mode="merge",
        app_id=app_id(group=stream.group, topic=stream.topic, topic_id=stream.topic_id,
                      partition=partition),
        app_version=last_offset,
    )


def _check_accounting(events: int, outcome: Outcome) -> None:
    """SPEC 1.2 row accounting for the batch: every event is written, dead-lettered or a duplicate."""
    accounted = outcome.written + outcome.duplicates + outcome.dlq + outcome.already_committed
    if accounted != events:
        raise DataError(
            f"Row accounting failed for a stream batch: {events} events but {outcome.written} "
            f"written + {outcome.duplicates} duplicates + {outcome.dlq} dead-lettered + "
            f"{outcome.already_committed} committed by another consumer = {accounted}.",
            hint="The Kafka offsets were not committed; restarting the consumer replays the batch "
            "safely. This is a bug: report it with the batch's offsets.",
        )
