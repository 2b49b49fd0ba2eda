"""``Services``: what the handlers use, built once per app (one warm assistant per process).

It holds the assistant (built lazily by ``assistant.factory.build_assistant`` unless one is passed
in), the key store, the quota limiter, the task queue, the metrics, the feedback store, the cold
pool (``assistant.http.coldpool``) and the query log, and it runs warm-up (``assistant.warmup``),
after which ``/ready`` says yes.
"""

from __future__ import annotations

import asyncio
from datetime import date
from functools import cached_property, partial
import gc
import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Literal

import redis
from starlette.concurrency import run_in_threadpool

from assistant.http.auth import KeyStore
from assistant.http.coldpool import ColdPool, Overloaded
from assistant.http.feedback import FILE_NAME, FeedbackHook, FeedbackStore, RecentAnswers
from assistant.http.metrics import Metrics
from assistant.http.quotas import QuotaLimiter
from assistant.http.schemas import DatasetSummary, HealthOut
from assistant.http.tasks import TaskQueue
from assistant.querylog import FILE_NAME as QUERY_LOG, QueryLog
from assistant.warmup import WarmUp, warm_up
from retail_insights.settings import Settings
from warehouse.spec import dataset_names, load_dataset

if TYPE_CHECKING:
    from assistant.answer import Answer
    from assistant.pipeline import Assistant

log = logging.getLogger(__name__)


class Services:
    """Everything the handlers use, built once per app (one warm assistant per process)."""

    def __init__(self, settings: Settings, assistant: Assistant | None = None, *,
                 on_feedback: FeedbackHook | None = None) -> None:
        self.settings = settings
        self._assistant = assistant
        self._lock = threading.Lock()
        self.keys = KeyStore.from_settings(settings, known_datasets=dataset_names()) \
            if settings.api.auth_enabled else None
        self.quotas = QuotaLimiter.from_settings(settings)
        self.tasks = TaskQueue.from_settings(settings)
        self.metrics = Metrics()
        self.recent = RecentAnswers()
        hook = on_feedback or getattr(assistant, "on_feedback", None)
        self.feedback = FeedbackStore(settings.state_dir / FILE_NAME, on_feedback=hook)
        self.cold = ColdPool(workers=settings.api.cold_workers, max_queued=settings.api.max_cold_queued)
        self.query_log = QueryLog(settings.state_dir / QUERY_LOG)
        self.ready = threading.Event()
        self.warmed: WarmUp | None = None
        self._redis = redis.Redis.from_url(settings.redis.url, socket_timeout=settings.redis.socket_timeout_s,
                                           socket_connect_timeout=settings.redis.socket_timeout_s) \
            if settings.redis.url else None

    @property
    def assistant(self) -> Assistant:
        if self._assistant is None:
            with self._lock:
                if self._assistant is None:
                    from assistant.factory import build_assistant

                    self._assistant = build_assistant(self.settings, serving=True)
                    if self.feedback.on_feedback is None:
                        self.feedback.on_feedback = getattr(self._assistant, "on_feedback", None)
        return self._assistant

    def warm_up(self) -> WarmUp:
        """Build the assistant and load what the first questions would wait for (``assistant.warmup``);
        ``/ready`` says yes once this is done."""
        started = time.perf_counter()
        try:
            assistant = self.assistant
            questions = self.query_log.top_questions(self.settings.api.prime_questions)
            self.warmed = warm_up(assistant, datasets=dataset_names(), questions=questions)
        except Exception as exc:  # noqa: BLE001 - not ready, and /ready says why
            self.warmed = WarmUp(failed={"assistant": f"{type(exc).__name__}: {exc}"})
            log.exception("warm-up failed")
            return self.warmed
        self.warmed.seconds["assistant"] = round(time.perf_counter() - started - self.warmed.total_s, 3)
        if self.settings.api.freeze_heap:
            # What warm-up loaded lives as long as the process; a full collection would walk all of it.
            gc.collect()
            gc.freeze()
        self.ready.set()
        log.info("warm-up done", extra={"seconds": round(time.perf_counter() - started, 3), "steps": self.warmed.seconds,
                                        "failed": self.warmed.failed, "primed": self.warmed.primed})
        return self.warmed

    @property
    def warm(self) -> bool:
        return self._assistant is not None

    async def ask(self, question: str, *, dataset: str, as_of: date | None,
                  conversation_id: str | None) -> Answer:
        """The answer: straight from the cache when it has it, else from the cold pool (``coldpool``)."""
        assistant = self.assistant
        prepared = await run_in_threadpool(assistant.prepare, question, dataset=dataset, as_of=as_of,
                                           conversation_id=conversation_id)
        if prepared.answer is not None:
            return prepared.answer
        try:
            flight = self.cold.run(assistant.flight_key(prepared), partial(assistant.complete, prepared))
        except Overloaded:
            self.metrics.cold_shed.inc()
            raise
        finally:
            self.metrics.cold_queued.set(self.cold.queued)
        answer = await asyncio.wrap_future(flight.future)
        self.metrics.cold_queued.set(self.cold.queued)
        if flight.leader:
            return answer
        self.metrics.cold_shared.inc()
        return await run_in_threadpool(assistant.share, prepared, answer)

    def answered(self, answer: Any, *, as_of: date | None = None) -> dict[str, Any]:
        """The answer as the response body; noted for feedback, metrics and the query log (with the
        day the caller pinned, ``as_of``, if any)."""
        data = answer.to_dict() if hasattr(answer, "to_dict") else dict(answer)
        self.recent.remember(data)
        self.metrics.observe_answer(data, endpoint="/v1/ask")
        self.query_log.append(data, as_of=as_of)
        return data

    @cached_property
    def dataset_summaries(self) -> tuple[DatasetSummary, ...]:
        """Every dataset's semantic-model summary (spec files do not change while the process runs)."""
        return tuple(DatasetSummary.of(load_dataset(name), default=name == self.settings.default_dataset)
                     for name in dataset_names())

    def health(self) -> HealthOut:
        redis_state = self.redis_status()
        return HealthOut(status="degraded" if redis_state == "down" else "ok", redis=redis_state,
                         async_tasks=redis_state == "up", quotas="on" if self.quotas.enabled else "off",
                         auth=self.keys is not None, llm="configured" if self.settings.llm.model else "off",
                         vector=self.settings.vector.backend, assistant="warm" if self.warm else "cold")

    def redis_status(self) -> Literal["up", "down", "off"]:
        if self._redis is None:
            return "off"
        try:
            self._redis.ping()
        except redis.RedisError:
            return "down"
        return "up"
