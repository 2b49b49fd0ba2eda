"""Benchmark batch ingest: the Dask engine against a pandas baseline and DuckDB SQL, in one run.

    .venv/bin/python benchmarks/bench_ingest.py                      # 1M generated rows
    .venv/bin/python benchmarks/bench_ingest.py --rows 10000000      # the 10M target (<= 5 min)
    .venv/bin/python benchmarks/bench_ingest.py --versus-duckdb --rows 10000 1000000

Three contenders over the same generated CSV files (2% dirty, corrections and re-sends):

- dask: ``spark_jobs.ingest`` end to end into a fresh RETAIL_HOME: land in bronze, read,
  validate (Great Expectations) and transform on worker processes, stage, dedupe, Delta merge,
  quarantine append, Z-order of the touched partitions, view refresh, DQ results. Its ``stage``
  phase is the part comparable to the two baselines; both numbers are printed.
- pandas: one process, ``pandas.read_csv`` in chunks (all text) and the same
  ``transform_partition`` (same validation, same fixes); no staging, no dedupe, no commit.
- duckdb: the same batch work in DuckDB SQL alone (read CSV, lines that are not rows counted as
  quarantined, the SPEC 1.2 critical rules with reason codes, fixes, derived columns, the latest
  version per order) writing clean rows as Parquet partitioned by year and month and quarantined
  rows beside them; no Great Expectations, no Delta, no views.

``--versus-duckdb`` runs only the whole ``retail-insights ingest`` command (a new process, cold,
as a user runs it, views and DQ results included) against the DuckDB baseline on the same files,
per ``--rows`` value, and prints the ratio, both runs' row counts (they must be equal) and the
ingest's phase split (``start+exit`` is interpreter start, imports before the batch and exit).

Rows/s is input rows over wall-clock seconds, measured after a small warm-up batch (the Dask
cluster and each worker's validation suite are built once per process; that cold start is
printed separately). Each phase of the Dask run (stage, dedupe, cluster, merge, zorder, views,
DQ results) is also printed as rows/s, with peak resident memory of the driver and of each
worker. Generated data is cached under --data (per row count) so repeated runs measure ingest,
not generation. Run it under ``flock /tmp/cpu.lock`` on a shared machine.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
import os
from pathlib import Path
import resource
import sys
import tempfile
import time

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# The DuckDB contender: the SPEC 1.2 rules in one statement. Values are bound parameters
# ($files, $now, $cutoff); there are no variable identifiers.
DUCKDB_TRANSFORM = """
CREATE TEMP TABLE checked AS
WITH raw AS (
    SELECT *, row_number() OVER () AS arrival
    FROM read_csv($files, header = true, all_varchar = true, filename = true,
                  store_rejects = true)
), typed AS (
    SELECT
        raw.*,
        nullif(trim(order_id), '') AS k_order_id,
        try_cast(nullif(trim(order_ts), '') AS TIMESTAMPTZ) AS t_order_ts,
        try_cast(nullif(trim(updated_at), '') AS TIMESTAMPTZ) AS t_updated_at,
        try_cast(nullif(trim(ship_date), '') AS DATE) AS t_ship_date,
        -- an integer, not a number that rounds to one ('2.5' casts to 3)
        CASE WHEN regexp_full_match(trim(quantity), '[+-]?[0-9]+')
             THEN try_cast(trim(quantity) AS BIGINT) END AS t_quantity,
        try_cast(nullif(trim(unit_price), '') AS DECIMAL(18, 4)) AS t_unit_price,
        coalesce(try_cast(nullif(trim(discount), '') AS DECIMAL(6, 4)),
                 CASE WHEN trim(discount) = '' THEN 0 END) AS t_discount,
        coalesce(try_cast(nullif(trim(unit_cost), '') AS DECIMAL(18, 4)),
                 CASE WHEN trim(unit_cost) = '' THEN 0 END) AS t_unit_cost,
        s.code AS t_state, s.region AS t_region,
        upper(left(trim(status), 1)) || lower(substr(trim(status), 2)) AS t_status
    FROM raw
    LEFT JOIN states AS s ON upper(trim(raw.state)) = s.spelling
), flagged AS (
    SELECT *, list_filter([
        CASE WHEN k_order_id IS NULL THEN 'MISSING_ORDER_ID' END,
        CASE WHEN t_order_ts IS NULL THEN 'BAD_ORDER_TS' END,
        CASE WHEN trim(updated_at) <> '' AND t_updated_at IS NULL THEN 'BAD_UPDATED_AT' END,
        CASE WHEN t_quantity IS NULL OR t_quantity < 1 OR t_quantity > 1000000
             THEN 'BAD_QUANTITY' END,
        CASE WHEN t_unit_price IS NULL OR t_unit_price <= 0 THEN 'BAD_PRICE' END,
        CASE WHEN t_discount IS NULL OR t_discount < 0 OR t_discount > 0.9 THEN 'BAD_DISCOUNT' END,
        CASE WHEN t_unit_cost IS NULL OR t_unit_cost < 0 THEN 'BAD_COST' END,
        CASE WHEN t_state IS NULL THEN 'BAD_STATE' END,
        CASE WHEN coalesce(t_status, '') NOT IN ('Pending', 'Shipped', 'Delivered', 'Cancelled')
             THEN 'BAD_STATUS' END,
        CASE WHEN t_ship_date < CAST(t_order_ts AS DATE) THEN 'SHIP_BEFORE_ORDER' END
    ], lambda c: c IS NOT NULL) AS reason_codes
    FROM typed
)
SELECT * FROM flagged;

