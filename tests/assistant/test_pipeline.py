"""The pipeline end to end on a small real warehouse: answers, clarifications and the order of tiers.

The exact cache is the real ``ExactCache`` (L1 only). The semantic tier is a tiny in-test fake
(``RecordingMatcher``), used only to pin the order of tiers: the real matcher loads an embedding
model and has its own tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
import json
from pathlib import Path
import uuid

import pytest

from assistant.cache import ExactCache
from assistant.intent import Intent
from assistant.pipeline import Assistant
from assistant.slots import Slot
from retail_insights.errors import UsageError

AS_OF = date(2024, 7, 1)


def test_answers_with_the_resolved_dates_and_unrounded_rows(make_assistant: Callable[..., Assistant]) -> None:
    answer = make_assistant().answer("What was revenue in March 2024?", dataset="retail_sales", as_of=AS_OF)
    assert answer.status == "answered" and answer.tier == "metadata"
    assert "between 2024-03-01 and 2024-03-31" in answer.answer
    value = answer.rows[0][0]
    assert f"${value:,.2f}" in answer.answer               # the sentence rounds to cents
    assert answer.source == "sales_daily_totals" == answer.interpretation["source_view"]   # smallest covering view
    assert answer.interpretation["time"]["start"] == "2024-03-01"
    assert answer.sql and answer.params and answer.data_version is not None
    assert answer.chart is None and answer.llm_calls == 0 and answer.answer_id
    json.dumps(answer.to_dict())                            # JSON-able as a whole


def test_charts_follow_the_result_shape(make_assistant: Callable[..., Assistant]) -> None:
    assistant = make_assistant()
    trend = assistant.answer("monthly revenue in 2023", dataset="retail_sales", as_of=AS_OF)
    assert trend.chart["mark"]["type"] == "line" and len(trend.rows) == 12
    bars = assistant.answer("revenue by category in 2023", dataset="retail_sales", as_of=AS_OF)
    assert bars.chart["mark"] == "bar"
    share = assistant.answer("share of revenue by channel in 2023", dataset="retail_sales", as_of=AS_OF)
    assert share.chart["mark"] == "arc"


def test_superstore_answers_money_to_cents_in_the_sentence(make_assistant: Callable[..., Assistant]) -> None:
    answer = make_assistant().answer("Total sales in 2017", dataset="superstore", as_of=date(2018, 1, 1))
    assert answer.rows == ((pytest.approx(733215.2552),),)
    assert "$733,215.26" in answer.answer and "between 2017-01-01 and 2017-12-31" in answer.answer


def test_questions_outside_the_data_get_clarify_and_no_number(make_assistant: Callable[..., Assistant]) -> None:
    answer = make_assistant().answer("weather in Paris", dataset="retail_sales", as_of=AS_OF)
    assert answer.status == "clarify" and answer.rows == () and answer.sql is None
    assert answer.suggestions and "weather" in answer.answer


def test_empty_question_is_refused(make_assistant: Callable[..., Assistant]) -> None:
    assert make_assistant().answer("  ", dataset="retail_sales", as_of=AS_OF).status == "refused"


def test_unknown_dataset_names_the_known_ones(make_assistant: Callable[..., Assistant]) -> None:
    with pytest.raises(UsageError, match="unknown dataset 'shop'.*Allowed"):
        make_assistant().answer("revenue", dataset="shop")


def test_second_identical_intent_is_served_from_the_exact_cache(make_assistant: Callable[..., Assistant]) -> None:
    assistant = make_assistant(cache=ExactCache(l1_size=16))
    first = assistant.answer("revenue in Texas in 2023", dataset="retail_sales", as_of=AS_OF)
    again = assistant.answer("Revenue for TX in 2023?", dataset="retail_sales", as_of=AS_OF)
    assert (first.tier, again.tier) == ("metadata", "cache_l1")
    assert again.rows == first.rows and again.bytes_read == 0 and again.answer_id != first.answer_id


@dataclass(frozen=True)
class _Match:
    intent: Intent
    neighbour: str
    similarity: float


class RecordingMatcher:
    """Fake semantic tier: remembers intents by question, matches any question with the same slots."""

    def __init__(self) -> None:
        self.remembered: list[tuple[str, Intent]] = []
        self.asked: list[str] = []

    def match(self, question: str, slots: tuple[Slot, ...], *, dataset: str, words: tuple[str, ...] = ()) -> _Match | None:
        self.asked.append(question)
        return _Match(self.remembered[-1][1], self.remembered[-1][0], 0.99) if self.remembered else None

    def remember(self, question: str, slots: tuple[Slot, ...], intent: Intent, *, dataset: str,
                 verified: bool = True) -> None:
        self.remembered.append((question, intent))


def test_semantic_tier_runs_only_when_the_rules_cannot_and_feeds_on_rule_answers(make_assistant: Callable[..., Assistant]) -> None:
    matcher = RecordingMatcher()
    assistant = make_assistant(cache=ExactCache(l1_size=16), semantic=matcher)
    ruled = assistant.answer("orders in Texas in 2023", dataset="retail_sales", as_of=AS_OF)
    assert ruled.tier == "metadata" and matcher.asked == [] and len(matcher.remembered) == 1
    fuzzy = assistant.answer("orders gizmo in Texas in 2023", dataset="retail_sales", as_of=AS_OF)
    assert matcher.asked == ["orders gizmo in Texas in 2023"]
    assert fuzzy.tier == "cache_l1" and fuzzy.neighbour == "orders in Texas in 2023" and fuzzy.rows == ruled.rows


def test_factory_wires_the_configured_backend(warehouse: Path) -> None:
    from assistant.factory import build_assistant

    answer = build_assistant(semantic=False).answer("orders by channel in June 2024", dataset="retail_sales",
                                                    as_of=AS_OF)
    assert answer.status == "answered" and len(answer.rows) == 3 and answer.bytes_read > 0


def test_workers_warming_a_new_version_split_the_work_through_redis(make_assistant: Callable[..., Assistant],
                                                                    redis_url: str) -> None:
    """Two assistants sharing one Redis stand for two workers: what one claimed and computed, the other
    reads from L2; what another claimed but never delivered is computed anyway."""
    first, second = (make_assistant(cache=ExactCache(l1_size=64, ttl_s=60, redis_url=redis_url), refresh_ahead=True)
                     for _ in range(2))
    for assistant in (first, second):
        for question in ("revenue by channel in 2023", "orders by category in 2024"):
            assistant.answer(question, dataset="retail_sales", as_of=AS_OF)
    computed = {"first": 0, "second": 0}
    for name, assistant in (("first", first), ("second", second)):
        real = assistant._run
        assistant._run = lambda *a, _real=real, _name=name, **kw: computed.__setitem__(_name, computed[_name] + 1) \
            or _real(*a, **kw)
    version = 10_000 + uuid.uuid4().int % 10_000_000      # a data version no earlier run cached
    first._warm_version("retail_sales", version)
    second._warm_version("retail_sales", version)
    assert computed == {"first": 2, "second": 0}
    later = version + 1                                   # claimed by a worker that then died
    for intent in second.hot.top("retail_sales", 8):
        assert second.cache.claim(second._key("retail_sales", later, intent))
    first._warm_version("retail_sales", later)
    assert computed["first"] == 4 and all(first._cache_get(first._key("retail_sales", later, i), later) is not None
                                          for i in first.hot.top("retail_sales", 8))
