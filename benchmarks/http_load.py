"""Load generation for the HTTP benchmarks: an open-loop client, the server and warehouse around it.

``open_loop`` sends requests on a fixed schedule whether or not earlier ones came back, and counts
latency from the scheduled time, so a stalled server shows up as latency rather than as a politely
slower client. The client is aiohttp: httpx's connection pool scans every open connection on every
request, so once a slow minute had a few hundred requests in flight the load generator itself used
most of a core and fell behind for good (measured with py-spy, 2026-12-07), which read as the
server's latency. Each response is kept with its offset from the start, its tier and its data version,
so a run can be summarized per tier, per time slice (the first 10 s of a cold start, each minute of
a soak) and per data version.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
import os
from pathlib import Path
import random
import subprocess
import sys
import time
from typing import Any

import aiohttp
import httpx
import numpy as np

from retail_insights.services import stop_process

ROOT = Path(__file__).resolve().parents[1]
MAX_IN_FLIGHT = 2000


@dataclass(frozen=True)
class Sample:
    offset_s: float          # when it was scheduled, from the start of the run
    latency_ms: float
    status: int              # HTTP status, 0 for a transport error
    tier: str                # the answer's tier (or its status), "error" otherwise
    data_version: Any = None
    question: str = ""


@dataclass
class Run:
    samples: list[Sample] = field(default_factory=list)
    sent: int = 0
    dropped: int = 0         # not sent: the client already had MAX_IN_FLIGHT requests out

    def window(self, start_s: float, end_s: float) -> list[Sample]:
        return [s for s in self.samples if start_s <= s.offset_s < end_s]

    def summary(self, samples: Sequence[Sample] | None = None, *, seconds: float | None = None) -> dict[str, Any]:
        samples = self.samples if samples is None else samples
        ok = [s for s in samples if s.status == 200]
        errors = Counter(f"http_{s.status}" if s.status else s.tier for s in samples if s.status != 200)
        by_tier: dict[str, list[float]] = {}
        for s in ok:
            by_tier.setdefault(s.tier, []).append(s.latency_ms)
        out = {"requests": len(samples), **percentiles([s.latency_ms for s in samples]),
               "errors": sum(errors.values()), "error_kinds": dict(errors),
               "tiers": {tier: {"n": len(ms), **percentiles(ms)} for tier, ms in sorted(by_tier.items())}}
        if seconds:
            out["achieved_rps"] = round(len(samples) / seconds, 1)
        return out


def percentiles(latencies: Sequence[float]) -> dict[str, float]:
    if not latencies:
        return {"p50_ms": float("nan"), "p95_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan")}
    values = np.array(latencies)
    return {"p50_ms": round(float(np.percentile(values, 50)), 2), "p95_ms": round(float(np.percentile(values, 95)), 2),
            "p99_ms": round(float(np.percentile(values, 99)), 2), "max_ms": round(float(values.max()), 2)}


async def one(client: aiohttp.ClientSession, body: dict[str, Any], scheduled: float, start: float, run: Run) -> None:
    try:
        if "raw" in body:      # a malformed request: the bytes as they are; a 4xx is its right answer
            request = client.post("/v1/ask", data=body["raw"], headers={"Content-Type": "application/json"})
        else:
            request = client.post("/v1/ask", json=body)
        async with request as response:
            status = response.status
            answer = await response.json(content_type=None) if status == 200 and "raw" not in body else None
        latency = (time.perf_counter() - scheduled) * 1000
        if "raw" in body and 400 <= status < 500:
            sample = Sample(scheduled - start, latency, 200, "refused_4xx", None, body["question"])
        elif answer is not None:
            sample = Sample(scheduled - start, latency, 200, answer.get("tier") or answer.get("status", "none"),
                            answer.get("data_version"), body["question"])
        else:   # a 5xx, or a 2xx/3xx for a malformed request, is an error
            sample = Sample(scheduled - start, latency, status, "error", None, body["question"])
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        sample = Sample(scheduled - start, (time.perf_counter() - scheduled) * 1000, 0, type(exc).__name__, None,
                        body["question"])
    run.samples.append(sample)


async def open_loop(url: str, bodies: Sequence[dict[str, Any]], *, rate: float, seconds: float, seed: int,
                    weights: Sequence[float] | None = None, run: Run | None = None,
                    start: float | None = None) -> Run:
    """Send ``rate`` requests per second for ``seconds``, each body drawn from ``bodies``; offsets count
    from ``start`` (a ``time.perf_counter()`` value; default: now)."""
    rng = random.Random(seed)
    run = run or Run()
    # Expire idle connections before uvicorn's 5 s keep-alive does, so no request races a close.
    connector = aiohttp.TCPConnector(limit=512, keepalive_timeout=2.0)
    async with aiohttp.ClientSession(base_url=url, connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=60.0)) as client:
        tasks: set[asyncio.Task[None]] = set()
        start = start if start is not None else time.perf_counter()
        began = time.perf_counter()
        for i in range(int(rate * seconds)):
            scheduled = began + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if len(tasks) >= MAX_IN_FLIGHT:
                run.dropped += 1
                continue
            body = rng.choices(bodies, weights)[0] if weights else rng.choice(bodies)
            task = asyncio.create_task(one(client, body, scheduled, start, run))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            run.sent += 1
        if tasks:
            await asyncio.wait(tasks, timeout=120)
    return run


# --- the warehouse -------------------------------------------------------------------------------------

def has_warehouse(home: Path) -> bool:
    return (home / "warehouse" / "superstore" / "superstore" / "_delta_log").exists()


def build_warehouse(home: Path, *, rows: int | None = None) -> None:
    """The test warehouse; with ``rows``, retail_sales then holds that many random orders instead."""
    env = {**os.environ, "RETAIL_HOME": str(home), "PYTHONPATH": str(ROOT)}
    code = "import sys; from pathlib import Path; from tests.assistant.warehouse_builder import build; " \
           "print(build(Path(sys.argv[1])))"
    if rows:
        code += f"; from benchmarks.http_load import write_big_retail; write_big_retail({rows})"
    script = home / "build_warehouse.py"   # a file, not -c: pyspark's import check exits under -c
    script.write_text(code.replace("; ", "\n"))
    subprocess.run([sys.executable, str(script), str(home)], check=True, cwd=ROOT, env=env, timeout=3600)


def write_big_retail(rows: int, *, seed: int = 42) -> None:
    """Replace retail_sales with ``rows`` random orders (``bench_views.silver_rows``) and refresh its views.

    Those orders span 2024-2025; moved back a year (dates and partitions recomputed) they cover
    2023-2024 like the test warehouse, so questions as of 2024-07-01 find data.
    """
    from datetime import timedelta

    from deltalake import write_deltalake
    import pyarrow as pa
    import pyarrow.compute as pc

    from benchmarks.bench_views import silver_rows
    from retail_insights.settings import get_settings
    from warehouse.views import refresh

    table = silver_rows(rows, seed=seed)
    shift = timedelta(days=365)   # 2024-01-01 - 365 days = 2023-01-01
    for name in ("order_ts", "updated_at", "ship_date", "order_date"):
        column = table[name]
        unit = "s" if pa.types.is_date(column.type) else column.type.unit
        table = table.set_column(table.schema.get_field_index(name), name,
                                 pc.subtract(column, pa.scalar(shift, pa.duration(unit))).cast(column.type))
    for name, part in (("year", pc.year), ("month", pc.month)):
        values = part(table["order_date"]).cast(table.schema.field(name).type)
        table = table.set_column(table.schema.get_field_index(name), name, values)
    path = get_settings().table_path("retail_sales", "sales")
    write_deltalake(str(path), table, partition_by=["year", "month"], mode="overwrite")
    refresh("retail_sales", full=True)


# --- the server ----------------------------------------------------------------------------------------

def start_server(home: Path, port: int, *, redis_url: str | None, workers: int, log: Path,
                 env: dict[str, str] | None = None) -> subprocess.Popen:
    environment = {**os.environ, "RETAIL_HOME": str(home), "RETAIL_API__RATE_LIMIT_PER_MINUTE": str(10**9),
                   "RETAIL_API__DAILY_QUOTA": str(10**9), **(env or {})}
    if redis_url:
        environment["RETAIL_REDIS__URL"] = redis_url
    handle = open(log, "w")
    return subprocess.Popen([sys.executable, "-m", "retail_insights.cli", "serve", "--host", "127.0.0.1",
                             "--port", str(port), "--workers", str(workers)],
                            cwd=ROOT, env=environment, stdout=handle, stderr=subprocess.STDOUT)


def wait_ready(url: str, process: subprocess.Popen, *, path: str = "/ready", timeout_s: float = 900.0) -> float:
    """Seconds until ``path`` answers 200 (``/ready``: warm-up done; ``/health``: the process serves)."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        if process.poll() is not None:
            raise SystemExit(f"server exited with status {process.returncode}")
        try:
            if httpx.get(f"{url}{path}", timeout=1.0).status_code == 200:
                return time.perf_counter() - started
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server not ready after {timeout_s:.0f}s")


def stop_server(process: subprocess.Popen) -> None:
    stop_process(process, timeout_s=30)


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (uvicorn's workers), in MiB."""
    import psutil

    try:
        parent = psutil.Process(pid)
        procs = [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return float("nan")
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return round(total / 2**20, 1)


MALFORMED: tuple[dict[str, Any], ...] = (
    {"question": "huge body", "raw": b'{"question": "' + b"x" * 200_000 + b'"}'},
    {"question": "invalid JSON", "raw": b'{"question": "sales by region",'},
    {"question": "not JSON", "raw": b"\x00\xff\xfe garbage"},
    {"question": "10k characters", "raw": ('{"question": "' + "sales " * 1700 + '"}').encode()},
    {"question": "unknown dataset", "raw": b'{"question": "total sales", "dataset": "no_such_dataset"}'},
    {"question": "wrong type", "raw": b'{"question": 42}'},
)
