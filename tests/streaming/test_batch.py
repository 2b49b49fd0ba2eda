"""One micro-batch directly: a partition whose events all fail still records that it is done."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from retail_insights.settings import get_settings
from streaming import clients
from streaming.batch import Events, Stream, process
from streaming.codec import encode_event
from streaming.dlq import read_dlq
from streaming.offsets import delta_offsets
from streaming.producer import pos_events

from tests.streaming.stream_support import table_rows


def test_a_batch_commits_each_partition_and_dead_letters_what_failed(kafka_bootstrap, topic) -> None:
    table = get_settings().table_path("retail_sales", "sales")
    stream = Stream("retail_sales", table, "ingest", topic, "incarnation-1")
    good = [encode_event(e) for e in pos_events(count=20, seed=12, dirty_rate=0.0)]
    events = Events(
        partition=np.array([0] * 20 + [1, 1, 1]),
        offset=np.array(list(range(100, 120)) + [5, 6, 9]),
        timestamp_ms=np.full(23, int(datetime.now(UTC).timestamp() * 1000)),
        payloads=good + [b"oops", encode_event({"order_id": "X"}), b"{}"],
    )
    producer = clients.producer(kafka_bootstrap, idempotent=False)
    try:
        outcome = process(events, stream=stream, producer=producer, ingested_at=datetime.now(UTC))
    finally:
        producer.close(timeout=5)

    assert outcome.last_offsets == {0: 119, 1: 9}
    assert delta_offsets(table, group="ingest", topic=topic, topic_id="incarnation-1",
                         partitions=[0, 1]) == {0: 119, 1: 9}
    rows, count = table_rows()
    assert count == outcome.written == 20 - outcome.duplicates
    assert {source for source, _ in rows.values()} == {f"kafka://{topic}/0"}
    assert all(100 <= line < 120 for _, line in rows.values())
    dead = {(r.partition, r.offset): r.reason_codes for r in read_dlq(bootstrap=kafka_bootstrap, topic=topic)}
    assert dead[(1, 5)] == ("MALFORMED_EVENT",)
    assert "BAD_ORDER_TS" in dead[(1, 6)] and "MISSING_ORDER_ID" in dead[(1, 9)]
    assert outcome.dlq == 3 and outcome.malformed == 1
    assert outcome.latencies_s.size == 20 and (outcome.latencies_s >= 0).all()
