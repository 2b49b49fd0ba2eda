"""Benchmark the stream: sustained events/s into Delta, and produce -> queryable latency p50/p95.

    .venv/bin/python benchmarks/bench_streaming.py                      # defaults below
    .venv/bin/python benchmarks/bench_streaming.py --backlog 300000 --rate 5000 --seconds 60

Starts its own Kafka-protocol broker (tansu, memory storage, loopback) and a throwaway
RETAIL_HOME; stops and removes both at the end. Prints, never asserts. Two runs:

1. throughput: ``--backlog`` events are produced first, then one consumer drains them; the
   figure is events / (first record received -> last Delta commit), i.e. decode, validation,
   dead-lettering and merge commits included. Targets: 20k events/s on 2 cores.
2. latency: once the consumer runs (warm, in its group), a producer process publishes ``--rate``
   events/s for ``--seconds`` (views refreshed in the background every 30 s, as by default,
   unless ``--no-views``); latency per event is its Kafka
   record timestamp (set at send) -> the end of the Delta commit that made it queryable.
   Target: p95 <= 5 s.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
from pathlib import Path
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _produce(bootstrap: str, topic: str, count: int, seed: int, rate: float | None) -> None:
    from streaming.producer import produce

    stats = produce(bootstrap=bootstrap, topic=topic, count=count, seed=seed, rate=rate)
    print(f"  producer: {stats.events} events in {stats.seconds:.1f}s ({stats.events_per_s:,.0f}/s)",
          flush=True)


def _stage_means(stats) -> dict[str, float]:  # noqa: ANN001
    stages: dict[str, list[float]] = {}
    for batch in stats.batch_stats:
        for name, seconds in (batch.stage_seconds or {}).items():
            stages.setdefault(name, []).append(seconds)
    return {name: round(sum(v) / len(v), 3) for name, v in stages.items()}


def _throughput(bootstrap: str, args: argparse.Namespace, report: dict) -> None:
    from streaming.consumer import consume

    print(f"1. throughput: producing a backlog of {args.backlog:,} events ...", flush=True)
    _produce(bootstrap, "bench-backlog", args.backlog, 1, None)
    drained = consume(bootstrap=bootstrap, topic="bench-backlog", group="bench", idle_exit=5,
                      max_batch_seconds=args.max_batch_seconds,
                      max_batch_events=args.max_batch_events, refresh_views=False,
                      compact_every_s=None)
    report["throughput"] = {
        "events": drained.events, "events_per_s": drained.events_per_s,
        "batches": drained.batches, "written": drained.written, "dlq": drained.dlq,
        "mean_stage_seconds": _stage_means(drained),
    }
    print(f"  consumer: {drained.events:,} events in {drained.batches} batches: "
          f"{drained.events_per_s:,.0f} events/s into Delta; mean seconds per batch by stage "
          f"{_stage_means(drained)}", flush=True)


def _live(bootstrap: str, args: argparse.Namespace, total: int):  # noqa: ANN202
    """The latency run: the consumer first (warm and in its group), then the paced producer."""
    from streaming import clients
    from streaming.codec import encode_event, event_key
    from streaming.consumer import consume
    from streaming.health import check
    from streaming.metrics import metrics_path, recent
    from streaming.producer import pos_events

    admin = clients.admin(bootstrap)
    clients.ensure_topic(admin, "bench-live", partitions=4)
    admin.close()
    stop, result = threading.Event(), {}
    consumer = threading.Thread(target=lambda: result.update(stats=consume(
        bootstrap=bootstrap, topic="bench-live", group="bench", stop_event=stop,
        max_batch_seconds=args.max_batch_seconds, max_batch_events=args.max_batch_events,
        refresh_views=not args.no_views, compact_every_s=300.0)))
    consumer.start()
    # A few warm-up events (own order ids) until the consumer has committed once: its start-up
    # (imports, group join) is not what the latency figure is about.
    warm = clients.producer(bootstrap)
    for event in pos_events(count=200, seed=3):
        event = {**event, "order_id": "W-" + event["order_id"]}
        warm.send("bench-live", key=event_key(event), value=encode_event(event))
    warm.close(timeout=10)
    deadline = time.monotonic() + 180
    while not recent(metrics_path("bench-live", "bench")) and time.monotonic() < deadline:
        time.sleep(0.2)
    producer = multiprocessing.get_context("spawn").Process(
        target=_produce, args=(bootstrap, "bench-live", total, 2, args.rate))
    producer.start()
    producer.join()
    while check(bootstrap=bootstrap, topic="bench-live", group="bench").lag and \
            time.monotonic() < deadline + args.seconds + 300:
        time.sleep(0.5)
    stop.set()
    consumer.join()
    return result["stats"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backlog", type=int, default=200_000, help="events for the throughput run")
    parser.add_argument("--rate", type=float, default=5_000, help="events/s for the latency run")
    parser.add_argument("--seconds", type=float, default=40, help="length of the latency run")
    parser.add_argument("--max-batch-seconds", type=float, default=2.0)
    parser.add_argument("--max-batch-events", type=int, default=50_000)
    parser.add_argument("--no-views", action="store_true", help="latency run without view refresh")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="bench-streaming-"))
    os.environ["RETAIL_HOME"] = str(work / "home")
    from retail_insights.services import KafkaBroker, start_on_free_port
    from retail_insights.settings import get_settings

    get_settings.cache_clear()
    broker = start_on_free_port(lambda port: KafkaBroker(port=port, workdir=work / "kafka"))
    report: dict[str, object] = {"cpus": os.cpu_count(), "load_avg_at_start": os.getloadavg()[0]}
    try:
        bootstrap = broker.bootstrap
        print(f"broker {bootstrap}; RETAIL_HOME {work / 'home'}; load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus", flush=True)

        if not args.skip_throughput:
            _throughput(bootstrap, args, report)

        # A table of its own: the generator numbers orders from 1 in every run, so a second run
        # into the same table would update the first run's orders instead of adding new ones.
        os.environ["RETAIL_HOME"] = str(work / "home-live")
        get_settings.cache_clear()
        total = int(args.rate * args.seconds)
        print(f"2. latency: {args.rate:,.0f} events/s for {args.seconds:.0f}s ({total:,} events) "
              "with the consumer running ...", flush=True)
        live = _live(bootstrap, args, total)
        per_batch = [b.freshness_p95_s for b in live.batch_stats if b.freshness_p95_s is not None]
        report["latency"] = {
            "events": live.events, "rate": args.rate, "batches": live.batches,
            "p50_s": live.freshness_p50_s, "p95_s": live.freshness_p95_s,
            "worst_batch_p95_s": max(per_batch) if per_batch else None,
            "view_refreshes": live.view_refreshes, "maintenance_errors": list(live.maintenance_errors),
            "mean_stage_seconds": _stage_means(live),
            "per_batch": [(b.events, b.freshness_p95_s, b.stage_seconds) for b in live.batch_stats],
        }
        print(f"  consumer: {live.events:,} events in {live.batches} batches; produce -> queryable "
              f"p50 {live.freshness_p50_s}s, p95 {live.freshness_p95_s}s (worst batch p95 "
              f"{report['latency']['worst_batch_p95_s']}s); {live.view_refreshes} view refreshes",
              flush=True)
    finally:
        broker.stop()
        shutil.rmtree(work, ignore_errors=True)
    report["load_avg_at_end"] = os.getloadavg()[0]
    print(json.dumps(report, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
