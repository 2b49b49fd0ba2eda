"""Metric names: the model's, distinct counts, and per-entity ratios, with one definition each."""

from __future__ import annotations

import pytest

from assistant.errors import UnknownMetric, UnsupportedIntent
from assistant.measures import known, measure, ratio_name


def test_a_ratio_divides_a_sum_by_an_entity_count_keeping_the_row_filter() -> None:
    m = measure("retail_sales", ratio_name("revenue", "customer"))
    assert m.base == "(SUM(revenue)) / NULLIF(COUNT(DISTINCT customer_id), 0)"
    assert m.filter == "not_cancelled" and m.format == "currency" and m.label == "revenue per customer"
    assert m.additive is None                       # distinct customers do not add up over views


def test_a_ratio_of_two_additive_parts_can_use_a_view() -> None:
    assert measure("retail_sales", ratio_name("units", "order")).additive == "(SUM(units)) / NULLIF(SUM(orders), 0)"


def test_distinct_counts_of_a_dimension() -> None:
    m = measure("superstore", "distinct_city")
    assert m.base == "COUNT(DISTINCT city)" and m.format == "integer"


def test_ratios_of_ratios_and_of_other_rows_are_refused() -> None:
    with pytest.raises(UnsupportedIntent, match="cannot be divided per order"):
        measure("retail_sales", ratio_name("margin", "order"))
    with pytest.raises(UnsupportedIntent):
        measure("retail_sales", ratio_name("cancelled_orders", "customer"))   # cancelled rows vs kept ones
    assert not known("retail_sales", ratio_name("orders", "order"))


def test_an_unknown_name_says_which_exist() -> None:
    with pytest.raises(UnknownMetric, match="unknown metric 'salez'"):
        measure("superstore", "salez")
