"""The question pipeline: ``Assistant.answer(question, dataset=, as_of=) -> Answer``.

Order of tiers (cheapest first, numbers always from the warehouse or from a cache keyed by the
exact intent and data version):

1. normalize and resolve time against ``as_of`` (default: today, UTC);
2. ``Router.parse``: rules over the semantic model (sub-millisecond);
3. a complete intent -> exact cache (L1 in-process, L2 Redis) by ``dataset:data_version:intent``;
4. otherwise the semantic tier re-binds a verified neighbour's intent -> the cache by that intent;
5. otherwise the LLM tier, if one is configured (``llm``: ``assistant.llm.stage.LLMStage``), which writes,
   guards and runs its own SQL and returns its answer (answered, clarify or refused) directly;
6. otherwise ``clarify`` with what was understood and rephrasings: never a guessed number;
7. compile to SQL over the smallest view that answers, execute, write the sentence and the chart;
8. put the answer in the cache and remember a rules-answered question for the semantic tier.

Every stage is injected (see ``assistant.factory.build_assistant``); the cache, the semantic matcher
and the LLM may be None, and are used only through their contract methods.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timezone
import logging
import time
from typing import Any, Protocol
import uuid

from assistant.answer import Answer, Status, Tier, jsonable
from assistant.charts import chart_for
from assistant.compiler import CompiledQuery, Compiler
from assistant.execute import QueryRunner
from assistant.intent import Intent
from assistant.normalize import normalize
from assistant.router import Route, Router
from assistant.sentence import sentence
from assistant.suggestions import clarification, suggestions_for
from assistant.vocabulary import Vocabulary, closed_vocabulary
from retail_insights.errors import RetailError
from warehouse.spec import load_dataset

log = logging.getLogger(__name__)
MAX_QUESTION_CHARS = 500


class LLMTier(Protocol):
    """The LLM tier's slot (``assistant.llm.stage.LLMStage``): its result has ``to_answer`` and ``answer_id``."""

    def answer(self, question: str, *, dataset: str, as_of: date, route: Route) -> Any: ...


