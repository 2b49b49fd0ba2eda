"""SQL files: loading by name, placeholder rendering, transpiling at the edge.

The per-view snapshots of the rendered SQL are in ``test_view_definitions.py``.
"""

from __future__ import annotations

import pytest
from sqlglot import exp

from retail_insights.errors import ConfigError, UsageError
from warehouse import sqlfiles


def test_unknown_sql_file_name_suggests_the_closest() -> None:
    with pytest.raises(
        UsageError, match=r"unknown SQL file 'view_rolup'.*Did you mean 'view_rollup'"
    ):
        sqlfiles.load("view_rolup")


def test_render_refuses_a_missing_placeholder() -> None:
    with pytest.raises(ConfigError, match=r"missing \['files'\]"):
        sqlfiles.render("parquet_files", {"columns": [exp.column("a")]})


def test_render_refuses_an_unknown_placeholder() -> None:
    with pytest.raises(ConfigError, match=r"unknown \['colums'\]"):
        sqlfiles.render(
            "empty_relation", {"columns": [exp.column("a")], "colums": [exp.column("b")]}
        )


def test_render_splices_a_list_into_the_select_list_and_drops_template_comments() -> None:
    query = sqlfiles.render("empty_relation", {"columns": [exp.column("a"), exp.column("b")]})
    assert sqlfiles.to_sql(query, pretty=False) == "SELECT a, b WHERE FALSE"


def test_bound_parameters_are_not_taken_for_placeholders() -> None:
    assert sqlfiles.placeholders("catalog_columns") == set()


def test_the_batch_losers_query_takes_the_key_and_the_version_column() -> None:
    assert sqlfiles.placeholders("batch_losers") == {"key", "order"}


def test_transpile_turns_duckdb_date_trunc_into_bigquery_timestamp_trunc() -> None:
    sql = sqlfiles.transpile(
        "SELECT DATE_TRUNC('month', order_ts) FROM sales", to="bigquery", pretty=False
    )
    assert sql == "SELECT TIMESTAMP_TRUNC(order_ts, MONTH) FROM sales"
