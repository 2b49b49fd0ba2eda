"""The shared English: what may be ignored, and what never may."""

from __future__ import annotations

import pytest

from assistant.lexicon import lexicon

# Words that change the numbers: never dropped silently (SPEC: a refusal beats a wrong number).
NEVER_IGNORED = ["not", "no", "only", "except", "excluding", "without", "per", "net", "gross", "median",
                 "average", "mean", "cumulative", "running", "rolling", "new", "returning", "repeat", "first",
                 "last", "should", "if", "why", "one", "both", "before", "after", "than", "forecast",
                 "budget", "target", "returns", "refunds", "tax", "euros", "latest", "each", "every", "share"]


@pytest.mark.parametrize("word", NEVER_IGNORED)
def test_a_word_that_can_change_a_number_is_never_ignorable(word: str) -> None:
    assert word not in lexicon().ignorable


def test_courtesy_filler_and_presentation_words_are_ignorable() -> None:
    for word in ("please", "kindly", "could", "show", "me", "overall", "table", "quick", "thanks"):
        assert word in lexicon().ignorable, word


def test_no_word_is_both_a_cue_and_ignorable() -> None:
    lex = lexicon()
    assert not set(lex.cues) & set(lex.ignorable)


def test_phrases_compile_and_presentation_orders_are_recognised() -> None:
    phrases = lexicon().phrases
    assert any(p.search("sales by region, largest first") for p in phrases["order_desc"])
    assert any(p.search("profit by segment from lowest to highest") for p in phrases["order_asc"])
    assert not any(p.search("top 5 states by revenue") for p in phrases["order_desc"])
