"""Helpers for the streaming tests: reading a topic back, and the expected outcome.

The expectation is computed here from what the topic really holds, independently of the
consumer: JSON decoding by hand, validity by the batch rules (``transform_partition`` over all
events at once), and the SPEC 1.2 dedupe rule in pandas (latest updated_at; on a tie the later
arrival, i.e. the higher offset: every version of an order shares a partition).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
import json

import pandas as pd

from retail_insights.settings import get_settings

FIELDS = ("order_id", "order_ts", "updated_at", "status", "ship_date", "channel", "customer_id",
          "segment", "product_id", "product_name", "category", "sub_category", "city", "state",
          "quantity", "unit_price", "discount", "unit_cost")


@dataclass(frozen=True)
class Record:
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True)
class Expected:
    table: dict[str, tuple[str, int]]  # order_id -> (source_file, offset) of the winning version
    dlq: dict[tuple[int, int], tuple[str, ...]]  # (partition, offset) -> reason codes
    events: int


def read_topic(bootstrap: str, topic: str) -> list[Record]:
    """Every record of ``topic`` up to its end, in (partition, offset) order."""
    from kafka import TopicPartition

    from streaming import clients

    admin = clients.admin(bootstrap)
    try:
        parts = [TopicPartition(topic, p) for p in clients.partition_ids(clients.describe(admin, topic))]
    finally:
        admin.close()
    reader = clients.consumer(bootstrap, group=None)
    try:
        ends = clients.log_end_offsets(reader, parts)
        reader.seek_to_beginning(*parts)
        out: list[Record] = []
        while any(reader.position(tp) < ends[tp] for tp in parts):
            for tp, batch in reader.poll(timeout_ms=500).items():
                out += [Record(r.partition, r.offset, r.key, r.value) for r in batch if r.offset < ends[tp]]
    finally:
        reader.close(autocommit=False)
    return sorted(out, key=lambda r: (r.partition, r.offset))


def expected_outcome(records: list[Record], *, topic: str) -> Expected:
    from spark_jobs.transform import transform_partition

    rows, where, dlq = [], [], {}
    for record in records:
        try:
            data = json.loads(record.value.decode("utf-8")) if record.value else None
        except (UnicodeDecodeError, ValueError):
            data = None
        nested = isinstance(data, dict) and any(isinstance(data.get(f), (dict, list)) for f in FIELDS)
        if not isinstance(data, dict) or nested:
            dlq[(record.partition, record.offset)] = ("MALFORMED_EVENT",)
            continue
        rows.append({f: _text(data.get(f)) for f in FIELDS})
        where.append((record.partition, record.offset))
    frame = pd.DataFrame(rows, columns=list(FIELDS))
    frame["source_line"] = range(len(frame))
    result = transform_partition(frame, dataset="retail_sales", batch_id="expected",
                                 source_file="expected", ingested_at=datetime.now(UTC))
    for line, codes in zip(result.quarantine["source_line"].to_pylist(),
                           result.quarantine["reason_codes"].to_pylist()):
        dlq[where[line]] = tuple(codes)
    clean = result.clean.select(["order_id", "updated_at", "source_line"]).to_pandas()
    # SPEC 1.2: latest updated_at wins; on a tie the later arrival (higher offset, same partition).
    winners = clean.sort_values(["updated_at", "source_line"]).groupby("order_id").tail(1)
    table = {row.order_id: (f"kafka://{topic}/{where[row.source_line][0]}", where[row.source_line][1])
             for row in winners.itertuples()}
    return Expected(table, dlq, len(records))


def _text(value: object) -> str:
    return "" if value is None else value if isinstance(value, str) else json.dumps(value)


def table_rows(dataset: str = "retail_sales") -> tuple[dict[str, tuple[str, int]], int]:
    """order_id -> (source_file, source_line) of the silver table, and its row count."""
    from warehouse.delta import open_table, table_exists
    from warehouse.spec import load_dataset

    path = get_settings().table_path(dataset, load_dataset(dataset).spec.silver_table)
    if not table_exists(path):
        return {}, 0
    data = open_table(path).to_pyarrow_dataset().to_table(columns=["order_id", "source_file", "source_line"])
    rows = data.to_pylist()
    return {r["order_id"]: (r["source_file"], r["source_line"]) for r in rows}, len(rows)


def dlq_codes(bootstrap: str, topic: str) -> dict[tuple[int, int], tuple[str, ...]]:
    from streaming.dlq import read_dlq

    return {(r.partition, r.offset): r.reason_codes for r in read_dlq(bootstrap=bootstrap, topic=topic)}


def send_raw(bootstrap: str, topic: str, payloads: list[tuple[bytes | None, bytes | None]]) -> None:
    """Publish (key, value) pairs as they are: for payloads no well-behaved producer sends."""
    from streaming import clients

    producer = clients.producer(bootstrap)
    try:
        for key, value in payloads:
            producer.send(topic, key=key, value=value)
        producer.flush()
    finally:
        producer.close(timeout=10)


GARBAGE = [(None, b"not json at all"), (b"k1", b"\xff\xfe\x00 binary"), (None, b"[1, 2, 3]"),
           (b"ORD-X", b'{"order_id": "ORD-X", "quantity": {"n": 2}}'), (None, b"")]




def produce_prefixed(bootstrap: str, topic: str, *, count: int, seed: int, prefix: str,
                     partitions: int = 4) -> None:
    """Like ``streaming.producer.produce``, with ``prefix`` on every order_id: the generator numbers
    orders from 1 in every run, and these events must not collide with another run's orders."""
    from streaming import clients
    from streaming.codec import encode_event, event_key
    from streaming.producer import pos_events

    admin = clients.admin(bootstrap)
    try:
        clients.ensure_topic(admin, topic, partitions=partitions)
    finally:
        admin.close()
    events = []
    for event in pos_events(count=count, seed=seed, dirty_rate=0.05):
        if event["order_id"].strip():
            event = {**event, "order_id": prefix + event["order_id"]}
        events.append((event_key(event), encode_event(event)))
    send_raw(bootstrap, topic, events)
