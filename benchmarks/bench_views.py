"""Benchmark the gold views against the silver table: bytes read and latency, per question.

    .venv/bin/python benchmarks/bench_views.py                   # 1M silver rows
    .venv/bin/python benchmarks/bench_views.py --rows 10000000

A silver table of N random orders over two years (2024-2025) is written to a temporary
RETAIL_HOME and the views are refreshed (full, timed). Then 1% more rows land in one month and
an incremental refresh is timed. Each question is routed and compiled by the assistant (the
smallest view that answers it) and compiled again over ``sales``; both run through the DuckDB
backend and must give the same numbers. Bytes and rows read are what DuckDB's profiler reports
for the query (Parquet column chunks of the row groups left after pruning; ``Catalog.scanned``); latency is the backend's execution time (guard
and catalog set-up excluded), median of --repeat runs after one warm-up.
"""

from __future__ import annotations

import argparse
from datetime import date
from decimal import Decimal
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
# The question shapes, asked in words: the assistant's router picks the smallest view that
# answers each one, and the same intent is compiled over ``sales`` for the comparison.
AS_OF = date(2026, 1, 1)
QUESTIONS = [
    "revenue by state in Q3 2025",
    "orders by category and channel in March 2025",
    "monthly revenue in 2024",
    "revenue by category in 2025",
    "revenue by state and category in March 2025",
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


def _numbers(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """Rows with numbers as floats to 9 significant digits (a view's SUM(orders) vs COUNT(*))."""

    def norm(value: object) -> object:
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            return float(f"{float(value):.9g}")
        return value

    return sorted((tuple(norm(v) for v in row) for row in rows), key=repr)


def _one_month_more(rows: pa.Table, *, fraction: float, seed: int) -> pa.Table:
    """``fraction`` of ``rows`` again as new orders in December 2025: one touched partition."""
    extra = silver_rows(max(1, int(rows.num_rows * fraction)), seed=seed + 1)
    ts = pa.array(
        np.datetime64("2025-12-01T00:00:00", "us")
        + np.random.default_rng(seed).integers(0, 31 * 86400 * 10**6, size=extra.num_rows).astype(
            "timedelta64[us]"
        ),
        pa.timestamp("us", tz="UTC"),
    )
    replaced = {
        "order_id": pa.array([f"x{i}" for i in range(extra.num_rows)]),
        "order_ts": ts,
        "updated_at": ts,
        "order_date": ts.cast(pa.date32()),
        "ship_date": ts.cast(pa.date32()),
        "year": pa.array(np.full(extra.num_rows, 2025), pa.int32()),
        "month": pa.array(np.full(extra.num_rows, 12), pa.int32()),
    }
    for name, values in replaced.items():
        extra = extra.set_column(extra.schema.get_field_index(name), name, values)
    return extra


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

        from assistant.compiler import Compiler
        from assistant.router import Router
        from assistant.sources import Source
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
            f"full refresh of {len(refreshed.views)} views in {done - written:.1f}s "
            f"({sizes} rows)"
        )
        extra = _one_month_more(rows, fraction=0.01, seed=args.seed)
        write_deltalake(str(path), extra, mode="append", partition_by=["year", "month"])
        started = time.perf_counter()
        again = views.refresh("retail_sales")
        done = time.perf_counter()
        touched = sorted({p for v in again.views for p in v.partitions})
        console.print(
            f"incremental refresh after {extra.num_rows:,} new rows in one month: "
            f"{done - started:.1f}s (partitions {touched})"
        )

        backend = DuckDBBackend(dataset="retail_sales")
        table = Table(title=f"smallest view vs sales, {args.rows:,} silver rows (DuckDB backend)")
        for column in (
            "question",
            "view",
            "bytes view",
            "bytes sales",
            "bytes ratio",
            "rows view",
            "rows sales",
            "ms view",
            "ms sales",
            "latency ratio",
        ):
            table.add_column(column, justify="left" if column in ("question", "view") else "right")
        for question in QUESTIONS:
            route = Router().parse(question, dataset="retail_sales", as_of=AS_OF)
            assert route.complete, f"{question}: {route.reason}"
            on_view = Compiler().compile(route.intent)
            on_sales = Compiler().compile(route.intent, source=Source("sales", "base", None))
            measured = []
            for compiled in (on_view, on_sales):
                backend.query(compiled.sql, compiled.params)  # warm-up: file cache, first use
                runs = [backend.query(compiled.sql, compiled.params) for _ in range(args.repeat)]
                measured.append((runs[0], statistics.median(r.elapsed_ms for r in runs)))
            (view, view_ms), (base, base_ms) = measured
            assert _numbers(view.rows) == _numbers(base.rows), f"{question}: view and sales differ"
            table.add_row(
                question,
                on_view.source.table,
                f"{view.bytes_read:,}",
                f"{base.bytes_read:,}",
                f"{view.bytes_read / base.bytes_read:.4f}",
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
