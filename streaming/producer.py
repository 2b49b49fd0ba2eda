"""Publish synthetic point-of-sale events (SPEC 1.1, with the batch generator's dirt) to Kafka.

Each event is the generator's raw record as a JSON object, keyed by its trimmed order_id so
every version of an order (corrections, re-sends) goes to one partition in order; an event
without a usable order_id is sent with a null key. The Kafka record timestamp is the send time,
which the consumer uses as the event time for freshness. Choices where SPEC is silent: a stream
carries recent orders, so by default order dates fall in the ``window_days`` before today (UTC);
``window_days=None`` gives the batch generator's default window.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
import time
from typing import Any

from retail_insights.errors import UsageError
from streaming import clients, codec

DEFAULT_PARTITIONS = 4


@dataclass(frozen=True)
class ProduceStats:
    topic: str
    partitions: int  # of the topic
    created_topic: bool
    events: int
    unkeyed: int  # events sent with a null key (no usable order_id)
    seed: int
    rate: float | None  # the requested events/s; None = as fast as possible
    seconds: float
    events_per_s: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def pos_events(
    *, count: int, seed: int, dirty_rate: float = 0.02, window_days: int | None = 30
) -> Iterator[dict[str, str]]:
    """The raw events :func:`produce` sends for these arguments, in order."""
    from retail_insights.generator import iter_events

    if window_days is not None and (isinstance(window_days, bool) or window_days < 1):
        raise UsageError(f"window_days must be a whole number >= 1 or None, got {window_days!r}.",
                         hint="Use e.g. 30 (orders from the last 30 days).")
    start = None
    if window_days is not None:
        start = datetime.now(UTC).date() - timedelta(days=window_days)
    return iter_events(count=count, seed=seed, dirty_rate=dirty_rate, start=start)


def produce(
    *,
    bootstrap: str,
    topic: str,
    count: int,
    seed: int,
    rate: float | None = None,
    partitions: int = DEFAULT_PARTITIONS,
    dirty_rate: float = 0.02,
    window_days: int | None = 30,
    progress: bool = False,
) -> ProduceStats:
    """Publish ``count`` events, creating ``topic`` (``partitions`` partitions) if it is missing.

    ``rate`` bounds the pace in events per second; without it events go as fast as the client can.
    """
    if rate is not None and not rate > 0:
        raise UsageError(f"rate must be > 0 events per second, got {rate!r}.",
                         hint="Use e.g. 1000, or leave it out for full speed.")
    if isinstance(partitions, bool) or not isinstance(partitions, int) or partitions < 1:
        raise UsageError(f"partitions must be a whole number >= 1, got {partitions!r}.",
                         hint=f"Use e.g. {DEFAULT_PARTITIONS}.")
    events = pos_events(count=count, seed=seed, dirty_rate=dirty_rate, window_days=window_days)
    admin = clients.admin(bootstrap)
    try:
        created = clients.ensure_topic(admin, topic, partitions=partitions)
        topic_partitions = len(clients.partition_ids(clients.describe(admin, topic)))
    finally:
        admin.close()
    producer = clients.producer(bootstrap)
    started = time.perf_counter()
    unkeyed = sent = 0
    try:
        with _progress(enabled=progress, total=count) as advance, \
                clients.broker_errors(bootstrap, f"publish to {topic!r}"):
            for event in events:
                if rate is not None:
                    ahead = started + sent / rate - time.perf_counter()
                    if ahead > 0:
                        time.sleep(ahead)
                key = codec.event_key(event)
                unkeyed += key is None
                producer.send(topic, key=key, value=codec.encode_event(event))
                sent += 1
                if sent % 1000 == 0:
                    advance(1000)
            producer.flush()
            advance(sent % 1000)
    finally:
        producer.close(timeout=10)
    seconds = time.perf_counter() - started
    return ProduceStats(topic, topic_partitions, created, sent, unkeyed, seed, rate,
                        round(seconds, 3), round(sent / seconds, 1) if seconds > 0 else 0.0)


class _progress:
    """A rich progress bar on stderr (stdout stays clean for --json); a no-op when disabled."""

    def __init__(self, *, enabled: bool, total: int) -> None:
        self.enabled, self.total, self.bar = enabled, total, None

    def __enter__(self):  # noqa: ANN204
        if not self.enabled:
            return lambda n: None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.bar = Progress(TextColumn("[bold]produce"), BarColumn(), MofNCompleteColumn(),
                            TextColumn("events"), console=Console(stderr=True))
        self.bar.start()
        task = self.bar.add_task("produce", total=self.total)
        return lambda n: self.bar.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()
