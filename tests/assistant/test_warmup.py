"""Warm-up: each step timed, a failing step recorded (never fatal), the query log's questions answered."""

from __future__ import annotations

from pathlib import Path

from assistant.warmup import warm_up
from tests.assistant.warehouse_builder import local_assistant


def test_warm_up_loads_every_dataset_and_answers_the_primed_questions(warehouse: Path, catalog_runner) -> None:
    assistant = local_assistant(catalog_runner)
    report = warm_up(assistant, datasets=["superstore", "retail_sales"],
                     questions=[("superstore", "total sales in 2016"), ("nope", "ignored"),
                                ("retail_sales", "orders by channel in 2024")])
    assert {"values:superstore", "warehouse:superstore", "values:retail_sales", "warehouse:retail_sales",
            "query log"} <= set(report.seconds)
    assert report.failed == {} and report.primed == 2
    assert report.total_s == round(sum(report.seconds.values()), 3)


def test_a_failing_step_is_recorded_and_the_rest_still_runs(warehouse: Path, catalog_runner) -> None:
    assistant = local_assistant(catalog_runner)
    calls: list[str] = []

    def broken(dataset: str, version: object) -> object:
        calls.append(dataset)
        raise RuntimeError("values table is gone")

    assistant.vocabulary_for = broken
    report = warm_up(assistant, datasets=["superstore", "retail_sales"])
    assert report.failed["values:superstore"] == "RuntimeError: values table is gone"
    assert calls == ["superstore", "superstore", "retail_sales", "retail_sales"]   # values, then the example
    assert "warehouse:retail_sales" in report.seconds