COPY (
    SELECT * EXCLUDE (rank) FROM (
        SELECT
            k_order_id AS order_id,
            t_order_ts AS order_ts,
            coalesce(t_updated_at, t_order_ts) AS updated_at,
            t_status AS status,
            t_ship_date AS ship_date,
            trim(channel) AS channel,
            trim(customer_id) AS customer_id,
            trim(segment) AS segment,
            trim(product_id) AS product_id,
            trim(product_name) AS product_name,
            coalesce(nullif(trim(category), ''), 'Unknown') AS category,
            trim(sub_category) AS sub_category,
            trim(city) AS city,
            t_state AS state,
            t_quantity AS quantity,
            t_unit_price AS unit_price,
            t_discount AS discount,
            t_unit_cost AS unit_cost,
            CAST(t_order_ts AS DATE) AS order_date,
            year(t_order_ts) AS year,
            month(t_order_ts) AS month,
            t_region AS region,
            round(t_quantity * t_unit_price * (1 - t_discount), 2) AS revenue,
            round(t_quantity * t_unit_cost, 2) AS cost,
            revenue - cost AS profit,
            list_filter([
                CASE WHEN revenue > 100000 THEN 'HIGH_REVENUE' END,
                CASE WHEN CAST(t_order_ts AS DATE) < $cutoff THEN 'OLD_ORDER' END,
                CASE WHEN t_order_ts > $now THEN 'FUTURE_ORDER' END
            ], lambda c: c IS NOT NULL) AS warnings,
            filename AS source_file,
            arrival AS source_line,
            row_number() OVER (
                PARTITION BY k_order_id ORDER BY updated_at DESC, arrival DESC
            ) AS rank
        FROM checked WHERE len(reason_codes) = 0
    ) WHERE rank = 1
) TO $clean (FORMAT parquet, PARTITION_BY (year, month));

COPY (
    SELECT * EXCLUDE (k_order_id, t_order_ts, t_updated_at, t_ship_date, t_quantity, t_unit_price,
                      t_discount, t_unit_cost, t_state, t_region, t_status)
    FROM checked WHERE len(reason_codes) > 0
) TO $quarantine (FORMAT parquet);

SELECT
    (SELECT count(*) FROM checked) + (SELECT count(DISTINCT (file_id, line)) FROM reject_errors)
        AS input_rows,
    $written AS written_rows,
    (SELECT count(*) FROM checked WHERE len(reason_codes) > 0)
        + (SELECT count(DISTINCT (file_id, line)) FROM reject_errors) AS quarantined_rows,
    (SELECT count(*) FROM checked WHERE len(reason_codes) = 0) - $written AS duplicate_rows;
