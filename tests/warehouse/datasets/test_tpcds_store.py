"""tpcds_store: a star schema declared in YAML only, ingested from tpcgen-cli's CSVs and answered.

Truth is independent SQL over the generated CSVs (DuckDB), never the project's own compiler.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from deltalake import DeltaTable
import duckdb
import pytest

from retail_insights.settings import get_settings
from tests.warehouse.datasets.conftest import BAD_ROWS, FACT_ROWS
from warehouse.spec import load_dataset

AS_OF = date(2003, 6, 1)


def _csv(tpcds, sql: str) -> list[tuple]:
    con = duckdb.connect()
    for table in ("store_sales", "date_dim", "item", "store", "customer_address"):
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_csv('{tpcds.folder / table}.csv', header=true)")
    return con.sql(sql).fetchall()


def _table(name: str) -> DeltaTable:
    return DeltaTable(str(get_settings().table_path("tpcds_store", name)))


def test_the_dataset_is_yaml_only_with_a_fact_and_six_dimension_tables():
    ds = load_dataset("tpcds_store")
    assert ds.spec.silver_table == "store_sales"
    assert set(ds.spec.dimension_tables) == {"date_dim", "item", "store", "customer", "customer_address", "promotion"}
    assert ds.semantic.column_of("brand") == ("item", "i_brand")
    assert ds.semantic.relationship("address").column == "ss_addr_sk"


def test_every_row_is_accounted_for_and_other_tables_of_the_export_are_ignored(tpcds_home):
    summary = tpcds_home.summary
    assert summary.input_rows == FACT_ROWS + len(BAD_ROWS)
    assert summary.written_rows == FACT_ROWS and summary.quarantined_rows == len(BAD_ROWS)
    assert [p.rsplit("/", 1)[-1] for p in summary.ignored_files] == ["web_sales.csv"]
    assert summary.tables["store"]["written_rows"] == 12 and summary.tables["item"]["written_rows"] == 18_000


def test_the_fact_is_partitioned_by_sale_year_and_month_and_dimensions_have_their_own_tables(tpcds_home):
    assert _table("store_sales").metadata().partition_columns == ["year", "month"]
    assert _table("item").metadata().partition_columns == []
    assert _table("date_dim").to_pyarrow_table().num_rows == 73_049
    months = {(int(p["year"]), int(p["month"])) for p in _table("store_sales").partitions()}
    assert (0, 0) in months and (2002, 12) in months


def test_the_sale_date_from_the_date_key_is_date_dims_date(tpcds_home):
    fact = _table("store_sales").to_pyarrow_table(columns=["ss_sold_date_sk", "sold_date"])
    days = _table("date_dim").to_pyarrow_table(columns=["d_date_sk", "d_date"])
    by_key = dict(zip(days["d_date_sk"].to_pylist(), days["d_date"].to_pylist(), strict=True))
    pairs = [(k, d) for k, d in zip(fact["ss_sold_date_sk"].to_pylist(), fact["sold_date"].to_pylist(), strict=True)]
    assert all(by_key[k] == d for k, d in pairs if k is not None)
    assert all(d is None for k, d in pairs if k is None)


def test_unknown_keys_and_unreadable_numbers_are_quarantined_with_their_reason(tpcds_home):
    rows = _table("quarantine").to_pyarrow_table(columns=["source_line", "reason_codes", "reasons"]).to_pylist()
    assert {r["source_line"]: r["reason_codes"] for r in rows} == {line: [code] for line, (_, _, code) in BAD_ROWS.items()}
    assert any("ss_item_sk is not the key of any item" in r["reasons"] for r in rows)


def test_sales_without_a_date_are_kept_and_reported(tpcds_home):
    undated = _csv(tpcds_home, "SELECT count(*) FROM store_sales WHERE ss_sold_date_sk IS NULL")[0][0]
    assert undated > 0
    assert tpcds_home.summary.warning_rows == undated
    year_zero = _table("store_sales").to_pyarrow_table(filters=[("year", "=", 0)]).num_rows
    assert year_zero == undated


@pytest.fixture
def ask(tpcds_home):
    from assistant.execute import CatalogRunner
    from tests.assistant.warehouse_builder import local_assistant

    runner = CatalogRunner(version_of=lambda: str(tpcds_home.home))
    assistant = local_assistant(runner)
    yield lambda question, **kw: assistant.answer(question, dataset="tpcds_store", as_of=AS_OF, **kw)
    runner.close()


def _plain(value):
    if isinstance(value, (float, Decimal)):
        return round(float(value), 2)
    return value.isoformat() if isinstance(value, date) else value


def _rounded(rows) -> set[tuple]:
    return {tuple(_plain(v) for v in row) for row in rows}


TRUTH = {
    "total sales": "SELECT SUM(ss_ext_sales_price) FROM store_sales",
    "net profit by category in 2002":
        "SELECT i_category, SUM(ss_net_profit) FROM store_sales LEFT JOIN item ON ss_item_sk = i_item_sk "
        "JOIN date_dim ON ss_sold_date_sk = d_date_sk WHERE d_year = 2002 GROUP BY 1",
    "top 5 brands by sales":
        "SELECT i_brand, SUM(ss_ext_sales_price) s FROM store_sales LEFT JOIN item ON ss_item_sk = i_item_sk "
        "GROUP BY 1 ORDER BY s DESC LIMIT 5",
    "how many customers bought Electronics in 2002":
        "SELECT COUNT(DISTINCT ss_customer_sk) FROM store_sales JOIN item ON ss_item_sk = i_item_sk "
        "JOIN date_dim ON ss_sold_date_sk = d_date_sk WHERE d_year = 2002 AND i_category = 'Electronics'",
    # Not d_qoy: the generator gives a quarter's first day the previous quarter (2002-10-01 has d_qoy 3).
    "units by store in Q4 2002":
        "SELECT s_store_name, SUM(ss_quantity) FROM store_sales LEFT JOIN store ON ss_store_sk = s_store_sk "
        "JOIN date_dim ON ss_sold_date_sk = d_date_sk WHERE d_year = 2002 AND d_moy BETWEEN 10 AND 12 GROUP BY 1",
    "sales by state in 2001":
        "SELECT ca_state, SUM(ss_ext_sales_price) FROM store_sales LEFT JOIN customer_address ON ss_addr_sk = ca_address_sk "
        "JOIN date_dim ON ss_sold_date_sk = d_date_sk WHERE d_year = 2001 GROUP BY 1",
    "monthly sales in 2002":
        "SELECT make_date(d_year, d_moy, 1), SUM(ss_ext_sales_price) FROM store_sales "
        "JOIN date_dim ON ss_sold_date_sk = d_date_sk WHERE d_year = 2002 GROUP BY 1",
    "quarterly units in 2001":
        "SELECT make_date(d_year, (d_moy - 1) // 3 * 3 + 1, 1), SUM(ss_quantity) FROM store_sales "
        "JOIN date_dim ON ss_sold_date_sk = d_date_sk WHERE d_year = 2001 GROUP BY 1",
    "how many customers in 2002":
        "SELECT COUNT(DISTINCT ss_customer_sk) FROM store_sales JOIN date_dim ON ss_sold_date_sk = d_date_sk "
        "WHERE d_year = 2002",
    "top 3 stores by net profit in 2001":
        "SELECT s_store_name, SUM(ss_net_profit) p FROM store_sales LEFT JOIN store ON ss_store_sk = s_store_sk "
        "JOIN date_dim ON ss_sold_date_sk = d_date_sk WHERE d_year = 2001 GROUP BY 1 ORDER BY p DESC LIMIT 3",
    "net profit in Texas in 2002":
        "SELECT SUM(ss_net_profit) FROM store_sales JOIN customer_address ON ss_addr_sk = ca_address_sk "
        "JOIN date_dim ON ss_sold_date_sk = d_date_sk WHERE d_year = 2002 AND ca_state = 'TX'",
    "sales by class in Texas in 2002":
        "SELECT i_class, SUM(ss_ext_sales_price) FROM store_sales LEFT JOIN item ON ss_item_sk = i_item_sk "
        "JOIN customer_address ON ss_addr_sk = ca_address_sk JOIN date_dim ON ss_sold_date_sk = d_date_sk "
        "WHERE d_year = 2002 AND ca_state = 'TX' GROUP BY 1",
    "share of sales by category in 2002":
        "SELECT i_category, SUM(ss_ext_sales_price), SUM(ss_ext_sales_price) / SUM(SUM(ss_ext_sales_price)) OVER () "
        "FROM store_sales LEFT JOIN item ON ss_item_sk = i_item_sk JOIN date_dim ON ss_sold_date_sk = d_date_sk "
        "WHERE d_year = 2002 GROUP BY 1",
    "sales in 2002 vs 2001 by category":
        "SELECT i_category, SUM(ss_ext_sales_price) FILTER (d_year = 2002) a, SUM(ss_ext_sales_price) FILTER (d_year = 2001) b, "
        "a - b, (a - b) / b FROM store_sales LEFT JOIN item ON ss_item_sk = i_item_sk "
        "JOIN date_dim ON ss_sold_date_sk = d_date_sk WHERE d_year IN (2001, 2002) GROUP BY 1",
}


@pytest.mark.parametrize("question", list(TRUTH))
def test_answers_agree_with_independent_sql_over_the_csvs(tpcds_home, ask, question):
    answer = ask(question)
    assert answer.status == "answered", answer.answer
    assert _rounded(answer.rows) == _rounded(_csv(tpcds_home, TRUTH[question]))


def test_a_follow_up_changes_the_period_and_keeps_the_split(ask):
    first = ask("sales by category in 2002")
    second = ask("and for 2001?", conversation_id=first.conversation_id)
    assert second.status == "answered" and second.columns == ("category", "sales")
    assert "2001" in second.answer


def test_a_share_over_a_joined_dimension_sums_to_one(ask):
    answer = ask("share of sales by store in 2002")
    assert answer.status == "answered", answer.answer
    assert abs(sum(row[-1] for row in answer.rows) - 1) < 1e-9


@pytest.mark.parametrize("question", ["total sales in 2002", "sales by category in 2002", "units by store in Q4 2002",
                                      "sales by state in 2001", "monthly net profit in 2002",
                                      "sales in Q4 2002 vs Q4 2001 by category"])
def test_a_rollup_over_the_joined_fact_gives_the_numbers_of_the_fact_and_its_joins(tpcds_home, question):
    from assistant.compiler import Compiler
    from assistant.execute import CatalogRunner
    from assistant.router import Router
    from assistant.sources import Source

    intent = Router().parse(question, dataset="tpcds_store", as_of=AS_OF).intent
    on_view = Compiler().compile(intent)
    on_base = Compiler().compile(intent, source=Source("store_sales", "base", None))
    assert on_view.source.kind == "view"
    runner = CatalogRunner(version_of=lambda: str(tpcds_home.home))
    try:
        view_rows, base_rows = (runner.query(q.sql, q.params).rows for q in (on_view, on_base))
    finally:
        runner.close()
    assert view_rows and _rounded(view_rows) == _rounded(base_rows)


# Distinct counts and ratios of them, each answer row one row of an exact view (tpcds_exact_*).
EXACT = ["customers by year", "how many tickets in december 2002", "average ticket value by category",
         "how many customers bought Electronics in 2002", "monthly customers in 2002", "how many customers",
         "share of customers by category in 2002", "customers in 2002 vs 2001 by category", "sales per customer by year",
         "top 3 categories by customers in 2002", "how many customers bought Electronics in Q4 2002",
         "quarterly customers in 2002", "customers in Q1 2002"]
# ...and ones whose answer rows would each add several rows of one: months of no one quarter, two members.
SPANNING = ["customers from February to April 2002", "customers for Books or Music in 2002",
            "average ticket by category in december 2002", "weekly customers in december 2002",
            "customers by category from January to May 2002"]


def _on_view_and_fact(home, question: str):
    from assistant.compiler import Compiler
    from assistant.execute import CatalogRunner
    from assistant.router import Router
    from assistant.sources import Source

    intent = Router().parse(question, dataset="tpcds_store", as_of=AS_OF).intent
    on_view = Compiler().compile(intent)
    on_base = Compiler().compile(intent, source=Source("store_sales", "base", None))
    runner = CatalogRunner(version_of=lambda: str(home))
    try:
        view_rows, base_rows = (runner.query(q.sql, q.params).rows for q in (on_view, on_base))
    finally:
        runner.close()
    return on_view.source, view_rows, base_rows


@pytest.mark.parametrize("question", EXACT)
def test_an_exact_view_gives_the_distinct_counts_of_the_fact(tpcds_home, question):
    source, view_rows, base_rows = _on_view_and_fact(tpcds_home.home, question)
    assert source.exact, source
    assert view_rows and _rounded(view_rows) == _rounded(base_rows)


@pytest.mark.parametrize("question", SPANNING)
def test_a_distinct_count_no_exact_view_row_holds_reads_the_fact(question):
    from assistant.compiler import Compiler
    from assistant.router import Router

    intent = Router().parse(question, dataset="tpcds_store", as_of=AS_OF).intent
    assert Compiler().compile(intent).source.kind == "base"


@pytest.fixture
def own_copy(tpcds, tmp_path):
    """A copy of the ingested warehouse this test may write to, as RETAIL_HOME."""
    import shutil

    home = tmp_path / "home"
    shutil.copytree(tpcds.home, home)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RETAIL_HOME", str(home))
        get_settings.cache_clear()
        yield home
    get_settings.cache_clear()


def test_exact_views_stay_exact_after_a_load_into_one_month(tpcds, own_copy, tmp_path):
    """A new two-line ticket in December 2002: the monthly, yearly and all-time exact views are
    recomputed from the fact (their partition, their year, all of it) and count it once."""
    from spark_jobs.ingest import ingest
    from warehouse.views import view_status

    before = _on_view_and_fact(own_copy, "how many tickets in december 2002")[1][0][0]
    header, *lines = (tpcds.folder / "store_sales.csv").read_text(encoding="utf-8").splitlines()[:3]
    names = header.split(",")
    december_10 = str(2415022 + (date(2002, 12, 10) - date(1900, 1, 2)).days)   # the Julian date key
    batch = tmp_path / "batch"
    batch.mkdir()
    rows = []
    for line in lines:
        row = dict(zip(names, line.split(","), strict=True))
        row.update(ss_sold_date_sk=december_10, ss_ticket_number="95000001")
        rows.append(",".join(row[n] for n in names))
    (batch / "store_sales.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    summary = ingest([batch], dataset="tpcds_store", progress=False)
    assert summary.written_rows == 2
    # refreshed, so answered from their files (a view behind the fact would be served live from it)
    assert not [s.name for s in view_status("tpcds_store") if s.stale]
    source, after, _ = _on_view_and_fact(own_copy, "how many tickets in december 2002")
    assert source.exact and after[0][0] == before + 1
    for question in EXACT:
        source, view_rows, base_rows = _on_view_and_fact(own_copy, question)
        assert source.exact and _rounded(view_rows) == _rounded(base_rows), question
