"""Gold views: they sum to the base table under any filter, refresh by partition, show staleness."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

from deltalake import DeltaTable
from hypothesis import HealthCheck, given, settings, strategies as st
import pyarrow as pa
import pytest
import sqlglot
from sqlglot import exp

from retail_insights.errors import DataError, UsageError
from retail_insights.settings import get_settings
from warehouse import catalog, views
from warehouse.spec import load_dataset
from warehouse.view_definitions import partition_columns

_homes = iter(range(10**9))


def _use_home(base: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh RETAIL_HOME per hypothesis example (function fixtures span all examples)."""
    home = base / f"home-{next(_homes)}"
    monkeypatch.setenv("RETAIL_HOME", str(home))
    get_settings.cache_clear()
    return home


def _rows(con: Any, query: exp.Expression, params: list[Any]) -> list[tuple[Any, ...]]:
    def norm(value: Any) -> Any:
        if value is None:
            return 0  # SUM over no rows is NULL where COUNT(*) is 0
        return (
            int(value)
            if isinstance(value, Decimal) and value == value.to_integral_value()
            else value
        )

    table = con.sql(query.sql(dialect="duckdb"), params=params).to_arrow_table()
    return sorted((tuple(norm(v) for v in row.values()) for row in table.to_pylist()), key=repr)


def _aggregate(
    source: str, groups: list[str], measures: list[exp.Expression], where: list[exp.Expression]
) -> exp.Select:
    query = exp.select(*[exp.column(g) for g in groups], *measures).from_(source)
    for condition in where:
        query = query.where(condition)
    return query.group_by(*[exp.column(g) for g in groups]) if groups else query


def _view_table(dataset: str, view: str) -> pa.Table:
    table = catalog.open_table(
        get_settings().table_path(dataset, load_dataset(dataset).semantic.views[view].table)
    )
    data = table.to_pyarrow_table()
    return data.sort_by([(name, "ascending") for name in data.column_names])


def _files_by_partition(dataset: str, view: str) -> dict[tuple[int, ...], set[str]]:
    table = catalog.open_table(
        get_settings().table_path(dataset, load_dataset(dataset).semantic.views[view].table)
    )
    columns = partition_columns(dataset, view)
    out: dict[tuple[int, ...], set[str]] = {}
    for action in pa.table(table.get_add_actions(flatten=True)).to_pylist():
        key = tuple(int(action[f"partition.{c}"]) for c in columns)
        out.setdefault(key, set()).add(action["path"])
    return out


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_every_view_summed_over_random_filters_equals_the_base_table_aggregate(
    data: st.DataObject,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make_silver: Any,
    write_silver: Any,
) -> None:
    _use_home(tmp_path, monkeypatch)
    dataset = data.draw(st.sampled_from(["retail_sales", "superstore"]), label="dataset")
    ds = load_dataset(dataset)
    rows = make_silver(
        dataset,
        data.draw(st.integers(1, 60), label="rows"),
        seed=data.draw(st.integers(0, 2**32 - 1)),
        start=data.draw(st.dates(dt.date(2023, 1, 1), dt.date(2025, 12, 31)), label="start"),
        days=data.draw(st.integers(1, 500), label="days"),
    )
    write_silver(dataset, rows)
    view = data.draw(st.sampled_from(sorted(ds.semantic.views)), label="view")
    views.refresh(dataset, views=[view])
    dims = list(ds.semantic.views[view].dims)  # named after the dimensions: same as the columns here
    candidates = dims + list(partition_columns(dataset, view))
    where, params = [], []
    for column in data.draw(
        st.lists(st.sampled_from(candidates), unique=True, max_size=3), label="filters"
    ):
        value = data.draw(st.sampled_from(rows[column].to_pylist()), label=f"{column} value")
        if value is None:
            where.append(exp.column(column).is_(exp.null()))
        else:
            negate = data.draw(st.booleans(), label=f"{column} negated")
            condition = exp.column(column).eq(exp.Placeholder())
            where.append(exp.not_(condition) if negate else condition)
            params.append(value)
    groups = data.draw(
        st.lists(st.sampled_from(candidates), unique=True, max_size=3), label="groups"
    )
    measures = ds.semantic.view_columns.measures
    from_view = [exp.alias_(exp.func("SUM", exp.column(name)), name) for name in measures]
    from_base = [
        exp.alias_(sqlglot.parse_one(text, read="duckdb"), name) for name, text in measures.items()
    ]
    with catalog.open_catalog(dataset) as cat:
        summed = _rows(
            cat.con, _aggregate(ds.semantic.views[view].table, groups, from_view, where), params
        )
        direct = _rows(cat.con, _aggregate(ds.spec.silver_table, groups, from_base, where), params)
    assert summed == direct


