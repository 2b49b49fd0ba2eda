"""Routing: one question per operation, and the questions the rules must not answer."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.intent import Filter
from assistant.router import Router

AS_OF = date(2024, 7, 1)


def route(question: str, dataset: str = "retail_sales"):
    return Router().parse(question, dataset=dataset, as_of=AS_OF)


def intent(question: str, dataset: str = "retail_sales"):
    result = route(question, dataset)
    assert result.complete, result.reason
    return result.intent


@pytest.mark.parametrize(("question", "operation"), [
    ("What was revenue last month?", "total"),
    ("Revenue by category in Q3 2023", "breakdown"),
    ("Top 5 states by profit this year", "top_n"),
    ("Compare online vs store orders last quarter", "compare_values"),
    ("revenue in March 2024 vs February 2024", "compare_periods"),
    ("revenue growth YoY in Q1 2024", "growth"),
    ("Monthly revenue trend for the West Coast in 2023", "trend"),
    ("share of revenue by channel last year", "share"),
    ("distribution of order values in 2023", "distribution"),
])
def test_routes_each_operation(question: str, operation: str) -> None:
    assert intent(question).operation == operation


def test_top_n_reads_number_and_direction() -> None:
    top = intent("bottom 3 categories by profit in 2023")
    assert (top.top_n, top.order, top.dimensions) == (3, "asc", ("category",))
    assert intent("which state had the most orders in 2023").top_n == 1
    assert intent("top states by revenue in 2023").top_n == 5


def test_growth_compares_with_the_same_period_a_year_earlier() -> None:
    growth = intent("revenue growth YoY in Q1 2024")
    assert (growth.compare_time.start, growth.compare_time.end) == (date(2023, 1, 1), date(2023, 3, 31))
    mom = intent("MoM revenue growth in June 2024")
    assert mom.compare_time.start == date(2024, 5, 1)


def test_compare_puts_the_later_period_first() -> None:
    compare = intent("compare revenue in 2023 and 2024")
    assert (compare.time.start.year, compare.compare_time.start.year) == (2024, 2023)


def test_previous_month_after_a_month_is_the_month_before_it() -> None:
    compare = intent("March 2024 revenue vs the previous month")
    assert compare.compare_time.start == date(2024, 2, 1)


def test_share_of_one_value_keeps_the_value_as_focus() -> None:
    share = intent("what share of revenue came from Electronics in 2023")
    assert share.dimensions == ("category",) and share.filters == (Filter("category", ("Electronics",)),)


def test_cancelled_orders_use_the_cancellation_metrics() -> None:
    assert intent("what percent of orders were cancelled in 2023").metrics == ("cancellation_rate",)
    assert intent("orders with status Cancelled in 2023").metrics == ("cancelled_orders",)


def test_distinct_counts_and_superstore_metrics() -> None:
    assert intent("how many products were sold in 2023").metrics == ("distinct_product",)
    assert intent("Average days to ship by ship mode", "superstore").metrics == ("days_to_ship",)
    assert intent("orders in 2017", "superstore").metrics == ("orders",)
    assert intent("order lines in 2017", "superstore").metrics == ("order_lines",)


def test_several_values_without_compare_words_are_one_filter() -> None:
    combined = intent("revenue for CA, OR and WA in 2023")
    assert combined.operation == "total" and combined.filters == (Filter("state", ("CA", "OR", "WA")),)


@pytest.mark.parametrize("question", [
    "weather in Paris", "revenue per employee", "forecast sales next month", "show me the data",
    "revenue growth", "revenue by warehouse",
])
def test_questions_outside_the_data_are_not_complete(question: str) -> None:
    result = route(question)
    assert not result.complete and result.intent is None and result.reason


def test_incomplete_route_says_what_it_understood() -> None:
    result = route("revenue per employee in 2023")
    assert result.unknown_words == ("employee",)
    assert result.understood.metrics == ("revenue",)
