"""Benchmark the gold views against the silver table: bytes read and latency, per question.

    .venv/bin/python benchmarks/bench_views.py                   # 1M silver rows
    .venv/bin/python benchmarks/bench_views.py --rows 10000000

A silver table of N random orders over two years (2024-2025) is written to a temporary
RETAIL_HOME, the views are refreshed (full), and each question runs through the DuckDB backend
on the smallest view that answers it and on ``sales``. Bytes and rows read are the backend's scan
meter (Parquet column chunks and row groups left after pruning); latency is the backend's
execution time (guard and catalog set-up excluded), median of --repeat runs after one warm-up.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from retail_insights.settings import get_settings  # noqa: E402
from warehouse import geo  # noqa: E402
from warehouse.schema import silver_schema  # noqa: E402
from warehouse.spec import load_dataset  # noqa: E402

CATEGORIES = (
    "Electronics",
    "Clothing",
    "Home",
    "Grocery",
    "Sports",
    "Beauty",
    "Toys",
    "Books",
    "Unknown",
)
QUESTIONS = [
    (
        "revenue by state, Q3 2025",
        "SELECT state, SUM(revenue) AS revenue FROM sales_monthly "
        "WHERE year = 2025 AND month BETWEEN 7 AND 9 "
        "AND status <> 'Cancelled' GROUP BY state ORDER BY revenue DESC",
        "SELECT state, SUM(revenue) AS revenue FROM sales "
        "WHERE year = 2025 AND month BETWEEN 7 AND 9 "
        "AND status <> 'Cancelled' GROUP BY state ORDER BY revenue DESC",
    ),
    (
        "orders by category and channel, March 2025",
        "SELECT category, channel, SUM(orders) AS orders FROM sales_monthly "
        "WHERE year = 2025 AND month = 3 "
        "AND status <> 'Cancelled' GROUP BY ALL ORDER BY ALL",
        "SELECT category, channel, COUNT(*) AS orders FROM sales WHERE year = 2025 AND month = 3 "
        "AND status <> 'Cancelled' GROUP BY ALL ORDER BY ALL",
    ),
    (
        "monthly revenue trend, 2024",
        "SELECT month, SUM(revenue) AS revenue FROM sales_monthly "
        "WHERE year = 2024 AND status <> 'Cancelled' "
        "GROUP BY month ORDER BY month",
        "SELECT month, SUM(revenue) AS revenue FROM sales "
        "WHERE year = 2024 AND status <> 'Cancelled' "
        "GROUP BY month ORDER BY month",
    ),
]


def _strings(
    rng: np.random.Generator, values: list[str], n: int, p: np.ndarray | None = None
) -> pa.Array:
    indices = pa.array(rng.choice(len(values), size=n, p=p).astype(np.int32))
    return pa.DictionaryArray.from_arrays(indices, pa.array(values)).cast(pa.string())


def _scaled(unscaled: np.ndarray, kind: pa.Decimal128Type) -> pa.Array:
    """Decimals from their unscaled integers (cents for scale 2), built from the 128-bit buffer."""
    words = np.empty((len(unscaled), 2), dtype=np.int64)
    words[:, 0], words[:, 1] = unscaled, unscaled >> 63  # little-endian low word, then the sign
    return pa.Array.from_buffers(kind, len(unscaled), [None, pa.py_buffer(words.tobytes())])


def silver_rows(n: int, *, seed: int) -> pa.Table:
    """``n`` random silver orders in 2024-2025 with consistent derived columns (vectorised)."""
    rng = np.random.default_rng(seed)
    schema = silver_schema(load_dataset("retail_sales").spec)
    start = np.datetime64("2024-01-01T00:00:00", "us")
    span = np.timedelta64(731 * 86400, "s").astype("timedelta64[us]").astype(np.int64)
    ts = start + rng.integers(0, span, size=n).astype("timedelta64[us]")
    days = ts.astype("datetime64[D]")
    years = days.astype("datetime64[Y]").astype(np.int32) + 1970
    months = (days.astype("datetime64[M]").astype(np.int32) % 12 + 1).astype(np.int32)
    codes = list(geo.STATES)
    weights = np.array([geo.STATES[c].population_k for c in codes], dtype=float)
    state_idx = rng.choice(len(codes), size=n, p=weights / weights.sum())
    category_idx = rng.integers(0, len(CATEGORIES), size=n)
    quantity = rng.integers(1, 6, size=n)
    price_cents = rng.integers(199, 50_000, size=n)
    discount_bp = rng.choice([0, 0, 0, 500, 1000, 2000], size=n)  # basis points of 10,000
    cost_cents = price_cents * rng.integers(40, 80, size=n) // 100
    revenue_cents = np.round(quantity * price_cents * (10_000 - discount_bp) / 10_000).astype(
        np.int64
    )
    cost_total = quantity * cost_cents

    status = _strings(
        rng, ["Delivered", "Shipped", "Pending", "Cancelled"], n, np.array([0.6, 0.2, 0.1, 0.1])
    )
    columns = {
        "order_id": pa.array(np.char.add("o", np.arange(n).astype(str))),
        "order_ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "updated_at": pa.array(ts, pa.timestamp("us", tz="UTC")),
        "status": status,
        "ship_date": pa.array(
            days + rng.integers(0, 7, size=n).astype("timedelta64[D]"), pa.date32()
        ),
        "channel": _strings(rng, ["Online", "Store", "Marketplace"], n),
        "customer_id": _strings(rng, [f"c{i}" for i in range(50_000)], n),
        "segment": _strings(rng, ["Consumer", "Corporate", "Home Office"], n),
        "product_id": _strings(rng, [f"p{i}" for i in range(500)], n),
        "product_name": _strings(rng, [f"Product {i}" for i in range(500)], n),
        "category": pa.DictionaryArray.from_arrays(
            pa.array(category_idx.astype(np.int32)), pa.array(CATEGORIES)
        ).cast(pa.string()),
        "sub_category": pa.array(
            np.char.add(
                np.array(CATEGORIES)[category_idx],
                np.char.add(" ", rng.integers(1, 5, size=n).astype(str)),
            )
        ),
        "city": _strings(rng, [f"City {i}" for i in range(300)], n),
        "state": pa.DictionaryArray.from_arrays(
            pa.array(state_idx.astype(np.int32)), pa.array(codes)
        ).cast(pa.string()),
        "quantity": pa.array(quantity, pa.int64()),
        "unit_price": _scaled(price_cents, schema.field("unit_price").type),
        "discount": _scaled(discount_bp, schema.field("discount").type),
        "unit_cost": _scaled(cost_cents, schema.field("unit_cost").type),
        "order_date": pa.array(days, pa.date32()),
        "year": pa.array(years, pa.int32()),
        "month": pa.array(months, pa.int32()),
        "region": pa.DictionaryArray.from_arrays(
            pa.array(state_idx.astype(np.int32)), pa.array([geo.STATES[c].region for c in codes])
        ).cast(pa.string()),
        "revenue": _scaled(revenue_cents, schema.field("revenue").type),
        "cost": _scaled(cost_total, schema.field("cost").type),
        "profit": _scaled(revenue_cents - cost_total, schema.field("profit").type),
        "warnings": pa.array([[]] * n, pa.list_(pa.string())),
        "batch_id": pa.array(["bench"] * n),
        "source_file": pa.array(["bench_views.py"] * n),
        "source_line": pa.array(np.arange(n), pa.int64()),
        "ingested_at": pa.array(
            np.full(n, np.datetime64("2026-01-01T00:00:00", "us")), pa.timestamp("us", tz="UTC")
        ),
    }
    return pa.table([columns[f.name] for f in schema], schema=schema)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-views-") as home:
        os.environ["RETAIL_HOME"] = home  # the benchmark's own state; settings read it once
        get_settings.cache_clear()
        from deltalake import write_deltalake

        from warehouse import views
        from warehouse.backends.duckdb import DuckDBBackend

        console = Console(width=170)
        started = time.perf_counter()
        rows = silver_rows(args.rows, seed=args.seed)
        path = get_settings().table_path("retail_sales", "sales")
        path.parent.mkdir(parents=True, exist_ok=True)
        write_deltalake(str(path), rows, partition_by=["year", "month"])
        written = time.perf_counter()
        refreshed = views.refresh("retail_sales", full=True)
        done = time.perf_counter()
        sizes = ", ".join(f"{v.name} {v.rows_written:,}" for v in refreshed.views)
        console.print(
            f"silver: {args.rows:,} rows written in {written - started:.1f}s; "
            f"views refreshed in {done - written:.1f}s ({sizes} rows)"
        )

        backend = DuckDBBackend(dataset="retail_sales")
        table = Table(title=f"smallest view vs sales, {args.rows:,} silver rows (DuckDB backend)")
        for column in (
            "question",
            "bytes view",
            "bytes sales",
            "bytes ratio",
            "rows view",
            "rows sales",
            "ms view",
            "ms sales",
            "latency ratio",
        ):
            table.add_column(column, justify="left" if column == "question" else "right")
        for question, on_view, on_sales in QUESTIONS:
            measured = []
            for sql in (on_view, on_sales):
                backend.query(sql)  # warm-up: file cache and first-use costs
                runs = [backend.query(sql) for _ in range(args.repeat)]
                measured.append((runs[0], statistics.median(r.elapsed_ms for r in runs)))
            (view, view_ms), (base, base_ms) = measured
            assert view.rows == base.rows, f"{question}: the view and sales disagree"
            table.add_row(
                question,
                f"{view.bytes_read:,}",
                f"{base.bytes_read:,}",
                f"{view.bytes_read / base.bytes_read:.3f}",
                f"{view.rows_read:,}",
                f"{base.rows_read:,}",
                f"{view_ms:.1f}",
                f"{base_ms:.1f}",
                f"{view_ms / base_ms:.3f}",
            )
        console.print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
