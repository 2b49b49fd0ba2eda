"""After the commits, off the ingest path (a helper process): the hourly and daily views follow,
files get compacted."""

from __future__ import annotations

import multiprocessing

import pyarrow.compute as pc

from retail_insights.settings import get_settings
from streaming.consumer import consume
from streaming.producer import produce
from warehouse.delta import open_table

from tests.streaming.stream_support import table_rows


def test_consumer_refreshes_the_hourly_and_daily_views_and_compacts_touched_partitions(
    kafka_bootstrap, topic
) -> None:
    produce(bootstrap=kafka_bootstrap, topic=topic, count=1500, seed=13, window_days=3)
    before = set(multiprocessing.active_children())  # e.g. a Dask cluster an earlier test left up
    stats = consume(bootstrap=kafka_bootstrap, topic=topic, group="ingest", idle_exit=3,
                    max_batch_events=300, refresh_views=True, compact_every_s=0.1)

    assert stats.view_refreshes >= 1 and stats.compactions >= 1 and stats.maintenance_errors == ()
    # the helper process ended with the consumer
    assert set(multiprocessing.active_children()) <= before
    rows, count = table_rows()
    settings = get_settings()
    for view in ("sales_hourly", "sales_daily"):
        orders = open_table(settings.table_path("retail_sales", view)).to_pyarrow_dataset().to_table(
            columns=["orders"])["orders"]
        assert pc.sum(orders).as_py() == count
    assert len(rows) == count  # compaction rewrote files, not rows
