"""Load the HTTP service on loopback: capacity, a cold start, and a soak with refreshes. Prints, never asserts.

Run ``.venv/bin/python benchmarks/bench_http.py <scenario> [options]``; every scenario builds a small
warehouse in a temp home (``tests/assistant/warehouse_builder.py``: the real Superstore CSV and 12k
generated retail orders; ``--rows N`` puts N random orders in retail_sales) unless ``--home`` holds
one, starts Redis (L2 cache, quotas, conversations, as deployed) and ``retail-insights serve``.

- ``capacity``: warm the popular half of a Zipf-weighted mix of ~100 questions, then a fixed open-loop
  rate, then rates stepped up until p95 passes ``--p95-ms``: the highest rate sustained.
- ``coldstart``: for each ``--workers`` and ``--rates`` value, a fresh server (empty Redis, empty
  caches) whose query log already holds ``--seen-share`` of the ``--questions`` distinct questions
  (what it primes during warm-up); the load starts the moment ``/ready`` says yes. Latency per tier,
  for the whole run and for the first ``--first-s`` seconds apart.
- ``soak``: ``--rate`` req/s for ``--minutes`` with a batch ingest (``retail-insights ingest`` of new
  Superstore orders, at ``nice 19``) every ``--refresh-s``: errors, p95 per minute for cached and routed answers,
  RSS per minute, and how long after each ingest the answers carried the new data version. The server
  starts with an empty query log, or with its ``--logged`` most asked questions in it (a restarted server).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import dataclasses
from dataclasses import dataclass
from datetime import date
import json
import os
from pathlib import Path
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # run as a script from anywhere

from benchmarks.http_load import (  # noqa: E402
    MALFORMED, ROOT, Run, build_warehouse, has_warehouse, open_loop, percentiles, rss_mb, start_server,
    stop_server, wait_ready, write_big_retail,
)
from retail_insights.services import RedisServer, free_port, redis_server_binary, start_on_free_port  # noqa: E402

__all__ = ["has_warehouse", "write_big_retail"]   # bench_assistant builds its homes with these
AS_OF = {"superstore": "2017-12-31", "retail_sales": "2024-07-01"}
PLURAL = {"region": "regions", "category": "categories", "segment": "segments", "ship mode": "ship modes",
          "sub-category": "sub-categories", "channel": "channels", "state": "states"}
CACHED_TIERS = ("cache_l1", "cache_l2")
HOT = {"question": "total sales in 2017", "dataset": "superstore", "as_of": AS_OF["superstore"]}


def questions(seed: int) -> list[dict[str, Any]]:
    """~100 distinct questions over both datasets, in a shuffled order."""
    store_metrics = ["sales", "profit", "quantity", "number of orders", "profit margin", "average order value"]
    store_dims = ["region", "category", "segment", "ship mode", "sub-category"]
    store_periods = ["in 2014", "in 2015", "in 2016", "in 2017", "in Q4 2017", "in Q2 2016", "in March 2017",
                     "last year", "last quarter", "last month"]
    retail_metrics = ["revenue", "orders", "profit", "units", "average order value"]
    retail_dims = ["category", "channel", "segment", "region", "state"]
    retail_periods = ["in 2023", "in Q1 2024", "in March 2024", "last month", "last quarter", "in 2024"]
    rng = random.Random(seed)
    asks: list[tuple[str, str]] = []
    for dataset, metrics, dims, periods in (("superstore", store_metrics, store_dims, store_periods),
                                            ("retail_sales", retail_metrics, retail_dims, retail_periods)):
        for m in metrics:
            asks += [(dataset, f"total {m} {p}") for p in rng.sample(periods, 4)]
            asks += [(dataset, f"{m} by {d} {rng.choice(periods)}") for d in rng.sample(dims, 3)]
            asks.append((dataset, f"top 5 {PLURAL[rng.choice(dims)]} by {m} {rng.choice(periods)}"))
            asks.append((dataset, f"monthly {m} trend {rng.choice(periods[:4])}"))
    asks = list(dict.fromkeys(asks))
    rng.shuffle(asks)
    return [{"question": q, "dataset": d, "as_of": AS_OF[d]} for d, q in asks]


def zipf_mix(seed: int) -> tuple[list[dict[str, Any]], list[float]]:
    """The questions with Zipf weights (dashboard-like repeats), plus 5% phrasings the rules do not know."""
    bodies = questions(seed)
    weights = list(1.0 / np.arange(1, len(bodies) + 1) ** 1.1)
    odd = ["kindly tally up the sales for 2016 pls", "how did the west do last year, roughly",
           "what's the vibe of our customers", "gimme profit per region for 2015 thx"]
    share = 0.05 * sum(weights) / len(odd)
    bodies += [{"question": q, "dataset": "superstore", "as_of": AS_OF["superstore"]} for q in odd]
    return bodies, weights + [share] * len(odd)


# --- the running service -----------------------------------------------------------------------------

@dataclass
class Service:
    home: Path
    scratch: Path
    redis: RedisServer | None
    workers: int
    process: subprocess.Popen | None = None
    url: str = ""

    def start(self, *, env: dict[str, str] | None = None) -> dict[str, Any]:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        started = time.perf_counter()
        self.process = start_server(self.home, port, redis_url=self.redis.url if self.redis else None,
                                    workers=self.workers, log=self.scratch / f"server-{port}.log", env=env)
        alive = wait_ready(self.url, self.process, path="/health")
        ready = wait_ready(self.url, self.process, path="/ready") + alive
        body = httpx.get(f"{self.url}/ready", timeout=5).json()
        return {"alive_s": round(alive, 2), "ready_s": round(ready, 2), "warm_up": body,
                "total_s": round(time.perf_counter() - started, 2)}

    def stop(self) -> None:
        if self.process is not None:
            stop_server(self.process)
            self.process = None


def reset_state(service: Service, seen: list[dict[str, Any]]) -> None:
    """A fresh service's state: empty Redis, no semantic memory, a query log holding ``seen``."""
    from assistant.querylog import FILE_NAME, QueryLog

    if service.redis is not None:
        import redis

        redis.Redis.from_url(service.redis.url).flushall()
    state = service.home / "state"
    shutil.rmtree(state, ignore_errors=True)
    log = QueryLog(state / FILE_NAME)
    for body in seen:     # as the traffic asks them: with its pinned day
        as_of = date.fromisoformat(body["as_of"]) if body.get("as_of") else None
        for _ in range(2):
            log.append({"dataset": body["dataset"], "question": body["question"], "status": "answered"}, as_of=as_of)


