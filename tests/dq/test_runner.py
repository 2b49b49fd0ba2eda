"""dq.runner: declarative suites become Great Expectations suites, and GE decides which rows fail."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dq import runner
from retail_insights.errors import ConfigError, DataError, UsageError
from warehouse.spec import dataset_names, load_dataset

SPEC_CRITICAL = {"MISSING_ORDER_ID", "BAD_ORDER_TS", "BAD_QUANTITY", "BAD_PRICE", "BAD_DISCOUNT", "BAD_COST",
                 "BAD_STATE", "BAD_STATUS", "SHIP_BEFORE_ORDER"}
SPEC_WARNINGS = {"HIGH_REVENUE", "OLD_ORDER", "FUTURE_ORDER"}


def store_frame(**columns: list) -> pd.DataFrame:
    """A two-row frame with every column the superstore suite reads; row 0 is valid."""
    base = {
        "row_id": [1.0, 2.0], "order_id": ["A", "B"],
        "order_date": pd.to_datetime(["2016-11-08", "2016-11-08"], utc=True),
        "ship_date": pd.to_datetime(["2016-11-11", "2016-11-11"], utc=True),
        "ship_date__rejected": pd.Series([None, None], dtype="str"),
        "sales": [1.0, 2.0], "quantity": [1.0, 2.0], "discount": [0.0, 0.1], "profit": [0.5, -1.0],
    }
    return pd.DataFrame({**base, **columns})


def test_retail_suite_has_every_spec_code_with_its_severity():
    suite = runner.load_suite("retail_sales")
    assert SPEC_CRITICAL <= set(suite.codes("critical"))
    assert set(suite.codes("warning")) == SPEC_WARNINGS


def test_status_values_in_the_suite_are_the_dataset_allowed_values():
    rule = next(r for r in runner.load_suite("retail_sales").rules if r.expectation.endswith("_in_set"))
    assert tuple(rule.kwargs["value_set"]) == load_dataset("retail_sales").spec.column("status").allowed


def _suites_of(dataset: str) -> list[str]:
    spec = load_dataset(dataset).spec
    return [spec.validation_suite, *(d.validation_suite for d in spec.dimension_tables.values())]


@pytest.mark.parametrize("name", runner.suite_names())
def test_every_suite_is_named_by_its_dataset(name):
    owners = [d for d in dataset_names() if name in _suites_of(d)]
    assert len(owners) == 1 and name.startswith(owners[0])


@pytest.mark.parametrize(("column", "values", "code"), [
    ("row_id", [1.0, np.nan], "BAD_ROW_ID"),
    ("order_id", ["A", None], "MISSING_ORDER_ID"),
    ("ship_date__rejected", pd.Series([None, "soon"], dtype="str"), "BAD_SHIP_DATE"),
    ("ship_date", pd.to_datetime(["2016-11-11", "2016-11-07"], utc=True), "SHIP_BEFORE_ORDER"),
    ("profit", [1.0, np.nan], "BAD_PROFIT"),
])
def test_validate_flags_exactly_the_rows_that_break_a_rule(column, values, code):
    checked = runner.validate(store_frame(**{column: values}), suite="superstore")
    assert checked.rows_with(code).tolist() == [False, True]
    assert checked.failed[0].sum() == 0 and checked.failed[1].sum() == 1


def test_validate_reports_a_json_summary_per_rule():
    checked = runner.validate(store_frame(order_id=["A", None]), suite="superstore")
    summary = json.loads(json.dumps(checked.summary))
    assert summary["success"] is False and summary["element_count"] == 2
    rule = next(r for r in summary["rules"] if r["code"] == "MISSING_ORDER_ID")
    assert (rule["unexpected_count"], rule["partial_unexpected_index_list"], rule["severity"]) == (1, [1], "critical")
    assert summary["statistics"]["evaluated_expectations"] == len(runner.load_suite("superstore").rules)


def test_validate_accepts_any_row_index():
    frame = store_frame(order_id=["A", None]).set_axis([10, 20])
    assert runner.validate(frame, suite="superstore").rows_with("MISSING_ORDER_ID").tolist() == [False, True]


def test_an_expectation_that_cannot_run_fails_loudly():
    frame = store_frame(ship_date=["soon", "later"])  # text cannot be compared with dates
    with pytest.raises(DataError, match="SHIP_BEFORE_ORDER .* failed to run"):
        runner.validate(frame, suite="superstore")


def test_unknown_suite_names_the_ones_that_exist():
    with pytest.raises(UsageError, match="unknown validation suite 'retail_sale'.*Did you mean 'retail_sales'"):
        runner.validate(store_frame(), suite="retail_sale")


def test_a_missing_column_is_named():
    with pytest.raises(UsageError, match=r"needs columns \['profit'\]"):
        runner.validate(store_frame().drop(columns="profit"), suite="superstore")


def test_a_missing_parameter_is_named():
    with pytest.raises(UsageError, match=r"needs parameters \['ten_years_before_ingestion', 'ingested_at'\]"):
        runner.validate(pd.DataFrame({c: [] for c in runner.load_suite("retail_sales").columns}),
                        suite="retail_sales")


@pytest.fixture
def suites_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(runner, "SUITES_DIR", tmp_path)
    yield tmp_path


def write_suite(folder: Path, name: str, rules: str) -> None:
    (folder / f"{name}.yaml").write_text(f"name: {name}\ndescription: test\nrules:\n{rules}", encoding="utf-8")


def test_a_code_with_two_severities_is_a_config_error(suites_dir):
    write_suite(suites_dir, "mixed", "  - {code: X, severity: critical, reason: a, expectation: expect_a, column: a}\n"
                                     "  - {code: X, severity: warning, reason: b, expectation: expect_b, column: b}\n")
    with pytest.raises(ConfigError, match="code 'X' is both critical and warning"):
        runner.load_suite("mixed")


def test_an_unknown_key_in_a_suite_is_a_config_error(suites_dir):
    write_suite(suites_dir, "typo", "  - {code: X, severity: critical, reason: a, expectation: expect_a, colum: a}\n")
    with pytest.raises(ConfigError, match="typo.yaml: not a valid suite.*colum"):
        runner.load_suite("typo")


def test_an_unknown_expectation_is_a_config_error(suites_dir):
    write_suite(suites_dir, "unknown", "  - {code: X, severity: critical, reason: a, "
                                       "expectation: expect_column_values_to_be_purple, column: a}\n")
    with pytest.raises(ConfigError, match="unknown expectation 'expect_column_values_to_be_purple'"):
        runner.validate(pd.DataFrame({"a": [1]}), suite="unknown")
