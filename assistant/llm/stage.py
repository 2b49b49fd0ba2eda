"""The LLM tier: a question the rules and the semantic tier could not resolve -> guarded SQL -> an answer.

``LLMStage.answer(question, dataset=, as_of=, route=) -> LLMResult``; in order:

1. length limit, then ``screen``: injected instructions, requests to change data and questions not
   about the data are refused before any model call (they cost nothing);
2. the daily budget of the calling API key and the global cap (``Budget``): over -> refused;
3. intent first (``IntentPath``, unless ``settings.llm.intent_first`` is off): the model fills the
   rules tier's intent under a schema of the semantic model's names and the data's values, the
   compiler writes the SQL and it runs; an answer here is ``interpretation["llm"]["path"] == "intent"``.
   When the model says an intent cannot express the question, or its intent does not compile or run,
   the SQL path below takes over (``path == "sql"``, with ``intent_declined`` saying why);
   the prompt: only the relevant parts of the semantic model, verified examples, the as-of date
   and the dialect (``ContextBuilder``, ``prompts``); the model tier by ``difficulty``;
4. generation (``Generator``: retries, fallbacks, timeouts, schema-pinned JSON);
5. the guardrails (``guardrails.check``): an unsafe query is refused and never runs; a query that
   does not parse or names unknown tables/columns, output that breaks the schema, and a query the
   warehouse rejects get one repair round with the error; still failing -> clarify, saying what the
   router did understand;
6. execution on the injected runner (the warehouse backend: read-only connection, timeout and row
   cap; the tier adds its own LIMIT and refuses a result that read more than the bytes cap);
7. the answer: the model's scrubbed explanation plus the result, its calls, tokens and cost; and a
   proposal for the learning loop (``TemplateLearner``).

No number comes from the model: every number shown is a row the warehouse returned for the SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
import logging
from typing import TYPE_CHECKING, Any, Literal
import uuid

from assistant.llm import guardrails
from assistant.llm.context import ContextBuilder
from assistant.llm.generator import Difficulty, Generation, Generator, MockScript, difficulty
from assistant.llm.intent_path import IntentAttempt, IntentPath
from assistant.llm.learning import TemplateLearner, bound_template, template_for
from assistant.llm.prompts import repair_messages, sql_messages
from assistant.llm.readback import sql_disagreements
from assistant.llm.result import LLMResult, Reason, Status, summary
from assistant.llm.schema import SQL_OUTPUT, Output
from assistant.llm.screen import scrub, screen
from assistant.llm.usage import USAGE
from assistant.charts import chart_for
from assistant.sentence import sentence
from assistant.suggestions import clarification, suggestions_for
from retail_insights.errors import RetailError

if TYPE_CHECKING:
    from assistant.llm.budget import Budget
    from assistant.llm.examples import ExampleStore
    from assistant.router import Route
    from retail_insights.settings import Settings
    from warehouse.guard import TableCatalog

log = logging.getLogger(__name__)

__all__ = ["LLMResult", "LLMStage", "secrets_of"]
MAX_ROWS = 1000


@dataclass(frozen=True)
class _Attempt:
    kind: Literal["ran", "unsafe", "invalid", "not_answerable", "unavailable", "bytes_cap"]
    error: str = ""
    sql: str | None = None
    result: Any = None


class LLMStage:
    """The tier; one public method, ``answer``."""

    def __init__(self, *, generator: Generator, runner_for: Callable[[str], Any], budget: Budget | None = None,
                 context: ContextBuilder | None = None, learner: TemplateLearner | None = None,
                 tables_for: Callable[[str], TableCatalog] = guardrails.table_catalog, max_rows: int = MAX_ROWS,
                 max_bytes: int | None = None, max_question_chars: int = 500, secrets: Sequence[str] = (),
                 intent_path: IntentPath | None = None, sql_path: bool = True) -> None:
        self.generator, self.runner_for, self.budget = generator, runner_for, budget
        self.intent_path, self.sql_path = intent_path, sql_path
        self.context = context or ContextBuilder(tables_for=tables_for)
        self.learner, self.tables_for = learner, tables_for
        self.max_rows, self.max_bytes, self.max_question_chars = max_rows, max_bytes, max_question_chars
        self._secrets = tuple(secrets)

    @classmethod
    def from_settings(cls, settings: Settings, *, runner_for: Callable[[str], Any], semantic: Any = None,
                      examples: ExampleStore | None | Literal["auto"] = "auto",
                      mock_response: str | MockScript | None = None) -> LLMStage:
        from assistant.llm.budget import Budget

        if examples == "auto":
            from assistant.llm.examples import ExampleStore

            examples = ExampleStore.from_settings(settings)
        generator = Generator.from_settings(settings, mock_response=mock_response)
        max_rows = min(settings.sql.max_rows, MAX_ROWS)
        learner = TemplateLearner.from_settings(settings, runner_for=runner_for, semantic=semantic, examples=examples,
                                                max_rows=max_rows)
        return cls(generator=generator, runner_for=runner_for, budget=Budget.from_settings(settings),
                   context=ContextBuilder(tables_for=guardrails.table_catalog, examples=examples), learner=learner,
                   max_rows=max_rows, max_bytes=settings.sql.max_bytes_scanned,
                   max_question_chars=settings.llm.max_question_chars, secrets=secrets_of(settings),
                   intent_path=IntentPath(runner_for=runner_for, max_bytes=settings.sql.max_bytes_scanned)
                   if settings.llm.intent_first else None,
                   sql_path=settings.llm.model != "local" or settings.llm.local.sql_path)

    def answer(self, question: str, *, dataset: str, as_of: date, route: Route | None = None) -> LLMResult:
        """Answer ``question`` (normalized) about ``dataset`` as of ``as_of``; ``route`` is the router's verdict
        (parsed here when not given). Never raises for a bad model reply: that is a status and a reason."""
        if route is None:
            from assistant.router import Router

            route = Router().parse(question, dataset=dataset, as_of=as_of)
        run = _Run(self, question, dataset, as_of, route)
        result = run.go()
        USAGE.add_result(status=result.status, reason=result.reason)
        log.info("LLM tier: %s (%s) for %s, %d calls, %d tokens, $%.6f", result.status, result.reason, dataset,
                 result.llm_calls, result.tokens, result.cost_usd)
        return result


def secrets_of(settings: Settings) -> tuple[str, ...]:
    """Every secret value in the settings: never shown in an answer."""
    values = [settings.llm.api_key, settings.vector.pinecone_api_key, *settings.api.api_keys]
    return tuple(v.get_secret_value() for v in values if v is not None)


class _Run:
    """One question through the tier (keeps the per-question state out of the stage)."""

    def __init__(self, stage: LLMStage, question: str, dataset: str, as_of: date, route: Route) -> None:
        self.stage, self.question, self.dataset, self.as_of, self.route = stage, question, dataset, as_of, route
        self.answer_id = uuid.uuid4().hex
        self.generations: list[Generation] = []
        self.level: Difficulty | None = None
        self.intent_note: str | None = None      # why the intent path did not answer

    def go(self) -> LLMResult:
        s = self.stage
        if len(self.question) > s.max_question_chars:
            return self._done("refused", "too_long", f"The question is longer than {s.max_question_chars} "
                                                     "characters; shorten it.")
        verdict = screen(self.question, dataset=self.dataset, route=self.route)
        if verdict.verdict != "ok":
            return self._done("refused", verdict.verdict, verdict.message)
        if (refusal := self._over_budget()) is not None:
            return refusal
        understood = self.route.understood
        self.level = difficulty(self.question, metrics=len(understood.metrics), dimensions=len(understood.dimensions),
                                windows=len(understood.time))
        if s.intent_path is not None:
            tried = s.intent_path.attempt(self.question, dataset=self.dataset, as_of=self.as_of, route=self.route,
                                          generate=lambda messages, output: self._generate(messages, output))
            if tried.kind in ("ran", "unavailable", "bytes_cap"):
                return self._by_intent(tried)
            self.intent_note = f"{tried.kind}: {tried.note}"
            if not s.sql_path:                  # the local model's SQL is off: no intent, no answer
                return self._clarify("not_answerable", f"The model's reading did not fit this question "
                                     f"({self.intent_note[:200]}), and SQL written by the local model is off "
                                     "(RETAIL_LLM__LOCAL__SQL_PATH)")
            if (refusal := self._over_budget()) is not None:
                return refusal
        context = s.context.build(self.question, dataset=self.dataset, as_of=self.as_of, route=self.route)
        first = self._generate(sql_messages(context))
        attempt = self._attempt(first)
        repaired = False
        if attempt.kind == "invalid":
            if (refusal := self._over_budget()) is not None:
                return refusal
            USAGE.add("repairs")
            repaired = True
            second = self._generate(repair_messages(context, previous=first.text, sql=attempt.sql,
                                                    error=attempt.error))
            attempt = self._attempt(second)
        return self._finish(attempt, repaired)

    # --- steps --------------------------------------------------------------------------------
    def _over_budget(self) -> LLMResult | None:
        if self.stage.budget is None:
            return None
        decision = self.stage.budget.check()
        return None if decision.allowed else self._done("refused", decision.reason, decision.message)

    def _generate(self, messages: list[dict[str, str]], output: Output = SQL_OUTPUT) -> Generation:
        generation = self.stage.generator.generate(messages, level=self.level or "simple", output=output)
        self.generations.append(generation)
        if self.stage.budget is not None:
            self.stage.budget.charge(generation.cost_usd)
        return generation

    def _attempt(self, generation: Generation) -> _Attempt:
        s = self.stage
        if generation.status == "unavailable":
            return _Attempt("unavailable", generation.error or "")
        if generation.answer is None:
            return _Attempt("invalid", generation.error or "the reply was not the JSON object asked for.")
        reply = generation.answer
        if not reply.answerable or not reply.sql:
            return _Attempt("not_answerable", reply.explanation)
        try:
            guarded = guardrails.check(reply.sql, s.tables_for(self.dataset), max_rows=s.max_rows)
        except guardrails.RejectedSQL as exc:
            return _Attempt(exc.kind, str(exc), sql=reply.sql)
        if problems := sql_disagreements(guarded.sql, self.route):
            return _Attempt("invalid", "; ".join(problems[:3]) + ".", sql=guarded.sql)
        try:
            result = s.runner_for(self.dataset).query(guarded.sql, [])
        except RetailError as exc:
            return _Attempt("invalid", f"the warehouse rejected the query: {exc}", sql=guarded.sql)
        if s.max_bytes is not None and int(getattr(result, "bytes_read", 0) or 0) > s.max_bytes:
            return _Attempt("bytes_cap", f"the query read {result.bytes_read:,} bytes, more than the "
                                         f"{s.max_bytes:,} allowed", sql=guarded.sql)
        return _Attempt("ran", sql=guarded.sql, result=result)

    def _finish(self, attempt: _Attempt, repaired: bool) -> LLMResult:
        explanation = self._explanation()
        if attempt.kind == "ran":
            return self._answered(attempt, explanation, repaired)
        if attempt.kind == "unsafe":
            return self._done("refused", "unsafe_sql", "The generated query was refused and not run: "
                              f"{_first_sentence(attempt.error)} Only read-only questions about the data are "
                              "answered.", rejected_sql=attempt.sql, repaired=repaired)
        if attempt.kind == "bytes_cap":
            return self._done("refused", "bytes_cap", f"The query was stopped: {attempt.error}. Narrow the "
                              "question (a shorter period, fewer dimensions).", rejected_sql=attempt.sql,
                              repaired=repaired)
        if attempt.kind == "unavailable":
            return self._done("error", "unavailable", "The language model is unavailable right now. Retry later, "
                              "or rephrase with a metric, a dimension and a period so the rules can answer.",
                              repaired=repaired)
        if attempt.kind == "not_answerable":
            return self._clarify("not_answerable", explanation or "The data cannot answer this question.",
                                 repaired=repaired)
        return self._clarify("repair_failed", "I could not write a query that runs on the data for this "
                             f"({_first_sentence(attempt.error)})", rejected_sql=attempt.sql, repaired=repaired)

    def _by_intent(self, tried: IntentAttempt) -> LLMResult:
        if tried.kind == "unavailable":
            return self._finish(_Attempt("unavailable", tried.note), False)
        if tried.kind == "bytes_cap":
            return self._finish(_Attempt("bytes_cap", tried.note), False)
        assert tried.intent is not None and tried.compiled is not None
        intent, compiled, result = tried.intent, tried.compiled, tried.result
        columns = tuple(result.columns)
        rows = tuple(tuple(r) for r in result.rows)
        outcome = self._done("answered", "answered", sentence(intent, columns, rows), sql=compiled.sql,
                             params=compiled.params, columns=columns, rows=rows, path="intent",
                             intent=intent.to_dict(), source=compiled.source.table,
                             chart=chart_for(intent, columns, rows),
                             bytes_read=int(getattr(result, "bytes_read", 0) or 0),
                             rows_read=int(getattr(result, "rows_read", 0) or 0))
        template = bound_template(intent, self.route.slots)
        if self.stage.learner is not None and template is not None:
            self.stage.learner.propose(answer_id=self.answer_id, question=self.route.question, dataset=self.dataset,
                                       sql=None, columns=columns, slots=self.route.slots, template=template)
        return outcome

    def _answered(self, attempt: _Attempt, explanation: str, repaired: bool) -> LLMResult:
        result = attempt.result
        columns = tuple(result.columns)
        rows = tuple(tuple(r) for r in result.rows)
        text = " ".join(p for p in (explanation, summary(columns, rows), f"(As of {self.as_of.isoformat()}.)") if p)
        outcome = self._done("answered", "answered", text, sql=attempt.sql, columns=columns, rows=rows,
                             explanation=explanation, repaired=repaired, path="sql",
                             bytes_read=int(getattr(result, "bytes_read", 0) or 0),
                             rows_read=int(getattr(result, "rows_read", 0) or 0))
        if self.stage.learner is not None and attempt.sql is not None:
            reply = self.generations[-1].answer
            try:
                template = template_for(reply.intent if reply else None, self.route.slots, dataset=self.dataset)
            except (RetailError, ValueError):
                template = None
            self.stage.learner.propose(answer_id=self.answer_id, question=self.route.question,
                                       dataset=self.dataset, sql=attempt.sql, columns=columns,
                                       slots=self.route.slots, template=template)
        return outcome

    def _clarify(self, reason: Reason, why: str, **extra: Any) -> LLMResult:
        tips = suggestions_for(self.route, dataset=self.dataset)
        text = clarification(f"{why.rstrip('.')}.", self.route.understood, tips)
        return self._done("clarify", reason, text, suggestions=tuple(tips), **extra)

    def _explanation(self) -> str:
        reply = self.generations[-1].answer if self.generations else None
        explanation = getattr(reply, "explanation", None) or getattr(reply, "missing", None) or ""
        return scrub(explanation, secrets=self.stage._secrets)

    def _done(self, status: Status, reason: Reason, message: str, **fields: Any) -> LLMResult:
        generations = self.generations
        model = next((g.model for g in reversed(generations) if g.model), None)
        fields.setdefault("explanation", self._explanation() if status != "answered" else "")
        return LLMResult(
            status=status, reason=reason, message=scrub(message, secrets=self.stage._secrets) if status != "answered"
            else message, answer_id=self.answer_id, model=model,
            llm_calls=sum(len(g.calls) for g in generations), tokens=sum(g.tokens for g in generations),
            cost_usd=round(sum(g.cost_usd for g in generations), 8), level=self.level,
            calls=tuple(c for g in generations for c in g.calls), intent_note=self.intent_note,
            understood=self.route.understood.to_dict(), **fields)


def _first_sentence(text: str) -> str:
    first = text.split(". ")[0].strip().rstrip(".")
    return first + "."
