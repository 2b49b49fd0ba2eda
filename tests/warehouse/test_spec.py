"""Dataset specs load, and every kind of mistake in them fails with a message that names the fix."""

from __future__ import annotations

from pathlib import Path
import shutil

import pytest
import yaml

from retail_insights.errors import ConfigError, UsageError
from warehouse.spec import DATASETS_DIR, dataset_names, exact_form, load_dataset, load_dataset_from


def test_the_project_datasets_are_registered():
    assert dataset_names() == ["retail_sales", "superstore", "tpcds_store"]


def test_retail_sales_spec_matches_the_spec_document():
    ds = load_dataset("retail_sales")
    assert ds.spec.key == ("order_id",)
    assert ds.spec.dedupe_order == "updated_at"
    assert ds.spec.partitioning == ("year", "month")
    assert ds.spec.clustering == ("category", "state")
    assert [c.name for c in ds.spec.source.columns][:3] == ["order_id", "order_ts", "updated_at"]
    assert set(ds.semantic.metrics) == {
        "revenue", "orders", "units", "profit", "margin", "aov", "avg_discount", "customers",
        "cancelled_orders", "cancellation_rate"}
    assert ds.semantic.metric("revenue").filter == "not_cancelled"
    assert ds.semantic.metric("cancellation_rate").filter is None
    assert "sales" in ds.semantic.metric("revenue").synonyms


def test_superstore_spec_keeps_its_own_semantics():
    ds = load_dataset("superstore")
    assert ds.spec.key == ("row_id",)
    assert ds.semantic.metric("orders").base == "COUNT(DISTINCT order_id)"
    assert ds.semantic.metric("order_lines").base == "COUNT(*)"
    assert ds.semantic.dimension("region").values == ("Central", "East", "South", "West")
    assert ds.spec.column("row_id").header == "Row ID"


def test_distinct_counts_cannot_be_answered_from_views():
    sem = load_dataset("retail_sales").semantic
    assert not sem.view_answers("customers")
    assert sem.view_answers("revenue")


def test_views_are_ordered_from_coarsest_to_finest_grain_with_full_views_leading_their_grain():
    names = [name for name, _ in load_dataset("retail_sales").semantic.views_by_grain()]
    assert names == ["sales_yearly", "sales_monthly", "sales_monthly_geo", "sales_monthly_channel",
                     "sales_monthly_product", "sales_daily", "sales_daily_totals", "sales_daily_geo",
                     "sales_daily_mix", "sales_hourly"]


def test_views_by_size_keep_the_declared_smallest_first_order():
    names = [name for name, _ in load_dataset("superstore").semantic.views_by_size()]
    assert names == ["superstore_daily_totals", "superstore_monthly_geo", "superstore_monthly_product",
                     "superstore_yearly", "superstore_monthly", "superstore_daily"]


def test_every_view_states_its_grain_dimensions_and_answerable_metrics():
    sem = load_dataset("retail_sales").semantic
    full = sem.views["sales_monthly"]
    geo = sem.views["sales_monthly_geo"]
    assert full.dims == sem.view_columns.dimensions and full.grain == "month"
    assert (geo.grain, geo.dims) == ("month", ("region", "state", "status"))
    assert "revenue" in geo.answers and "cancellation_rate" in geo.answers
    assert "customers" not in geo.answers          # a distinct count is not additive
    store = load_dataset("superstore").semantic.views["superstore_daily_totals"]
    assert store.dims == () and set(store.answers) == {
        "sales", "profit", "quantity", "order_lines", "margin", "avg_discount", "days_to_ship"}


def test_rollup_view_with_an_unknown_dimension_names_it(editable):
    folder = editable("semantic.yaml",
                      lambda d: d["views"]["sales_monthly_geo"]["dimensions"].append("colour"))
    with pytest.raises(ConfigError, match="view 'sales_monthly_geo' has unknown dimension 'colour'. "
                                          "Allowed: .*'state'"):
        load_dataset_from(folder)


def test_view_listing_a_metric_its_columns_cannot_answer_names_the_missing_column(editable):
    def drop_status(doc):
        doc["views"]["sales_monthly_geo"].update(dimensions=["region", "state"], metrics=["revenue"])

    with pytest.raises(ConfigError, match=r"view 'sales_monthly_geo' cannot answer metric 'revenue': "
                                          r"it lacks \['status'\]"):
        load_dataset_from(editable("semantic.yaml", drop_status))


def test_view_listing_an_unknown_metric_suggests_the_closest(editable):
    folder = editable("semantic.yaml", lambda d: d["views"]["sales_monthly_geo"].update(metrics=["revenu"]))
    with pytest.raises(ConfigError, match="view 'sales_monthly_geo' lists unknown metric 'revenu'. "
                                          "Did you mean 'revenue'"):
        load_dataset_from(folder)


def test_view_that_an_earlier_view_covers_is_refused_as_never_chosen(editable):
    def monthly_first(doc):
        doc["views"] = {"sales_monthly": doc["views"].pop("sales_monthly"), **doc["views"]}

    with pytest.raises(ConfigError, match="view 'sales_monthly_geo' would never be chosen: 'sales_monthly', "
                                          "listed before it, answers every question it can"):
        load_dataset_from(editable("semantic.yaml", monthly_first))


def test_an_exact_view_answers_distinct_counts_and_ratios_of_them_through_its_own_columns():
    sem = load_dataset("tpcds_store").semantic
    assert exact_form(sem, "basket_value") == "SUM(sales) / NULLIF(SUM(tickets), 0)"
    assert exact_form(sem, "customers") == "SUM(customers)"
    exact = sem.views["tpcds_exact_yearly_item"]
    assert exact.exact and {"customers", "tickets", "basket_value", "sales"} <= set(exact.answers)
    assert "customers" not in sem.views["tpcds_yearly"].answers
    order = [name for name, _ in sem.views_by_grain()]
    assert order[-7:] == ["tpcds_exact_all", "tpcds_exact_all_item", "tpcds_exact_yearly",   # exact views last
                          "tpcds_exact_yearly_item", "tpcds_exact_quarterly", "tpcds_exact_quarterly_item",
                          "tpcds_exact_monthly"]


