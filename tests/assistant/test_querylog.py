"""The query log: whole lines appended, rotated at its size limit, the most asked questions counted."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from assistant.querylog import QueryLog, entry_of


def _answer(question: str, *, status: str = "answered", dataset: str = "superstore") -> dict:
    return {"question": question, "dataset": dataset, "status": status, "tier": "metadata", "latency_ms": 12.5,
            "bytes_read": 2048, "cost_usd": 0.0, "data_version": 3,
            "interpretation": {"llm": {"tokens": 0}}}


def test_each_answer_is_one_json_line_with_cost_and_provenance(tmp_path: Path) -> None:
    log = QueryLog(tmp_path / "state" / "queries.jsonl")
    log.append(_answer("total sales in 2016"))
    line = json.loads((tmp_path / "state" / "queries.jsonl").read_text().strip())
    assert line["question"] == "total sales in 2016" and line["bytes_read"] == 2048 and line["data_version"] == 3
    assert line["at"].endswith("+00:00")


def test_the_most_asked_answered_questions_come_first(tmp_path: Path) -> None:
    log = QueryLog(tmp_path / "queries.jsonl")
    for question, times in (("a", 1), ("b", 3), ("c", 2)):
        for _ in range(times):
            log.append(_answer(question))
    log.append(_answer("refused one", status="refused"))
    (tmp_path / "queries.jsonl").open("a").write("not json\n")   # a torn line is skipped, not fatal
    assert log.top_questions(2) == [("superstore", "b", None), ("superstore", "c", None)]


def test_a_day_the_caller_pinned_is_kept_and_counts_as_another_ask(tmp_path: Path) -> None:
    """Priming asks "last month" as of the day the dashboard pinned, else it primes another intent."""
    log = QueryLog(tmp_path / "queries.jsonl")
    for _ in range(2):
        log.append(_answer("sales last month"), as_of=date(2018, 1, 1))
    log.append(_answer("sales last month"))
    lines = list(log.entries())
    assert lines[0]["as_of"] == "2018-01-01" and "as_of" not in lines[2]
    assert log.top_questions(5) == [("superstore", "sales last month", date(2018, 1, 1)),
                                    ("superstore", "sales last month", None)]


def test_the_file_is_rotated_at_its_limit_and_both_parts_are_read(tmp_path: Path) -> None:
    size = len(json.dumps(entry_of(_answer("q0"))))
    log = QueryLog(tmp_path / "queries.jsonl", max_bytes=3 * size)
    for n in range(7):
        log.append(_answer(f"q{n}"))
    assert (tmp_path / "queries.jsonl.1").exists()
    assert [e["question"] for e in log.entries()][-2:] == ["q5", "q6"]
    assert (tmp_path / "queries.jsonl").stat().st_size <= 3 * size + 200


def test_an_unwritable_folder_costs_a_warning_not_the_answer(tmp_path: Path, caplog) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    QueryLog(blocker / "queries.jsonl").append(_answer("q"))     # the parent is a file
    assert "could not append to the query log" in caplog.text
