"""The profiler reads types, keys, dates, measures and dimensions the way the ingest will."""

from __future__ import annotations

import duckdb
import pytest

from retail_insights.errors import UsageError
from retail_insights.onboarding.profile import profile_file, profile_files, snake
from retail_insights.onboarding.relationships import find_relationships, names_match


def test_headers_become_snake_case_names():
    assert snake("Sub-Category") == "sub_category"
    assert snake("\ufeffRow ID") == "row_id"


def test_csv_columns_get_types_the_ingest_parses_dates_in_text_included(star):
    profile = profile_file(star["orders"], con=duckdb.connect())
    types = {c.name: c.type for c in profile.columns}
    assert types == {"line_id": "int64", "order_date": "date", "customer_id": "string", "product_sk": "int64",
                     "region": "string", "amount": "decimal(18,2)", "units": "int64", "discount": "decimal(18,2)"}
    assert profile.column("order_date").duck_type == "VARCHAR"  # mixed formats: text to DuckDB


def test_the_unique_never_empty_column_is_the_key_and_roles_follow(star):
    profile = profile_file(star["orders"], con=duckdb.connect())
    assert profile.key == ("line_id",)
    roles = {c.name: c.role for c in profile.columns}
    assert roles["order_date"] == "date"
    assert roles["amount"] == roles["units"] == "measure"
    assert roles["region"] == "dimension" and profile.column("region").members == ("East", "West")
    assert roles["customer_id"] == roles["product_sk"] == "identifier"
    assert profile.column("amount").null_fraction == 0.0 and profile.column("amount").distinct == 40


def test_parquet_types_come_from_its_schema(star):
    profile = profile_file(star["products"], con=duckdb.connect())
    assert {c.name: c.type for c in profile.columns} == {"id": "int64", "p_name": "string",
                                                          "p_price": "decimal(18,2)"}
    assert profile.key[0] == "id"


def test_a_pair_of_columns_is_the_key_when_no_single_column_is(tmp_path):
    path = tmp_path / "lines.csv"
    path.write_text("ticket,item,qty\n" + "".join(f"{t},{i},{1 + (t + i) % 2}\n" for t in range(5) for i in range(3)))
    assert profile_file(path, con=duckdb.connect()).key == ("ticket", "item")


def test_relationships_are_found_by_name_and_by_contained_values(star):
    con = duckdb.connect()
    found = {(r.column, r.target): r for r in find_relationships(profile_files(list(star.values()), con=con), con=con)}
    by_values = found[("product_sk", "products")]
    assert by_values.contained and not by_values.by_name and by_values.target_column == "id"
    assert names_match("ss_item_sk", "i_item_sk") and names_match("product_sk", "p_product_sk")
    assert not names_match("units", "i_item_sk")
    named = found[("customer_id", "customers")]
    assert named.confident and named.target_column == "customer_id"


def test_only_csv_and_parquet_are_profiled(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("x")
    with pytest.raises(UsageError, match="only CSV and Parquet"):
        profile_file(path, con=duckdb.connect())
