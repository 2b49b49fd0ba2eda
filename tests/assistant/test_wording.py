"""The word policy: ignorable words are dropped and listed; other words either mean something or clarify."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.router import Router
from assistant.wording import sort_words

AS_OF = date(2024, 7, 1)


def route(question: str, dataset: str = "retail_sales"):
    return Router().parse(question, dataset=dataset, as_of=AS_OF)


def test_courtesy_filler_and_presentation_words_are_ignored_and_listed() -> None:
    result = route("kindly could you show me revenue by channel in 2023, overall, as a table please")
    assert result.complete
    assert {"kindly", "show", "overall", "please", "as a table"} <= set(result.ignored)
    assert "in" not in result.ignored          # grammar words are dropped without mention


@pytest.mark.parametrize("question", [
    "net revenue in 2023", "median revenue by channel", "revenue in euros last year",
    "cumulative revenue by month in 2023", "revenue from new customers in 2023", "revenue forecast for 2025",
    "revenue in Narnia", "returns by category",
])
def test_a_word_that_could_change_the_number_clarifies(question: str) -> None:
    result = route(question)
    assert not result.complete and result.unknown_words


@pytest.mark.parametrize("question", [
    "average revenue per day", "revenue vs", "top revenue", "revenue per",
])
def test_a_cue_the_intent_cannot_account_for_clarifies(question: str) -> None:
    result = route(question)
    assert not result.complete


def test_unknown_words_are_named_in_the_reason() -> None:
    result = route("revenue by warehouse in 2023")
    assert result.unknown_words == ("warehouse",) and "'warehouse'" in result.reason


def test_cues_and_unknown_words_are_told_apart() -> None:
    words = sort_words("please <metric> vs <metric> in the blorp")
    assert ("compare", "vs") in words.cues and words.unknown == ("blorp",) and "please" in words.ignored