"""
COUNTS = ("input_rows", "written_rows", "quarantined_rows", "duplicate_rows")


def ensure_data(rows: int, folder: Path) -> list[Path]:
    from retail_insights.generator import generate

    target = folder / f"rows-{rows}"
    files = sorted(target.glob("*.csv"))
    if not files:
        generate(rows=rows, seed=7, out=target, fmt="csv", dirty_rate=0.02, progress=True)
        files = sorted(target.glob("*.csv"))
    return files


def run_dask(files: list[Path], *, workers: int, home: Path, now: datetime,
             views: bool = True) -> tuple[float, dict]:
    from retail_insights.settings import get_settings
    from spark_jobs.ingest import ingest

    os.environ["RETAIL_HOME"] = str(home)  # a fresh warehouse for this run
    get_settings.cache_clear()
    began = time.perf_counter()
    summary = ingest(
        files, dataset="retail_sales", engine="dask", workers=workers, progress=True, now=now,
        refresh_views=views,
    )
    return time.perf_counter() - began, summary.to_json()


def warm_up(folder: Path, *, workers: int, now: datetime, views: bool = True) -> float:
    """A 2,000-row ingest: starts the Dask cluster and builds the suite once in every worker.

    The cluster outlives a batch, so the measured run sees warm workers, as a long-running
    service (or the second batch of any process) does. Returns the cold start's seconds.
    """
    from retail_insights.generator import generate
    from retail_insights.settings import get_settings
    from spark_jobs.headers import normalize_headers
    from spark_jobs.transform import transform_partition
    from warehouse.spec import load_dataset

    generate(rows=2000, seed=1, out=folder / "warm-up", fmt="csv", progress=False)
    # small chunks, so that every worker gets some and builds its suite now
    chosen = get_settings().pipeline.chunk_rows
    os.environ["RETAIL_PIPELINE__CHUNK_ROWS"] = str(2000 // (4 * workers))
    seconds, _ = run_dask(sorted((folder / "warm-up").glob("*.csv")), workers=workers,
                          home=folder / "warm-up-home", now=now, views=views)
    os.environ["RETAIL_PIPELINE__CHUNK_ROWS"] = str(chosen)
    # the pandas contender builds the suite in this process
    import pandas as pd

    frame = pd.read_csv(next((folder / "warm-up").glob("*.csv")), dtype=str, keep_default_na=False)
    frame["source_line"] = range(2, 2 + len(frame))
    transform_partition(normalize_headers(frame, load_dataset("retail_sales").spec),
                        dataset="retail_sales", batch_id="warm-up", source_file="warm-up",
                        ingested_at=now)
    return seconds


def run_pandas(files: list[Path], *, chunk_rows: int, now: datetime) -> tuple[float, int]:
    import pandas as pd

    from spark_jobs.headers import normalize_headers
    from spark_jobs.transform import transform_partition
    from warehouse.spec import load_dataset

    spec = load_dataset("retail_sales").spec
    began = time.perf_counter()
    rows = 0
    for path in files:
        line = 2
        for frame in pd.read_csv(
            path, dtype=str, keep_default_na=False, encoding="utf-8-sig", chunksize=chunk_rows
        ):
            frame["source_line"] = range(line, line + len(frame))
            line += len(frame)
            result = transform_partition(
                normalize_headers(frame, spec),
                dataset="retail_sales",
                batch_id="bench",
                source_file=str(path),
                ingested_at=now,
            )
            rows += result.input_rows
    return time.perf_counter() - began, rows


def run_duckdb(files: list[Path], *, out: Path, now: datetime) -> tuple[float, dict[str, int]]:
    """Seconds of the DuckDB-only batch, and its row counts (``COUNTS``)."""
    import duckdb
    import pyarrow as pa

    from warehouse.geo import STATES

    # Without the ICU extension (not installed) DuckDB's time zone is UTC, as SPEC wants.
    con = duckdb.connect(config={"temp_directory": str(out / "spill")})
    con.execute("SET enable_progress_bar = false")
    # one row per accepted spelling (code or name, upper case): an equi-join, not a nested loop
    spellings = [(spelling, code, s.region) for code, s in STATES.items() for spelling in (code, s.name.upper())]
    con.register(
        "states",
        pa.table({name: [row[i] for row in spellings] for i, name in enumerate(("spelling", "code", "region"))}),
    )
    cutoff = now.date().replace(year=now.year - 10)
    params = {
        "files": [str(f) for f in files],
        "now": now,
        "cutoff": cutoff,
        "clean": str(out / "clean"),  # a folder: year=YYYY/month=M/*.parquet
        "quarantine": str(out / "quarantine.parquet"),
    }
    began = time.perf_counter()
    for statement in filter(str.strip, DUCKDB_TRANSFORM.split(";")):
        used = {k: v for k, v in params.items() if f"${k}" in statement}
        result = con.execute(statement, used).fetchone()
        if "$clean" in statement:
            params["written"] = result[0]  # COPY answers the number of rows it wrote
    seconds = time.perf_counter() - began
    return seconds, dict(zip(COUNTS, result))


def run_cli(files: list[Path], *, home: Path) -> tuple[float, dict]:
    """The whole ``retail-insights ingest`` command as a user runs it (a new process, cold)."""
    import json
    import subprocess

    env = {**os.environ, "RETAIL_HOME": str(home)}
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "retail_insights.cli", "ingest", "--dataset", "retail_sales",
         *map(str, files), "--json"],
        cwd=Path(__file__).resolve().parents[1], env=env, capture_output=True, text=True, check=True,
    )
    return time.perf_counter() - began, json.loads(done.stdout)


def versus_duckdb(sizes: list[int], *, data: Path, console: Console) -> None:
    """The whole ingest command against the same batch work in DuckDB SQL alone, same files."""
    now = datetime.now(UTC).replace(microsecond=0)
    table = Table(title="whole `retail-insights ingest` vs DuckDB SQL alone (same files, same run)")
    for column in ("rows", "ingest s", "duckdb s", "ratio", "counts equal"):
        table.add_column(column, justify="right")
    for rows in sizes:
        files = ensure_data(rows, data)
        with tempfile.TemporaryDirectory(prefix="bench-ingest-") as scratch:
            wall, summary = run_cli(files, home=Path(scratch) / "home")
            duck, counts = run_duckdb(files, out=Path(scratch), now=now)
        phases = {**summary["phases_s"], "start+exit": round(wall - summary["duration_s"], 2)}
        same = all(summary[c] == counts[c] for c in COUNTS)
        table.add_row(f"{summary['input_rows']:,}", f"{wall:,.1f}", f"{duck:,.1f}", f"{wall / duck:,.1f}x",
                      "yes" if same else "no")
        console.print(f"{rows:,}: ingest {[summary[c] for c in COUNTS]} ({summary['scheduler']}), "
                      f"duckdb {[counts[c] for c in COUNTS]}; load {os.getloadavg()[0]:.1f}; ingest phases (s): "
                      + ", ".join(f"{k} {v:g}" for k, v in phases.items()))
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000],
                        help="row counts; more than one only with --versus-duckdb")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(tempfile.gettempdir()) / "retail-bench",
        help="generated files are cached here, per row count",
    )
    parser.add_argument("--skip-baselines", action="store_true", help="run the Dask engine only")
    parser.add_argument("--skip-views", action="store_true",
                        help="leave out the views refresh (benchmarks/bench_views.py measures it)")
    parser.add_argument("--versus-duckdb", action="store_true",
                        help="only the whole ingest command against the DuckDB-only baseline, per --rows")
    args = parser.parse_args(argv)
    console = Console()
    if args.versus_duckdb:
        versus_duckdb(args.rows, data=args.data, console=console)
        return 0
    now = datetime.now(UTC).replace(microsecond=0)
    files = ensure_data(args.rows[0], args.data)
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as scratch:
        cold_start = warm_up(Path(scratch), workers=args.workers, now=now,
                             views=not args.skip_views)
        seconds, summary = run_dask(
            files, workers=args.workers, home=Path(scratch) / "home", now=now,
            views=not args.skip_views,
        )
        rows = summary["input_rows"]
        from spark_jobs.dask_engine import worker_peak_rss

        worker_rss = worker_peak_rss()
        # before the baselines run in this process (DuckDB's would dwarf the driver's own)
        driver_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        results["dask end to end"] = rows / seconds
        results["dask stage phase"] = rows / summary["phases_s"]["stage"]
        if not args.skip_baselines:
            from retail_insights.settings import get_settings

            pandas_seconds, pandas_rows = run_pandas(
                files, chunk_rows=get_settings().pipeline.chunk_rows, now=now
            )
            results["pandas, one process"] = pandas_rows / pandas_seconds
            duck_seconds, counts = run_duckdb(files, out=Path(scratch), now=now)
            results["duckdb SQL"] = rows / duck_seconds

    table = Table(
        title=f"ingest {rows:,} rows ({len(files)} CSV files, {args.workers} Dask workers)"
    )
    for column in ("contender", "rows/s", "x pandas", "x duckdb"):
        table.add_column(column, justify="left" if column == "contender" else "right")
    for name, rate in results.items():
        table.add_row(
            name,
            f"{rate:,.0f}",
            f"{rate / results['pandas, one process']:.2f}"
            if "pandas, one process" in results
            else "-",
            f"{rate / results['duckdb SQL']:.2f}" if "duckdb SQL" in results else "-",
        )
    console.print(table)
    phases = Table(title="dask phases (the measured batch)")
    for column in ("phase", "seconds", "rows/s"):
        phases.add_column(column, justify="left" if column == "phase" else "right")
    for phase, took in summary["phases_s"].items():
        phases.add_row(phase, f"{took:,.1f}", f"{rows / took:,.0f}" if took else "-")
    phases.add_row("total (wall)", f"{seconds:,.1f}", f"{rows / seconds:,.0f}")
    console.print(phases)
    mib = 1024 * 1024
    workers_mib = ", ".join(f"{b / mib:,.0f}" for b in worker_rss)
    console.print(f"dask peak RSS: driver {driver_rss / mib:,.0f} MiB; workers {workers_mib} MiB")
    console.print(f"dask: cold start (cluster, suite build in each worker) {cold_start:,.1f} s, "
                  "paid once per process and not in the rates above")
    console.print(f"dask: {seconds:,.1f} s end to end; phases (s): {summary['phases_s']}")
    console.print(
        f"dask: written {summary['written_rows']:,}, quarantined {summary['quarantined_rows']:,}, "
        f"duplicates {summary['duplicate_rows']:,}, partitions {len(summary['touched_partitions'])}"
    )
    if not args.skip_baselines:
        console.print(
            f"pandas: {pandas_seconds:,.1f} s; duckdb: {duck_seconds:,.1f} s "
            f"(written {counts['written_rows']:,}, quarantined {counts['quarantined_rows']:,}, "
            f"duplicates {counts['duplicate_rows']:,})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
