"""TPC-DS store sales: the whole ingest against DuckDB loading the same CSVs, then latency per tier.

    .venv/bin/python benchmarks/bench_tpcds.py --scale 1
    .venv/bin/python benchmarks/bench_tpcds.py --scale 10 --data /tmp/tpcds   # about 29M fact rows

- Generates the tables ``tpcds_store`` reads with ``tpcgen-cli tpcds csv`` into ``--data/sf<scale>``
  (kept between runs, never in the repo).
- ingest: ``retail-insights ingest --dataset tpcds_store DIR`` as a user runs it (a new process,
  cold), into a fresh RETAIL_HOME: fact and dimensions to Delta, key checks and quarantine, Great
  Expectations, rollup views over the joined fact, DQ results.
- duckdb: the floor for the same bytes: DuckDB reads every CSV the dataset reads and writes it to
  Parquet, the fact partitioned by sale year and month (from the date key); no checks, no Delta,
  no views. The ratio of the two is printed.
- tiers: every question below asked through the assistant built as the CLI builds it (rules,
  views, caches; no LLM), cold then again: the first answer's tier (metadata, or clarify) and the
  second's (cache_l1), p50/p95 per tier over ``--rounds`` passes with the L1 cleared between passes.
  After the first answer the heap is frozen, as the HTTP server does after its warm-up (without it,
  ``--no-freeze-heap``, a full collection over the warmed heap lands inside some answers).

Run it under ``flock /tmp/cpu.lock`` on a shared machine.
"""

from __future__ import annotations

import argparse
import gc
from collections import defaultdict
from datetime import date
import json
import os
from pathlib import Path
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from tests.warehouse.datasets.tpcds_support import DIMENSIONS, generate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2003, 1, 3)   # the day after the generator's last sale date
QUESTIONS = [
    "total sales in 2002", "net profit by category in 2001", "top 5 brands by sales", "sales by store state",
    "how many customers bought Electronics in Q4 2002?", "monthly sales in 2002", "units by store in Q4 2002",
    "sales by state in 2001", "share of sales by category in 2002", "sales in 2002 vs 2001 by category",
    "which class sold the most in 2000", "average ticket value by category", "net profit margin by store",
    "how many tickets in december 2002", "sales of Music in 2001", "quarterly units in 2001",
    "top 3 stores by net profit in 2001", "sales by promotion in 2002", "customers by year",
    "sales in texas in 2002",
]


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))] if ordered else 0.0


def ensure_data(scale: int, root: Path) -> Path:
    folder = root / f"sf{scale}"
    if not (folder / "store_sales.csv").is_file():
        began = time.perf_counter()
        generate(folder, scale=scale)
        print(f"generated scale {scale} in {time.perf_counter() - began:.1f} s into {folder}", flush=True)
    return folder


def run_ingest(folder: Path, home: Path) -> tuple[float, dict]:
    env = {**os.environ, "RETAIL_HOME": str(home)}
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "retail_insights.cli", "ingest", "--dataset", "tpcds_store",
                           str(folder), "--json"], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"ingest failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return wall, json.loads(done.stdout)


def run_duckdb(folder: Path, out: Path) -> tuple[float, int]:
    import duckdb

    began = time.perf_counter()
    con = duckdb.connect()
    for table in DIMENSIONS:
        con.execute(f"COPY (SELECT * FROM read_csv('{folder / table}.csv', header = true)) "
                    f"TO '{out / table}.parquet' (FORMAT parquet)")
    # The date key is a Julian day number (2415022 = 1900-01-02); rows without one go to year 0.
    fact = (f"SELECT *, coalesce(year(d), 0) AS year, coalesce(month(d), 0) AS month FROM ("
            f"SELECT *, DATE '1900-01-02' + CAST(ss_sold_date_sk - 2415022 AS INTEGER) AS d "
            f"FROM read_csv('{folder}/store_sales.csv', header = true))")
    con.execute(f"COPY ({fact}) TO '{out}/store_sales' (FORMAT parquet, PARTITION_BY (year, month))")
    rows = con.execute(f"SELECT count(*) FROM read_parquet('{out}/store_sales/**/*.parquet')").fetchall()[0][0]
    return time.perf_counter() - began, rows


def run_tiers(home: Path, rounds: int, *, freeze_heap: bool = True) -> dict[str, list[float]]:
    os.environ["RETAIL_HOME"] = str(home)
    from retail_insights.settings import get_settings

    get_settings.cache_clear()
    from assistant.factory import build_assistant

    assistant = build_assistant(learn=False, semantic=False)
    assistant.answer("total sales", dataset="tpcds_store", as_of=AS_OF)   # opens the catalog once
    if freeze_heap:   # as the HTTP server does after its warm-up (RETAIL_API__FREEZE_HEAP)
        gc.collect()
        gc.freeze()
    times: dict[str, list[float]] = defaultdict(list)
    statuses: dict[str, str] = {}
    for _ in range(rounds):
        assistant.cache.clear_l1()
        for question in QUESTIONS:
            for _ in range(2):
                began = time.perf_counter()
                answer = assistant.answer(question, dataset="tpcds_store", as_of=AS_OF)
                ms = (time.perf_counter() - began) * 1000
                tier = answer.tier if answer.status == "answered" else answer.status
                times[str(tier)].append(ms)
                statuses[question] = answer.status
    gc.unfreeze()
    unanswered = [q for q, s in statuses.items() if s != "answered"]
    if unanswered:
        print(f"not answered: {unanswered}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "tpcds-bench")
    parser.add_argument("--rounds", type=int, default=5, help="passes over the questions (L1 cleared each)")
    parser.add_argument("--home", type=Path, help="reuse a RETAIL_HOME already ingested (skips ingest + duckdb)")
    parser.add_argument("--no-freeze-heap", action="store_true",
                        help="leave Python's collector scanning the warmed heap (the server freezes it)")
    args = parser.parse_args()
    folder = ensure_data(args.scale, args.data)
    home = args.home
    if home is None:
        scratch = Path(tempfile.mkdtemp(prefix="bench-tpcds-"))
        home = scratch / "home"
        wall, summary = run_ingest(folder, home)
        (scratch / "duck").mkdir()
        duck, rows = run_duckdb(folder, scratch / "duck")
        phases = ", ".join(f"{k} {v:g}" for k, v in summary.get("phases_s", {}).items())
        print(f"scale {args.scale}: ingest {wall:,.1f} s wall ({summary['input_rows']:,} fact rows in, "
              f"{summary['written_rows']:,} written, {summary['quarantined_rows']:,} quarantined; phases (s): "
              f"{phases}); duckdb CSV->Parquet {duck:,.1f} s ({rows:,} fact rows); ratio {wall / duck:,.1f}x")
        print(f"home: {home}")
    times = run_tiers(home, args.rounds, freeze_heap=not args.no_freeze_heap)
    for tier, values in sorted(times.items()):
        print(f"tier {tier:<9} n={len(values):>4}  p50 {statistics.median(values):8.2f} ms  "
              f"p95 {_percentile(values, 95):8.2f} ms  max {max(values):8.2f} ms")


if __name__ == "__main__":
    main()
