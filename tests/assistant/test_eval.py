"""Golden sets: both datasets answered correctly by the rules alone, plus the comparison rules."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from assistant.eval import default_golden, format_report, load_golden, rows_match, run_golden
from assistant.pipeline import Assistant
from retail_insights.errors import ConfigError

MIN_ACCURACY = 0.95


@pytest.mark.parametrize(("dataset", "at_least"), [("retail_sales", 100), ("superstore", 60)])
def test_golden_set_passes_with_no_llm_calls(make_assistant: Callable[..., Assistant], dataset: str, at_least: int) -> None:
    report = run_golden(make_assistant(), default_golden(dataset))
    assert report.total >= at_least
    assert report.llm_calls == 0 and "llm" not in report.tiers
    assert report.accuracy >= MIN_ACCURACY, format_report(report, failures=20)
    for category, (passed, total) in report.by_category.items():
        assert passed / total >= MIN_ACCURACY, (category, format_report(report, failures=20))


def test_golden_sets_cover_every_category_and_near_misses() -> None:
    for dataset in ("retail_sales", "superstore"):
        _, questions = load_golden(default_golden(dataset))
        categories = {q.category for q in questions}
        assert {"total", "breakdown", "top_n", "compare", "growth", "trend", "share", "average", "distinct",
                "time_relative", "geography", "near_miss", "clarify"} <= categories
        assert len({q.id for q in questions}) == len(questions)


def test_retail_golden_expectations_are_reference_sql_over_the_base_table() -> None:
    _, questions = load_golden(default_golden("retail_sales"))
    for q in questions:
        assert "sql" in q.expect or q.expect.get("status") == "clarify", q.id
        if "sql" in q.expect:
            assert "retail_sales.sales " in q.expect["sql"] + " " and "_monthly" not in q.expect["sql"], q.id


def test_rows_match_compares_numbers_within_half_a_cent_and_ignores_order_unless_asked() -> None:
    assert rows_match([("b", 2.0), ("a", 1.001)], [["a", 1.0], ["b", 2.0]], ordered=False) == ""
    assert rows_match([("b", 2.0), ("a", 1.0)], [["a", 1.0], ["b", 2.0]], ordered=True).startswith("row 0")
    assert rows_match([("a", 1.01)], [["a", 1.0]], ordered=False).startswith("row 0")
    assert rows_match([("a", None)], [["a", None]], ordered=False) == ""
    assert rows_match([], [["a", 1]], ordered=False) == "0 rows, expected 1"


def test_malformed_golden_file_names_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("dataset: superstore\nas_of: 2018-01-01\nquestions:\n  - question: sales\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"question #1 lacks \['category', 'expect'\]"):
        load_golden(path)


def test_missing_golden_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_golden(tmp_path / "none.yaml")
