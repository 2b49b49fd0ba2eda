"""SQL over the smallest view that answers, metric filters per aggregate, values as parameters."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.compiler import Compiler
from assistant.errors import UnsupportedIntent
from assistant.intent import Intent, TimeWindow
from assistant.router import Router
from retail_insights.errors import UsageError

AS_OF = date(2024, 7, 1)


def compiled(question: str, dataset: str = "retail_sales"):
    route = Router().parse(question, dataset=dataset, as_of=AS_OF)
    assert route.complete, route.reason
    return Compiler().compile(route.intent)


def test_routes_state_question_to_monthly_view() -> None:
    query = compiled("revenue by state in March 2024")
    assert query.source.table == "sales_monthly"
    assert "retail_sales.sales_monthly" in query.sql


def test_whole_years_use_the_yearly_view() -> None:
    assert compiled("profit by category in 2023").source.table == "sales_yearly"
    assert compiled("Profit by region in 2016", "superstore").source.table == "superstore_yearly"


def test_windows_not_aligned_to_months_use_the_daily_view() -> None:
    assert compiled("revenue last 7 days").source.table == "sales_daily"
    assert compiled("revenue between 2024-02-10 and 2024-03-05").source.table == "sales_daily"
    assert compiled("weekly orders in Q2 2024").source.table == "sales_daily"


def test_hourly_questions_use_the_hourly_view() -> None:
    assert compiled("orders by hour yesterday").source.table == "sales_hourly"


def test_distinct_customers_need_the_base_table() -> None:
    query = compiled("how many customers in 2023")
    assert query.source.kind == "base" and "COUNT(DISTINCT customer_id)" in query.sql


def test_dimensions_outside_the_views_and_ship_dates_need_the_base_table() -> None:
    assert compiled("revenue by city in 2023").source.table == "sales"
    assert compiled("orders by ship date in May 2024").source.table == "sales"
    assert "ship_date" in compiled("orders by ship date in May 2024").sql
    assert compiled("top 5 customers by sales in 2017", "superstore").source.table == "superstore"
    assert compiled("orders by segment in 2015", "superstore").source.kind == "base"   # distinct order ids


def test_user_values_are_parameters_not_sql_text() -> None:
    query = compiled("revenue in Texas in March 2024")
    assert "TX" not in query.sql and "2024" not in query.sql
    assert query.params == ("TX", date(2024, 3, 1), date(2024, 4, 1))
    assert query.sql.count("?") == len(query.params)


def test_a_shared_metric_filter_goes_to_where() -> None:
    query = compiled("revenue and profit by status in 2023")
    assert "WHERE" in query.sql and "FILTER" not in query.sql and "status <> 'Cancelled'" in query.sql


def test_metrics_with_different_filters_each_keep_their_own() -> None:
    sql = compiled("revenue and cancellation rate in 2023").sql
    assert "SUM(revenue) FILTER(WHERE status <> 'Cancelled')" in sql
    assert "FILTER(WHERE status = 'Cancelled')" in sql


def test_compare_periods_filters_each_aggregate_by_its_window() -> None:
    query = compiled("revenue in March 2024 vs February 2024")
    assert query.columns == ("revenue", "revenue_compare", "revenue_change", "revenue_pct_change")
    assert query.params.count(date(2024, 2, 1)) == 2     # February's start: once in its FILTER, once in WHERE


def test_unknown_metric_names_the_allowed_ones() -> None:
    with pytest.raises(UsageError, match="unknown metric 'sales'. Allowed: .*'revenue'"):
        Compiler().compile(Intent("retail_sales", ("sales",), "total"))


def test_distribution_needs_a_known_bucketed_measure() -> None:
    window = TimeWindow(date(2023, 1, 1), date(2023, 12, 31), "2023")
    with pytest.raises(UnsupportedIntent, match="unknown bucketed measure 'price'"):
        Compiler().compile(Intent("retail_sales", ("orders",), "distribution", dimensions=("price",), time=window))
