"""SemanticMatcher with the real model, the real slot extractor and a local index in tmp_path."""

from __future__ import annotations

from datetime import date
import json
import logging
from pathlib import Path

import pytest

from assistant.embeddings import Embedder, get_embedder
from assistant.intent import Filter, Intent, TimeWindow
from assistant.normalize import normalize
from assistant.router import Route, Router
from assistant.semantic import (
    SemanticMatch, SemanticMatcher, operation_cues, slot_from_dict, slot_signature, slot_to_dict,
)
from assistant.slots import Slot, extract_slots
from assistant.vector_index.local import LocalIndex
from retail_insights.settings import get_settings

pytestmark = pytest.mark.embeddings

AS_OF = date(2025, 1, 15)
DATASET = "retail_sales"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return get_embedder()


@pytest.fixture
def matcher(tmp_path: Path, embedder: Embedder) -> SemanticMatcher:
    return SemanticMatcher(
        index_for=lambda dataset: LocalIndex(tmp_path / "vectors" / f"{dataset}.npz"),
        embedder=embedder,
        min_similarity=0.80,
    )


def ask(question: str) -> tuple[str, tuple[Slot, ...]]:
    text = normalize(question)
    return text, extract_slots(text, dataset=DATASET, as_of=AS_OF)


def route(question: str) -> Route:
    return Router().parse(question, dataset=DATASET, as_of=AS_OF)


