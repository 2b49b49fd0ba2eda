"""``ReadingMemo``: a question outside a conversation is read once per words, dataset, day and vocabulary."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from assistant.pipeline import Assistant
from assistant.readings import ReadingMemo
from assistant.vocabulary import build_vocabulary

DAY = date(2024, 7, 1)


def _reader(calls: list[str], text: str) -> Callable[[], str]:
    return lambda: calls.append(text) or f"read {text} #{len(calls)}"


def test_the_same_words_day_and_vocabulary_are_read_once() -> None:
    memo: ReadingMemo[str] = ReadingMemo()
    words, calls = build_vocabulary("retail_sales"), []
    first = memo.read("revenue in 2023", "retail_sales", DAY, words, _reader(calls, "a"))
    assert memo.read("revenue in 2023", "retail_sales", DAY, words, _reader(calls, "b")) == first
    memo.read("revenue in 2023", "retail_sales", date(2024, 7, 2), words, _reader(calls, "c"))   # "last month" moves
    memo.read("revenue in 2023", "superstore", DAY, build_vocabulary("superstore"), _reader(calls, "d"))
    assert calls == ["a", "c", "d"] and (memo.hits, memo.misses) == (1, 3)


def test_a_new_vocabulary_drops_the_datasets_older_readings_and_the_oldest_go_first() -> None:
    memo: ReadingMemo[str] = ReadingMemo(size=2)
    old, new, calls = build_vocabulary("retail_sales"), build_vocabulary("retail_sales"), []
    memo.read("q1", "retail_sales", DAY, old, _reader(calls, "q1"))
    memo.read("q1", "retail_sales", DAY, new, _reader(calls, "q1 new"))     # new values: read again
    memo.read("q1", "retail_sales", DAY, old, _reader(calls, "q1 old"))     # and the new readings are gone
    memo.read("q2", "retail_sales", DAY, old, _reader(calls, "q2"))
    memo.read("q3", "retail_sales", DAY, old, _reader(calls, "q3"))         # over the bound: q1 leaves
    memo.read("q3", "retail_sales", DAY, old, _reader(calls, "q3 again"))
    memo.read("q1", "retail_sales", DAY, old, _reader(calls, "q1 last"))
    assert calls == ["q1", "q1 new", "q1 old", "q2", "q3", "q1 last"]


def test_the_assistant_reads_a_repeated_question_once_but_every_follow_up_afresh(
        make_assistant: Callable[..., Assistant], monkeypatch: pytest.MonkeyPatch) -> None:
    assistant = make_assistant()
    parsed: list[str] = []
    real = assistant.router.parse
    monkeypatch.setattr(assistant.router, "parse", lambda text, **kw: parsed.append(text) or real(text, **kw))
    first = assistant.answer("revenue by channel in 2023", dataset="retail_sales", as_of=DAY)
    again = assistant.answer("revenue by channel in 2023", dataset="retail_sales", as_of=DAY)
    assert first.status == again.status == "answered" and again.rows == first.rows
    assert parsed == ["revenue by channel in 2023"]
    assistant.answer("and in 2024?", dataset="retail_sales", as_of=DAY, conversation_id=first.conversation_id)
    assistant.answer("and in 2024?", dataset="retail_sales", as_of=DAY, conversation_id=first.conversation_id)
    assert len(parsed) == 3          # a follow-up depends on its conversation: never taken from the memo
