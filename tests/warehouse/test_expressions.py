"""Declared expressions: checked at load time with messages that name the fix, compiled over source columns."""

from __future__ import annotations

import pytest

from retail_insights.errors import ConfigError
from warehouse.expressions import Step, compile_columns, sql_type

SOURCE = {"quantity": "int64", "price": "decimal(18,4)", "state": "string", "sold_at": "timestamp"}


def _compile(*steps: tuple[str, str, str]):
    return compile_columns(SOURCE, tuple(Step(c, t, sql, "test.yaml") for c, t, sql in steps))


def test_a_reference_to_an_earlier_column_is_inlined_so_every_output_reads_source_columns_only():
    revenue, doubled = _compile(("revenue", "decimal(18,2)", "round(quantity * price, 2)"),
                                ("doubled", "decimal(18,2)", "revenue * 2"))
    assert doubled.inputs == ("quantity", "price")
    assert doubled.tree.sql(dialect="duckdb") == (
        "CAST((CAST(ROUND(quantity * price, 2) AS DECIMAL(18, 2))) * 2 AS DECIMAL(18, 2))")
    assert revenue.type == "decimal(18,2)"


def test_a_fix_is_seen_by_the_expressions_after_it():
    _, region = _compile(("state", "string", "us_state_code(state)"), ("region", "string", "census_region(state)"))
    assert "CENSUS_REGION((CAST(US_STATE_CODE(state) AS TEXT)))" in region.tree.sql(dialect="duckdb")


def test_an_unknown_column_names_the_known_ones():
    with pytest.raises(ConfigError, match=r"test.yaml: the expression of 'revenue' reads unknown column 'quantiy'"
                                          r".*Did you mean 'quantity'"):
        _compile(("revenue", "decimal(18,2)", "quantiy * price"))


@pytest.mark.parametrize(("sql", "what"), [("SUM(quantity)", "SUM"), ("(SELECT 1)", "SUBQUERY"),
                                           ("row_number() OVER ()", "WINDOW")])
def test_an_expression_must_be_computed_row_by_row(sql, what):
    with pytest.raises(ConfigError, match=f"uses {what}.*computed row by row"):
        _compile(("x", "int64", sql))


def test_a_function_that_reads_files_or_settings_is_refused():
    with pytest.raises(ConfigError, match=r"getenv\(\) is not allowed"):
        _compile(("x", "string", "getenv('HOME')"))


def test_sql_that_does_not_parse_names_the_column_and_the_text():
    with pytest.raises(ConfigError, match=r"the expression of 'x' is not valid DuckDB SQL.*in 'quantity \* \* 2\)'"):
        _compile(("x", "int64", "quantity * * 2)"))


def test_spec_types_map_to_duckdb_types_and_others_are_refused():
    assert sql_type("decimal(18,2)").sql(dialect="duckdb") == "DECIMAL(18, 2)"
    assert sql_type("timestamp").sql(dialect="duckdb") == "TIMESTAMPTZ"
    with pytest.raises(ConfigError, match="cannot produce type 'list<string>'"):
        sql_type("list<string>")
