"""The BigQuery backend against the emulator (bqemulator, DuckDB-backed) on loopback.

What the emulator lacks, and so what is not checked here:
- dry runs report 0 bytes and ``maximum_bytes_billed`` is not enforced, so the refusal of a query
  above the byte cap (``QueryTooExpensive``) cannot be provoked;
- materialized views exist only through DDL: tables.get/list do not show them (their clustering
  cannot be read back) and a materializedView definition sent to tables.insert is ignored, which
  is why the backend creates them with ``CREATE OR REPLACE MATERIALIZED VIEW``;
- no query plan, so ``rows_read`` is None.
Everything else below runs for real: dataset and table creation with partitioning and clustering,
Parquet load jobs, materialized views over the loaded table, transpiled queries with parameters.
"""

from __future__ import annotations

from collections.abc import Iterator
import datetime as dt
from typing import Any
import uuid

from deltalake import write_deltalake
import pyarrow as pa
import pytest

from retail_insights.settings import get_settings
from warehouse import views
from warehouse.backends import get_backend
from warehouse.backends.bigquery import BigQueryBackend
from warehouse.schema import quarantine_schema
from warehouse.spec import load_dataset

pytestmark = pytest.mark.bigquery


@pytest.fixture
def bigquery(bq_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[BigQueryBackend]:
    monkeypatch.setenv("RETAIL_BIGQUERY__PROJECT", bq_emulator.project)
    monkeypatch.setenv("RETAIL_BIGQUERY__API_ENDPOINT", bq_emulator.endpoint)
    monkeypatch.setenv("RETAIL_BIGQUERY__DATASET_PREFIX", f"t{uuid.uuid4().hex[:10]}")
    get_settings.cache_clear()
    backend = get_backend("bigquery")
    assert isinstance(backend, BigQueryBackend)
    yield backend
    backend.close()


def _quarantine_rows(n: int) -> pa.Table:
    schema = quarantine_schema(load_dataset("retail_sales").spec)
    now = dt.datetime(2025, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    row = {f.name: None for f in schema} | {
        "order_id": "q1",
        "reason_codes": ["BAD_STATE"],
        "reasons": "state 'ZZ'",
        "year": 2025,
        "month": 2,
        "ingested_at": now,
    }
    return pa.Table.from_pylist([row | {"order_id": f"q{i}"} for i in range(n)], schema=schema)


def test_publish_creates_date_partitioned_clustered_tables_and_materialized_views(
    bigquery: BigQueryBackend,
    make_silver: Any,
    write_silver: Any,
) -> None:
    write_silver("retail_sales", make_silver("retail_sales", 80, seed=2))
    write_deltalake(
        str(get_settings().table_path("retail_sales", "quarantine")),
        _quarantine_rows(3),
        partition_by=["year", "month"],
    )
    published = bigquery.publish("retail_sales")
    assert published.tables == (
        "sales",
        "quarantine",
        "sales_yearly",
        "sales_monthly",
        "sales_monthly_geo",
        "sales_monthly_channel",
        "sales_monthly_product",
        "sales_daily",
        "sales_daily_totals",
        "sales_daily_geo",
        "sales_daily_mix",
        "sales_hourly",
    )

    sales = bigquery.client.get_table(f"{published.location}.sales")
    assert (sales.time_partitioning.type_, sales.time_partitioning.field) == ("DAY", "order_date")
    assert sales.clustering_fields == ["category", "state"] and sales.num_rows == 80
    assert {f.name: (f.field_type, f.mode) for f in sales.schema}["warnings"] == (
        "STRING",
        "REPEATED",
    )
    quarantine = bigquery.client.get_table(f"{published.location}.quarantine")
    assert quarantine.time_partitioning.field == "ingested_at" and quarantine.num_rows == 3

    assert bigquery.query("SELECT SUM(orders) FROM sales_hourly").rows == [(80,)]
    assert bigquery.query("SELECT reason_codes FROM quarantine LIMIT 1").rows == [(["BAD_STATE"],)]


def test_materialized_views_follow_the_loaded_table_and_match_duckdb(
    bigquery: BigQueryBackend,
    make_silver: Any,
    write_silver: Any,
) -> None:
    write_silver(
        "superstore", make_silver("superstore", 60, seed=8, start=dt.date(2016, 11, 1), days=100)
    )
    views.refresh("superstore")
    bigquery.dataset = "superstore"
    bigquery.publish()
    sql = (
        "SELECT year, region, SUM(sales) AS sales, SUM(order_lines) AS lines, "
        "SUM(days_to_ship_sum) AS ship "
        "FROM superstore_monthly GROUP BY 1, 2 ORDER BY 1, 2 NULLS LAST"
    )
    assert bigquery.query(sql).rows == get_backend("duckdb", dataset="superstore").query(sql).rows


def test_queries_are_transpiled_to_bigquery_with_the_tables_fully_qualified(
    bigquery: BigQueryBackend,
    make_silver: Any,
    write_silver: Any,
) -> None:
    write_silver("retail_sales", make_silver("retail_sales", 20, seed=4))
    published = bigquery.publish()
    result = bigquery.query(
        "SELECT DATE_TRUNC('month', s.order_ts) AS m, COUNT(*) AS n FROM sales AS s "
        "WHERE s.state = $state GROUP BY 1 ORDER BY 1",
        {"state": "TX"},
    )
    project, dataset = published.location.split(".")
    assert result.sql == (
        "SELECT TIMESTAMP_TRUNC(s.order_ts, MONTH) AS m, COUNT(*) AS n "
        f"FROM `{project}`.{dataset}.sales "
        "AS s WHERE s.state = @state GROUP BY 1 ORDER BY 1 NULLS LAST LIMIT 10000"
    )
    assert all(m.tzinfo is not None and m.day == 1 for m, _ in result.rows)
    assert result.rows_read is None and result.bytes_read == 0  # the emulator reports neither


def test_dry_run_estimates_without_running(
    bigquery: BigQueryBackend, make_silver: Any, write_silver: Any
) -> None:
    write_silver("retail_sales", make_silver("retail_sales", 5, seed=4))
    bigquery.publish()
    assert bigquery.capabilities.dry_run and bigquery.dry_run("SELECT SUM(revenue) FROM sales") >= 0
