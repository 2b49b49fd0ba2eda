"""Normalization and the vocabulary: known values, lookups of open dimensions."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from assistant.normalize import normalize
from assistant.values import ValueCatalog, distinct_sql
from assistant.vocabulary import build_vocabulary
from warehouse.backends.base import QueryResult


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


def test_a_new_data_version_with_the_same_values_keeps_its_vocabulary_and_new_values_make_a_new_one(
        warehouse: Path, catalog_runner: object) -> None:
    """What a vocabulary carries (its speller, the readings of questions) stays valid across a load of
    orders in known places; a load that brings a new city gets a vocabulary that knows it."""
    missing: list[str] = ["Jacksonville"]        # as before the load that brought the city

    class WithoutMissing:
        """The real runner; its answers lose the rows naming a value in ``missing``."""

        def query(self, sql: str, params: object = ()) -> QueryResult:
            result = catalog_runner.query(sql, params)
            return replace(result, rows=[r for r in result.rows if not any(str(v) in missing for v in r)])

    values = ValueCatalog(lambda dataset: WithoutMissing())
    first = values.vocabulary("superstore", data_version=1)
    assert values.vocabulary("superstore", data_version=2) is first
    missing.clear()
    third = values.vocabulary("superstore", data_version=3)
    assert third is not first and "jacksonville" in third.value_words and "jacksonville" not in first.value_words
