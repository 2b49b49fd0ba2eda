"""The FastAPI app: ``create_app(settings=None, assistant=None)``.

One ``Services`` object per app holds what handlers need: the warm ``Assistant`` (built at startup
by ``assistant.factory.build_assistant`` unless one is passed in), the key store, the quota
limiter, the task queue, the metrics and the feedback store. Project errors become JSON bodies
``{"detail", "code", "request_id"}`` with the status their type implies:

========================================  =====================================================
Unauthorized / Forbidden                  401 (with ``WWW-Authenticate``) / 403
QuotaExceeded                             429 with ``Retry-After``
Overloaded (cold queue full)              503 with ``Retry-After: 1`` (cached questions are still served)
TasksUnavailable, other RetryableError    503 with ``Retry-After`` (async questions only, for Redis)
UsageError, UnsafeSQL, query failures     400 (the message names the bad value and the fix)
body over api.max_body_bytes              413
question over llm.max_question_chars      422 (same shape as FastAPI's validation errors)
anything else                             500 with the request id; the traceback goes to the log
========================================  =====================================================
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from functools import cached_property, partial
import logging
import re
import threading
import time
from typing import TYPE_CHECKING, Any, Literal

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
import redis
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from assistant.http.auth import Forbidden, KeyStore, Unauthorized
from assistant.http.coldpool import ColdPool, Overloaded
from assistant.http.feedback import FILE_NAME, FeedbackHook, FeedbackStore, RecentAnswers
from assistant.http.logging import request_id_var
from assistant.http.metrics import Metrics
from assistant.http.middleware import BodyLimit, RequestContext
from assistant.http.pages import install as install_pages
from assistant.http.quotas import QuotaExceeded, QuotaLimiter
from assistant.http.schemas import DatasetSummary, HealthOut
from assistant.http.routes import router
from assistant.http.tasks import TaskQueue
from assistant.querylog import FILE_NAME as QUERY_LOG, QueryLog
from assistant.warmup import WarmUp, warm_up
from retail_insights.errors import ConfigError, RetailError, RetryableError
from retail_insights.settings import Settings, get_settings
from warehouse.spec import dataset_names, load_dataset

if TYPE_CHECKING:
    from assistant.answer import Answer
    from assistant.pipeline import Assistant

log = logging.getLogger(__name__)
RETRY_AFTER_UNAVAILABLE_S = 5


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

    def answered(self, answer: Any) -> dict[str, Any]:
        """The answer as the response body; noted for feedback, metrics and the query log."""
        data = answer.to_dict() if hasattr(answer, "to_dict") else dict(answer)
        self.recent.remember(data)
        self.metrics.observe_answer(data, endpoint="/v1/ask")
        self.query_log.append(data)
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


def create_app(settings: Settings | None = None, assistant: Assistant | None = None, *,
               on_feedback: Callable[..., None] | None = None) -> FastAPI:
    """The API over ``assistant`` (default: built from ``settings`` when the app starts).

    ``on_feedback`` is called with each stored ``FeedbackRecord``; without it, the assistant's own
    ``on_feedback`` method is used when it has one.
    """
    settings = settings or get_settings()
    services = Services(settings, assistant, on_feedback=on_feedback)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if services.warm:
            log.info("using the assistant passed to create_app")
            services.ready.set()
        else:   # requests are served meanwhile; /ready says yes once this is done
            threading.Thread(target=services.warm_up, name="warm-up", daemon=True).start()
        log.info("serving", extra={"datasets": dataset_names(), "auth": settings.api.auth_enabled,
                                   "redis": services.redis_status()})
        yield
        services.cold.shutdown()

    app = FastAPI(
        title="Retail Insights",
        version="1",
        summary="Ask questions about retail data in plain English, or run read-only SQL.",
        lifespan=lifespan,
    )
    app.state.services = services
    app.include_router(router)
    install_pages(app)   # the web pages and their assets (assistant.http.pages)
    app.add_exception_handler(RetailError, _retail_error)
    app.add_exception_handler(HTTPException, _http_error)
    # Added innermost first: RequestContext wraps everything, so even a 413 has a request id.
    app.add_middleware(BodyLimit, limit=settings.api.max_body_bytes)
    if settings.api.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.api.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "X-API-Key", "Content-Type", "X-Request-ID"],
                           expose_headers=["X-Request-ID", "Retry-After"])
    app.add_middleware(RequestContext, metrics=services.metrics)
    return app


def status_for(exc: RetailError) -> int:
    """The HTTP status a project error maps to (see the module docstring)."""
    if isinstance(exc, Unauthorized):
        return 401
    if isinstance(exc, Forbidden):
        return 403
    if isinstance(exc, QuotaExceeded):
        return 429
    if isinstance(exc, RetryableError):
        return 503
    if isinstance(exc, ConfigError):
        return 500
    if isinstance(exc, (ValueError, TimeoutError)):
        return 400
    return 500


def error_code(exc: BaseException) -> str:
    """``UnsafeSQL`` -> ``unsafe_sql``: a stable machine-readable code from the error's type."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", type(exc).__name__).lower()


def error_body(detail: str, code: str) -> dict[str, Any]:
    return {"detail": detail, "code": code, "request_id": request_id_var.get()}


async def _retail_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RetailError)
    status = status_for(exc)
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if status == 429:
        headers["Retry-After"] = str(getattr(exc, "retry_after_s", 1))
    if status == 503:
        headers["Retry-After"] = str(getattr(exc, "retry_after_s", RETRY_AFTER_UNAVAILABLE_S))
    if status >= 500:
        log.log(logging.WARNING if status == 503 else logging.ERROR, "%s: %s", type(exc).__name__, exc)
    endpoint = getattr(request.scope.get("route"), "path", "unmatched")
    request.app.state.services.metrics.observe_error(endpoint=endpoint, kind=error_code(exc))
    return JSONResponse(error_body(str(exc), error_code(exc)), status_code=status, headers=headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}
    return JSONResponse(error_body(str(exc.detail), codes.get(exc.status_code, f"http_{exc.status_code}")),
                        status_code=exc.status_code, headers=exc.headers)