# --- scenarios ----------------------------------------------------------------------------------------

def coldstart(args: argparse.Namespace, home: Path, scratch: Path, redis: RedisServer | None) -> dict[str, Any]:
    bodies = questions(args.seed)[: args.questions]
    seen = random.Random(args.seed).sample(bodies, round(args.seen_share * len(bodies)))
    runs = []
    for workers in args.workers:
        for rate in args.rates:
            service = Service(home, scratch, redis, workers)
            reset_state(service, seen)
            # The primed questions are asked as the query log has them: as of the day the traffic pins.
            try:
                startup = service.start(env={"RETAIL_API__PRIME_QUESTIONS": str(len(seen))})
                run = asyncio.run(open_loop(service.url, bodies, rate=rate, seconds=args.seconds, seed=args.seed))
            finally:
                service.stop()
            first = run.window(0, args.first_s)
            report = {"workers": workers, "rate": rate, "seconds": args.seconds, "distinct": len(bodies),
                      "seen_before": len(seen), "startup": startup, "sent": run.sent, "dropped": run.dropped,
                      "all": run.summary(seconds=args.seconds), f"first_{args.first_s:g}s": run.summary(first)}
            runs.append(report)
            print_cold(report, args.first_s)
    return {"scenario": "coldstart", "runs": runs}


