"""dataset init writes drafts the project's loader accepts, into the user's folder, never overwriting."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dq.runner import load_suite
from retail_insights.errors import ConfigError, UsageError
from retail_insights.onboarding.scaffold import init_dataset
from warehouse.spec import dataset_names, load_dataset


def test_init_on_a_star_writes_drafts_that_load_by_name_from_retail_home(star, retail_home: Path):
    said: list[str] = []
    result = init_dataset("shop", list(star.values()), say=said.append)
    assert result.folder == retail_home.resolve() / "datasets" / "shop"
    assert "shop" in dataset_names()
    ds = load_dataset("shop")
    assert ds.spec.files == "orders.*" and ds.spec.key == ("line_id",) and ds.spec.time_column == "order_date"
    assert ds.spec.column("order_date").type == "date"
    assert ds.spec.references == {"customer_id": "customers"}  # by name and values
    assert set(ds.spec.dimension_tables) == {"customers", "products"}
    assert ds.semantic.metric("amount").base == "SUM(amount)"
    assert ds.semantic.metric("avg_discount").format == "percent"
    assert ds.semantic.dimension("region").values == ("East", "West")
    assert load_suite("shop").codes() == ("MISSING_LINE_ID", "MISSING_ORDER_DATE", "BAD_PRODUCT_SK", "BAD_AMOUNT",
                                          "BAD_UNITS", "BAD_DISCOUNT", "UNKNOWN_CUSTOMERS")
    assert load_suite("shop_products").name == "shop_products"
    assert any(line.startswith("profiled orders.csv: 40 rows") for line in said)  # progress, a line per file
    assert any("retail-insights dataset check shop" in line for line in said)


def test_relationships_by_values_only_are_suggested_commented_out(star):
    folder = init_dataset("shop", list(star.values()), say=lambda _: None).folder
    text = (folder / "dataset.yaml").read_text()
    assert "  # product_sk: products  # review: every value is found in products.id, but the names differ" in text
    assert "# review: is this the key?" in text


def test_init_never_overwrites_without_force(star):
    init_dataset("shop", [star["orders"]], say=lambda _: None)
    with pytest.raises(UsageError, match=r"dataset.yaml exists: init never overwrites.*--force"):
        init_dataset("shop", [star["orders"]], say=lambda _: None)
    init_dataset("shop", [star["orders"]], force=True, say=lambda _: None)


def test_a_user_dataset_may_not_take_a_project_name(star):
    with pytest.raises(UsageError, match="'superstore' is a project dataset"):
        init_dataset("superstore", [star["orders"]], say=lambda _: None)


def test_a_user_folder_shadowing_a_project_dataset_fails_naming_both(star, retail_home: Path):
    folder = retail_home / "datasets" / "superstore"
    folder.mkdir(parents=True)
    (folder / "dataset.yaml").write_text(yaml.safe_dump({"name": "superstore"}))
    with pytest.raises(ConfigError, match=r"defined twice: by the project in .*warehouse/datasets/superstore "
                                          r"and by you in .*retail-home/datasets/superstore"):
        load_dataset("superstore")


def test_the_datasets_dir_setting_moves_user_datasets(star, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from retail_insights.settings import get_settings

    monkeypatch.setenv("RETAIL_DATASETS_DIR", str(tmp_path / "mine"))
    get_settings.cache_clear()
    assert init_dataset("shop", [star["orders"]], say=lambda _: None).folder == (tmp_path / "mine" / "shop").resolve()
    assert load_dataset("shop").folder == (tmp_path / "mine" / "shop").resolve()
