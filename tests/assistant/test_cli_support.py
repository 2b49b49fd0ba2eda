"""The text and exit codes behind ``retail-insights ask`` and ``retail-insights eval``."""

from __future__ import annotations

from datetime import date
import json
from pathlib import Path

from assistant.cli_support import ask_command, eval_command


def test_ask_prints_the_sentence_table_and_sql(warehouse: Path) -> None:
    text, code = ask_command("orders by channel in June 2024", dataset="retail_sales", as_of=date(2024, 7, 1),
                             as_json=False)
    assert code == 0
    assert text.splitlines()[0].startswith("Orders by channel between 2024-06-01 and 2024-06-30")
    assert "channel | orders" in text and "SQL (sales_monthly_channel)" in text


def test_ask_json_is_one_answer_object(warehouse: Path) -> None:
    text, code = ask_command("Total sales in 2017", dataset="superstore", as_of=date(2018, 1, 1), as_json=True)
    payload = json.loads(text)
    assert code == 0 and payload["status"] == "answered" and payload["tier"] in ("metadata", "cache_l1")
    assert payload["interpretation"]["time"] == {"start": "2017-01-01", "end": "2017-12-31", "label": "2017",
                                                 "column": "order_date"}


def test_ask_exits_3_when_the_question_needs_rephrasing(warehouse: Path) -> None:
    text, code = ask_command("weather in Paris", dataset="retail_sales", as_of=None, as_json=False)
    assert code == 3 and "Try:" in text


def test_eval_fails_on_a_golden_set_that_is_wrong(warehouse: Path, tmp_path: Path) -> None:
    golden = tmp_path / "wrong.yaml"
    golden.write_text("dataset: superstore\nas_of: 2018-01-01\nquestions:\n"
                      "  - {question: Total sales in 2017, category: total, expect: {value: 1}}\n", encoding="utf-8")
    text, code = eval_command(dataset="superstore", golden=golden)
    assert code == 1 and "0/1 correct" in text and "FAIL" in text