def print_cold(report: dict[str, Any], first_s: float) -> None:
    head = (f"cold start: {report['workers']} worker(s), {report['rate']:g} req/s, {report['distinct']} questions "
            f"({report['seen_before']} in the query log): ready in {report['startup']['ready_s']} s")
    print(head, flush=True)
    for label, s in (("all", report["all"]), (f"first {first_s:g} s", report[f"first_{first_s:g}s"])):
        tiers = "  ".join(f"{t} n={v['n']} p50/p95/p99 {v['p50_ms']}/{v['p95_ms']}/{v['p99_ms']}"
                          for t, v in s["tiers"].items())
        print(f"  {label:<11} n={s['requests']:>6} p50 {s['p50_ms']:>8} p95 {s['p95_ms']:>8} p99 {s['p99_ms']:>8} "
              f"max {s['max_ms']:>8} ms errors {s['errors']} | {tiers}", flush=True)


def soak(args: argparse.Namespace, home: Path, scratch: Path, redis: RedisServer | None) -> dict[str, Any]:
    bodies, weights = zipf_mix(args.seed)
    bodies, weights = [HOT, *bodies], [max(weights), *weights]
    if args.malformed_share > 0:        # a flood of bad requests mixed in: each must get a 4xx
        share = args.malformed_share / (1 - args.malformed_share) * sum(weights) / len(MALFORMED)
        bodies, weights = [*bodies, *MALFORMED], [*weights, *[share] * len(MALFORMED)]
    service = Service(home, scratch, redis, args.workers[0])
    # A server restarted after use has a query log: its ``--logged`` most asked questions (the Zipf head)
    logged = [b for _, b in sorted(zip(weights, bodies), key=lambda wb: -wb[0])
              if "question" in b and isinstance(b.get("question"), str)][: args.logged]
    reset_state(service, logged)
    startup = service.start(env={"RETAIL_API__PRIME_QUESTIONS": str(len(logged))} if logged else None)
    assert service.process is not None
    stop = threading.Event()
    refreshes: list[dict[str, Any]] = []
    rss: list[tuple[float, float]] = []
    start = time.perf_counter()

    def background() -> None:
        batch = 0
        next_refresh = start + args.refresh_s
        while not stop.wait(1.0):
            now = time.perf_counter()
            if now - start >= 60 * len(rss) - 0.5:
                rss.append((round(now - start), rss_mb(service.process.pid)))
            if args.refresh_s > 0 and now >= next_refresh:
                batch += 1
                began = time.perf_counter()
                ok = ingest_new_orders(home, scratch / f"late-{batch}.csv", batch=batch)
                refreshes.append({"batch": batch, "started_s": round(began - start, 1),
                                  "finished_s": round(time.perf_counter() - start, 2),
                                  "ingest_s": round(time.perf_counter() - began, 1), "ok": ok})
                next_refresh += args.refresh_s

    watcher = threading.Thread(target=background, daemon=True)
    rss.append((0, rss_mb(service.process.pid)))
    watcher.start()
    try:
        run = asyncio.run(open_loop(service.url, bodies, weights=weights, rate=args.rate,
                                    seconds=60 * args.minutes, seed=args.seed, start=start))
    finally:
        stop.set()
        watcher.join(timeout=600)
        service.stop()
    if args.keep:   # every request, for looking at a slow minute second by second
        with (scratch / "samples.jsonl").open("w", encoding="utf-8") as f:
            f.writelines(json.dumps(dataclasses.asdict(s), default=str) + "\n" for s in run.samples)
    minutes = []
    for minute in range(int(args.minutes)):
        window = run.window(60 * minute, 60 * (minute + 1))
        cached = [s.latency_ms for s in window if s.status == 200 and s.tier in CACHED_TIERS]
        routed = [s.latency_ms for s in window if s.status == 200 and s.tier == "metadata"]
        minutes.append({"minute": minute + 1, "requests": len(window),
                        "errors": sum(1 for s in window if s.status != 200),
                        "p95_cached_ms": percentiles(cached)["p95_ms"], "p95_routed_ms": percentiles(routed)["p95_ms"],
                        "p95_all_ms": percentiles([s.latency_ms for s in window])["p95_ms"]})
    for refresh in refreshes:
        refresh["switch_after_s"] = switch_lag(run, refresh["started_s"], refresh["finished_s"])
    report = {"scenario": "soak", "workers": args.workers[0], "rate": args.rate, "minutes": args.minutes,
              "logged": len(logged),
              "startup": startup, "sent": run.sent, "dropped": run.dropped, "all": run.summary(),
              "per_minute": minutes, "rss_mb": rss, "refreshes": refreshes,
              "rss_growth_pct": round(100 * (rss[-1][1] - rss[1][1]) / rss[1][1], 1) if len(rss) > 2 else None}
    for m in minutes:
        print(f"  minute {m['minute']:>2}: n={m['requests']} errors {m['errors']} p95 cached {m['p95_cached_ms']} ms, "
              f"routed {m['p95_routed_ms']} ms, all {m['p95_all_ms']} ms", flush=True)
    print(f"  RSS MiB per minute: {[r for _, r in rss]}; refreshes: "
          f"{[(r['ingest_s'], r['switch_after_s']) for r in refreshes]} (ingest s, answers switched after s)",
          flush=True)
    return report


