"""Random silver rows for the warehouse tests (views, catalog, guard, backends).

Rows follow the silver schema of the dataset spec; dimension values come from the semantic model,
with a few nulls so grouping by a null dimension is exercised too. Tables are written with
``deltalake.write_deltalake`` partitioned by (year, month), as the commit layer lays them out.
"""

from __future__ import annotations

from collections.abc import Callable
import datetime as dt
from decimal import Decimal
from pathlib import Path
import random

from deltalake import write_deltalake
import pyarrow as pa
import pytest

from retail_insights.settings import get_settings
from warehouse.schema import silver_schema
from warehouse.spec import load_dataset

MakeSilver = Callable[..., pa.Table]
WriteSilver = Callable[..., Path]

_STATES = ("CA", "NY", "TX", "WA", "DC")


def _choices(dataset: str, column: str) -> tuple[str | None, ...]:
    ds = load_dataset(dataset)
    for dim in ds.semantic.dimensions.values():
        if dim.column == column and dim.values:
            return (*dim.values, None) if column == "category" else dim.values
    source = {c.name: c for c in ds.spec.source.columns}.get(column)
    if source is not None and source.allowed:
        return source.allowed
    if column == "state":
        return _STATES
    return (f"{column}-a", f"{column}-b", f"{column}-c", None)


def _value(dataset: str, field: pa.Field, rng: random.Random, when: dt.datetime) -> object:
    kind = field.type
    if pa.types.is_timestamp(kind):
        return when
    if pa.types.is_date(kind):
        return (
            when.date() + dt.timedelta(days=rng.randint(0, 6))
            if field.name == "ship_date"
            else when.date()
        )
    if pa.types.is_decimal(kind):
        scale = Decimal(1).scaleb(-kind.scale)
        top = 0.9 if field.name == "discount" else 500
        return Decimal(str(rng.uniform(0, top))).quantize(scale)
    if pa.types.is_integer(kind):
        return rng.randint(1, 5)
    if pa.types.is_list(kind):
        return rng.choice([[], ["HIGH_REVENUE"]])
    return rng.choice(_choices(dataset, field.name))


def make_rows(
    dataset: str,
    n: int,
    *,
    seed: int,
    start: dt.date = dt.date(2024, 11, 1),
    days: int = 120,
    ids_from: int = 0,
) -> pa.Table:
    """``n`` random silver rows with order times spread over ``days`` days from ``start`` (UTC)."""
    ds = load_dataset(dataset)
    schema = silver_schema(ds.spec)
    rng = random.Random(seed)
    origin = dt.datetime.combine(start, dt.time(), tzinfo=dt.timezone.utc)
    rows = []
    for i in range(n):
        when = origin + dt.timedelta(seconds=rng.randrange(days * 86400))
        row = {f.name: _value(dataset, f, rng, when) for f in schema}
        row["year"], row["month"] = when.year, when.month
        if dataset == "retail_sales":
            row["order_id"] = f"o{ids_from + i}"
            row["revenue"] = (row["quantity"] * row["unit_price"] * (1 - row["discount"])).quantize(
                Decimal("0.01")
            )
            row["cost"] = (row["quantity"] * row["unit_cost"]).quantize(Decimal("0.01"))
            row["profit"] = row["revenue"] - row["cost"]
        else:
            row["row_id"] = ids_from + i
            row["days_to_ship"] = (row["ship_date"] - row["order_date"]).days
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=schema)


def write_rows(
    dataset: str, rows: pa.Table, *, mode: str = "append", predicate: str | None = None
) -> Path:
    """Write rows to the dataset's silver table under the current RETAIL_HOME."""
    ds = load_dataset(dataset)
    path = get_settings().table_path(dataset, ds.spec.silver_table)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_deltalake(
        str(path), rows, partition_by=list(ds.spec.partitioning), mode=mode, predicate=predicate
    )
    return path


@pytest.fixture
def make_silver() -> MakeSilver:
    """``make_silver(dataset, n, seed=..., start=..., days=...)``: random silver rows."""
    return make_rows


@pytest.fixture
def write_silver() -> WriteSilver:
    """``write_silver(dataset, rows, mode="append") -> Path`` writes into the silver Delta table."""
    return write_rows
