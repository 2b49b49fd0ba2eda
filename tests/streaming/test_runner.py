"""A broker restart is survived. The test broker (tansu, memory storage) loses every topic, record
and group offset on restart, so what can be checked is: the consumer reconnects, finds the topic
re-created (a new topic id, offsets from 0 again), ingests the new events, and loses nothing it
had committed before."""

from __future__ import annotations

import threading
import time

from streaming.consumer import consume

from tests.streaming.stream_support import expected_outcome, produce_prefixed, read_topic, table_rows


def _wait_for(rows: dict, *, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        current, _ = table_rows()
        if rows.items() <= current.items():
            return current
        time.sleep(0.5)
    raise AssertionError(f"table never held the {len(rows)} expected rows (holds {len(table_rows()[0])})")


def test_consumer_rides_out_a_broker_restart_and_keeps_everything_it_committed(kafka_broker, topic) -> None:
    bootstrap = kafka_broker.bootstrap
    produce_prefixed(bootstrap, topic, count=600, seed=31, prefix="A-")
    before = expected_outcome(read_topic(bootstrap, topic), topic=topic)
    stop = threading.Event()
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(stats=consume(
        bootstrap=bootstrap, topic=topic, group="ingest", max_batch_events=200, max_batch_seconds=0.5,
        stop_event=stop, refresh_views=False)))
    thread.start()
    try:
        _wait_for(before.table, timeout=180)
        kafka_broker.restart()
        produce_prefixed(bootstrap, topic, count=400, seed=32, prefix="B-")  # re-creates the topic
        after = expected_outcome(read_topic(bootstrap, topic), topic=topic)
        rows = _wait_for(after.table, timeout=180)
    finally:
        stop.set()
        thread.join(timeout=120)
    assert not thread.is_alive()
    assert rows == before.table | after.table  # the first incarnation's rows are all still there
    assert table_rows()[1] == len(before.table) + len(after.table)
    stats = result["stats"]
    assert stats.stopped_by == "stop_event"
    assert stats.events == before.events + after.events
    assert stats.rebalances >= 2
