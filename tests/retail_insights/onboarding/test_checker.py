"""dataset check finds each kind of mistake, says where (file:key) and the fix, and passes a good draft."""

from __future__ import annotations

from pathlib import Path

import pytest

from retail_insights.onboarding.checker import check_dataset
from retail_insights.onboarding.scaffold import init_dataset


@pytest.fixture
def shop(star) -> Path:
    return init_dataset("shop", list(star.values()), say=lambda _: None).folder


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def lines_of(star: dict[str, Path]) -> list[str]:
    report = check_dataset("shop", data=list(star.values()))
    assert not report.ok and "problem" in report.text()
    return [p.line() for p in report.problems]


def test_a_fresh_draft_checks_ok_against_its_data(shop, star):
    report = check_dataset("shop", data=list(star.values()))
    assert report.ok, report.text()
    assert report.text().startswith("ok: shop: ") and "rows 51" in report.text()


def test_a_declared_column_the_file_lacks_names_the_header_to_give(shop, star):
    edit(shop / "dataset.yaml", "    - {name: units,", "    - {name: channel, header: Chanel, type: string}\n    - {name: units,")
    assert any(line.startswith("dataset.yaml:source.columns.channel: column 'channel' (header 'Chanel') is not in "
                               "orders.csv. Fix: remove it, or give its `header:` as written in the file.")
               for line in lines_of(star))


def test_a_type_that_does_not_parse_shows_examples(shop, star):
    edit(shop / "dataset.yaml", "name: region, header: Region, type: string", "name: region, header: Region, type: int64")
    found = [line for line in lines_of(star) if line.startswith("dataset.yaml:source.columns.region.type")]
    assert found == ["dataset.yaml:source.columns.region.type: 40 of 40 values of 'region' do not parse as int64 "
                     "(e.g. 'West', 'East'). Fix: change `type:` (string keeps any text) or correct the file; at "
                     "ingest these rows would be quarantined or stored empty."]


def test_a_key_that_repeats_is_reported_with_the_fix(shop, star):
    edit(shop / "dataset.yaml", "key: [line_id]", "key: [region]")
    assert any(line.startswith("dataset.yaml:key: key ['region'] is not unique: 2 values appear more than once")
               and "Fix: add columns to `key:` until it is unique" in line for line in lines_of(star))


def test_metric_sql_over_an_unknown_column_is_named(shop, star):
    edit(shop / "semantic.yaml", "base: SUM(amount)", "base: SUM(amount_usd)")
    assert any(line.startswith("semantic.yaml:metrics.amount.base: metric 'amount' reads unknown column "
                               "'amount_usd'. Fix: use a column of dataset.yaml") for line in lines_of(star))


def test_dimension_members_the_data_and_the_yaml_disagree_on(shop, star):
    edit(shop / "semantic.yaml", "values: [East, West]", "values: [East, North]")
    lines = lines_of(star)
    assert ("semantic.yaml:dimensions.region.values: the data has values ['West'] that dimension 'region' does "
            "not list. Fix: add them to `values:` (or make it `open: true`).") in lines
    assert ("semantic.yaml:dimensions.region.values: dimension 'region' lists ['North'], which the data never has. "
            "Fix: check their spelling against the data, or remove them.") in lines


def test_a_view_naming_an_unknown_dimension_fails_through_the_loader(shop, star):
    edit(shop / "semantic.yaml", "{grain: year, table: shop_yearly}",
         "{grain: year, table: shop_yearly, dimensions: [regoin]}")
    assert any(line.startswith("semantic.yaml: view 'shop_yearly' has unknown dimension 'regoin'.")
               and "Did you mean 'region'?" in line and "Fix: use declared dimensions." in line
               for line in lines_of(star))


def test_references_whose_keys_are_missing(shop, star):
    rows = star["customers"].read_text().splitlines()
    star["customers"].write_text("\n".join(rows[:-1]) + "\n")  # drop customer C4
    assert ("dataset.yaml:references.customer_id: 1 values of 'customer_id' are no customers.customer_id "
            "(e.g. 'C4'); their rows would be quarantined. Fix: add those rows to the customers file, or remove "
            "the reference.") in lines_of(star)


def test_a_suite_rule_over_an_unknown_column(shop, star):
    edit(shop / "suites" / "shop.yaml", "column: amount__rejected", "column: amount_rejected")
    assert any(line.startswith("suites/shop.yaml:rules.3: rule BAD_AMOUNT checks unknown column 'amount_rejected'.")
               for line in lines_of(star))


def test_without_data_the_last_ingested_files_are_used_or_none_is_said(shop):
    assert "data none (pass --data PATH, or ingest first)" in check_dataset("shop").text()


def test_the_command_exits_1_with_one_line_per_problem(shop, star, retail_home):
    from tests.retail_insights.test_cli import run_cli

    edit(shop / "semantic.yaml", "base: SUM(amount)", "base: SUM(amount_usd)")
    done = run_cli("dataset", "check", "shop", "--data", str(star["orders"]), "--data", str(star["customers"]),
                   "--data", str(star["products"]), env={"RETAIL_HOME": str(retail_home)})
    assert done.returncode == 1
    assert done.stdout.splitlines()[1].startswith("semantic.yaml:metrics.amount.base: ")
