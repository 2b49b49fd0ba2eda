"""The ingesting consumer: Kafka POS events -> the dataset's silver table, exactly once.

Loop (``streaming.runner``): collect a micro-batch (at most ``max_batch_seconds`` from its first
record, at most ``max_batch_events``), drop records the table already holds, process it
(``streaming.batch``: validate, dead-letter, one Delta commit per topic-partition carrying its
last offset), then commit the Kafka offsets; the next batch is collected meanwhile. The Delta table is the source of truth for positions
(``streaming.offsets``): on start and after every rebalance each partition is sought to the
offset after the one its last commit recorded, so a crash anywhere replays at most the batch in
flight, which the table then skips and the DLQ reader dedupes.

Stopping: ``idle_exit`` seconds without records (counted once the consumer has joined its
group; a consumer that never gets partitions, e.g. of a missing topic, stops after ``idle_exit``
plus the rebalance timeout), ``stop_event``, or SIGTERM/SIGINT (handler installed when running
on the main thread). A stop during collection abandons the batch (nothing
of it was committed anywhere); a stop during processing lets the batch finish first.

    python -m streaming.consumer --bootstrap 127.0.0.1:9092 --topic pos-events --idle-exit 10
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
import json
import logging
import signal
import threading
import time
from typing import Any, Literal

from retail_insights.errors import UsageError
from retail_insights.settings import get_settings
from streaming import batch, metrics
from streaming.maintenance import Maintenance
from streaming.runner import Runner

log = logging.getLogger("streaming.consumer")  # not __name__: "__main__" under -m

StopReason = Literal["idle", "signal", "stop_event"]


@dataclass(frozen=True)
class ConsumeStats:
    topic: str
    group: str
    dataset: str
    stopped_by: StopReason
    batches: int  # micro-batches committed
    events: int  # events processed (= written + duplicates + dlq + committed by another consumer)
    written: int
    duplicates: int
    dlq: int
    malformed: int
    replayed: int  # records skipped because the table already held them
    abandoned_batches: int  # batches given up (commit conflict, broker trouble) and replayed
    rebalances: int
    seconds: float  # whole run
    events_per_s: float  # events / time from the first record to the last commit
    freshness_p50_s: float | None  # over every written event of the run
    freshness_p95_s: float | None
    view_refreshes: int
    compactions: int
    maintenance_errors: tuple[str, ...]
    batch_stats: tuple[metrics.BatchStats, ...]  # per batch, incl. freshness p50/p95 (last 1000)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["maintenance_errors"] = list(self.maintenance_errors)
        data["batch_stats"] = [b.to_json() for b in self.batch_stats]
        return data


def consume(
    *,
    bootstrap: str,
    topic: str,
    group: str,
    max_batch_seconds: float = 2.0,
    max_batch_events: int = 50_000,
    idle_exit: float | None = None,
    dataset: str = "retail_sales",
    stop_event: threading.Event | None = None,
    refresh_views: bool = True,
    views_every_s: float = 30.0,
    compact_every_s: float | None = 300.0,
) -> ConsumeStats:
    """Ingest ``topic`` into ``dataset``'s silver table until idle, stopped or signalled.

    In the background (``streaming.maintenance``) the hourly and daily views are refreshed for
    the touched partitions at most every ``views_every_s``, and those partitions are compacted
    every ``compact_every_s`` (None: never).
    """
    _check(max_batch_seconds=max_batch_seconds, max_batch_events=max_batch_events,
           idle_exit=idle_exit, compact_every_s=compact_every_s, views_every_s=views_every_s)
    stop = stop_event or threading.Event()
    with _stop_on_signals(stop) as signalled:
        runner = _start(bootstrap=bootstrap, topic=topic, group=group, dataset=dataset, stop=stop,
                        max_batch_seconds=max_batch_seconds, max_batch_events=max_batch_events,
                        idle_exit=idle_exit, refresh_views=refresh_views,
                        views_every_s=views_every_s, compact_every_s=compact_every_s)
        try:
            reason: StopReason = runner.run()
            log.info("stopping: %s", reason)
        finally:
            runner.close()
        if reason == "stop_event" and signalled.is_set():
            reason = "signal"
        return _stats(runner, reason, dataset=dataset)


def _start(*, bootstrap: str, topic: str, group: str, dataset: str, stop: threading.Event,
           max_batch_seconds: float, max_batch_events: int, idle_exit: float | None,
           refresh_views: bool, views_every_s: float, compact_every_s: float | None) -> Runner:
    from warehouse.spec import load_dataset

    spec = load_dataset(dataset).spec  # an unknown dataset fails here, with "Did you mean"
    table_path = get_settings().table_path(dataset, spec.silver_table)
    batch.warm_up(dataset)  # before joining the group: the first validation loads for seconds
    maintenance = Maintenance(dataset, table_path, refresh_views=refresh_views,
                              views_every_s=views_every_s, compact_every_s=compact_every_s)
    # On a connection failure the runner closes what it opened (the maintenance thread included).
    return Runner(bootstrap=bootstrap, topic=topic, group=group,
                  stream=batch.Stream(dataset, table_path, group, topic, None), stop=stop,
                  max_batch_seconds=max_batch_seconds, max_batch_events=max_batch_events,
                  idle_exit=idle_exit, maintenance=maintenance)


def _stats(runner: Runner, reason: StopReason, *, dataset: str) -> ConsumeStats:
    c = runner.counts
    busy = (runner.last_commit_at - runner.first_record_at
            if runner.last_commit_at is not None and runner.first_record_at is not None else 0.0)
    return ConsumeStats(
        topic=runner.topic, group=runner.group, dataset=dataset, stopped_by=reason,
        batches=c["batches"], events=c["events"], written=c["written"],
        duplicates=c["duplicates"], dlq=c["dlq"], malformed=c["malformed"],
        replayed=c["replayed"], abandoned_batches=c["abandoned_batches"],
        rebalances=c["rebalances"], seconds=round(time.monotonic() - runner.started, 3),
        events_per_s=round(c["events"] / busy, 1) if busy > 0 else 0.0,
        freshness_p50_s=runner.latency.quantile(0.50),
        freshness_p95_s=runner.latency.quantile(0.95),
        view_refreshes=runner.maintenance.refreshes, compactions=runner.maintenance.compactions,
        maintenance_errors=tuple(runner.maintenance.errors), batch_stats=tuple(runner.kept),
    )


def _check(*, max_batch_seconds: float, max_batch_events: int, idle_exit: float | None,
           compact_every_s: float | None, views_every_s: float) -> None:
    if not max_batch_seconds > 0:
        raise UsageError(f"max_batch_seconds must be > 0, got {max_batch_seconds!r}.",
                         hint="Use e.g. 2.0 (the freshness target is 5 s).")
    if isinstance(max_batch_events, bool) or not isinstance(max_batch_events, int) \
            or max_batch_events < 1:
        raise UsageError(f"max_batch_events must be a whole number >= 1, got {max_batch_events!r}.",
                         hint="Use e.g. 50000.")
    if idle_exit is not None and not idle_exit > 0:
        raise UsageError(f"idle_exit must be > 0 seconds or None (run until stopped), got "
                         f"{idle_exit!r}.", hint="Use e.g. 10, or leave it out.")
    if not views_every_s >= 0:
        raise UsageError(f"views_every_s must be >= 0 seconds, got {views_every_s!r}.",
                         hint="Use e.g. 30 (0: after every batch).")
    if compact_every_s is not None and not compact_every_s > 0:
        raise UsageError(f"compact_every_s must be > 0 seconds or None (never), got "
                         f"{compact_every_s!r}.", hint="Use e.g. 300, or None.")


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[threading.Event]:
    """SIGTERM/SIGINT set ``stop`` (a second SIGINT interrupts); only the main thread can install."""
    signalled = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield signalled
        return

    def handler(signum: int, frame: Any) -> None:
        if signum == signal.SIGINT and stop.is_set():
            raise KeyboardInterrupt
        signalled.set()
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield signalled
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def main(argv: list[str] | None = None) -> int:
    """``python -m streaming.consumer``: consume, then print ConsumeStats as one JSON line."""
    settings = get_settings().kafka
    parser = argparse.ArgumentParser(prog="python -m streaming.consumer", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap", default=settings.bootstrap)
    parser.add_argument("--topic", default=settings.topic)
    parser.add_argument("--group", default=settings.group)
    parser.add_argument("--dataset", default="retail_sales")
    parser.add_argument("--max-batch-seconds", type=float, default=settings.max_batch_seconds)
    parser.add_argument("--max-batch-events", type=int, default=settings.max_batch_events)
    parser.add_argument("--idle-exit", type=float, default=None)
    parser.add_argument("--no-views", action="store_true", help="do not refresh views")
    parser.add_argument("--views-every-s", type=float, default=30.0)
    parser.add_argument("--compact-every-s", type=float, default=300.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("streaming").setLevel(logging.INFO)
    stats = consume(bootstrap=args.bootstrap, topic=args.topic, group=args.group,
                    max_batch_seconds=args.max_batch_seconds,
                    max_batch_events=args.max_batch_events, idle_exit=args.idle_exit,
                    dataset=args.dataset, refresh_views=not args.no_views,
                    views_every_s=args.views_every_s, compact_every_s=args.compact_every_s)
    print(json.dumps(stats.to_json(), default=str), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
