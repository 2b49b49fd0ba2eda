"""One suite every backend passes: same numbers as the base rows, guarded, capped, parameterised."""

from __future__ import annotations

from collections.abc import Iterator
import datetime as dt
from decimal import Decimal
from typing import Any
import uuid

import pytest

from retail_insights.errors import UsageError
from retail_insights.settings import get_settings
from warehouse import views
from warehouse.backends import Backend, QueryResult, backend_names, get_backend
from warehouse.guard import UnsafeSQL

BACKENDS = ["duckdb", pytest.param("bigquery", marks=pytest.mark.bigquery)]


def _truth(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Revenue and orders of non-cancelled orders by category, summed in Python from the rows."""
    totals: dict[Any, list[Any]] = {}
    for row in rows:
        if row["status"] != "Cancelled":
            entry = totals.setdefault(row["category"], [Decimal(0), 0])
            entry[0] += row["revenue"]
            entry[1] += 1
    return sorted(
        ((c, r, n) for c, (r, n) in totals.items()), key=lambda t: (t[0] is None, t[0] or "")
    )


@pytest.fixture(params=BACKENDS)
def backend(
    request: pytest.FixtureRequest,
    make_silver: Any,
    write_silver: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[Backend, list[dict[str, Any]]]]:
    rows = make_silver("retail_sales", 150, seed=21, start=dt.date(2024, 11, 15), days=75)
    write_silver("retail_sales", rows)
    views.refresh("retail_sales")
    if request.param == "bigquery":
        emulator = request.getfixturevalue("bq_emulator")
        monkeypatch.setenv("RETAIL_BIGQUERY__PROJECT", emulator.project)
        monkeypatch.setenv("RETAIL_BIGQUERY__API_ENDPOINT", emulator.endpoint)
        monkeypatch.setenv("RETAIL_BIGQUERY__DATASET_PREFIX", f"t{uuid.uuid4().hex[:10]}")
        get_settings.cache_clear()
    with get_backend(request.param, dataset="retail_sales") as chosen:
        chosen.publish()
        yield chosen, rows.to_pylist()


def test_views_and_base_table_give_the_rows_revenue_by_category(
    backend: tuple[Backend, list[dict[str, Any]]],
) -> None:
    chosen, rows = backend
    from_view = chosen.query(
        "SELECT category, SUM(revenue) AS revenue, SUM(orders) AS orders FROM sales_monthly "
        "WHERE status <> 'Cancelled' GROUP BY category ORDER BY category NULLS LAST"
    )
    from_base = chosen.query(
        "SELECT category, SUM(revenue) AS revenue, COUNT(*) AS orders FROM sales "
        "WHERE status <> 'Cancelled' GROUP BY category ORDER BY category NULLS LAST"
    )
    assert from_view.rows == from_base.rows == _truth(rows)


def test_every_grain_sums_to_the_same_total(backend: tuple[Backend, list[dict[str, Any]]]) -> None:
    chosen, rows = backend
    queries = [
        "SELECT SUM(units) FROM sales_hourly",
        "SELECT SUM(units) FROM sales_daily",
        "SELECT SUM(units) FROM sales_monthly",
        "SELECT SUM(units) FROM sales_yearly",
    ]
    assert [chosen.query(sql).rows for sql in queries] == [
        [(sum(r["quantity"] for r in rows),)]
    ] * 4


def test_a_result_carries_columns_rows_the_sql_run_and_read_statistics(
    backend: tuple[Backend, list[dict[str, Any]]],
) -> None:
    chosen, _ = backend
    result = chosen.query(
        "SELECT year, month, SUM(orders) AS orders FROM sales_monthly GROUP BY 1, 2 ORDER BY 1, 2"
    )
    assert isinstance(result, QueryResult)
    assert result.columns == ("year", "month", "orders")
    assert [(y, m) for y, m, _ in result.rows] == [(2024, 11), (2024, 12), (2025, 1)]
    assert sum(n for _, _, n in result.rows) == 150
    assert "LIMIT" in result.sql and result.bytes_read is not None and result.elapsed_ms >= 0


def test_named_parameters_are_bound_not_spliced(
    backend: tuple[Backend, list[dict[str, Any]]],
) -> None:
    chosen, rows = backend
    result = chosen.query("SELECT COUNT(*) AS n FROM sales WHERE state = $state", {"state": "CA"})
    assert result.rows == [(sum(1 for r in rows if r["state"] == "CA"),)]


def test_rows_are_capped_at_max_rows(
    backend: tuple[Backend, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen, _ = backend
    monkeypatch.setenv("RETAIL_SQL__MAX_ROWS", "7")
    get_settings.cache_clear()
    assert len(chosen.query("SELECT order_id FROM sales").rows) == 7


def test_writes_are_refused_before_reaching_the_engine(
    backend: tuple[Backend, list[dict[str, Any]]],
) -> None:
    chosen, _ = backend
    with pytest.raises(UnsafeSQL, match=r"DELETE is not allowed"):
        chosen.query("DELETE FROM sales")
    assert chosen.query("SELECT COUNT(*) FROM sales").rows == [(150,)]


def test_capabilities_say_what_each_backend_can_do(
    backend: tuple[Backend, list[dict[str, Any]]],
) -> None:
    chosen, _ = backend
    if chosen.capabilities.dry_run:
        assert chosen.dry_run("SELECT SUM(revenue) FROM sales") >= 0
    else:
        with pytest.raises(
            UsageError, match=rf"backend '{chosen.name}' cannot estimate a query before running it"
        ):
            chosen.dry_run("SELECT SUM(revenue) FROM sales")


def test_unknown_backend_name_suggests_the_closest() -> None:
    with pytest.raises(UsageError, match=r"unknown backend 'bigqeury'.*Did you mean 'bigquery'"):
        get_backend("bigqeury")


def test_registry_lists_duckdb_and_bigquery_and_defaults_to_duckdb() -> None:
    assert backend_names() == ["bigquery", "duckdb"]
    assert get_backend().name == "duckdb"
