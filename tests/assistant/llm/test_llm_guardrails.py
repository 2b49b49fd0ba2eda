"""The LLM tier's guardrails: warehouse.guard over the tier's narrower catalog, plus its stricter rules."""

from __future__ import annotations

import re

import pytest

from assistant.llm.guardrails import GuardedSQL, RejectedSQL, allowed_tables, check, table_catalog

DATASET = "retail_sales"


def guarded(sql: str, *, max_rows: int = 100) -> GuardedSQL:
    return check(sql, table_catalog(DATASET), max_rows=max_rows)


def test_the_catalog_holds_the_silver_table_and_views_only() -> None:
    catalog = table_catalog(DATASET)
    assert set(catalog.tables) == {DATASET} and catalog.default_schema == DATASET
    assert set(catalog.tables[DATASET]) == set(allowed_tables(DATASET))
    assert allowed_tables(DATASET) == (
        "sales", "sales_yearly", "sales_monthly", "sales_monthly_geo", "sales_monthly_channel",
        "sales_monthly_product", "sales_daily", "sales_daily_totals", "sales_daily_geo",
        "sales_daily_mix", "sales_hourly")
    assert "revenue" in catalog.tables[DATASET]["sales"]


def test_an_accepted_query_gets_the_tiers_limit_and_names_what_it_reads() -> None:
    safe = guarded("select state, sum(revenue) as r from sales group by 1 order by 2 desc limit 5000")
    assert safe.sql == "SELECT state, SUM(revenue) AS r FROM sales GROUP BY 1 ORDER BY 2 DESC LIMIT 100"
    assert safe.tables == ((DATASET, "sales"),) and safe.limit == 100
    assert guarded("SELECT SUM(revenue) FROM retail_sales.sales_monthly").sql.endswith("LIMIT 100")


@pytest.mark.parametrize(("sql", "kind", "message"), [
    ("DROP TABLE sales", "unsafe", "DROP is not allowed"),
    ("SELECT 1 FROM sales; DELETE FROM sales", "unsafe", "2 statements found"),
    ("EXPORT DATABASE '/tmp/x'", "unsafe", "could not parse"),           # no sqlglot tree, but a write word
    ("SELECT * FROM '/etc/passwd'", "unsafe", "unknown table '/etc/passwd'"),
    ("SELECT * FROM information_schema.tables", "unsafe", "unknown table"),
    ("SELECT * FROM range(10)", "unsafe", "table function generate_series() is not allowed in generated SQL"),
    ("SELECT u FROM unnest([1, 2]) AS t(u)", "unsafe", "table function unnest() is not allowed"),
    ("SELECT getenv('HOME') FROM sales", "unsafe", "function getenv() is not allowed"),
    ("SELECT * FROM quarantine", "invalid", "unknown table 'quarantine'"),
    ("SELECT SUM(sales) FROM superstore.superstore", "invalid", "unknown table 'superstore.superstore'"),
    ("SELECT net FROM sales", "invalid", "unknown column"),
    ("SELEC revenue FROM sales", "invalid", "could not parse"),
    ("-- only a comment", "invalid", "0 statements found"),
    ("SELECT SUM(revenue) FROM sales WHERE state = ?", "invalid", "parameter placeholders"),
    ("SELECT 42 AS answer", "invalid", "the query reads none of the tables"),
])
def test_rejections_say_why_and_whether_a_repair_may_follow(sql: str, kind: str, message: str) -> None:
    with pytest.raises(RejectedSQL, match=re.escape(message)) as caught:
        guarded(sql)
    assert caught.value.kind == kind


def test_unnest_of_a_column_in_the_select_list_is_still_allowed() -> None:
    safe = guarded("SELECT unnest(warnings) AS code, COUNT(*) AS n FROM sales GROUP BY 1")
    assert safe.tables == ((DATASET, "sales"),)
