"""The read-only SQL guard: one SELECT over known tables and columns; the rest refused by name."""

from __future__ import annotations

import pytest

from warehouse.guard import SafeQuery, TableCatalog, UnsafeSQL, check

CATALOG = TableCatalog(
    tables={
        "retail_sales": {
            "sales": {
                "order_id": "VARCHAR",
                "order_ts": "TIMESTAMPTZ",
                "state": "VARCHAR",
                "category": "VARCHAR",
                "status": "VARCHAR",
                "revenue": "DECIMAL(18,2)",
                "year": "INTEGER",
                "month": "INTEGER",
            },
            "sales_monthly": {
                "period_start": "TIMESTAMPTZ",
                "year": "INTEGER",
                "month": "INTEGER",
                "category": "VARCHAR",
                "revenue": "DECIMAL(38,2)",
                "orders": "BIGINT",
            },
        },
        "superstore": {
            "superstore": {"row_id": "BIGINT", "sales": "DECIMAL(18,4)", "region": "VARCHAR"}
        },
    },
    default_schema="retail_sales",
)


def _check(sql: str, max_rows: int = 100) -> SafeQuery:
    return check(sql, CATALOG, max_rows=max_rows)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "CREATE TABLE x AS SELECT 1",
            r"CREATE TABLE is not allowed: the SQL surface is read-only",
        ),
        ("CREATE OR REPLACE VIEW sales AS SELECT 1", r"CREATE VIEW is not allowed"),
        ("DROP TABLE sales", r"DROP is not allowed"),
        ("ALTER TABLE sales ADD COLUMN x INTEGER", r"ALTER(TABLE)? is not allowed"),
        ("INSERT INTO sales (order_id) VALUES ('x')", r"INSERT is not allowed"),
        ("UPDATE sales SET revenue = 0", r"UPDATE is not allowed"),
        ("DELETE FROM sales", r"DELETE is not allowed"),
        ("COPY sales TO '/tmp/out.csv'", r"COPY is not allowed"),
        (
            "COPY (SELECT * FROM sales) TO '/tmp/out.parquet' (FORMAT parquet)",
            r"COPY is not allowed",
        ),
        ("ATTACH '/tmp/other.duckdb' AS other", r"ATTACH is not allowed"),
        ("DETACH other", r"DETACH is not allowed"),
        ("INSTALL httpfs", r"INSTALL is not allowed"),
        ("LOAD httpfs", r"LOAD is not allowed"),
        ("PRAGMA database_list", r"PRAGMA is not allowed"),
        ("SET threads = 1", r"SET is not allowed"),
        ("CALL pragma_version()", r"CALL is not allowed"),
        ("USE superstore", r"USE is not allowed"),
        ("CHECKPOINT", r"CHECKPOINT is not allowed"),
        ("VACUUM", r"VACUUM is not allowed"),
        ("EXPORT DATABASE '/tmp/dump'", r"could not parse the SQL as DuckDB"),
        ("SELECT 1 INTO copy_of_sales", r"INTO is not allowed inside a query"),
    ],
)
def test_statements_that_are_not_a_select_are_refused_by_name(sql: str, message: str) -> None:
    with pytest.raises(UnsafeSQL, match=message):
        _check(sql)


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "WITH d AS (DELETE FROM sales RETURNING *) SELECT * FROM d",
            r"DELETE is not allowed inside a query",
        ),
        (
            "WITH i AS (INSERT INTO sales (order_id) VALUES ('x') RETURNING *) SELECT * FROM i",
            r"INSERT is not allowed inside",
        ),
        (
            "WITH u AS (UPDATE sales SET revenue = 0 RETURNING *) SELECT * FROM u",
            r"UPDATE is not allowed inside",
        ),
    ],
)
def test_writes_wrapped_in_a_cte_are_refused(sql: str, message: str) -> None:
    with pytest.raises(UnsafeSQL, match=message):
        _check(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1; DROP TABLE sales",
        "SELECT * FROM sales; SELECT * FROM sales",
        "SELECT 1 /* harmless */; DELETE FROM sales",
        "sElEcT 1;\n\tdRoP tAbLe sales",
    ],
)
def test_more_than_one_statement_is_refused(sql: str) -> None:
    with pytest.raises(UnsafeSQL, match=r"2 statements found; multiple statements are not allowed"):
        _check(sql)