def switch_lag(run: Run, started_s: float, finished_s: float) -> float | None:
    """Seconds from an ingest's end to the first hot answer carrying a newer data version than the
    answers before it started (0 when the commit was already visible before the ingest returned)."""
    done = sorted((s.offset_s + s.latency_ms / 1000, s.data_version) for s in run.samples
                  if s.question == HOT["question"] and s.data_version is not None)
    before = [v for t, v in done if t < started_s]
    if not before:
        return None
    newer = [t for t, v in done if t >= started_s and v > max(before)]
    return round(max(0.0, newer[0] - finished_s), 2) if newer else None


def ingest_new_orders(home: Path, path: Path, *, batch: int, rows: int = 50) -> bool:
    """A real batch ingest (``retail-insights ingest``) of Superstore orders the warehouse has not seen."""
    from retail_insights.settings import Settings

    source = Settings().superstore_dir / "superstore_2014_2017.csv"
    with source.open(newline="", encoding="utf-8") as f:
        picked = [row for _, row in zip(range(rows), csv.DictReader(f))]
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(picked[0]))
        writer.writeheader()
        for n, row in enumerate(picked):
            row.update({"Row ID": str(1_000_000 * batch + n), "Order ID": f"CA-2017-{batch:03d}{n:04d}",
                        "Order Date": "2017-12-28", "Ship Date": "2017-12-30"})
            writer.writerow(row)
    # At the lowest CPU priority, as a batch job sharing a box with the API should run (the service
    # keeps the cores it needs; the ingest takes what is left).
    done = subprocess.run(["nice", "-n", "19", sys.executable, "-m", "retail_insights.cli", "ingest", "--dataset",
                           "superstore", "--json", str(path)], cwd=ROOT, env={**os.environ, "RETAIL_HOME": str(home)},
                          capture_output=True, text=True, timeout=600)
    return done.returncode == 0


