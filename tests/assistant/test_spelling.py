"""Typos are read as the word they almost are, when exactly one known word is that close."""

from __future__ import annotations

from assistant.spelling import Speller, damerau

SPELLER = Speller(["the", "by", "in", "descending"], dataset_words=["revenue", "category", "sales", "sale",
                                                                    "electronics", "electronic", "region", "rate"])


def test_a_swapped_pair_of_letters_is_one_edit() -> None:
    assert damerau("teh", "the", 2) == 1
    assert damerau("catgeory", "category", 2) == 1


def test_typos_of_dataset_words_are_corrected_and_reported() -> None:
    text, fixes = SPELLER.correct("revnue by catagory in teh regoin")
    assert text == "revenue by category in the region"
    assert [(f.typed, f.read_as) for f in fixes] == [("revnue", "revenue"), ("catagory", "category"),
                                                     ("teh", "the"), ("regoin", "region")]


def test_common_english_words_are_never_corrected_into_dataset_words() -> None:
    assert SPELLER.correct("late orders")[0] == "late orders"      # not "rate"


def test_the_candidate_sharing_more_letters_wins_a_tie() -> None:
    assert SPELLER.word("salse") == "sales"
    assert SPELLER.word("electronis") in ("electronic", "electronics")     # both mean Electronics


def test_case_is_kept_and_unknown_words_stay() -> None:
    assert SPELLER.word("Revnue") == "Revenue"
    assert SPELLER.word("narnia") is None


def test_a_swapped_pair_wins_over_a_dataset_word_one_edit_away() -> None:
    speller = Speller(["the"], dataset_words=["tech", "sell", "orders", "ordered"])
    assert speller.word("teh") == "the"            # not the "tech" alias
    assert speller.word("sel") == "sell"


def test_a_currency_code_is_never_read_as_a_word() -> None:
    speller = Speller(["the"], dataset_words=["cat", "category"])
    assert speller.word("cad") is None and speller.word("aud") is None       # Canadian dollars, not "cat"