def test_buckets_are_utc_and_rows_land_in_their_order_month(
    make_silver: Any, write_silver: Any
) -> None:
    rows = make_silver("retail_sales", 2, seed=1)
    late, early = (
        dt.datetime(2024, 3, 31, 23, 30, tzinfo=dt.timezone.utc),
        dt.datetime(2024, 4, 1, 0, 10, tzinfo=dt.timezone.utc),
    )
    rows = rows.set_column(
        rows.schema.get_field_index("order_ts"),
        "order_ts",
        pa.array([late, early], rows.schema.field("order_ts").type),
    )
    rows = rows.set_column(
        rows.schema.get_field_index("month"), "month", pa.array([3, 4], pa.int32())
    )
    rows = rows.set_column(
        rows.schema.get_field_index("year"), "year", pa.array([2024, 2024], pa.int32())
    )
    write_silver("retail_sales", rows)
    views.refresh("retail_sales")
    utc = dt.timezone.utc
    daily = (
        _view_table("retail_sales", "sales_daily")
        .select(["period_start", "year", "month"])
        .to_pylist()
    )
    assert {(r["period_start"].astimezone(utc), r["month"]) for r in daily} == {
        (dt.datetime(2024, 3, 31, tzinfo=utc), 3),
        (dt.datetime(2024, 4, 1, tzinfo=utc), 4),
    }
    hourly = _view_table("retail_sales", "sales_hourly")["period_start"].to_pylist()
    assert sorted(v.astimezone(utc) for v in hourly) == [
        dt.datetime(2024, 3, 31, 23, tzinfo=utc),
        dt.datetime(2024, 4, 1, 0, tzinfo=utc),
    ]
    yearly = _view_table("retail_sales", "sales_yearly")
    assert (
        yearly.column_names[:2] == ["period_start", "year"] and "month" not in yearly.column_names
    )
    assert sum(yearly["orders"].to_pylist()) == 2


def test_yearly_view_is_partitioned_by_year_and_the_others_by_year_and_month(
    make_silver: Any, write_silver: Any
) -> None:
    write_silver("retail_sales", make_silver("retail_sales", 20, seed=3))
    views.refresh("retail_sales")
    settings_ = get_settings()
    partitioning = {
        v: DeltaTable(str(settings_.table_path("retail_sales", v))).metadata().partition_columns
        for v in load_dataset("retail_sales").semantic.views
    }
    assert partitioning == {
        "sales_hourly": ["year", "month"],
        "sales_daily": ["year", "month"],
        "sales_daily_totals": ["year", "month"],
        "sales_daily_mix": ["year", "month"],
        "sales_daily_geo": ["year", "month"],
        "sales_monthly": ["year", "month"],
        "sales_monthly_geo": ["year", "month"],
        "sales_monthly_channel": ["year", "month"],
        "sales_monthly_product": ["year", "month"],
        "sales_yearly": ["year"],
    }