def capacity(args: argparse.Namespace, home: Path, scratch: Path, redis: RedisServer | None) -> dict[str, Any]:
    bodies, weights = zipf_mix(args.seed)
    service = Service(home, scratch, redis, args.workers[0])
    reset_state(service, [])
    report: dict[str, Any] = {"scenario": "capacity", "workers": args.workers[0], "startup": service.start()}
    try:
        ranked = [b for b, _ in sorted(zip(bodies, weights), key=lambda bw: -bw[1])][: len(bodies) // 2]
        warm = asyncio.run(open_loop(service.url, ranked, rate=4, seconds=len(ranked) / 4, seed=args.seed))
        report["warm_up"] = warm.summary()
        fixed = asyncio.run(open_loop(service.url, bodies, weights=weights, rate=args.rate, seconds=args.seconds,
                                      seed=args.seed))
        report["fixed"] = {"rate": args.rate, **fixed.summary(seconds=args.seconds)}
        print(f"fixed {args.rate:g}/s: {json.dumps(report['fixed'])}", flush=True)
        steps, sustained, rate = [], None, args.start_rate
        while rate <= args.max_rate:
            time.sleep(5)   # let a previous step's backlog drain
            step = asyncio.run(open_loop(service.url, bodies, weights=weights, rate=rate, seconds=args.step_seconds,
                                         seed=args.seed + int(rate)))
            summary = {"rate": rate, **step.summary(seconds=args.step_seconds)}
            steps.append(summary)
            print(f"step {rate:g}/s: p50 {summary['p50_ms']} p95 {summary['p95_ms']} p99 {summary['p99_ms']} ms, "
                  f"errors {summary['errors']}", flush=True)
            if summary["p95_ms"] > args.p95_ms or summary["errors"] > 0.01 * max(1, summary["requests"]):
                break
            sustained, rate = rate, round(rate * args.step_factor, 1)
        report["steps"], report["sustained_rps_p95_under_target"] = steps, sustained
        print(f"highest rate sustained with p95 <= {args.p95_ms:g} ms: {sustained or 'none'} req/s", flush=True)
    finally:
        service.stop()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=["capacity", "coldstart", "soak"])
    parser.add_argument("--home", type=Path, default=None, help="a RETAIL_HOME with data (default: build one)")
    parser.add_argument("--rows", type=int, default=None, help="retail_sales orders when building (default 12k)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1], help="uvicorn worker processes (each run)")
    parser.add_argument("--no-redis", action="store_true", help="run without Redis (L1 cache only, no quotas)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (server logs; the soak's samples.jsonl)")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of a fixed-rate phase")
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second (capacity fixed phase, soak)")
    parser.add_argument("--rates", type=float, nargs="+", default=[50.0, 300.0], help="cold-start rates")
    parser.add_argument("--questions", type=int, default=100, help="distinct questions of a cold start")
    parser.add_argument("--seen-share", type=float, default=0.5, help="share of them already in the query log")
    parser.add_argument("--first-s", type=float, default=10.0, help="the cold start's first seconds, reported apart")
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the soak")
    parser.add_argument("--logged", type=int, default=0,
                        help="soak: the query log holds this many of the most asked questions (a restarted server)")
    parser.add_argument("--refresh-s", type=float, default=60.0, help="seconds between the soak's ingests (0: none)")
    parser.add_argument("--malformed-share", type=float, default=0.0,
                        help="soak: share of malformed requests (huge, invalid JSON, unknown dataset...)")
    parser.add_argument("--start-rate", type=float, default=10.0)
    parser.add_argument("--step-factor", type=float, default=1.5)
    parser.add_argument("--max-rate", type=float, default=1600.0)
    parser.add_argument("--step-seconds", type=float, default=10.0)
    parser.add_argument("--p95-ms", type=float, default=100.0)
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench-http-"))
    home = args.home or scratch / "home"
    if not has_warehouse(home):
        home.mkdir(parents=True, exist_ok=True)
        print(f"building the warehouse under {home} ...", flush=True)
        build_warehouse(home, rows=args.rows)
    redis = None if args.no_redis else start_on_free_port(
        lambda p: RedisServer(port=p, workdir=scratch / "redis", binary=redis_server_binary()))
    scenario = {"capacity": capacity, "coldstart": coldstart, "soak": soak}[args.scenario]
    try:
        report = scenario(args, home, scratch, redis)
    finally:
        if redis is not None:
            redis.stop()
        if args.keep:
            print(f"server logs kept under {scratch}", flush=True)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    report.update({"cpus": os.cpu_count(), "redis": redis is not None, "home": str(home)})
    print(json.dumps(report, sort_keys=True, default=str))


if __name__ == "__main__":
    main()
