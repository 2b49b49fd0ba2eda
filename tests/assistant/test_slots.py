"""Slot extraction (incl. ambiguous two-letter state codes) and masking."""

from __future__ import annotations

from datetime import date

from assistant.intent import Filter, Intent, TimeWindow
from assistant.slots import _value_slots, extract_slots, mask
from assistant.vocabulary import build_vocabulary

AS_OF = date(2024, 7, 1)


def slots(question: str, dataset: str = "retail_sales", **kw: object):
    return extract_slots(question, dataset=dataset, as_of=AS_OF, **kw)


def values(question: str, dataset: str = "retail_sales", **kw: object) -> list[tuple[str, tuple[str, ...], bool]]:
    return [(s.value.dimension, s.value.values, s.value.negate) for s in slots(question, dataset, **kw)
            if s.kind == "filter_value"]


def test_upper_case_state_codes_are_states() -> None:
    assert values("revenue in OR and IN") == [("state", ("OR",), False), ("state", ("IN",), False)]


def test_lower_case_ambiguous_codes_are_words() -> None:
    for question in ("revenue in or near ok stores", "show me orders", "hi, how is revenue", "revenue in co"):
        assert [v for v in values(question) if v[0] == "state"] == []


def test_lower_case_codes_that_are_not_words_are_states() -> None:
    assert values("revenue in ca and tx") == [("state", ("CA",), False), ("state", ("TX",), False)]


def test_a_code_after_state_of_is_a_state_in_any_case() -> None:
    assert values("revenue in the state of oh") == [("state", ("OH",), False)]


def test_coasts_are_their_states() -> None:
    assert values("West Coast revenue") == [("state", ("CA", "OR", "WA"), False)]
    east = values("East Coast revenue")[0][1]
    assert len(east) == 14 and "FL" in east and "ME" in east


def test_superstore_stores_state_names() -> None:
    assert values("sales in TX", "superstore") == [("state", ("Texas",), False)]
    assert values("West Coast sales", "superstore") == [("state", ("California", "Oregon", "Washington"), False)]


def test_longest_match_wins() -> None:
    assert values("revenue in West Virginia") == [("state", ("WV",), False)]
    assert values("Home Office revenue") == [("segment", ("Home Office",), False)]
    kinds = [(s.kind, s.value) for s in slots("cancelled orders last month")]
    assert ("metric", "cancelled_orders") in kinds and not any(k == "filter_value" for k, _ in kinds)


def test_negation_covers_a_list_of_values() -> None:
    assert values("revenue excluding California and Texas") == [("state", ("CA",), True), ("state", ("TX",), True)]


def test_customers_is_a_metric_unless_grouped_by() -> None:
    assert [s.kind for s in slots("how many customers") if s.text.endswith("customers")] == ["metric"]
    assert [s.kind for s in slots("top 5 customers by revenue") if s.text == "customers"] == ["dimension"]


def test_top_n_number_is_a_slot() -> None:
    assert [s.value for s in slots("top 7 states by revenue") if s.kind == "number"] == [7]


def test_grains_are_time_slots_with_the_grain_name() -> None:
    assert [s.value for s in slots("monthly revenue") if s.kind == "time"] == ["month"]
    assert [s.value for s in slots("revenue by day of week") if s.kind == "time"] == ["day_of_week"]


def test_looked_up_values_of_open_dimensions_match() -> None:
    vocab = build_vocabulary("superstore", open_values={"city": ["New York City", "Normal"],
                                                        "sub_category": ["Chairs", "Bottoms"]})
    assert values("sales in New York City", "superstore", vocabulary=vocab) == [("city", ("New York City",), False)]
    assert values("chair sales", "superstore", vocabulary=vocab) == [("sub_category", ("Chairs",), False)]
    # a one-word open value needs its capital letter; a value never takes over a question word
    assert values("normal sales", "superstore", vocabulary=vocab) == []
    assert values("bottom 3 states by sales", "superstore", vocabulary=vocab) == []


