"""The consumer end to end against the real broker: exactly the valid events, positions from Delta,
exactly once under SIGKILL, and beside a batch ingest committing to the same table."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
import random
import signal
import threading
import time

import pytest

from retail_insights.errors import UsageError
from retail_insights.settings import get_settings
from spark_jobs.ingest import ingest
from streaming import clients
from streaming.codec import encode_event, event_key
from streaming.consumer import consume
from streaming.dlq import dlq_count
from streaming.metrics import metrics_path, recent
from streaming.offsets import delta_offsets
from streaming.producer import pos_events, produce

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


# --- exactly once under crashes: SIGKILL the consumer at random points, restart, compare with the truth


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


# --- batch ingest and the stream commit to the same table at the same time, and nothing is lost.
# The commit layer redoes an attempt when another writer took the next table version first, so
# the only thing to check is the outcome: the stream's rows are exactly what the stream alone
# would give, and the batch's rows exactly what the same files give when ingested alone.


@pytest.fixture
def raw_files(tmp_path: Path) -> list[Path]:
    from retail_insights.generator import generate

    files = []
    for seed in (41, 42):
        out = tmp_path / f"raw-{seed}"
        generate(rows=500, seed=seed, out=out, fmt="csv", dirty_rate=0.05, start=dt.date(2025, 1, 1),
                 end=dt.date(2025, 2, 28), today=dt.date(2025, 3, 1), progress=False)
        files += sorted(out.iterdir())
    return files


@pytest.fixture
def stop_dask():
    yield
    from spark_jobs import dask_engine

    dask_engine.shutdown()


def test_batch_ingest_and_stream_commits_to_one_table_lose_nothing(
    kafka_bootstrap, topic, start_consumer, raw_files, retail_home, tmp_path, monkeypatch, stop_dask
) -> None:
    done = threading.Event()

    base = list(pos_events(count=50, seed=43, dirty_rate=0.1))
    producer = clients.producer(kafka_bootstrap)

    def feed() -> None:  # events keep arriving until the batch ingest is over, and a little after
        chunk = 0
        while not done.is_set() or chunk < 3:
            for event in base:  # the same 50 events again, as new orders: S<chunk>-ORD-...
                event = {**event, "order_id": f"S{chunk}-{event['order_id']}"}
                producer.send(topic, key=event_key(event), value=encode_event(event))
            producer.flush()
            chunk += 1
            time.sleep(0.5)

    admin = clients.admin(kafka_bootstrap)
    clients.ensure_topic(admin, topic, partitions=4)
    admin.close()
    feeder = threading.Thread(target=feed)
    feeder.start()
    try:
        consumer = start_consumer(bootstrap=kafka_bootstrap, topic=topic, group="ingest", idle_exit=4,
                                  batch_events=2000, batch_seconds=0.5)
        deadline = time.monotonic() + 120
        while not recent(metrics_path(topic, "ingest")) and time.monotonic() < deadline:
            time.sleep(0.1)  # the stream is committing before the batch starts
        summary = ingest(raw_files, dataset="retail_sales", workers=1, progress=False)
    finally:
        done.set()
        feeder.join()
        producer.close(timeout=10)
    streamed = consumer.wait(timeout=300)
    rows, count = table_rows()
    writers = _writers_by_version()

    # The same files into a warehouse of their own: what the batch rows must be.
    monkeypatch.setenv("RETAIL_HOME", str(tmp_path / "batch-alone"))
    get_settings.cache_clear()
    alone = ingest(raw_files, dataset="retail_sales", workers=1, progress=False)
    batch_alone, _ = table_rows()

    stream = expected_outcome(read_topic(kafka_bootstrap, topic), topic=topic)
    assert {k: v for k, v in rows.items() if not k.startswith("ORD-")} == stream.table
    assert {k: v for k, v in rows.items() if k.startswith("ORD-")} == batch_alone
    assert count == len(stream.table) + len(batch_alone)
    assert streamed["events"] == stream.events
    assert summary.written_rows == alone.written_rows == len(batch_alone)
    # The two really interleaved: stream commits before and after a batch commit.
    batch_versions = [v for v, app in writers.items() if app.startswith("batch:")]
    stream_versions = [v for v, app in writers.items() if app.startswith("stream:")]
    assert any(min(stream_versions) < v < max(stream_versions) for v in batch_versions)


def _writers_by_version() -> dict[int, str]:
    from warehouse.delta import open_table

    table = open_table(get_settings().table_path("retail_sales", "sales"))
    return {c["version"]: c["retailInsights"]["appId"] for c in table.history()
            if "retailInsights" in c}
