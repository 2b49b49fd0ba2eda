"""The consumer's loop: collect the next micro-batch while the previous one is being committed.

Two threads, one Kafka consumer. The main thread owns the consumer (it is not thread-safe): it
polls, seeks, runs the rebalance hooks and commits Kafka offsets. A worker thread processes one
batch at a time (``streaming.batch``: validate, dead-letter, Delta commits), so decoding Kafka's
responses for batch N+1 overlaps validation and commits of batch N. At most one batch is in
flight; while it is, collection goes on until the next batch is full, then waits.

Why this stays exactly once: a batch drops, just before it is processed, the records whose
offsets the table already holds, so a seek that happened while another batch was in flight
(a rebalance) costs only re-reading. A batch that cannot be committed (a conflict, the broker
away) is abandoned: its partitions are sought back to what the table holds and the records
collected after it for those partitions are dropped, so no offset is ever skipped.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
import logging
import threading
import time
from typing import Any, Literal

import numpy as np

from retail_insights.errors import RetryableError
from streaming import batch, clients, dlq, metrics, offsets
from streaming.maintenance import Maintenance

log = logging.getLogger("streaming.consumer")

Stop = Literal["idle", "stop_event"]
_KEPT_BATCHES = 1_000  # per-batch stats kept in memory; every batch is in the metrics file
_COUNTS = ("batches", "events", "written", "duplicates", "dlq", "malformed", "replayed",
           "abandoned_batches", "rebalances")


@dataclass(frozen=True)
class _Done:
    """What the worker hands back to the main thread for one batch."""

    partitions: frozenset[int]
    started: float  # monotonic time the batch's first record arrived
    submitted: float  # ... and the time it was handed to the worker
    replayed: int
    events: batch.Events | None = None
    outcome: batch.Outcome | None = None
    abandoned: str | None = None  # why, when the batch was given up
    all_partitions: bool = False  # seek every partition again (the topic was re-created)
    renew_producer: bool = False


class Runner:
    def __init__(self, *, bootstrap: str, topic: str, group: str, stream: batch.Stream,
                 stop: threading.Event, max_batch_seconds: float, max_batch_events: int,
                 idle_exit: float | None, maintenance: Maintenance) -> None:
        self.started = time.monotonic()
        self.bootstrap, self.topic, self.group, self.stream = bootstrap, topic, group, stream
        self.stop, self.idle_exit, self.maintenance = stop, idle_exit, maintenance
        self.max_batch_seconds, self.max_batch_events = max_batch_seconds, max_batch_events
        self.metrics_file = metrics.metrics_path(topic, group)
        self.counts = dict.fromkeys(_COUNTS, 0)
        self.kept: deque[metrics.BatchStats] = deque(maxlen=_KEPT_BATCHES)
        self.latency = metrics.LatencyHistogram()
        self.first_record_at: float | None = None
        self.last_commit_at: float | None = None
        self.buffers: dict[int, list[Any]] = {}
        self.collecting_since: float | None = None
        self.ever_assigned = False
        self.admin = self.worker_admin = self.producer = self.consumer = None
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stream-batch")
        try:
            self._connect(max_poll_records=max_batch_events)
        except BaseException:
            self.close()
            raise
        self.idle_since = time.monotonic()  # idle time counts from here: warm-up and connect are slow

    def _connect(self, *, max_poll_records: int) -> None:
        self.admin = clients.admin(self.bootstrap)  # the main thread's (rebalance hooks)
        self.worker_admin = clients.admin(self.bootstrap)  # clients are not shared by threads
        dlq.ensure_dlq_topic(self.admin, self.topic)
        self.stream = replace(self.stream, topic_id=clients.topic_id(
            clients.describe(self.admin, self.topic)))
        self.producer = clients.producer(self.bootstrap, linger_ms=5, idempotent=False)
        self.consumer = clients.consumer(self.bootstrap, group=self.group,
                                         max_poll_records=max_poll_records)
        self.consumer.subscribe([self.topic], listener=offsets.rebalance_listener(
            on_revoked=self._revoked, on_assigned=self._assigned))

    # --- main thread ---------------------------------------------------------------------------

    def run(self) -> Stop:
        inflight: Future[_Done] | None = None
        while True:
            if inflight is not None and inflight.done():
                self._finish(inflight.result())
                inflight = None
            if self.stop.is_set():
                self.buffers = {}  # collected, never processed: nothing of it was committed
                if inflight is not None:  # the batch in flight finishes first
                    self._finish(inflight.result())
                return "stop_event"
            buffered = self._buffered()
            now = time.monotonic()
            if not buffered and inflight is None and self.idle_exit is not None \
                    and now - self.idle_since >= self._idle_limit():
                return "idle"
            ready = buffered and (buffered >= self.max_batch_events or (
                self.collecting_since is not None
                and now - self.collecting_since >= self.max_batch_seconds))
            if ready and inflight is None:
                inflight = self.pool.submit(self._work, self.buffers, self.collecting_since or now, now)
                self.buffers, self.collecting_since = {}, None
                if self.consumer.paused():
                    self.consumer.resume(*self.consumer.paused())
                continue
            if buffered >= self.max_batch_events:
                # Full while the previous batch still runs: hold the partitions, but keep polling
                # (nothing comes back) so the group does not count this member as stalled.
                self.consumer.pause(*self.consumer.assignment())
                self._collect(timeout_s=0.05, max_records=1)
                continue
            wait = 0.1
            if self.collecting_since is not None:  # overdue: the previous batch still runs
                remaining = self.max_batch_seconds - (now - self.collecting_since)
                wait = min(0.1, remaining) if remaining > 0 else 0.05
            self._collect(timeout_s=wait, max_records=self.max_batch_events - buffered)

    def _collect(self, *, timeout_s: float, max_records: int) -> None:
        from kafka.errors import KafkaError

        try:
            polled = self.consumer.poll(timeout_ms=max(1, int(timeout_s * 1000)),
                                        max_records=max_records)
        except KafkaError as error:  # broker restarting, group coordinator moving, ...
            if not getattr(error, "retriable", False):
                raise
            log.warning("poll failed, retrying: %s", error)
            time.sleep(0.5)
            return
        for tp, records in polled.items():
            if tp.topic == self.topic and records:
                self.buffers.setdefault(tp.partition, []).extend(records)
        now = time.monotonic()
        if polled or (self.ever_assigned and not self.consumer.assignment()):
            self.idle_since = now  # records, or a rebalance in progress: not idle
        if not self._buffered():
            self.collecting_since = None  # a rebalance may have dropped what was collected
        elif self.collecting_since is None:
            self.collecting_since = now
            self.first_record_at = self.first_record_at or now

    def _finish(self, done: _Done) -> None:
        self.counts["replayed"] += done.replayed
        self.idle_since = time.monotonic()  # processing time is not idle time
        if done.abandoned is not None:
            log.warning("batch abandoned, will be replayed: %s", done.abandoned)
            self.counts["abandoned_batches"] += 1
            if done.renew_producer:
                self._renew_producer()
            self._rewind(None if done.all_partitions else done.partitions)
            return
        if done.outcome is None or done.events is None:
            return  # every record was in the table already
        self._commit_kafka(done.outcome.last_offsets)
        self._record(done)

    def _rewind(self, partitions: frozenset[int] | None) -> None:
        """Drop what was collected for ``partitions`` (None: all) and seek them to the table."""
        assigned = [tp for tp in self.consumer.assignment()
                    if partitions is None or tp.partition in partitions]
        for tp in assigned:
            self.buffers.pop(tp.partition, None)
        offsets.seek_to_delta(self.consumer, self.stream.table_path, group=self.group,
                              topic=self.topic, topic_id=self.stream.topic_id, partitions=assigned)

    def _commit_kafka(self, last_offsets: dict[int, int]) -> None:
        """Kafka's committed offsets follow the table (for lag dashboards); failures are harmless."""
        from kafka import TopicPartition
        from kafka.errors import KafkaError

        assigned = self.consumer.assignment()
        mine = {TopicPartition(self.topic, p): o for p, o in last_offsets.items()
                if TopicPartition(self.topic, p) in assigned}
        if not mine:
            return
        try:
            self.consumer.commit(offsets=offsets.kafka_commit_offsets(mine), timeout_ms=5_000)
        except KafkaError as error:
            log.warning("Kafka offset commit failed (the table holds the offsets): %s", error)

    def _record(self, done: _Done) -> None:
        outcome, events = done.outcome, done.events
        assert outcome is not None and events is not None
        self.last_commit_at = time.monotonic()
        self.latency.add(outcome.latencies_s)
        p50, p95 = metrics.quantiles(outcome.latencies_s)
        for name in ("written", "duplicates", "dlq", "malformed"):
            self.counts[name] += getattr(outcome, name)
        self.counts["events"] += len(events)
        self.counts["batches"] += 1
        stats = metrics.BatchStats(
            batch=self.counts["batches"], finished_at=datetime.now(UTC).isoformat(),
            events=len(events), replayed=outcome.already_committed, written=outcome.written,
            duplicates=outcome.duplicates, dlq=outcome.dlq, malformed=outcome.malformed,
            partitions=tuple(sorted(outcome.last_offsets)), delta_versions=outcome.delta_versions,
            freshness_p50_s=p50, freshness_p95_s=p95,
            seconds=round(self.last_commit_at - done.started, 3),
            touched=tuple(sorted(outcome.touched)),
            stage_seconds={"collect": round(done.submitted - done.started, 3), **outcome.stage_seconds,
                           "process": round(self.last_commit_at - done.submitted, 3)},
        )
        log.info("batch %d: %d events, %d written, %d duplicates, %d dead-lettered, p95 %ss",
                 stats.batch, stats.events, stats.written, stats.duplicates, stats.dlq,
                 stats.freshness_p95_s)
        self.kept.append(stats)
        metrics.append(self.metrics_file, stats)
        self.maintenance.submit(outcome.touched)

    def _renew_producer(self) -> None:
        """A producer error (e.g. the broker restarted) can leave the client unusable."""
        try:
            self.producer.close(timeout=5)
        except Exception as error:  # noqa: BLE001 - the old client is being thrown away anyway
            log.warning("closing the DLQ producer failed: %s", error)
        self.producer = clients.producer(self.bootstrap, linger_ms=5, idempotent=False)

    def _idle_limit(self) -> float:
        """Idle time allowed: ``idle_exit`` once in the group; before that, also the time a join
        may take (up to the rebalance timeout, when a crashed member is still being waited for)."""
        assert self.idle_exit is not None
        return self.idle_exit + (0.0 if self.ever_assigned else clients.MAX_POLL_INTERVAL_MS / 1000)

    def _buffered(self) -> int:
        return sum(len(records) for records in self.buffers.values())

    # --- rebalance hooks (main thread, inside poll) --------------------------------------------

    def _revoked(self, partitions: list[Any]) -> None:
        log.info("revoked %s", [tp.partition for tp in partitions])
        for tp in partitions:
            self.buffers.pop(tp.partition, None)

    def _assigned(self, partitions: list[Any]) -> None:
        from kafka.errors import KafkaError

        self.counts["rebalances"] += 1
        self.ever_assigned = True
        try:
            self.stream = replace(self.stream, topic_id=clients.topic_id(
                clients.describe(self.admin, self.topic)))
        except (KafkaError, RetryableError) as error:  # keep the old id; the worker checks again
            log.warning("cannot describe topic %r after a rebalance: %s", self.topic, error)
        for tp in partitions:
            self.buffers.pop(tp.partition, None)
        held = offsets.seek_to_delta(self.consumer, self.stream.table_path, group=self.group,
                                     topic=self.topic, topic_id=self.stream.topic_id,
                                     partitions=partitions)
        log.info("assigned %s; the table holds offsets up to %s", [tp.partition for tp in partitions],
                 held)
        self.idle_since = time.monotonic()

    # --- worker thread -------------------------------------------------------------------------

    def _work(self, taken: dict[int, list[Any]], started: float, submitted: float) -> _Done:
        from kafka.errors import KafkaError

        partitions = frozenset(taken)
        times = {"started": started, "submitted": submitted}
        try:
            topic_id = clients.topic_id(clients.describe(self.worker_admin, self.topic))
        except (KafkaError, RetryableError) as error:
            return _Done(partitions, **times, replayed=0, abandoned=f"cannot describe {self.topic!r}: {error}")
        if topic_id != self.stream.topic_id:
            # Re-created topic: offsets restart, so positions are looked up again under the new
            # incarnation's app ids (nothing recorded yet: from the beginning).
            self.stream = replace(self.stream, topic_id=topic_id)
            return _Done(partitions, **times, replayed=0, abandoned=f"topic {self.topic!r} was re-created",
                         all_partitions=True)
        held = offsets.delta_offsets(self.stream.table_path, group=self.group, topic=self.topic,
                                     topic_id=topic_id, partitions=partitions)
        records = [r for p in sorted(taken) for r in sorted(taken[p], key=lambda r: r.offset)]
        fresh = [r for r in records if held[r.partition] is None or r.offset > held[r.partition]]
        replayed = len(records) - len(fresh)
        if not fresh:
            return _Done(partitions, **times, replayed=replayed)
        events = batch.Events(
            partition=np.fromiter((r.partition for r in fresh), np.int64, len(fresh)),
            offset=np.fromiter((r.offset for r in fresh), np.int64, len(fresh)),
            timestamp_ms=np.fromiter((r.timestamp for r in fresh), np.int64, len(fresh)),
            payloads=[r.value for r in fresh],
        )
        try:
            outcome = batch.process(events, stream=self.stream, producer=self.producer,
                                    ingested_at=datetime.now(UTC))
        except KafkaError as error:
            return _Done(partitions, **times, replayed=replayed, abandoned=str(error), renew_producer=True)
        except RetryableError as error:
            return _Done(partitions, **times, replayed=replayed, abandoned=str(error))
        return _Done(partitions, **times, replayed=replayed, events=events, outcome=outcome)

    # --- end -----------------------------------------------------------------------------------

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.maintenance.close()
        if self.consumer is not None:
            self.consumer.close(autocommit=False, timeout_ms=5_000)
        for client in (self.producer, self.admin, self.worker_admin):
            if client is not None:
                client.close(**({"timeout": 5} if client is self.producer else {}))
