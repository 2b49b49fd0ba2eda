"""Load the HTTP service on loopback with a realistic question mix: latency at a fixed rate, then capacity.

Prints, never asserts. Run: ``.venv/bin/python benchmarks/bench_http.py [--seconds 60] [--rate 100]``.

What it does, each step bounded in count and time:

1. builds a small warehouse in a temp home (``tests/assistant/warehouse_builder.py``: the real
   Superstore CSV and 12k generated retail orders) unless ``--home`` already holds one;
2. starts Redis (L2 cache and quotas, as deployed) and ``retail-insights serve`` on free loopback
   ports, and waits until the server answers ``/health`` (its startup primes the assistant);
3. warm-up: the most popular half of the distinct questions once, four at a time (their cold
   latencies are reported); the tail is first asked during the measured phases, as in production;
4. a fixed open-loop rate (``--rate`` req/s for ``--seconds``): requests leave on schedule whether
   or not earlier ones came back, and latency counts from the scheduled time, so a stalled server
   shows up as latency rather than as a politely slower client;
5. step-up (each step after the server has worked off any backlog): rates from ``--start-rate``,
   times ``--step-factor`` every ``--step-seconds``, up to ``--max-rate``,
   stopping at the first step whose p95 exceeds ``--p95-ms`` or whose error share exceeds 1%; the
   highest step that met both is the sustained rate;
6. stops the server and Redis.

Traffic: ~100 distinct questions over both datasets (totals, breakdowns, top N, trends, across
years, quarters, months and relative periods), Zipf-weighted so popular questions repeat like
dashboard traffic, plus 5% phrasings the rules do not know (semantic tier or a clarification).
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import random
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

import httpx
import numpy as np

from retail_insights.services import RedisServer, free_port, redis_server_binary, start_on_free_port

ROOT = Path(__file__).resolve().parents[1]
AS_OF = {"superstore": "2017-12-31", "retail_sales": "2024-07-01"}
MAX_IN_FLIGHT = 2000
PLURAL = {"region": "regions", "category": "categories", "segment": "segments", "ship mode": "ship modes",
          "sub-category": "sub-categories", "channel": "channels", "state": "states"}


def question_mix(seed: int) -> list[tuple[dict[str, Any], float]]:
    """(request body, weight): Zipf weights over a shuffled list of distinct questions."""
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
    rng.shuffle(asks)
    weights = 1.0 / np.arange(1, len(asks) + 1) ** 1.1
    mix = [({"question": q, "dataset": d, "as_of": AS_OF[d]}, float(w)) for (d, q), w in zip(asks, weights)]
    odd = ["kindly tally up the sales for 2016 pls", "how did the west do last year, roughly",
           "what's the vibe of our customers", "gimme profit per region for 2015 thx"]
    total = sum(w for _, w in mix)
    mix += [({"question": q, "dataset": "superstore", "as_of": AS_OF["superstore"]}, 0.05 * total / len(odd))
            for q in odd]
    return mix


@dataclass
class Run:
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    tiers: Counter[str] = field(default_factory=Counter)
    by_tier: dict[str, list[float]] = field(default_factory=dict)   # answered requests' latencies
    sent: int = 0

    def summary(self, seconds: float) -> dict[str, Any]:
        lat = np.array(self.latencies_ms or [float("nan")])
        done = len(self.latencies_ms)
        return {"sent": self.sent, "completed": done, "achieved_rps": round(done / seconds, 1),
                "p50_ms": round(float(np.percentile(lat, 50)), 2), "p95_ms": round(float(np.percentile(lat, 95)), 2),
                "p99_ms": round(float(np.percentile(lat, 99)), 2), "max_ms": round(float(np.max(lat)), 2),
                "errors": sum(self.errors.values()), "error_kinds": dict(self.errors), "tiers": dict(self.tiers),
                "tier_p50_p95_ms": {tier: [round(float(np.percentile(ms, q)), 2) for q in (50, 95)]
                                    for tier, ms in sorted(self.by_tier.items())}}


async def one(client: httpx.AsyncClient, body: dict[str, Any], scheduled: float, run: Run) -> None:
    try:
        response = await client.post("/v1/ask", json=body)
        elapsed_ms = (time.perf_counter() - scheduled) * 1000
        run.latencies_ms.append(elapsed_ms)
        if response.status_code != 200:
            run.errors[f"http_{response.status_code}"] += 1
        else:
            answer = response.json()
            tier = answer.get("tier") or answer["status"]
            run.tiers[tier] += 1
            run.by_tier.setdefault(tier, []).append(elapsed_ms)
    except httpx.HTTPError as exc:
        run.latencies_ms.append((time.perf_counter() - scheduled) * 1000)  # the time it failed
        run.errors[type(exc).__name__] += 1


async def open_loop(url: str, mix: list[tuple[dict[str, Any], float]], *, rate: float, seconds: float,
                    seed: int) -> Run:
    """Send ``rate`` requests per second for ``seconds`` on a fixed schedule."""
    rng = random.Random(seed)
    bodies, weights = zip(*mix)
    run = Run()
    # Expire idle connections before uvicorn's 5 s keep-alive does, so no request races a close.
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256, keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=url, timeout=30.0, limits=limits) as client:
        tasks: set[asyncio.Task[None]] = set()
        start = time.perf_counter()
        for i in range(int(rate * seconds)):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if len(tasks) >= MAX_IN_FLIGHT:
                run.errors["client_overload"] += 1
                continue
            task = asyncio.create_task(one(client, rng.choices(bodies, weights)[0], scheduled, run))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            run.sent += 1
        if tasks:
            await asyncio.wait(tasks, timeout=60)
    return run


async def warm_up(url: str, mix: list[tuple[dict[str, Any], float]], *, share: float) -> Run:
    """Ask the most popular ``share`` of the distinct questions once (the tail stays cold, as in life)."""
    ranked = sorted(mix, key=lambda item: -item[1])[: round(share * len(mix))]
    run = Run()
    gate = asyncio.Semaphore(4)
    async with httpx.AsyncClient(base_url=url, timeout=120.0) as client:
        async def bounded(body: dict[str, Any]) -> None:
            async with gate:
                await one(client, body, time.perf_counter(), run)

        await asyncio.gather(*(bounded(body) for body, _ in ranked))
    run.sent = len(ranked)
    return run


def baseline(url: str, *, body: dict[str, Any] | None = None, count: int = 300) -> dict[str, float]:
    """Closed-loop, one request at a time: GET /health (the HTTP stack and a Redis ping), or one
    already-cached question (the whole per-request cost of a cache hit, i.e. the service time)."""
    latencies = []
    with httpx.Client(base_url=url, timeout=10.0) as client:
        for _ in range(count):
            started = time.perf_counter()
            client.post("/v1/ask", json=body) if body else client.get("/health")
            latencies.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(float(np.percentile(latencies, 50)), 2),
            "p95_ms": round(float(np.percentile(latencies, 95)), 2)}


def settle(url: str, body: dict[str, Any], *, fast_ms: float, timeout_s: float = 300.0) -> float:
    """Wait until the server has worked off an overloaded phase's backlog: five cached asks in a row
    answer within ``fast_ms`` (requests the client gave up on still run to completion server-side)."""
    started, in_a_row = time.perf_counter(), 0
    with httpx.Client(base_url=url, timeout=60.0) as client:
        while in_a_row < 5 and time.perf_counter() - started < timeout_s:
            probe = time.perf_counter()
            try:
                client.post("/v1/ask", json=body)
            except httpx.HTTPError:
                pass
            in_a_row = in_a_row + 1 if (time.perf_counter() - probe) * 1000 < fast_ms else 0
            time.sleep(0.5)
    return time.perf_counter() - started


def has_warehouse(home: Path) -> bool:
    return (home / "warehouse" / "superstore" / "superstore" / "_delta_log").exists()


def build_warehouse(home: Path, *, rows: int | None = None) -> None:
    """The test warehouse; with ``rows``, retail_sales then holds that many random orders instead."""
    env = {**os.environ, "RETAIL_HOME": str(home), "PYTHONPATH": str(ROOT)}
    code = "import sys; from pathlib import Path; from tests.assistant.warehouse_builder import build; " \
           "print(build(Path(sys.argv[1])))"
    if rows:
        code += f"; from benchmarks.bench_http import write_big_retail; write_big_retail({rows})"
    script = home / "build_warehouse.py"   # a file, not -c: pyspark's import check exits under -c
    script.write_text(code.replace("; ", "\n"))
    subprocess.run([sys.executable, str(script), str(home)], check=True, cwd=ROOT, env=env, timeout=3600)


def write_big_retail(rows: int, *, seed: int = 42) -> None:
    """Replace retail_sales with ``rows`` random orders (``bench_views.silver_rows``) and refresh its views.

    Those orders span 2024-2025; moved back a year (dates and partitions recomputed) they cover
    2023-2024 like the test warehouse, so the mix's periods (as_of 2024-07-01) find data.
    """
    from datetime import timedelta

    from deltalake import write_deltalake
    import pyarrow.compute as pc

    from benchmarks.bench_views import silver_rows
    from retail_insights.settings import get_settings
    from warehouse.views import refresh

    table = silver_rows(rows, seed=seed)
    shift = timedelta(days=365)   # 2024-01-01 - 365 days = 2023-01-01
    for name in ("order_ts", "updated_at", "ship_date", "order_date"):
        column = table[name]
        table = table.set_column(table.schema.get_field_index(name), name,
                                 pc.subtract(column, pa_scalar(shift, column.type)).cast(column.type))
    for name, part in (("year", pc.year), ("month", pc.month)):
        values = part(table["order_date"]).cast(table.schema.field(name).type)
        table = table.set_column(table.schema.get_field_index(name), name, values)
    path = get_settings().table_path("retail_sales", "sales")
    write_deltalake(str(path), table, partition_by=["year", "month"], mode="overwrite")
    refresh("retail_sales", full=True)


def pa_scalar(delta: Any, kind: Any) -> Any:
    import pyarrow as pa

    unit = "s" if pa.types.is_date(kind) else kind.unit
    return pa.scalar(delta, pa.duration(unit))


def start_server(home: Path, port: int, *, redis_url: str | None, workers: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "RETAIL_HOME": str(home), "RETAIL_API__RATE_LIMIT_PER_MINUTE": str(10**9),
           "RETAIL_API__DAILY_QUOTA": str(10**9)}
    if redis_url:
        env["RETAIL_REDIS__URL"] = redis_url
    handle = open(log, "w")
    return subprocess.Popen([sys.executable, "-m", "retail_insights.cli", "serve", "--host", "127.0.0.1",
                             "--port", str(port), "--workers", str(workers)],
                            cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT)


def wait_ready(url: str, process: subprocess.Popen, *, timeout_s: float = 600.0) -> float:
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        if process.poll() is not None:
            raise SystemExit(f"server exited with status {process.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=1.0).status_code == 200:
                return time.perf_counter() - started
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"server not ready after {timeout_s:.0f}s")


def line(label: str, s: dict[str, Any]) -> str:
    return (f"{label:<18} sent {s['sent']:>6}  done {s['completed']:>6}  {s['achieved_rps']:>7.1f} req/s  "
            f"p50 {s['p50_ms']:>8.2f}  p95 {s['p95_ms']:>8.2f}  p99 {s['p99_ms']:>8.2f}  max {s['max_ms']:>8.1f} ms  "
            f"errors {s['errors']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the fixed-rate phase")
    parser.add_argument("--rate", type=float, default=100.0, help="requests per second of the fixed-rate phase")
    parser.add_argument("--start-rate", type=float, default=10.0)
    parser.add_argument("--step-factor", type=float, default=1.5, help="rate multiplier between steps")
    parser.add_argument("--max-rate", type=float, default=1600.0)
    parser.add_argument("--step-seconds", type=float, default=10.0)
    parser.add_argument("--p95-ms", type=float, default=100.0, help="latency target of the step-up phase")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--home", type=Path, default=None, help="a RETAIL_HOME with data (default: build one)")
    parser.add_argument("--rows", type=int, default=None,
                        help="build retail_sales with this many random orders (default: the 12k test orders)")
    parser.add_argument("--no-redis", action="store_true", help="run without Redis (L1 cache only, no quotas)")
    parser.add_argument("--warm-share", type=float, default=0.5, help="share of distinct questions warmed up")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (server log, built warehouse)")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="bench-http-"))
    home = args.home or scratch / "home"
    if not has_warehouse(home):
        home.mkdir(parents=True, exist_ok=True)
        print(f"building the warehouse under {home} ...", flush=True)
        build_warehouse(home, rows=args.rows)
    redis = None if args.no_redis else start_on_free_port(
        lambda p: RedisServer(port=p, workdir=scratch / "redis", binary=redis_server_binary()))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(home, port, redis_url=redis.url if redis else None, workers=args.workers,
                          log=scratch / "server.log")
    report: dict[str, Any] = {"workers": args.workers, "redis": redis is not None, "cpus": os.cpu_count(),
                              "load_average_at_start": os.getloadavg()[0]}
    try:
        report["startup_s"] = round(wait_ready(url, server), 1)
        report["health_baseline"] = baseline(url)
        print(f"GET /health closed loop: p50 {report['health_baseline']['p50_ms']} ms, "
              f"p95 {report['health_baseline']['p95_ms']} ms", flush=True)
        mix = question_mix(args.seed)
        report["distinct_questions"] = len(mix)
        began = time.perf_counter()
        cold = asyncio.run(warm_up(url, mix, share=args.warm_share))
        report["warm_up"] = cold.summary(time.perf_counter() - began)
        print(line("warm-up (cold)", report["warm_up"]), flush=True)
        top = max(mix, key=lambda item: item[1])[0]
        report["cached_ask_baseline"] = baseline(url, body=top, count=200)
        print(f"cached question closed loop: p50 {report['cached_ask_baseline']['p50_ms']} ms, "
              f"p95 {report['cached_ask_baseline']['p95_ms']} ms", flush=True)
        fixed = asyncio.run(open_loop(url, mix, rate=args.rate, seconds=args.seconds, seed=args.seed))
        report["fixed"] = {"rate": args.rate, "seconds": args.seconds, **fixed.summary(args.seconds)}
        print(line(f"fixed {args.rate:g}/s", report["fixed"]), f"tiers {report['fixed']['tiers']}", flush=True)
        print(f"  fixed phase p50/p95 ms per tier: {report['fixed']['tier_p50_p95_ms']}", flush=True)
        steps, sustained, rate = [], None, args.start_rate
        while rate <= args.max_rate:
            settle(url, top, fast_ms=max(50.0, 3 * report["cached_ask_baseline"]["p50_ms"]))
            step = asyncio.run(open_loop(url, mix, rate=rate, seconds=args.step_seconds, seed=args.seed + int(rate)))
            summary = {"rate": rate, **step.summary(args.step_seconds)}
            steps.append(summary)
            print(line(f"step {rate:g}/s", summary), flush=True)
            if summary["p95_ms"] > args.p95_ms or summary["errors"] > 0.01 * max(1, summary["sent"]):
                break
            sustained, rate = rate, round(rate * args.step_factor, 1)
        report["steps"], report["sustained_rps_p95_under_target"] = steps, sustained
        print(f"highest rate sustained with p95 <= {args.p95_ms:g} ms: {sustained or 'none'} req/s", flush=True)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        if redis is not None:
            redis.stop()
        if args.keep:
            print(f"server log and scratch files kept under {scratch}", flush=True)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps(report, sort_keys=True))


if __name__ == "__main__":
    main()
