"""Where the consumer stands: Kafka offsets recorded in the Delta table, not in Kafka.

Each Delta commit of the stream carries one application transaction per topic-partition: the app
id names group, topic, topic incarnation and partition, the version is the last offset committed.
So the table itself says which events it holds, atomically with the rows. Kafka's own committed
offsets follow after each Delta commit, for lag dashboards only; the consumer never reads them.

The topic id is part of the app id because a deleted and re-created topic (or a broker with
memory storage that restarted) starts again at offset 0: under the old id those offsets would
look committed already.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

APP_PREFIX = "stream"


def app_id(*, group: str, topic: str, topic_id: str | None, partition: int) -> str:
    return f"{APP_PREFIX}:{group}:{topic}:{topic_id or '-'}:{partition}"


def delta_offsets(
    table_path: Path, *, group: str, topic: str, topic_id: str | None, partitions: Iterable[int]
) -> dict[int, int | None]:
    """Last offset each partition has committed to the table (None: nothing yet), one snapshot."""
    from warehouse.delta import open_table, table_exists

    wanted = sorted(set(partitions))
    if not table_exists(table_path):
        return {p: None for p in wanted}
    table = open_table(table_path)
    return {
        p: table.transaction_version(
            app_id(group=group, topic=topic, topic_id=topic_id, partition=p)
        )
        for p in wanted
    }


def seek_to_delta(
    consumer: Any, table_path: Path, *, group: str, topic: str, topic_id: str | None,
    partitions: Iterable[Any],
) -> dict[int, int | None]:
    """Point each TopicPartition at the first offset the table does not hold yet."""
    parts = [tp for tp in partitions if tp.topic == topic]
    done = delta_offsets(
        table_path, group=group, topic=topic, topic_id=topic_id,
        partitions=[tp.partition for tp in parts],
    )
    for tp in parts:
        last = done[tp.partition]
        if last is None:
            consumer.seek_to_beginning(tp)
        else:
            consumer.seek(tp, last + 1)
    return done


def rebalance_listener(
    *, on_revoked: Callable[[list[Any]], None], on_assigned: Callable[[list[Any]], None]
) -> Any:
    """A kafka-python ConsumerRebalanceListener calling the two hooks (kafka imported lazily)."""
    from kafka import ConsumerRebalanceListener

    class _Listener(ConsumerRebalanceListener):
        # Runs on the consumer's IO thread while poll() waits for the join; the hooks only read
        # the Delta log and seek, which is quick, so heartbeats are not held up.
        def on_partitions_revoked(self, revoked: Any) -> None:
            on_revoked(sorted(revoked))

        def on_partitions_assigned(self, assigned: Any) -> None:
            on_assigned(sorted(assigned))

    return _Listener()


def kafka_commit_offsets(last: Mapping[Any, int]) -> dict[Any, Any]:
    """{TopicPartition: OffsetAndMetadata(last + 1)}: Kafka's committed offset is the next to read."""
    from kafka.structs import OffsetAndMetadata

    return {tp: OffsetAndMetadata(offset + 1, "", -1) for tp, offset in last.items()}
