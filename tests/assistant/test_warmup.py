"""Warm-up: each step timed, a failing step recorded (never fatal), the query log's questions answered."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from assistant.warmup import warm_up
from tests.assistant.warehouse_builder import local_assistant


def test_warm_up_loads_every_dataset_and_answers_the_primed_questions(warehouse: Path, catalog_runner) -> None:
    assistant = local_assistant(catalog_runner)
    asked: list[tuple[str, date | None]] = []
    real = assistant.answer
    assistant.answer = lambda question, **kw: asked.append((question, kw.get("as_of"))) or real(question, **kw)
    report = warm_up(assistant, datasets=["superstore", "retail_sales"],
                     questions=[("superstore", "total sales in 2016", None), ("nope", "ignored", None),
                                ("retail_sales", "orders by channel in 2024", None),
                                ("superstore", "sales last month", date(2017, 12, 15))])
    assert {"values:superstore", "warehouse:superstore", "values:retail_sales", "warehouse:retail_sales",
            "query log"} <= set(report.seconds)
    assert report.failed == {} and report.primed == 3
    assert ("sales last month", date(2017, 12, 15)) in asked and ("total sales in 2016", None) in asked
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
