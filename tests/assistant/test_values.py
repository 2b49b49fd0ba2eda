"""Normalization and the vocabulary: known values, lookups of open dimensions."""

from __future__ import annotations

from assistant.normalize import normalize
from assistant.values import distinct_sql
from assistant.vocabulary import build_vocabulary


def test_normalize_keeps_case_and_drops_trailing_punctuation() -> None:
    assert normalize("  What\u2019s revenue   in OR?? ") == "what is revenue in OR"
    assert normalize("Texas's sales vs. Ohio") == "Texas sales vs Ohio"


def test_open_dimension_values_come_from_the_smallest_table_with_the_column() -> None:
    assert "superstore.superstore_yearly" in distinct_sql("superstore", "sub_category")
    assert "superstore.superstore " in distinct_sql("superstore", "customer") + " "
    assert "CAST(customer_name AS TEXT) AS value" in distinct_sql("superstore", "customer")


def test_vocabulary_knows_synonyms_and_distinct_counts() -> None:
    vocab = build_vocabulary("retail_sales")
    assert vocab.metric_phrases["turnover"] == "revenue"
    assert vocab.metric_phrases["how many products"] == "distinct_product"
    assert vocab.dimension_phrases["sub-categories"] == "sub_category"
