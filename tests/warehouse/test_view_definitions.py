"""View definitions: one reviewed snapshot of every view's SQL per dialect, portable types.

The snapshots under ``tests/warehouse/snapshots/`` are the reviewed renderings of every view's SQL
in DuckDB (the source dialect) and BigQuery (transpiled by sqlglot). After an intended change,
rewrite them with ``.venv/bin/python tests/warehouse/test_view_definitions.py`` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from warehouse.spec import dataset_names, load_dataset
from warehouse.view_definitions import view_sql

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
    rendered = view_sql(dataset, view, dialect=dialect) + "\n"
    path = _snapshot(dataset, view, dialect)
    assert path.exists(), f"no snapshot {path}; run `.venv/bin/python {__file__}` and review it"
    assert rendered == path.read_text(encoding="utf-8")


def test_every_view_has_both_snapshots_and_no_stale_ones() -> None:
    expected = {_snapshot(d, v, dialect).name for d, v in VIEWS for dialect in DIALECTS}
    assert {p.name for p in SNAPSHOTS.glob("*.sql")} == expected


def test_integer_sums_are_cast_to_bigint_so_views_store_portable_types() -> None:
    sql = view_sql("retail_sales", "sales_daily")
    assert "CAST(SUM(quantity) AS BIGINT) AS units" in sql
    assert "SUM(revenue) AS revenue" in sql


if __name__ == "__main__":  # rewrite the snapshots after an intended change
    SNAPSHOTS.mkdir(exist_ok=True)
    for stale in SNAPSHOTS.glob("*.sql"):
        stale.unlink()
    for dataset, view in VIEWS:
        for dialect in DIALECTS:
            _snapshot(dataset, view, dialect).write_text(
                view_sql(dataset, view, dialect=dialect) + "\n", encoding="utf-8"
            )
    print(f"wrote {len(VIEWS) * len(DIALECTS)} snapshots to {SNAPSHOTS}")
