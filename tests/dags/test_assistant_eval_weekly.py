"""``assistant_eval_weekly`` with ``dag.test()``: golden sets pass or fail the run per category."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.dags.airflow_support import run_dag

pytestmark = pytest.mark.airflow

REVENUE_2025 = {"id": "g-1", "question": "Total revenue in 2025", "category": "total",
                "expect": {"sql": "SELECT SUM(revenue) FROM retail_sales.sales "
                                  "WHERE status <> 'Cancelled' AND year = 2025"}}
WRONG_COUNT = {"id": "g-2", "question": "How many orders did we get in March 2025?",
               "category": "total", "expect": {"value": -1}}


def golden(tmp_path: Path, name: str, *questions: dict) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"dataset": "retail_sales", "as_of": "2026-01-15",
                                    "questions": list(questions)}))
    return str(path)


def test_eval_passes_when_every_category_reaches_the_configured_accuracy(loaded_home,
                                                                        tmp_path) -> None:
    right = golden(tmp_path, "right", REVENUE_2025)
    result = run_dag("assistant_eval_weekly", conf={"golden_sets": [right]})
    assert result.state == "success"
    assert result.xcoms["run_golden_sets"]["threshold"] == 0.95
    assert result.xcoms["run_golden_sets"]["sets"]["right.yaml"]["by_category"] == {"total": 1.0}


def test_eval_takes_the_threshold_from_settings(loaded_home, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RETAIL_EVAL__MIN_ACCURACY", "0.5")
    half = golden(tmp_path, "half", REVENUE_2025, WRONG_COUNT)
    result = run_dag("assistant_eval_weekly", conf={"golden_sets": [half]})
    assert result.state == "success"
    assert result.xcoms["run_golden_sets"]["sets"]["half.yaml"]["by_category"] == {"total": 0.5}


def test_eval_fails_without_retrying_when_a_category_drops_below_the_param(
        loaded_home, tmp_path, monkeypatch, capfd) -> None:
    monkeypatch.setenv("RETAIL_EVAL__MIN_ACCURACY", "0.5")
    half = golden(tmp_path, "half", REVENUE_2025, WRONG_COUNT)
    result = run_dag("assistant_eval_weekly", conf={"golden_sets": [half], "min_accuracy": 0.75})
    assert result.state == "failed"
    assert result.task_states == {"run_golden_sets": "failed"}
    logged = "".join(capfd.readouterr())
    assert "golden-set accuracy below 75.0% in: half.yaml:total 50.0%" in logged
