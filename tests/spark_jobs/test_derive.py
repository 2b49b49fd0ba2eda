"""Declared expressions evaluated over a partition: exact decimals, named functions, lost values reported."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pyarrow as pa

from spark_jobs.derive import apply_expressions
from warehouse.spec import load_dataset


def _values(quantity, price, discount, cost, state, ts):
    return {
        "quantity": pa.array(quantity, pa.int64()),
        "unit_price": pa.array([Decimal(p) if p else None for p in price], pa.decimal128(18, 4)),
        "discount": pa.array([Decimal(d) for d in discount], pa.decimal128(6, 4)),
        "unit_cost": pa.array([Decimal(c) for c in cost], pa.decimal128(18, 4)),
        "state": pa.array(state, pa.string()),
        "order_ts": pa.array(ts, pa.timestamp("us", tz="UTC")),
    }


def test_retail_sales_money_is_decimal_and_rounds_half_away_from_zero():
    spec = load_dataset("retail_sales").spec
    values = _values([3, 1], ["19.99", "0.125"], ["0.15", "0"], ["5", "0.005"], ["texas", None],
                     [datetime(2024, 3, 31, 23, 30, tzinfo=UTC)] * 2)
    failed = apply_expressions(spec, values)
    assert values["revenue"].to_pylist() == [Decimal("50.97"), Decimal("0.13")]
    assert values["cost"].to_pylist() == [Decimal("15.00"), Decimal("0.01")]
    assert values["profit"].to_pylist() == [Decimal("35.97"), Decimal("0.12")]
    assert values["state"].to_pylist() == ["TX", None]
    assert values["region"].to_pylist() == ["South", None]
    assert values["order_date"].type == pa.date32() and values["month"].to_pylist() == [3, 3]
    assert values["year"].type == pa.int32()
    assert failed == {}


def test_an_overflow_gives_null_and_names_the_rows_instead_of_failing_the_partition():
    spec = load_dataset("retail_sales").spec
    values = _values([999_999_999_999_999_999, 2], ["99999999999999.9999", "1"], ["0", "0"], ["0", "0"],
                     ["TX", "Narnia"], [datetime(2024, 1, 1, tzinfo=UTC)] * 2)
    failed = apply_expressions(spec, values)
    assert values["revenue"].to_pylist() == [None, Decimal("2.00")]
    assert np.array_equal(failed["revenue"], [True, False])
    assert np.array_equal(failed["state"], [False, True])   # not one of the 51: BAD_STATE quarantines it


def test_superstore_postal_codes_regain_their_leading_zeros():
    spec = load_dataset("superstore").spec
    n = 3
    values = {c.name: pa.nulls(n, pa.string()) for c in spec.source.columns}
    values["postal_code"] = pa.array(["5408", "10024", None])
    values["order_date"] = pa.array([datetime(2016, 1, 2).date()] * n, pa.date32())
    values["ship_date"] = pa.array([datetime(2016, 1, 5).date(), None, None], pa.date32())
    apply_expressions(spec, values)
    assert values["postal_code"].to_pylist() == ["05408", "10024", None]
    assert values["days_to_ship"].to_pylist() == [3, None, None]
