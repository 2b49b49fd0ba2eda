"""The catalog: DuckDB over the Delta tables, in memory (read-only, metered) and as a file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
import shutil
from typing import Any

import duckdb
import pytest

from retail_insights.settings import get_settings
from warehouse import catalog, views
from warehouse.backends import get_backend
from warehouse.spec import dataset_names

REVENUE_BY_CATEGORY = (
    "SELECT category, SUM(revenue) AS r, SUM(orders) AS n FROM sales_monthly GROUP BY 1 ORDER BY 1"
)
BASE_BY_CATEGORY = (
    "SELECT category, SUM(revenue) AS r, COUNT(*) AS n FROM sales GROUP BY 1 ORDER BY 1"
)


@pytest.fixture
def loaded(make_silver: Any, write_silver: Any) -> Path:
    write_silver(
        "retail_sales",
        make_silver("retail_sales", 120, seed=5, start=dt.date(2024, 12, 1), days=90),
    )
    views.refresh("retail_sales")
    return get_settings().duckdb_path


def test_duckdb_file_opens_read_only_with_plain_duckdb_and_gives_the_backends_numbers(
    loaded: Path,
) -> None:
    backend = get_backend("duckdb").query(REVENUE_BY_CATEGORY).rows
    with duckdb.connect(str(loaded), read_only=True) as con:
        from_view = con.sql(REVENUE_BY_CATEGORY).fetchall()
        from_base = con.sql(BASE_BY_CATEGORY).fetchall()
        qualified = con.sql("SELECT COUNT(*) FROM retail_sales.sales").fetchall()
    assert [(c, r, int(n)) for c, r, n in from_view] == backend
    assert [(c, r, int(n)) for c, r, n in from_base] == backend
    assert qualified == [(120,)]


def test_duckdb_file_has_every_dataset_with_typed_empty_tables_for_unwritten_ones(
    loaded: Path,
) -> None:
    with duckdb.connect(str(loaded), read_only=True) as con:
        tables = con.sql(
            "SELECT table_schema, table_name FROM information_schema.tables ORDER BY 1, 2"
        ).fetchall()
        superstore = con.sql(
            "SELECT COUNT(*), SUM(sales) FROM superstore.superstore_daily"
        ).fetchall()
        types = dict(
            con.sql(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'superstore' AND table_name = 'superstore'"
            ).fetchall()
        )
    assert ("superstore", "superstore_yearly") in tables and ("main", "sales_hourly") in tables
    assert ("retail_sales", "quarantine") in tables and ("main", "quarantine") in tables
    assert superstore == [(0, None)]
    assert (
        types["sales"] == "DECIMAL(18,4)"
        and types["order_date"] == "DATE"
        and types["year"] == "INTEGER"
    )


def test_duckdb_file_serves_a_never_refreshed_view_live_from_the_silver_table(
    make_silver: Any, write_silver: Any
) -> None:
    write_silver("superstore", make_silver("superstore", 40, seed=2))
    path = catalog.sync_duckdb_file()
    with duckdb.connect(str(path), read_only=True) as con:
        live = con.sql(
            "SELECT SUM(order_lines), SUM(sales) FROM superstore.superstore_monthly"
        ).fetchall()
        base = con.sql("SELECT COUNT(*), SUM(sales) FROM superstore.superstore").fetchall()
    assert live == base and base[0][0] == 40


def test_resyncing_replaces_the_file_without_disturbing_an_open_reader(
    loaded: Path, make_silver: Any, write_silver: Any
) -> None:
    with duckdb.connect(str(loaded), read_only=True) as before:
        write_silver(
            "retail_sales",
            make_silver(
                "retail_sales", 10, seed=6, start=dt.date(2025, 1, 3), days=2, ids_from=1000
            ),
        )
        views.refresh("retail_sales")
        assert before.sql("SELECT COUNT(*) FROM sales").fetchall() == [(120,)]
    with duckdb.connect(str(loaded), read_only=True) as after:
        assert after.sql("SELECT COUNT(*) FROM sales").fetchall() == [(130,)]
        assert after.sql("SELECT SUM(orders) FROM sales_yearly").fetchall() == [(130,)]
    assert not list(loaded.parent.glob(".retail-*"))  # no scratch file left behind


def test_resyncing_rewrites_only_the_datasets_whose_tables_moved_on(
    loaded: Path, make_silver: Any, write_silver: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    rewritten: list[list[str] | None] = []
    create_tables = catalog._create_tables

    def spy(con: duckdb.DuckDBPyConnection, **kwargs: Any) -> Any:
        rewritten.append(kwargs.get("datasets"))
        return create_tables(con, **kwargs)

    monkeypatch.setattr(catalog, "_create_tables", spy)
    untouched = loaded.stat().st_mtime_ns
    assert catalog.sync_duckdb_file() == loaded and rewritten == []    # nothing moved on: kept as is
    assert loaded.stat().st_mtime_ns == untouched
    write_silver("superstore", make_silver("superstore", 7, seed=3))
    older = loaded.read_bytes()
    catalog.sync_duckdb_file()
    assert rewritten == [["superstore"]]
    loaded.write_bytes(older)     # another sync's move landed last, with the views before that commit
    catalog.sync_duckdb_file()
    assert rewritten[-1] == ["superstore"]
    with duckdb.connect(str(loaded), read_only=True) as con:
        assert con.sql("SELECT COUNT(*) FROM superstore.superstore").fetchall() == [(7,)]
        assert con.sql("SELECT COUNT(*) FROM retail_sales.sales").fetchall() == [(120,)]
        assert con.sql("SELECT COUNT(*) FROM sales").fetchall() == [(120,)]   # the default, unqualified
    with duckdb.connect(str(loaded)) as con:       # a file written before it recorded its state
        con.execute("DROP SCHEMA _retail CASCADE")
    catalog.sync_duckdb_file()
    assert set(rewritten[-1] or []) == set(dataset_names())   # rebuilt whole


def test_a_view_behind_its_silver_table_is_served_live_from_it_until_its_refresh(
    loaded: Path, make_silver: Any, write_silver: Any
) -> None:
    def yearly() -> tuple[int, str]:
        with catalog.open_catalog("retail_sales") as cat:
            (orders,) = cat.con.sql("SELECT SUM(orders) FROM sales_yearly").fetchall()[0]
            (sql,) = cat.con.sql("SELECT sql FROM duckdb_views() WHERE view_name = 'sales_yearly'").fetchall()[0]
        return int(orders), sql

    assert yearly()[0] == 120 and "sales_yearly" in yearly()[1]       # its own files
    write_silver("retail_sales", make_silver("retail_sales", 10, seed=6, start=dt.date(2025, 1, 3), days=2,
                                             ids_from=1000))          # a load committed; its refresh not yet
    orders, sql = yearly()
    assert orders == 130 and "sales_yearly" not in sql.split("FROM", 1)[1]   # live from silver
    views.refresh("retail_sales")
    assert yearly()[0] == 130 and "sales_yearly" in yearly()[1].split("FROM", 1)[1]


def test_connect_reaches_the_chosen_dataset_unqualified_and_the_others_by_schema(
    loaded: Path,
) -> None:
    con = catalog.connect("superstore")
    try:
        assert con.sql("SELECT COUNT(*) FROM superstore").fetchall() == [(0,)]
        assert con.sql("SELECT COUNT(*) FROM retail_sales.sales").fetchall() == [(120,)]
    finally:
        con.close()


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("SELECT * FROM read_csv('/etc/hostname')", duckdb.PermissionException),
        ("ATTACH '/tmp/retail-guard-test.duckdb' AS other", duckdb.PermissionException),
        ("SET enable_external_access = true", duckdb.InvalidInputException),
        ("SET lock_configuration = false", duckdb.InvalidInputException),
        ("SET allowed_directories = ['/']", duckdb.InvalidInputException),
    ],
)
def test_a_read_only_catalog_connection_refuses_files_and_settings_even_without_the_guard(
    loaded: Path,
    sql: str,
    error: type[Exception],
) -> None:
    with catalog.open_catalog("retail_sales") as cat, pytest.raises(error):
        cat.con.sql(sql)


def test_a_read_only_catalog_connection_cannot_copy_rows_to_a_file(
    loaded: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    with catalog.open_catalog("retail_sales") as cat, pytest.raises(duckdb.PermissionException):
        cat.con.sql("COPY sales TO 'stolen.csv'")
    assert not (tmp_path / "stolen.csv").exists()


def test_the_meter_counts_fewer_bytes_and_rows_when_partitions_are_pruned(loaded: Path) -> None:
    with catalog.open_catalog("retail_sales") as cat:
        cat.con.sql("SELECT SUM(revenue) FROM sales").fetchall()
        everything = cat.scanned()
        cat.con.sql("SELECT SUM(revenue) FROM sales WHERE year = 2025 AND month = 1").fetchall()
        one_month = cat.scanned()
        january = cat.con.sql(
            "SELECT COUNT(*) FROM sales WHERE year = 2025 AND month = 1"
        ).fetchall()[0][0]
    assert everything[1] == 120 and one_month[1] == january
    assert 0 < one_month[0] < everything[0]


def test_a_dataset_with_no_tables_yet_has_the_columns_its_spec_promises() -> None:
    with catalog.open_catalog("retail_sales") as cat:
        columns = cat.columns()
        assert cat.con.sql("SELECT COUNT(*) FROM sales_daily").fetchall() == [(0,)]
    assert columns["retail_sales"]["sales"]["revenue"] == "DECIMAL(18,2)"
    assert columns["retail_sales"]["sales_daily"]["units"] == "BIGINT"
    assert set(columns) == {"retail_sales", "superstore", "tpcds_store"}
    assert columns["tpcds_store"]["item"]["i_brand"] == "VARCHAR"   # a dimension table, not written yet


def test_a_new_catalog_writes_sql_again_only_for_the_snapshots_that_changed(
    make_silver: Any, write_silver: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A serving process opens a catalog per new data version: the other tables' statements are kept,
    the changed table's are made again from its new snapshot, and a table made anew at the same path
    and version (another Delta table id) is never served the old files."""
    write_silver("retail_sales", make_silver("retail_sales", 40, seed=1, start=dt.date(2024, 1, 1), days=30))
    built: list[str] = []
    real = catalog.parquet_scan.files_query
    monkeypatch.setattr(catalog.parquet_scan, "files_query",
                        lambda con, table, *rest: built.append(Path(table.table_uri).name) or real(con, table, *rest))

    def count() -> int:
        with catalog.open_catalog("retail_sales") as cat:
            return cat.con.sql("SELECT COUNT(*) FROM sales").fetchall()[0][0]

    assert count() == 40 and "sales" in built
    built.clear()
    assert count() == 40 and built == []              # nothing changed: every statement kept
    write_silver("retail_sales", make_silver("retail_sales", 10, seed=2, start=dt.date(2024, 2, 1), days=5))
    assert count() == 50 and built == ["sales"]       # only the silver table's snapshot is new
    silver = get_settings().table_path("retail_sales", "sales")
    shutil.rmtree(silver)                              # dropped and written again: version 0 once more
    write_silver("retail_sales", make_silver("retail_sales", 7, seed=3, start=dt.date(2024, 3, 1), days=5))
    assert count() == 7
