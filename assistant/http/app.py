"""The FastAPI app: ``create_app(settings=None, assistant=None)``.

One ``Services`` object per app (``assistant.http.services``) holds what handlers need; warm-up runs
in a background thread at start-up and ``/ready`` says when it is done. Project errors become JSON bodies
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

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
import logging
import re
import threading
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from assistant.http.auth import Forbidden, Unauthorized
from assistant.http.logging import request_id_var
from assistant.http.middleware import BodyLimit, RequestContext
from assistant.http.pages import install as install_pages
from assistant.http.quotas import QuotaExceeded
from assistant.http.routes import router
from assistant.http.services import Services
from retail_insights.errors import ConfigError, RetailError, RetryableError
from retail_insights.settings import Settings, get_settings
from warehouse.spec import dataset_names

if TYPE_CHECKING:
    from assistant.pipeline import Assistant

log = logging.getLogger(__name__)
RETRY_AFTER_UNAVAILABLE_S = 5


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
