"""Small raw files written by the tests: a star schema of orders, customers and products."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

CUSTOMERS = ["C1", "C2", "C3", "C4"]
REGIONS = ["East", "West"]


def write_orders(path: Path, *, rows: int = 40) -> Path:
    lines = ["Line ID,Order Date,customer_id,product_sk,Region,Amount,Units,Discount"]
    for i in range(1, rows + 1):
        # Dates in the two formats the ingest reads: the column is text to DuckDB, dates to us.
        day = f"2024-01-{i % 28 + 1:02d}" if i % 2 else f"2/{i % 28 + 1}/2024"
        lines.append(f"{i},{day},{CUSTOMERS[i % 4]},{i % 5 + 1},{REGIONS[i % 2]},{i * 10 + 0.25:.2f},{i % 13 + 1},"
                     f"{(i % 11) / 20:.2f}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_customers(path: Path) -> Path:
    path.write_text("customer_id,name,segment\n" + "".join(f"{c},Name {c},{'AB'[i % 2]}\n"
                                                           for i, c in enumerate(CUSTOMERS)), encoding="utf-8")
    return path


def write_products(path: Path) -> Path:
    """A Parquet dimension table keyed by `id`: only the values tie the orders' product_sk to it."""
    table = pa.table({"id": pa.array(range(1, 8), pa.int64()),
                      "p_name": [f"P{i}" for i in range(1, 8)],
                      "p_price": pa.array([1.5 * i for i in range(1, 8)], pa.float64())})
    pq.write_table(table, path)
    return path


@pytest.fixture
def star(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "raw"
    folder.mkdir()
    return {"orders": write_orders(folder / "orders.csv"), "customers": write_customers(folder / "customers.csv"),
            "products": write_products(folder / "products.parquet")}
