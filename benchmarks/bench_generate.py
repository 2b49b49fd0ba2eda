"""Benchmark the raw-order generator: rows per second and peak memory.

    .venv/bin/python benchmarks/bench_generate.py                 # 1M rows, csv
    .venv/bin/python benchmarks/bench_generate.py --rows 10000000 --fmt parquet

Peak RSS is the whole process's high-water mark (resource.getrusage), imports included, so it
is an upper bound for the generator itself. Throughput is measured after a 1,000-row warm-up
run. Output goes to a temporary directory that is removed afterwards unless --out is given.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retail_insights.generator import FORMATS, generate  # noqa: E402


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--fmt", choices=FORMATS, default="csv")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--chunk-rows", type=int, default=200_000)
    parser.add_argument("--today", type=date.fromisoformat, default=None)
    parser.add_argument("--out", type=Path, default=None, help="keep the files here")
    parser.add_argument("--progress", action="store_true", help="show the progress bar")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-generate-") as scratch:
        # Warm-up: first-use costs (pyarrow pulls in pandas, lookup tables) are not throughput.
        generate(rows=1_000, seed=args.seed, out=Path(scratch) / "warm-up", progress=False,
                 today=args.today)
        cpu_before = _cpu_seconds()
        result = generate(rows=args.rows, seed=args.seed, out=args.out or Path(scratch) / "run",
                          fmt=args.fmt, chunk_rows=args.chunk_rows, progress=args.progress,
                          today=args.today)
        cpu = _cpu_seconds() - cpu_before
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    table = Table(title=f"generate {result.rows:,} rows ({args.fmt})")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for measure, value in [
        ("rows/s", f"{result.rows_per_second:,.0f}"),
        ("seconds", f"{result.seconds:,.1f}"),
        ("rows per CPU second", f"{result.rows / cpu:,.0f}"),  # steadier on a shared machine
        ("peak RSS (MiB)", f"{peak_mib:,.0f}"),
        ("written (MiB)", f"{result.bytes / 2**20:,.0f}"),
        ("files", f"{len(result.files):,}"),
        ("dirty rows", f"{result.dirty_rows:,}"),
        ("corrections", f"{result.corrections:,}"),
        ("re-sends", f"{result.resends:,}"),
    ]:
        table.add_row(measure, value)
    Console().print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
