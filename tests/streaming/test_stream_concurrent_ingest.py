"""Batch ingest and the stream commit to the same table at the same time, and nothing is lost.

The commit layer redoes an attempt when another writer took the next table version first, so
the only thing to check is the outcome: the stream's rows are exactly what the stream alone
would give, and the batch's rows exactly what the same files give when ingested alone.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
import threading
import time

import pytest

from retail_insights.settings import get_settings
from spark_jobs.ingest import ingest
from streaming.metrics import metrics_path, recent

from streaming import clients
from streaming.codec import encode_event, event_key
from streaming.producer import pos_events

from tests.streaming.stream_support import expected_outcome, read_topic, table_rows


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


@pytest.fixture(autouse=True)
def _stop_dask():
    yield
    from spark_jobs import dask_engine

    dask_engine.shutdown()


def test_batch_ingest_and_stream_commits_to_one_table_lose_nothing(
    kafka_bootstrap, topic, start_consumer, raw_files, retail_home, tmp_path, monkeypatch
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