def test_incremental_refresh_rewrites_only_touched_partitions_and_equals_a_full_refresh(
    make_silver: Any,
    write_silver: Any,
) -> None:
    write_silver(
        "retail_sales",
        make_silver("retail_sales", 400, seed=7, start=dt.date(2024, 11, 1), days=120),
    )
    first = views.refresh("retail_sales")
    assert {v.mode for v in first.views} == {"full"}
    before = {
        v: _files_by_partition("retail_sales", v)
        for v in load_dataset("retail_sales").semantic.views
    }

    write_silver(
        "retail_sales",
        make_silver(
            "retail_sales", 30, seed=8, start=dt.date(2025, 1, 10), days=5, ids_from=10_000
        ),
    )
    write_silver(
        "retail_sales",
        make_silver(
            "retail_sales", 25, seed=9, start=dt.date(2024, 12, 3), days=3, ids_from=20_000
        ),
        mode="overwrite",
        predicate="year = 2024 AND month = 12",
    )
    result = views.refresh("retail_sales")

    modes = {v.name: (v.mode, v.partitions) for v in result.views}
    monthly = [v for v in load_dataset("retail_sales").semantic.views if v != "sales_yearly"]
    assert modes == {"sales_yearly": ("incremental", ((2024,), (2025,)))} | {
        v: ("incremental", ((2024, 12), (2025, 1))) for v in monthly
    }
    for view in monthly:
        after = _files_by_partition("retail_sales", view)
        assert (
            after[(2024, 11)] == before[view][(2024, 11)]
            and after[(2025, 2)] == before[view][(2025, 2)]
        )
        assert (
            not after[(2024, 12)] & before[view][(2024, 12)]
            and not after[(2025, 1)] & before[view][(2025, 1)]
        )

    incremental = {
        v: _view_table("retail_sales", v) for v in load_dataset("retail_sales").semantic.views
    }
    views.refresh("retail_sales", full=True)
    assert incremental == {v: _view_table("retail_sales", v) for v in incremental}


def test_refresh_of_given_partitions_leaves_the_view_stale_until_the_rest_is_done(
    make_silver: Any,
    write_silver: Any,
) -> None:
    write_silver(
        "retail_sales", make_silver("retail_sales", 100, seed=1, start=dt.date(2025, 1, 1), days=59)
    )
    views.refresh("retail_sales")
    write_silver(
        "retail_sales",
        make_silver("retail_sales", 10, seed=2, start=dt.date(2025, 1, 5), days=1, ids_from=500),
    )
    write_silver(
        "retail_sales",
        make_silver("retail_sales", 10, seed=3, start=dt.date(2025, 2, 5), days=1, ids_from=600),
    )

    partial = views.refresh("retail_sales", partitions={(2025, 1)}, views=["sales_monthly"])
    assert [(v.mode, v.partitions, v.source_version) for v in partial.views] == [
        ("incremental", ((2025, 1),), 0)
    ]
    status = {s.name: s for s in views.view_status("retail_sales")}
    assert status["sales_monthly"].stale and status["sales_monthly"].source_version == 0

    rest = views.refresh("retail_sales", views=["sales_monthly"])
    assert [(v.mode, v.partitions, v.source_version) for v in rest.views] == [
        ("incremental", ((2025, 1), (2025, 2)), 2)
    ]
    assert not {s.name: s for s in views.view_status("retail_sales")}["sales_monthly"].stale


def test_view_status_shows_staleness_after_a_silver_commit_and_clears_after_refresh(
    make_silver: Any,
    write_silver: Any,
) -> None:
    every = len(load_dataset("superstore").semantic.views)
    assert {
        s.name: (s.source_version, s.table_version, s.stale)
        for s in views.view_status("superstore")
    } == {
        "superstore_yearly": (None, None, False),
        "superstore_monthly": (None, None, False),
        "superstore_monthly_geo": (None, None, False),
        "superstore_monthly_product": (None, None, False),
        "superstore_daily": (None, None, False),
        "superstore_daily_totals": (None, None, False),
    }
    write_silver("superstore", make_silver("superstore", 30, seed=4))
    assert all(s.stale and s.source_version is None for s in views.view_status("superstore"))
    views.refresh("superstore")
    assert [(s.source_version, s.stale) for s in views.view_status("superstore")] == [
        (0, False)
    ] * every
    write_silver("superstore", make_silver("superstore", 5, seed=5, ids_from=100))
    assert [(s.source_version, s.stale) for s in views.view_status("superstore")] == [
        (0, True)
    ] * every


