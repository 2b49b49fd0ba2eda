"""The producer: SPEC 1.1 events as JSON, keyed by order_id, into a topic it creates if needed."""

from __future__ import annotations

import json

import pytest

from retail_insights.errors import UsageError
from streaming.errors import BrokerUnavailable
from streaming.producer import pos_events, produce

from tests.streaming.stream_support import read_topic


def test_produce_creates_a_partitioned_topic_and_sends_every_event_as_json(kafka_bootstrap, topic) -> None:
    stats = produce(bootstrap=kafka_bootstrap, topic=topic, count=800, seed=3, dirty_rate=0.1)

    sent = list(pos_events(count=800, seed=3, dirty_rate=0.1))
    records = read_topic(kafka_bootstrap, topic)
    assert (stats.events, stats.partitions, stats.created_topic) == (800, 4, True)
    assert len({r.partition for r in records}) == 4
    by_partition = sorted(records, key=lambda r: (r.partition, r.offset))
    assert sorted(json.dumps(json.loads(r.value), sort_keys=True) for r in by_partition) == sorted(
        json.dumps(e, sort_keys=True) for e in sent)
    assert stats.unkeyed == sum(1 for e in sent if not e["order_id"].strip()) == sum(
        1 for r in records if r.key is None)


def test_every_version_of_an_order_shares_one_partition_under_its_trimmed_id(kafka_bootstrap, topic) -> None:
    produce(bootstrap=kafka_bootstrap, topic=topic, count=1500, seed=4, dirty_rate=0.1)
    partitions: dict[str, set[int]] = {}
    for record in read_topic(kafka_bootstrap, topic):
        order_id = json.loads(record.value)["order_id"].strip()
        if order_id:
            assert record.key == order_id.encode()
            partitions.setdefault(order_id, set()).add(record.partition)
    assert all(len(p) == 1 for p in partitions.values())
    assert len(partitions) < 1500  # corrections and re-sends: several versions of some orders


def test_producing_again_appends_to_the_existing_topic(kafka_bootstrap, topic) -> None:
    produce(bootstrap=kafka_bootstrap, topic=topic, count=10, seed=1, partitions=2)
    again = produce(bootstrap=kafka_bootstrap, topic=topic, count=10, seed=1, partitions=3)
    assert (again.created_topic, again.partitions) == (False, 2)
    assert len(read_topic(kafka_bootstrap, topic)) == 20


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rate": 0}, "rate must be > 0 events per second, got 0"),
        ({"partitions": 0}, "partitions must be a whole number >= 1, got 0"),
        ({"window_days": 0}, "window_days must be a whole number >= 1 or None, got 0"),
        ({"count": 0}, "rows must be a whole number of at least 1, got 0"),
    ],
)
def test_bad_options_fail_before_connecting_and_name_the_value(options: dict, message: str) -> None:
    arguments = {"bootstrap": "127.0.0.1:1", "topic": "t", "count": 5, "seed": 1, **options}
    with pytest.raises(UsageError, match=message):
        produce(**arguments)


def test_an_unreachable_broker_is_a_retryable_error_naming_the_address() -> None:
    with pytest.raises(BrokerUnavailable, match=r"'127\.0\.0\.1:1' did not answer"):
        produce(bootstrap="127.0.0.1:1", topic="t", count=5, seed=1)