def test_a_metric_with_a_row_filter_has_no_exact_form():
    sem = load_dataset("retail_sales").semantic
    assert sem.metrics["revenue"].filter is not None and exact_form(sem, "revenue") is None


@pytest.mark.parametrize("grain", ["all", "quarter"])
def test_only_an_exact_view_may_hold_all_time_or_quarters(editable, grain):
    folder = editable("semantic.yaml", lambda d: d["views"]["sales_yearly"].update(grain=grain))
    with pytest.raises(ConfigError, match=f"view 'sales_yearly' has grain '{grain}' but is not exact"):
        load_dataset_from(folder)


def test_an_exact_view_answers_what_its_columns_hold_and_lists_no_metrics(editable):
    folder = editable("semantic.yaml", lambda d: d["views"]["sales_yearly"].update(exact=True, metrics=["orders"]))
    with pytest.raises(ConfigError, match="exact view 'sales_yearly' lists metrics"):
        load_dataset_from(folder)


def test_two_views_cannot_share_a_table(editable):
    folder = editable("semantic.yaml", lambda d: d["views"]["sales_monthly_geo"].update(table="sales_monthly"))
    with pytest.raises(ConfigError, match="view 'sales_monthly' reuses the table name 'sales_monthly'"):
        load_dataset_from(folder)


def test_unknown_dataset_suggests_the_closest_name():
    with pytest.raises(UsageError, match="unknown dataset 'retail_sale'. Did you mean 'retail_sales'"):
        load_dataset("retail_sale")


def test_unknown_metric_suggests_the_closest_name():
    with pytest.raises(UsageError, match="unknown metric 'revenu'. Did you mean 'revenue'"):
        load_dataset("retail_sales").semantic.metric("revenu")


@pytest.fixture
def editable(tmp_path: Path):
    """A copy of the retail_sales folder whose YAML a test can edit."""
    folder = tmp_path / "retail_sales"
    shutil.copytree(DATASETS_DIR / "retail_sales", folder)

    def edit(file: str, change) -> Path:
        path = folder / file
        doc = yaml.safe_load(path.read_text())
        change(doc)
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return folder

    return edit


def test_unknown_top_level_key_is_named_with_the_allowed_keys(editable):
    folder = editable("dataset.yaml", lambda d: d.update(partitionning=["year"]))
    with pytest.raises(ConfigError, match=r"unknown key 'partitionning' at partitionning\. Allowed keys there: "
                                          r"name, .*partitioning.*Fix: remove it or correct its spelling"):
        load_dataset_from(folder)


def test_unknown_nested_key_in_a_metric_is_named(editable):
    folder = editable("semantic.yaml", lambda d: d["metrics"]["revenue"].update(synonym=["x"]))
    with pytest.raises(ConfigError, match=r"unknown key 'synonym' at metrics\.revenue\.synonym\. "
                                          r"Allowed keys there: synonyms, verbs, patterns, label, base, additive, filter, format"):
        load_dataset_from(folder)


def test_missing_required_key_is_named(editable):
    folder = editable("dataset.yaml", lambda d: d.pop("key"))
    with pytest.raises(ConfigError, match="missing required key 'key'. Fix: add it"):
        load_dataset_from(folder)


def test_bad_column_type_names_the_allowed_types(editable):
    folder = editable("dataset.yaml", lambda d: d["source"]["columns"][0].update(type="varchar"))
    with pytest.raises(ConfigError, match="column 'order_id' has unknown type 'varchar'; use one of string"):
        load_dataset_from(folder)


def test_metric_filter_must_name_a_declared_filter(editable):
    folder = editable("semantic.yaml", lambda d: d["metrics"]["revenue"].update(filter="not_canceled"))
    with pytest.raises(ConfigError, match="metric 'revenue' refers to unknown 'not_canceled'. "
                                          "Did you mean 'not_cancelled'"):
        load_dataset_from(folder)


def test_dimension_must_point_at_a_real_column(editable):
    folder = editable("semantic.yaml", lambda d: d["dimensions"]["state"].update(column="sate"))
    with pytest.raises(ConfigError, match="dimension 'state' refers to unknown 'sate'. Did you mean 'state'"):
        load_dataset_from(folder)


def test_view_dimension_must_be_a_declared_dimension(editable):
    folder = editable("semantic.yaml", lambda d: d["view_columns"]["dimensions"].append("colour"))
    with pytest.raises(ConfigError, match="view_columns 'dimensions' refers to unknown 'colour'"):
        load_dataset_from(folder)


def test_hierarchy_levels_must_exist(editable):
    folder = editable("semantic.yaml", lambda d: d["hierarchies"].update(geo=["region", "county"]))
    with pytest.raises(ConfigError, match="hierarchy 'geo' refers to unknown 'county'"):
        load_dataset_from(folder)


def test_clustering_column_must_exist(editable):
    folder = editable("dataset.yaml", lambda d: d.update(clustering=["category", "stat"]))
    with pytest.raises(ConfigError, match="column 'stat' is not a source or derived column. Did you mean 'state'"):
        load_dataset_from(folder)


def test_broken_yaml_says_so(tmp_path):
    shutil.copytree(DATASETS_DIR / "superstore", tmp_path / "s")
    (tmp_path / "s" / "semantic.yaml").write_text("metrics: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_dataset_from(tmp_path / "s")