def test_mask_replaces_slots_by_placeholders() -> None:
    question = "Revenue in Texas in March 2024"
    assert mask(question, slots(question)) == "<metric> in <filter_value:state> in <time>"


def _scan_every_value(question: str, vocabulary) -> list[tuple[int, str, object]]:
    """What matching looked like before the index: every value phrase searched in the question."""
    lower, found = question.lower(), []
    for entry in vocabulary.values:
        at = lower.find(entry.phrase)
        while at >= 0:
            end = at + len(entry.phrase)
            before = lower[at - 1] if at else " "
            after = lower[end] if end < len(lower) else " "
            bounded = not (before.isalnum() or before in "_-") and not (after.isalnum() or after == "_")
            if bounded and not (entry.case_sensitive and not question[at].isupper()):
                found.append((at, entry.dimension, entry.values))
            at = lower.find(entry.phrase, at + 1)
    return found


def test_indexed_value_matching_finds_what_a_scan_of_every_value_finds() -> None:
    customers = [f"Customer {i}" for i in range(5000)] + ["Claire Gute", "Darrin Van Huff", "Sean O'Donnell"]
    cities = ["Normal", "Orange", "New York City", "Winston-Salem", "Coeur d'Alene"]
    vocabulary = build_vocabulary("superstore", open_values={"customer": customers, "city": cities,
                                                             "product": ["Staples", "Chairs"]})
    questions = ["sales to Claire Gute and Customer 4999 in 2016", "profit in new york city vs Winston-Salem",
                 "orders from Sean O'Donnell in Coeur d'Alene", "sales in normal times in Orange county",
                 "chair sales on the West Coast excluding CA", "revenue of staples in washington, dc",
                 "customer 12 and customer 120 and Customer 1200"]
    for question in questions:
        indexed = [(s.start, s.value.dimension, s.value.values) for s in _value_slots(question, question.lower(),
                                                                                      vocabulary)]
        scanned = _scan_every_value(question, vocabulary)
        assert scanned and indexed[: len(scanned)] == scanned, question   # same spans, in the same order
    claire = extract_slots(questions[0], dataset="superstore", vocabulary=vocabulary, as_of=AS_OF)
    assert [s.value for s in claire if s.kind == "filter_value"] == [
        Filter("customer", ("Claire Gute",)), Filter("customer", ("Customer 4999",))]


CLASSES = {"class": ["country", "pop", "reference", "personal", "dresses", "pants", "fishing", "golf"]}


def classes(question: str) -> list[tuple[str, ...]]:
    vocab = build_vocabulary("tpcds_store", open_values=CLASSES)
    return [v[1] for v in values(question, "tpcds_store", vocabulary=vocab) if v[0] == "class"]


def test_an_everyday_word_that_is_a_member_is_a_word_unless_the_question_says_member() -> None:
    """"country" (a music class) in "sales across the country" is the word; it becomes an unknown word
    and the question is asked back instead of answered for the class."""
    for words in ("sales across the country in 2001", "for reference, what were sales in 2001",
                  "total sales for 2001, personal curiosity"):
        assert classes(words) == [], words
    for member, said in ((("country",), "the country class, sales in 2001"), (("dresses",), "dresses sales for March 2002"),
                         (("fishing",), "units sold in fishing in 1999"), (("pop",), "monthly revenue for pop in 2001"),
                         (("golf",), "baskets with something from golf in them"), (("pants",), "2002 units, pants only"),
                         (("dresses",), "how many dresses did we sell"), (("golf",), "just golf"),
                         (("fishing",), "sales for Fishing in 2002"), (("pants",), "everything but pants"),
                         (("dresses",), "dresses - units in 2001")):
        assert classes(said) == [member], said
    assert classes("pop vs country, units") == [("pop",), ("country",)]
    assert classes("did the dresses class sell more than pants") == [("dresses",), ("pants",)]
