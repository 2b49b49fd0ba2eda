"""The consumer's loop: three stages in flight at once, one Kafka consumer.

The main thread owns the consumer (it is not thread-safe): it polls, seeks, runs the rebalance
hooks and commits Kafka offsets. Two worker threads run the stages of ``streaming.stages``: one
prepares (decodes and validates) batch N+1 while the other commits batch N (dead letters, then
Delta), and meanwhile the main thread collects batch N+2. At most one batch is in each stage;
when the next batch is full and cannot move on, its partitions are paused (still polling, so the
group does not take this member for stalled).

Why this stays exactly once: the commit stage drops, just before it writes, the records whose
offsets the table already holds, so a seek that happened while another batch was in flight (a
rebalance) costs only re-reading. A batch that cannot be committed (a conflict, the broker away)
is abandoned with everything collected or prepared after it, and every partition is sought back
to what the table holds, so no offset is ever skipped.
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

from retail_insights.errors import RetryableError
from streaming import batch, clients, dlq, metrics, offsets, stages
from streaming.maintenance import Maintenance

log = logging.getLogger("streaming.consumer")

Stop = Literal["idle", "stop_event"]
_KEPT_BATCHES = 1_000  # per-batch stats kept in memory; every batch is in the metrics file
_COUNTS = ("batches", "events", "written", "duplicates", "dlq", "malformed", "replayed",
           "abandoned_batches", "rebalances")


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
        self.preparer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stream-prepare")
        self.committer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="stream-commit")
        self.preparing: Future[stages.Result] | None = None
        self.prepared: stages.Result | None = None
        self.committing: Future[stages.Result] | None = None
        self.discard_preparing = False
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
        while True:
            self._advance()
            if self.stop.is_set():
                return self._stop()
            buffered = self._buffered()
            now = time.monotonic()
            busy = self.preparing or self.prepared or self.committing
            if not buffered and not busy and self.idle_exit is not None \
                    and now - self.idle_since >= self._idle_limit():
                return "idle"
            ready = buffered and (buffered >= self.max_batch_events or (
                self.collecting_since is not None
                and now - self.collecting_since >= self.max_batch_seconds))
            if ready and self.preparing is None and self.prepared is None:
                self.preparing = self.preparer.submit(
                    stages.prepare, self.buffers, stream=self.stream, admin=self.worker_admin,
                    started=self.collecting_since or now, submitted=now)
                self.buffers, self.collecting_since = {}, None
                if self.consumer.paused():
                    self.consumer.resume(*self.consumer.paused())
                continue
            if buffered >= self.max_batch_events:
                # Full while the stages are busy: hold the partitions, but keep polling (nothing
                # comes back) so the group does not count this member as stalled.
                self.consumer.pause(*self.consumer.assignment())
                self._collect(timeout_s=0.05, max_records=1)
                continue
            wait = 0.1
            if self.collecting_since is not None:  # overdue: the stages are still busy
                remaining = self.max_batch_seconds - (now - self.collecting_since)
                wait = min(0.1, remaining) if remaining > 0 else 0.05
            self._collect(timeout_s=wait, max_records=self.max_batch_events - buffered)

    def _advance(self) -> None:
        """Move finished stages on: prepared -> commit stage, committed -> Kafka offsets, stats."""
        if self.committing is not None and self.committing.done():
            done, self.committing = self.committing.result(), None
            self._finish(done)
        if self.preparing is not None and self.preparing.done():
            done, self.preparing = self.preparing.result(), None
            if self.discard_preparing:  # an earlier batch was abandoned: this one goes too
                self.discard_preparing = False
            elif done.prepared is None:
                self._finish(done)  # abandoned, or every record was in the table already
            else:
                self.prepared = done
        if self.prepared is not None and self.committing is None:
            self.committing = self.committer.submit(stages.commit, self.prepared,
                                                    producer=self.producer)
            self.prepared = None

    def _stop(self) -> Stop:
        """Abandon what is collected or prepared (nothing of it is committed anywhere); let the
        batch being committed finish, so its Kafka offsets follow the table."""
        self.buffers, self.prepared = {}, None
        if self.preparing is not None:
            self.preparing.result()
            self.preparing = None
        if self.committing is not None:
            self._finish(self.committing.result())
            self.committing = None
        return "stop_event"

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

    def _finish(self, done: stages.Result) -> None:
        self.counts["replayed"] += done.replayed
        self.idle_since = time.monotonic()  # processing time is not idle time
        if done.abandoned is not None:
            log.warning("batch abandoned, will be replayed: %s", done.abandoned)
            self.counts["abandoned_batches"] += 1
            if done.topic_id is not None:
                self.stream = replace(self.stream, topic_id=done.topic_id)
            if done.renew_producer:
                self._renew_producer()
            # Later batches continue after this one's offsets: they go too, and every
            # partition starts again from what the table holds.
            self.prepared = None
            self.discard_preparing = self.preparing is not None
            self._rewind(None)
            return
        if done.outcome is None or done.prepared is None:
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

    def _record(self, done: stages.Result) -> None:
        outcome = done.outcome
        assert outcome is not None
        self.last_commit_at = time.monotonic()
        self.latency.add(outcome.latencies_s)
        p50, p95 = metrics.quantiles(outcome.latencies_s)
        for name in ("written", "duplicates", "dlq", "malformed"):
            self.counts[name] += getattr(outcome, name)
        self.counts["events"] += outcome.events
        self.counts["batches"] += 1
        stats = metrics.BatchStats(
            batch=self.counts["batches"], finished_at=datetime.now(UTC).isoformat(),
            events=outcome.events, replayed=outcome.already_committed, written=outcome.written,
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

    # --- end -----------------------------------------------------------------------------------

    def close(self) -> None:
        self.preparer.shutdown(wait=True)
        self.committer.shutdown(wait=True)
        self.maintenance.close()
        if self.consumer is not None:
            self.consumer.close(autocommit=False, timeout_ms=5_000)
        for client in (self.producer, self.admin, self.worker_admin):
            if client is not None:
                client.close(**({"timeout": 5} if client is self.producer else {}))