class Assistant:
    """Answers questions about one of the datasets; stages are injected, all optional but the runner."""

    def __init__(
        self,
        *,
        runner_for: Callable[[str], QueryRunner],
        data_version: Callable[[str], int | None],
        vocabulary_for: Callable[[str, int | None], Vocabulary] | None = None,
        router: Router | None = None,
        compiler: Compiler | None = None,
        cache: Any = None,          # assistant.cache.ExactCache: get(key) / put(key, answer)
        semantic: Any = None,       # assistant.semantic.SemanticMatcher: match(...) / remember(...)
        llm: LLMTier | None = None,
        max_question_chars: int = MAX_QUESTION_CHARS,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.runner_for = runner_for
        self.data_version = data_version
        self.vocabulary_for = vocabulary_for or (lambda dataset, version: closed_vocabulary(dataset))
        self.router = router or Router()
        self.compiler = compiler or Compiler()
        self.cache, self.semantic, self.llm = cache, semantic, llm
        self.max_question_chars = max_question_chars
        self.clock = clock

    def answer(self, question: str, *, dataset: str, as_of: date | None = None) -> Answer:
        started = self.clock()
        load_dataset(dataset)      # an unknown dataset is a UsageError naming the known ones
        as_of = as_of or datetime.now(timezone.utc).date()
        text = normalize(question or "")
        base = dict(question=question, dataset=dataset, as_of=as_of.isoformat())
        if not text or len(text) > self.max_question_chars:
            why = "The question is empty." if not text else \
                f"The question is longer than {self.max_question_chars} characters; shorten it."
            return self._finish(Answer(status="refused", answer=why, **base), started)
        version = self.data_version(dataset)
        vocabulary = self.vocabulary_for(dataset, version)
        route = self.router.parse(text, dataset=dataset, as_of=as_of, vocabulary=vocabulary)
        tier: Tier = "metadata"
        intent, neighbour, llm_calls, cost = route.intent, None, 0, 0.0
        if intent is None and self.semantic is not None:
            match = self._semantic_match(text, route, dataset)
            if match is not None:
                intent, neighbour, tier = match.intent, match.neighbour, "semantic"
        if intent is None and self.llm is not None:
            reply = self.llm.answer(text, dataset=dataset, as_of=as_of, route=route)
            return self._finish(reply.to_answer(**base, data_version=version), started, answer_id=reply.answer_id)
        if intent is None:
            return self._finish(self._clarify(route, base, llm_calls=llm_calls, cost=cost), started)
        key = f"{dataset}:{version}:{intent.canonical_key()}"
        cached = self._cache_get(key)
        if cached is not None:
            return self._finish(cached.with_(**base, neighbour=neighbour, llm_calls=llm_calls, cost_usd=cost,
                                             bytes_read=0, rows_read=0), started)
        result = self._run(intent, base, tier=tier, version=version, neighbour=neighbour,
                           llm_calls=llm_calls, cost=cost)
        if result.status == "answered":
            self._cache_put(key, result)
            if tier == "metadata" and self.semantic is not None:
                self._remember(text, route, intent, dataset)
        return self._finish(result, started)

    # --- stages -------------------------------------------------------------------------------------
    def _run(self, intent: Intent, base: dict[str, Any], *, tier: Tier, version: int | None,
             neighbour: str | None, llm_calls: int, cost: float) -> Answer:
        interpretation = intent.to_dict()
        common = dict(base, tier=tier, interpretation=interpretation, data_version=version, neighbour=neighbour,
                      llm_calls=llm_calls, cost_usd=cost)
        try:
            compiled: CompiledQuery = self.compiler.compile(intent)
        except RetailError as exc:
            return Answer(status="error", answer=f"I could not build a query for this: {exc}", error=str(exc),
                          **common)
        interpretation["source_view"] = compiled.source.table
        interpretation["source_kind"] = compiled.source.kind
        try:
            result = self.runner_for(intent.dataset).query(compiled.sql, list(compiled.params))
        except RetailError as exc:
            return Answer(status="error", answer=f"The warehouse could not answer: {exc}", error=str(exc),
                          sql=compiled.sql, params=compiled.params, source=compiled.source.table, **common)
        columns = tuple(result.columns)
        rows = tuple(tuple(r) for r in result.rows)
        return Answer(
            status="answered", answer=sentence(intent, columns, rows), columns=columns,
            rows=tuple(tuple(jsonable(v) for v in r) for r in rows), sql=compiled.sql, params=compiled.params,
            source=compiled.source.table, bytes_read=int(getattr(result, "bytes_read", 0) or 0),
            rows_read=int(getattr(result, "rows_read", 0) or 0), chart=chart_for(intent, columns, rows), **common)

    def _clarify(self, route: Route, base: dict[str, Any], *, llm_calls: int, cost: float) -> Answer:
        tips = suggestions_for(route, dataset=base["dataset"])
        status: Status = "clarify"
        interpretation = {"understood": route.understood.to_dict(), "missing": list(route.missing),
                          "unknown_words": list(route.unknown_words), **route.interpretation()}
        return Answer(status=status, answer=clarification(route.reason, route.understood, tips),
                      interpretation=interpretation, suggestions=tuple(tips), llm_calls=llm_calls, cost_usd=cost, **base)

    def _semantic_match(self, text: str, route: Route, dataset: str) -> Any:
        try:
            return self.semantic.match(route.question, route.slots, dataset=dataset, words=route.unknown_words)
        except Exception:  # the tier is an optimisation: its failure must not fail the question
            log.warning("semantic tier failed; skipping it", exc_info=True)
            return None

    def _remember(self, text: str, route: Route, intent: Intent, dataset: str) -> None:
        try:
            self.semantic.remember(route.question, route.slots, intent, dataset=dataset, verified=True)
        except Exception:
            log.warning("semantic tier could not remember a question", exc_info=True)

    def _cache_get(self, key: str) -> Answer | None:
        if self.cache is None:
            return None
        hit = self.cache.get(key)
        if hit is None:
            return None
        return Answer.from_dict(hit.answer).with_(tier=hit.tier)

    def _cache_put(self, key: str, answer: Answer) -> None:
        if self.cache is not None:
            self.cache.put(key, answer.to_dict())

    def _finish(self, answer: Answer, started: float, *, answer_id: str | None = None) -> Answer:
        # The LLM tier names its own answers: feedback on that id promotes its proposal (assistant.llm.learning).
        return answer.with_(latency_ms=round((self.clock() - started) * 1000, 3),
                            answer_id=answer_id or uuid.uuid4().hex)

    def on_feedback(self, record: Any) -> None:
        """The HTTP feedback hook (``assistant.http.feedback``): a vote may promote an LLM answer's template."""
        learner = getattr(self.llm, "learner", None)
        if learner is not None:
            learner.on_feedback(record.answer_id, record.helpful)
