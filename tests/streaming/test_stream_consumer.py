"""The consumer end to end against the real broker: exactly the valid events, positions from Delta."""

from __future__ import annotations

import signal
import time

import pytest

from retail_insights.errors import UsageError
from retail_insights.settings import get_settings
from streaming.consumer import consume
from streaming.metrics import metrics_path, recent
from streaming.offsets import delta_offsets
from streaming.producer import produce

from tests.streaming.stream_support import GARBAGE, dlq_codes, expected_outcome, read_topic, send_raw, table_rows


def _silver():
    return get_settings().table_path("retail_sales", "sales")


def _kafka_committed(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    from streaming import clients

    admin = clients.admin(bootstrap)
    try:
        found = admin.list_group_offsets(group).get(group, {})
    finally:
        admin.close()
    return {tp.partition: meta.offset for tp, meta in found.items() if tp.topic == topic and meta.offset >= 0}


def test_each_valid_event_lands_once_and_every_invalid_one_goes_to_the_dlq(kafka_bootstrap, topic) -> None:
    produce(bootstrap=kafka_bootstrap, topic=topic, count=3000, seed=5, dirty_rate=0.05)
    send_raw(kafka_bootstrap, topic, GARBAGE)

    stats = consume(bootstrap=kafka_bootstrap, topic=topic, group="ingest", idle_exit=5,
                    max_batch_events=1000, refresh_views=False)

    expected = expected_outcome(read_topic(kafka_bootstrap, topic), topic=topic)
    rows, count = table_rows()
    assert rows == expected.table
    assert count == len(expected.table)
    assert dlq_codes(kafka_bootstrap, topic) == expected.dlq
    assert stats.events == expected.events == stats.written + stats.duplicates + stats.dlq
    assert stats.malformed == len(GARBAGE)
    assert stats.stopped_by == "idle" and stats.batches >= 3
    assert all(b.freshness_p95_s is not None and b.freshness_p95_s >= b.freshness_p50_s
               for b in stats.batch_stats if b.written)
    assert len(recent(metrics_path(topic, "ingest"))) == stats.batches


def test_positions_come_from_the_table_so_rewound_kafka_offsets_replay_nothing(kafka_bootstrap, topic) -> None:
    from kafka import TopicPartition
    from kafka.structs import OffsetAndMetadata

    from streaming import clients

    produce(bootstrap=kafka_bootstrap, topic=topic, count=400, seed=6)
    first = consume(bootstrap=kafka_bootstrap, topic=topic, group="ingest", idle_exit=5, refresh_views=False)
    before, _ = table_rows()
    committed = _kafka_committed(kafka_bootstrap, "ingest", topic)
    assert first.events == 400 and sum(committed.values()) == 400  # Kafka follows the table

    admin = clients.admin(kafka_bootstrap)
    try:
        admin.alter_group_offsets("ingest", {TopicPartition(topic, p): OffsetAndMetadata(0, "", -1)
                                             for p in committed})
    finally:
        admin.close()
    assert sum(_kafka_committed(kafka_bootstrap, "ingest", topic).values()) == 0
    again = consume(bootstrap=kafka_bootstrap, topic=topic, group="ingest", idle_exit=5, refresh_views=False)
    assert (again.events, again.replayed, again.batches) == (0, 0, 0)
    assert table_rows()[0] == before

    produce(bootstrap=kafka_bootstrap, topic=topic, count=50, seed=7)
    more = consume(bootstrap=kafka_bootstrap, topic=topic, group="ingest", idle_exit=5, refresh_views=False)
    assert more.events == 50


def test_sigterm_finishes_or_abandons_the_batch_and_commits_no_offset_ahead_of_the_table(
    kafka_bootstrap, topic, start_consumer
) -> None:
    produce(bootstrap=kafka_bootstrap, topic=topic, count=4000, seed=8)
    consumer = start_consumer(bootstrap=kafka_bootstrap, topic=topic, group="ingest", batch_events=300,
                              batch_seconds=0.3)
    metrics = metrics_path(topic, "ingest")
    deadline = time.monotonic() + 120
    while len(recent(metrics)) < 2 and consumer.proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    consumer.proc.send_signal(signal.SIGTERM)
    stats = consumer.wait(timeout=60)

    assert stats["stopped_by"] == "signal"
    assert 0 < stats["events"] < 4000
    held = delta_offsets(_silver(), group="ingest", topic=topic, topic_id=_topic_id(kafka_bootstrap, topic),
                         partitions=range(4))
    for partition, offset in _kafka_committed(kafka_bootstrap, "ingest", topic).items():
        assert held[partition] is not None and offset <= held[partition] + 1

    rest = consume(bootstrap=kafka_bootstrap, topic=topic, group="ingest", idle_exit=5, refresh_views=False)
    assert stats["events"] + rest.events == 4000
    assert table_rows()[0] == expected_outcome(read_topic(kafka_bootstrap, topic), topic=topic).table


def _topic_id(bootstrap: str, topic: str) -> str | None:
    from streaming import clients

    admin = clients.admin(bootstrap)
    try:
        return clients.topic_id(clients.describe(admin, topic))
    finally:
        admin.close()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_batch_seconds": 0}, "max_batch_seconds must be > 0, got 0"),
        ({"max_batch_events": 0}, "max_batch_events must be a whole number >= 1, got 0"),
        ({"idle_exit": -1}, "idle_exit must be > 0 seconds or None"),
        ({"compact_every_s": 0}, "compact_every_s must be > 0 seconds or None"),
        ({"views_every_s": -1}, "views_every_s must be >= 0 seconds, got -1"),
    ],
)
def test_bad_options_fail_before_connecting_and_name_the_value(options: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        consume(bootstrap="127.0.0.1:1", topic="t", group="g", **options)


def test_unknown_dataset_fails_with_a_suggestion_before_connecting() -> None:
    with pytest.raises(ValueError, match="retail_sales"):
        consume(bootstrap="127.0.0.1:1", topic="t", group="g", dataset="retail_sale")
