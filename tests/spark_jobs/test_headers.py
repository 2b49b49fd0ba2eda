"""spark_jobs.headers: a file's own headers become the spec's column names."""

from __future__ import annotations

import pandas as pd
import pytest

from retail_insights.errors import DataError
from spark_jobs.headers import normalize_headers, raw_columns
from warehouse.spec import load_dataset

STORE = load_dataset("superstore").spec
HEADERS = ["\ufeffRow ID", "Order ID", "Order Date", "Ship Date", "Ship Mode", "Customer ID", "Customer Name",
           "Segment", "Country", "City", "State", "Postal Code", "Region", "Product ID", "Category",
           "Sub-Category", "Product Name", "Sales", "Quantity", "Discount", "Profit"]


def test_superstore_headers_with_a_byte_order_mark_become_snake_case_names():
    frame = pd.DataFrame([["x"] * len(HEADERS)], columns=HEADERS).assign(source_line=2)
    out = normalize_headers(frame, STORE)
    assert list(out.columns) == raw_columns(STORE) + ["source_line"]
    assert out.loc[0, "row_id"] == "x" and out.loc[0, "source_line"] == 2


def test_spec_names_in_any_case_are_accepted_and_unknown_columns_dropped():
    frame = pd.DataFrame({"ORDER_ID": ["1"], "Order TS": ["t"], "extra": ["?"]})
    out = normalize_headers(frame, load_dataset("retail_sales").spec)
    assert out.loc[0, "order_id"] == "1" and out.loc[0, "order_ts"] == "t"
    assert "extra" not in out.columns and out.loc[0, "status"] == ""  # absent optional columns are empty


def test_a_missing_required_column_fails_once_for_the_file():
    frame = pd.DataFrame([["x"] * 20], columns=[h for h in HEADERS if h != "Order Date"])
    with pytest.raises(DataError, match="superstore: the file has no column 'Order Date'"):
        normalize_headers(frame, STORE)


def test_two_headers_for_one_column_fail():
    frame = pd.DataFrame({"Row ID": ["1"], "row_id": ["2"]})
    with pytest.raises(DataError, match="two headers name the column 'row_id'"):
        normalize_headers(frame, STORE)