@pytest.mark.parametrize(
    ("sql", "name"),
    [
        ("SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
        ("SELECT * FROM read_csv_auto('/etc/passwd')", "read_csv"),
        ("SELECT * FROM READ_PARQUET('/tmp/*.parquet')", "read_parquet"),
        ("SELECT * FROM read_json_auto('/tmp/x.json')", "read_json"),
        ("SELECT * FROM parquet_scan('/tmp/x.parquet')", "parquet_scan"),
        ("SELECT * FROM glob('/etc/*')", "glob"),
        ("SELECT * FROM read_text('/etc/hostname')", "read_text"),
        ("SELECT * FROM duckdb_settings()", "duckdb_settings"),
        ("SELECT * FROM query('SELECT 1')", "query"),
        ("SELECT * FROM \"read_csv\"('/etc/passwd')", "read_csv"),
        (
            "SELECT * FROM sales WHERE state IN (SELECT state FROM read_csv('/tmp/s.csv'))",
            "read_csv",
        ),
    ],
)
def test_file_and_catalog_reading_table_functions_are_refused(sql: str, name: str) -> None:
    with pytest.raises(
        UnsafeSQL,
        match=rf"table function {name}\w*\(\) is not allowed.*Allowed table functions: "
        r"generate_series, range, unnest",
    ):
        _check(sql)


@pytest.mark.parametrize(
    ("sql", "name"),
    [
        ("SELECT getenv('HOME')", "getenv"),
        ("SELECT current_setting('threads')", "current_setting"),
        ("SELECT version()", "version"),
        ("SELECT current_user", "current_user"),
        ("SELECT nextval('s')", "nextval"),
        ("SELECT category FROM sales WHERE getenv('USER') = 'root'", "getenv"),
    ],
)
def test_functions_that_read_settings_or_system_state_are_refused(sql: str, name: str) -> None:
    with pytest.raises(
        UnsafeSQL,
        match=rf"function {name}\(\) is not allowed: it reads files, settings or system state",
    ):
        _check(sql)


@pytest.mark.parametrize(
    "sql", ["SELECT * FROM '/etc/passwd'", 'SELECT * FROM "/etc/passwd"', "FROM 'data.csv'"]
)
def test_file_paths_in_place_of_a_table_are_unknown_tables(sql: str) -> None:
    with pytest.raises(
        UnsafeSQL, match=r"unknown table '.*': queries may read only the known tables and views"
    ):
        _check(sql)


def test_unknown_table_suggests_the_closest_known_one() -> None:
    with pytest.raises(UnsafeSQL, match=r"unknown table 'salse'.*Did you mean 'sales'"):
        _check("SELECT * FROM salse")


def test_system_catalogs_are_unknown_tables() -> None:
    with pytest.raises(UnsafeSQL, match=r"unknown table 'information_schema.tables'"):
        _check("SELECT * FROM information_schema.tables")


def test_three_part_names_are_refused() -> None:
    with pytest.raises(
        UnsafeSQL, match=r"three-part table name 'memory.main.sales' is not allowed"
    ):
        _check("SELECT * FROM memory.main.sales")


def test_unknown_column_lists_the_columns_of_the_tables_read() -> None:
    with pytest.raises(
        UnsafeSQL,
        match=r"unknown column \(.*'profitt'.*\).*Allowed columns: retail_sales.sales: order_id, ",
    ):
        _check("SELECT profitt FROM sales")


def test_a_comment_cannot_hide_a_second_statement_and_is_dropped_from_what_runs() -> None:
    safe = _check("SELECT category FROM sales -- ; DROP TABLE sales\n /* ; DELETE FROM sales */")
    assert safe.sql == "SELECT category FROM sales LIMIT 100"


def test_a_statement_inside_a_string_literal_is_just_a_value() -> None:
    safe = _check("SELECT COUNT(*) FROM sales WHERE state = '; DROP TABLE sales; --'")
    assert safe.sql == "SELECT COUNT(*) FROM sales WHERE state = '; DROP TABLE sales; --' LIMIT 100"


def test_a_query_without_limit_gets_max_rows() -> None:
    assert _check("SELECT category, SUM(revenue) FROM sales GROUP BY ALL", max_rows=50).limit == 50
    assert _check(
        "SELECT category, SUM(revenue) FROM sales GROUP BY ALL", max_rows=50
    ).sql.endswith("LIMIT 50")


def test_a_larger_limit_is_clamped_and_a_smaller_one_kept() -> None:
    assert (
        _check("SELECT * FROM sales LIMIT 100000", max_rows=10).sql
        == "SELECT * FROM sales LIMIT 10"
    )
    assert (
        _check("SELECT * FROM sales LIMIT 3 OFFSET 2", max_rows=10).sql
        == "SELECT * FROM sales LIMIT 3 OFFSET 2"
    )


def test_a_parameter_or_percent_limit_is_capped_from_outside() -> None:
    assert (
        _check("SELECT * FROM sales LIMIT ?", max_rows=10).sql
        == "SELECT * FROM (SELECT * FROM sales LIMIT ?) AS q LIMIT 10"
    )
    assert _check("SELECT * FROM sales LIMIT 10%", max_rows=10).sql.endswith(") AS q LIMIT 10")


def test_union_cte_join_and_allowed_table_functions_pass() -> None:
    accepted = [
        "SELECT category FROM sales UNION ALL SELECT category FROM sales_monthly",
        "WITH m AS (SELECT category, SUM(revenue) AS r FROM sales_monthly GROUP BY 1) "
        "SELECT * FROM m ORDER BY r DESC",
        "SELECT s.region, SUM(s.sales) FROM superstore.superstore AS s GROUP BY 1",
        "SELECT m.year, y.n FROM sales_monthly AS m "
        "JOIN (SELECT range AS n FROM range(3)) AS y ON m.month = y.n",
        "SELECT DATE_TRUNC('month', order_ts) AS m, COUNT(*) FILTER (WHERE status = 'Cancelled') "
        "FROM sales GROUP BY 1",
        "FROM sales_monthly SELECT year, SUM(revenue) GROUP BY year",
        "SELECT * FROM sales WHERE state = $state AND year = ?",
    ]
    for sql in accepted:
        assert _check(sql).limit == 100


def test_tables_read_are_reported_schema_qualified() -> None:
    safe = _check("SELECT 1 FROM sales, superstore.superstore, sales_monthly")
    assert safe.tables == (
        ("retail_sales", "sales"),
        ("retail_sales", "sales_monthly"),
        ("superstore", "superstore"),
    )


def test_empty_input_is_refused() -> None:
    with pytest.raises(UnsafeSQL, match=r"empty query"):
        _check("  \n ")
