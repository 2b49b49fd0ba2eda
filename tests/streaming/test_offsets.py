"""Positions live in the Delta table: one app transaction per group, topic incarnation and partition."""

from __future__ import annotations

from retail_insights.settings import get_settings
from streaming.offsets import app_id, delta_offsets
from warehouse.delta import commit_table
from warehouse.schema import silver_schema
from warehouse.spec import load_dataset


def _silver():
    return get_settings().table_path("retail_sales", "sales")


def test_app_id_names_group_topic_incarnation_and_partition() -> None:
    assert app_id(group="ingest", topic="pos", topic_id="abc", partition=3) == "stream:ingest:pos:abc:3"
    assert app_id(group="ingest", topic="pos", topic_id=None, partition=0) == "stream:ingest:pos:-:0"


def test_no_table_means_nothing_is_held_yet(retail_home) -> None:
    assert delta_offsets(_silver(), group="g", topic="t", topic_id="x", partitions=[1, 0]) == {0: None, 1: None}


def test_offsets_are_the_versions_of_the_commits_app_transactions(retail_home) -> None:
    schema = silver_schema(load_dataset("retail_sales").spec)
    for partition, last in ((0, 41), (2, 7)):
        commit_table(_silver(), schema.empty_table(), schema=schema, key=("order_id",),
                     app_id=app_id(group="g", topic="t", topic_id="x", partition=partition), app_version=last)
    held = delta_offsets(_silver(), group="g", topic="t", topic_id="x", partitions=range(3))
    assert held == {0: 41, 1: None, 2: 7}
    # A re-created topic (new id) starts from scratch; another group has its own positions.
    assert delta_offsets(_silver(), group="g", topic="t", topic_id="y", partitions=[0]) == {0: None}
    assert delta_offsets(_silver(), group="other", topic="t", topic_id="x", partitions=[0]) == {0: None}
