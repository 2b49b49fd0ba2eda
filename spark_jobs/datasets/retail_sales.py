"""retail_sales (SPEC 1.2, 1.3): state codes, order date parts, Census region and money columns.

Money is computed in decimal, never float: ``revenue = round(quantity * unit_price * (1 - discount),
2)`` and ``cost = round(quantity * unit_cost, 2)`` round half away from zero (like SQL ROUND on
decimals), ``profit = revenue - cost``. The products are formed in a decimal type wide enough that
no input the parsers accept can overflow; the suite's bounds keep every clean row in decimal(18,2).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from spark_jobs.parse import map_values
from warehouse.geo import region_of, resolve_state

OLD_ORDER_YEARS = 10


def prepare(values: dict[str, pa.Array], text: dict[str, pa.Array]) -> None:
    values["state"] = map_values(text["state"], resolve_state)  # null when not one of the 51
    values["region"] = map_values(pc.fill_null(values["state"], ""), lambda code: region_of(code) if code else None)
    order_date = values["order_ts"].cast(pa.date32())  # the timestamps are UTC, so this is the UTC date
    values["order_date"] = order_date
    values["year"] = pc.year(order_date).cast(pa.int32())
    values["month"] = pc.month(order_date).cast(pa.int32())
    quantity, decimal = _quantity_as_decimal(values["quantity"])
    revenue = pc.multiply(pc.multiply(quantity, values["unit_price"].cast(decimal(18, 4))),
                          pc.subtract(pa.scalar(Decimal(1), decimal(1, 0)), values["discount"].cast(decimal(6, 4))))
    cost = pc.multiply(quantity, values["unit_cost"].cast(decimal(18, 4)))
    values["revenue"] = pc.round(revenue, ndigits=2, round_mode="half_towards_infinity")
    values["cost"] = pc.round(cost, ndigits=2, round_mode="half_towards_infinity")
    values["profit"] = pc.subtract(values["revenue"], values["cost"])


def _quantity_as_decimal(quantity: pa.Array) -> tuple[pa.Array, Any]:
    """Quantity as a decimal, and the decimal type family the products fit in without overflow.

    Up to 7 digits, quantity * price(18) * (1 - discount)(7) needs 34 digits: decimal128, which
    Arrow multiplies several times faster than decimal256 (needed for the 18-digit worst case).
    """
    wide = quantity.cast(pa.decimal128(19, 0))
    bounds = pc.min_max(quantity).as_py()
    if bounds["min"] is None or (-(10**7) < bounds["min"] and bounds["max"] < 10**7):
        return wide.cast(pa.decimal128(7, 0)), pa.decimal128
    return quantity.cast(pa.decimal256(19, 0)), pa.decimal256


def suite_parameters(ingested_at: datetime) -> dict[str, Any]:
    """``ingested_at`` (FUTURE_ORDER) and the first order date that is not OLD_ORDER."""
    day = ingested_at.date()
    try:
        cutoff = day.replace(year=day.year - OLD_ORDER_YEARS)
    except ValueError:  # 29 February -> 28 February ten years earlier
        cutoff = date(day.year - OLD_ORDER_YEARS, 2, 28)
    return {"ingested_at": pd.Timestamp(ingested_at), "ten_years_before_ingestion": pd.Timestamp(cutoff, tz="UTC")}
