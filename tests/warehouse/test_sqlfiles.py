"""SQL files: loading by name, placeholder rendering, and one snapshot per view and dialect.

The snapshots under ``tests/warehouse/snapshots/`` are the reviewed renderings of every view's SQL
in DuckDB (the source dialect) and BigQuery (transpiled by sqlglot). After an intended change,
rewrite them with ``.venv/bin/python tests/warehouse/test_sqlfiles.py`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlglot import exp

from retail_insights.errors import ConfigError, UsageError
from warehouse import sqlfiles, views
from warehouse.spec import dataset_names, load_dataset

SNAPSHOTS = Path(__file__).parent / "snapshots"
DIALECTS = ("duckdb", "bigquery")
VIEWS = [
    (dataset, view) for dataset in dataset_names() for view in load_dataset(dataset).semantic.views
]


def _snapshot(dataset: str, view: str, dialect: str) -> Path:
    return SNAPSHOTS / f"{dataset}.{view}.{dialect}.sql"


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(("dataset", "view"), VIEWS)
def test_view_sql_matches_its_snapshot(dataset: str, view: str, dialect: str) -> None:
    rendered = views.view_sql(dataset, view, dialect=dialect) + "\n"
    path = _snapshot(dataset, view, dialect)
    assert path.exists(), f"no snapshot {path}; run `.venv/bin/python {__file__}` and review it"
    assert rendered == path.read_text(encoding="utf-8")


def test_every_view_has_both_snapshots_and_no_stale_ones() -> None:
    expected = {_snapshot(d, v, dialect).name for d, v in VIEWS for dialect in DIALECTS}
    assert {p.name for p in SNAPSHOTS.glob("*.sql")} == expected


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


def test_transpile_turns_duckdb_date_trunc_into_bigquery_timestamp_trunc() -> None:
    sql = sqlfiles.transpile(
        "SELECT DATE_TRUNC('month', order_ts) FROM sales", to="bigquery", pretty=False
    )
    assert sql == "SELECT TIMESTAMP_TRUNC(order_ts, MONTH) FROM sales"


def test_integer_sums_are_cast_to_bigint_so_views_store_portable_types() -> None:
    sql = views.view_sql("retail_sales", "sales_daily")
    assert "CAST(SUM(quantity) AS BIGINT) AS units" in sql
    assert "SUM(revenue) AS revenue" in sql


if __name__ == "__main__":  # rewrite the snapshots after an intended change
    SNAPSHOTS.mkdir(exist_ok=True)
    for stale in SNAPSHOTS.glob("*.sql"):
        stale.unlink()
    for dataset, view in VIEWS:
        for dialect in DIALECTS:
            _snapshot(dataset, view, dialect).write_text(
                views.view_sql(dataset, view, dialect=dialect) + "\n", encoding="utf-8"
            )
    print(f"wrote {len(VIEWS) * len(DIALECTS)} snapshots to {SNAPSHOTS}")