def test_refresh_with_nothing_changed_rewrites_nothing_but_records_the_new_silver_version(
    make_silver: Any,
    write_silver: Any,
) -> None:
    every = len(load_dataset("superstore").semantic.views)
    rows = make_silver("superstore", 30, seed=4)
    write_silver("superstore", rows)
    views.refresh("superstore")
    again = views.refresh("superstore")
    assert [(v.mode, v.rows_written, v.table_version) for v in again.views] == [
        ("unchanged", 0, 0)
    ] * every

    write_silver("superstore", rows.slice(0, 0))  # a silver commit that adds no file
    recorded = views.refresh("superstore")
    assert [(v.mode, v.source_version, v.table_version) for v in recorded.views] == [
        ("unchanged", 1, 1)
    ] * every
    assert not any(s.stale for s in views.view_status("superstore"))


def test_refresh_falls_back_to_full_when_the_silver_log_was_cleaned_up(
    make_silver: Any, write_silver: Any
) -> None:
    path = write_silver("retail_sales", make_silver("retail_sales", 40, seed=1))
    views.refresh("retail_sales")
    write_silver("retail_sales", make_silver("retail_sales", 5, seed=2, ids_from=100))
    write_silver("retail_sales", make_silver("retail_sales", 5, seed=3, ids_from=200))
    DeltaTable(str(path)).create_checkpoint()
    (path / "_delta_log" / f"{1:020d}.json").unlink()
    assert views.changed_partitions(path, since=0, until=2) is None
    assert {v.mode for v in views.refresh("retail_sales").views} == {"full"}


def test_changed_partitions_lists_added_and_removed_files_partitions(
    make_silver: Any, write_silver: Any
) -> None:
    path = write_silver(
        "retail_sales", make_silver("retail_sales", 40, seed=1, start=dt.date(2024, 1, 1), days=90)
    )
    write_silver(
        "retail_sales",
        make_silver("retail_sales", 5, seed=2, start=dt.date(2024, 5, 2), days=3, ids_from=100),
    )
    write_silver(
        "retail_sales",
        make_silver("retail_sales", 5, seed=3, start=dt.date(2024, 2, 2), days=3, ids_from=200),
        mode="overwrite",
        predicate="year = 2024 AND month = 2",
    )
    assert views.changed_partitions(path, since=0, until=2) == {(2024, 5), (2024, 2)}
    assert views.changed_partitions(path, since=1, until=2) == {(2024, 2)}
    assert views.changed_partitions(path, since=2, until=2) == set()


def test_refresh_without_a_silver_table_says_to_ingest_first() -> None:
    with pytest.raises(
        DataError, match=r"dataset 'retail_sales' has no 'sales' table yet .* ingest data first"
    ):
        views.refresh("retail_sales")


def test_unknown_view_name_suggests_the_closest(make_silver: Any, write_silver: Any) -> None:
    write_silver("retail_sales", make_silver("retail_sales", 3, seed=1))
    with pytest.raises(UsageError, match=r"has no view 'sales_dayly'.*Did you mean 'sales_daily'"):
        views.refresh("retail_sales", views=["sales_dayly"])


def test_partitions_must_be_year_month_pairs(make_silver: Any, write_silver: Any) -> None:
    write_silver("retail_sales", make_silver("retail_sales", 3, seed=1))
    with pytest.raises(
        UsageError, match=r"partitions must be \(year, month\) pairs, got \[\(2024,\)\]"
    ):
        views.refresh("retail_sales", partitions={(2024,)})  # type: ignore[arg-type]


def test_rows_written_by_a_full_refresh_match_the_view_tables(
    make_silver: Any, write_silver: Any
) -> None:
    write_silver("retail_sales", make_silver("retail_sales", 80, seed=11, days=300))
    result = views.refresh("retail_sales", full=True)
    assert all(
        v.rows_written == _view_table("retail_sales", v.name).num_rows > 0 for v in result.views
    )