def month(year: int, number: int, label: str) -> TimeWindow:
    end = date(year + number // 12, number % 12 + 1, 1).toordinal() - 1
    return TimeWindow(date(year, number, 1), date.fromordinal(end), label)


def total(metric: str, dimension: str, value: str, window: TimeWindow) -> Intent:
    return Intent(dataset=DATASET, metrics=(metric,), operation="total",
                  filters=(Filter(dimension, (value,)),), time=window)


TEXAS_MARCH = total("revenue", "state", "TX", month(2024, 3, "March 2024"))


def remember(matcher: SemanticMatcher, question: str, intent: Intent, *, verified: bool = True) -> None:
    text, slots = ask(question)
    matcher.remember(text, slots, intent, dataset=DATASET, verified=verified)


def match(matcher: SemanticMatcher, question: str) -> SemanticMatch | None:
    text, slots = ask(question)
    return matcher.match(text, slots, dataset=DATASET)


def test_a_paraphrase_is_answered_with_its_own_state_and_month(matcher: SemanticMatcher) -> None:
    remember(matcher, "revenue in Texas in March 2024", TEXAS_MARCH)
    found = match(matcher, "What were sales in Ohio for April 2023?")
    assert found is not None
    assert found.intent == total("revenue", "state", "OH", month(2023, 4, "April 2023"))
    assert found.neighbour == "revenue in Texas in March 2024"
    assert found.similarity >= 0.80


def test_a_paraphrase_is_answered_with_its_own_category_and_metric(matcher: SemanticMatcher) -> None:
    remember(matcher, "orders in Electronics in May 2024",
             total("orders", "category", "Electronics", month(2024, 5, "May 2024")))
    found = match(matcher, "how many units did we get from Toys in June 2023")
    assert found is not None
    assert found.intent == total("units", "category", "Toys", month(2023, 6, "June 2023"))


def test_a_top_n_paraphrase_rebinds_the_number_dimension_and_year(matcher: SemanticMatcher) -> None:
    template = Intent(dataset=DATASET, metrics=("revenue",), operation="top_n", dimensions=("state",),
                      time=TimeWindow(date(2024, 1, 1), date(2024, 12, 31), "2024"), top_n=5)
    remember(matcher, "top 5 states by revenue in 2024", template)
    found = match(matcher, "best 3 categories by profit in 2023")
    assert found is not None
    assert found.intent == Intent(
        dataset=DATASET, metrics=("profit",), operation="top_n", dimensions=("category",),
        time=TimeWindow(date(2023, 1, 1), date(2023, 12, 31), "2023"), top_n=3)


def test_a_question_the_rules_reject_gets_a_verified_template_with_the_same_words(matcher: SemanticMatcher) -> None:
    growth = route("revenue growth in Texas in 2024").intent
    taught = route("how has revenue blossomed in Texas in 2024")      # a wording verified once (LLM + a vote)
    assert not taught.complete and taught.unknown_words == ("blossomed",)
    matcher.remember(taught.question, taught.slots, growth, dataset=DATASET)
    question = route("how has revenue blossomed in Ohio in 2023")
    assert not question.complete
    found = matcher.match(question.question, question.slots, dataset=DATASET, words=question.unknown_words)
    expected = route("revenue growth in Ohio in 2023").intent
    assert found is not None and found.intent.canonical_key() == expected.canonical_key()
    assert found.intent.compare_time is not None
    assert (found.intent.compare_time.start, found.intent.compare_time.end) == (date(2022, 1, 1),
                                                                                date(2022, 12, 31))


def test_a_word_the_rules_do_not_know_is_never_matched_away(matcher: SemanticMatcher) -> None:
    plain = route("revenue in Texas in 2024")
    matcher.remember(plain.question, plain.slots, plain.intent, dataset=DATASET)
    question = route("median revenue in Ohio in 2023")
    assert not question.complete and question.unknown_words == ("median",)
    assert matcher.match(question.question, question.slots, dataset=DATASET, words=question.unknown_words) is None


@pytest.mark.parametrize(("template_question", "question", "previous"), [
    ("how much did revenue grow last month", "how has revenue grown in Q3 2024",
     (date(2024, 4, 1), date(2024, 6, 30))),
    # On 2025-01-15 "this year" and "this month" are the same days; only the period named differs.
    ("revenue growth this year", "how has revenue grown this month", (date(2024, 12, 1), date(2024, 12, 15))),
])
def test_a_derived_comparison_is_never_rebound_to_the_wrong_period(
        matcher: SemanticMatcher, template_question: str, question: str,
        previous: tuple[date, date]) -> None:
    template = route(template_question)
    matcher.remember(template.question, template.slots, template.intent, dataset=DATASET)
    asked = route(question)
    found = matcher.match(asked.question, asked.slots, dataset=DATASET)
    # Either the tier declines, or it compares with the right previous period.
    assert found is None or (found.intent.compare_time.start, found.intent.compare_time.end) == previous


def test_a_year_over_year_template_does_not_answer_a_plain_growth_question(
        matcher: SemanticMatcher) -> None:
    template = route("year over year revenue growth in March 2024")
    matcher.remember(template.question, template.slots, template.intent, dataset=DATASET)
    question = route("how has revenue grown in April 2024")
    assert matcher.match(question.question, question.slots, dataset=DATASET) is None


def test_no_match_when_the_slot_kinds_differ(matcher: SemanticMatcher) -> None:
    remember(matcher, "revenue in Texas in March 2024", TEXAS_MARCH)
    assert match(matcher, "revenue in Texas") is None                    # no time
    assert match(matcher, "revenue in Electronics in March 2024") is None  # category, not state
    assert match(matcher, "revenue in Texas and Ohio in March 2024") is None  # two states


def test_no_match_when_the_operation_words_differ(matcher: SemanticMatcher) -> None:
    template = Intent(dataset=DATASET, metrics=("revenue",), operation="top_n", dimensions=("state",),
                      time=TimeWindow(date(2024, 1, 1), date(2024, 12, 31), "2024"), top_n=5)
    remember(matcher, "top 5 states by revenue in 2024", template)
    # Same slot kinds and a cosine near 0.9, but the opposite order: never re-bound.
    assert match(matcher, "bottom 5 states by revenue in 2024") is None


def test_no_match_below_the_similarity_threshold(matcher: SemanticMatcher) -> None:
    remember(matcher, "revenue in Texas in March 2024", TEXAS_MARCH)
    question = "is the revenue forecast for Ohio reliable after April 2023"
    assert match(matcher, question) is None
    matcher.min_similarity = 0.0  # the same neighbour is found once the bar is lowered
    found = match(matcher, question)
    assert found is not None and found.similarity < 0.80


def test_only_verified_templates_answer(matcher: SemanticMatcher) -> None:
    remember(matcher, "revenue in Texas in March 2024", TEXAS_MARCH, verified=False)
    assert match(matcher, "What were sales in Ohio for April 2023?") is None
    remember(matcher, "revenue in Texas in March 2024", TEXAS_MARCH, verified=True)
    assert match(matcher, "What were sales in Ohio for April 2023?") is not None


def test_paraphrases_differing_only_in_slot_values_share_one_entry(tmp_path: Path,
                                                                    matcher: SemanticMatcher) -> None:
    remember(matcher, "revenue in Texas in March 2024", TEXAS_MARCH)
    remember(matcher, "revenue in Ohio in April 2023", total("revenue", "state", "OH",
                                                             month(2023, 4, "April 2023")))
    assert LocalIndex(tmp_path / "vectors" / f"{DATASET}.npz").count() == 1


def test_a_broken_index_skips_the_tier_with_a_warning(tmp_path: Path, matcher: SemanticMatcher,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "vectors" / f"{DATASET}.npz"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not an npz file")
    with caplog.at_level(logging.WARNING, logger="assistant.semantic"):
        assert match(matcher, "What were sales in Ohio for April 2023?") is None
        remember(matcher, "revenue in Texas in March 2024", TEXAS_MARCH)  # must not raise either
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert messages[0].startswith("Semantic tier skipped for 'What were sales in Ohio for April 2023'")
    assert messages[1].startswith("Semantic tier could not remember 'revenue in Texas in March 2024'")


def test_templates_persist_for_a_matcher_built_from_settings(embedder: Embedder) -> None:
    settings = get_settings()
    remember(SemanticMatcher.from_settings(settings, embedder=embedder),
             "revenue in Texas in March 2024", TEXAS_MARCH)
    found = match(SemanticMatcher.from_settings(settings, embedder=embedder),
                  "What were sales in Ohio for April 2023?")
    assert found is not None and found.intent.filters == (Filter("state", ("OH",)),)
    assert (settings.home.resolve() / "vectors" / f"{DATASET}.npz").is_file()


def test_the_slot_signature_splits_filters_by_dimension_and_time_by_window_or_grain() -> None:
    _, slots = ask("monthly revenue in Texas and Electronics in 2024")
    assert slot_signature(slots) == "filter_value:category|filter_value:state|metric|time|time:grain"


def test_operation_cues_ignore_the_placeholders() -> None:
    assert operation_cues("top <number> <dimension> by <metric> in <time>") == "desc"
    assert operation_cues("share of <metric> by <dimension>, not <filter_value:state>") == "share|negation"
    assert operation_cues("<metric> in <filter_value:state> in <time>") == ""


def test_stored_slots_of_every_kind_read_back_equal() -> None:
    _, slots = ask("top 5 states by weekly revenue in Electronics, not Texas, in Q1 2024")
    assert {s.kind for s in slots} == {"number", "dimension", "time", "metric", "filter_value"}
    assert tuple(slot_from_dict(json.loads(json.dumps(slot_to_dict(s)))) for s in slots) == slots
