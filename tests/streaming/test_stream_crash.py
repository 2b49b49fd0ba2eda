"""Exactly once under crashes: SIGKILL the consumer at random points, restart, compare with the truth."""

from __future__ import annotations

import random
import time

from retail_insights.settings import get_settings
from streaming import clients
from streaming.dlq import dlq_count
from streaming.metrics import metrics_path, recent
from streaming.offsets import delta_offsets
from streaming.producer import produce

from tests.streaming.stream_support import GARBAGE, dlq_codes, expected_outcome, read_topic, send_raw, table_rows

TRIALS = 3


def _positions(bootstrap: str, topic: str, group: str) -> tuple[dict[int, int | None], dict[int, int]]:
    """(last offset the table holds, Kafka's committed next offset) per partition."""
    admin = clients.admin(bootstrap)
    try:
        info = clients.describe(admin, topic)
        kafka = {tp.partition: meta.offset for tp, meta in admin.list_group_offsets(group).get(group, {}).items()
                 if tp.topic == topic and meta.offset >= 0}
    finally:
        admin.close()
    table = get_settings().table_path("retail_sales", "sales")
    held = delta_offsets(table, group=group, topic=topic, topic_id=clients.topic_id(info),
                         partitions=clients.partition_ids(info))
    return held, kafka


def test_sigkill_at_random_points_leaves_exactly_the_valid_events_in_table_and_dlq(
    kafka_bootstrap, topic, start_consumer
) -> None:
    rng = random.Random(20261122)
    produce(bootstrap=kafka_bootstrap, topic=topic, count=4000, seed=21, dirty_rate=0.05)
    send_raw(kafka_bootstrap, topic, GARBAGE)
    metrics = metrics_path(topic, "ingest")
    for trial in range(TRIALS):
        consumer = start_consumer(bootstrap=kafka_bootstrap, topic=topic, group="ingest", batch_events=250,
                                  batch_seconds=0.3)
        # Kill after a random number of further batches plus a random fraction of the next one,
        # so kills land while collecting, between the DLQ flush and the commits, and in between.
        target = len(recent(metrics, limit=100_000)) + rng.randint(1, 3)
        deadline = time.monotonic() + 180
        while len(recent(metrics, limit=100_000)) < target and time.monotonic() < deadline:
            assert consumer.proc.poll() is None, consumer.log.read_text()[-3000:]
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 0.4))
        consumer.kill()
        held, kafka = _positions(kafka_bootstrap, topic, "ingest")
        # Kafka's committed offsets never run ahead of what the table holds.
        assert all(held[p] is not None and offset <= held[p] + 1 for p, offset in kafka.items())
        if trial == 0:  # new events arrive between crashes too
            produce(bootstrap=kafka_bootstrap, topic=topic, count=1500, seed=22, dirty_rate=0.05)

    final = start_consumer(bootstrap=kafka_bootstrap, topic=topic, group="ingest", idle_exit=4).wait(timeout=300)

    expected = expected_outcome(read_topic(kafka_bootstrap, topic), topic=topic)
    rows, count = table_rows()
    assert rows == expected.table
    assert count == len(expected.table)
    assert dlq_codes(kafka_bootstrap, topic) == expected.dlq
    assert dlq_count(kafka_bootstrap, topic) >= len(expected.dlq)  # raw copies: replays may repeat
    held, kafka = _positions(kafka_bootstrap, topic, "ingest")
    assert final["events"] > 0
    assert kafka == {p: offset + 1 for p, offset in held.items()}
