"""The endpoints: each translates request -> one call -> response, in a few lines.

Every ``/v1`` route goes through ``caller`` (API key when auth is on, then the quota);
``/health``, ``/ready`` and ``/metrics`` do not, so probes and scrapers need no key.
"""

from __future__ import annotations

from datetime import UTC, datetime
import math
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from assistant.answer import jsonable
from assistant.http.auth import Principal
from assistant.http.coldpool import Overloaded
from assistant.http.quotas import QuotaExceeded
from assistant.http.schemas import (
    AnswerOut, AskRequest, DataHealthOut, DatasetsOut, ErrorOut, FeedbackOut, FeedbackRequest, HealthOut,
    ReadyOut, SqlOut, SqlRequest, TaskAccepted, TaskOut,
)
from assistant.llm.budget import caller_scope
from assistant.pipeline import too_long
from warehouse.spec import load_dataset

if TYPE_CHECKING:
    from assistant.http.services import Services

router = APIRouter()
_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <API key> (when auth is on)")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="The API key (when auth is on)")
_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": why} for status, why in (
        (400, "Bad input: unknown dataset, unsafe or failing SQL (the message says why)."),
        (401, "Missing or unknown API key."), (403, "The key may not read that dataset."),
        (413, "Body over api.max_body_bytes."), (429, "Rate limit or daily quota reached; see Retry-After."),
    )
}
_UNAVAILABLE = {503: {"model": ErrorOut, "description": "Too many new questions waiting (retry after Retry-After "
                                                      "seconds), or async questions need Redis, which is down."}}


def services(request: Request) -> Services:
    return request.app.state.services


def caller(request: Request, bearer: HTTPAuthorizationCredentials | None = Security(_bearer),
           api_key: str | None = Security(_api_key)) -> Principal:
    """Who is calling (401 without a valid key when auth is on), charged against the quota (429)."""
    s = services(request)
    if s.keys is None:
        principal = Principal(f"client:{request.client.host if request.client else 'unknown'}")
    else:
        principal = s.keys.authenticate(api_key or (bearer.credentials if bearer else None))
    request.state.caller = principal.name
    decision = s.quotas.check(principal.name)
    if not decision.allowed:
        s.metrics.quota_rejections.labels(decision.reason).inc()
        raise QuotaExceeded(decision.message, retry_after_s=decision.retry_after_s)
    return principal


@router.post("/v1/ask", response_model=AnswerOut, responses={202: {"model": TaskAccepted}, **_ERRORS, **_UNAVAILABLE})
async def ask(body: AskRequest, request: Request, who: Principal = Depends(caller)) -> Any:
    """Answer a question (200 with the answer), or queue it with ``"async": true`` (202 with a task id).

    A cached answer is served at once; a new question waits for the cold pool, and when its queue is
    full it is queued as a task (202) if Redis is up, else refused with 503 and ``Retry-After``.
    """
    s = services(request)
    _check_length(body.question, s.settings.llm.max_question_chars)
    dataset = _dataset(s, who, body.dataset)
    request.state.conversation_id = body.conversation_id
    if body.async_:
        return await run_in_threadpool(_queued, s, body, dataset, who)
    try:
        with caller_scope(_owner(who)):   # the LLM tier charges this key's daily budget
            answer = await s.ask(body.question, dataset=dataset, as_of=body.as_of,
                                 conversation_id=body.conversation_id)
    except Overloaded:
        if s.tasks.configured and await run_in_threadpool(s.redis_status) == "up":
            return await run_in_threadpool(_queued, s, body, dataset, who)
        raise
    request.state.tier = answer.tier or "none"
    request.state.conversation_id = answer.conversation_id
    return s.answered(answer, as_of=body.as_of)


def _queued(s: Services, body: AskRequest, dataset: str, who: Principal) -> JSONResponse:
    task_id = s.tasks.submit(body.question, dataset=dataset, as_of=body.as_of, owner=_owner(who),
                             conversation_id=body.conversation_id)
    accepted = TaskAccepted(task_id=task_id, status_url=f"/v1/tasks/{task_id}")
    return JSONResponse(accepted.model_dump(), status_code=202, headers={"Location": accepted.status_url})


@router.get("/v1/tasks/{task_id}", response_model=TaskOut, responses={404: {"model": ErrorOut}, **_ERRORS,
                                                                      **_UNAVAILABLE})
def task(request: Request, task_id: str = Path(max_length=64), who: Principal = Depends(caller)) -> Any:
    """The state of an async question; its answer once done."""
    s = services(request)
    info = s.tasks.get(task_id, owner=_owner(who))
    if info is None:
        raise HTTPException(404, f"no task {task_id!r}: unknown, expired, or submitted with another key.")
    if info.result is not None:
        s.recent.remember(info.result)
    return TaskOut(task_id=info.task_id, status=info.status, result=info.result, error=info.error)


@router.post("/v1/sql", response_model=SqlOut, responses=_ERRORS)
def sql(body: SqlRequest, request: Request, who: Principal = Depends(caller)) -> Any:
    """Run one read-only query under the warehouse guardrails (unsafe SQL is a 400 saying why)."""
    from warehouse.backends import get_backend

    s = services(request)
    result = get_backend(s.settings.backend, dataset=_dataset(s, who, body.dataset)).query(body.sql)
    s.metrics.bytes_read.labels("/v1/sql").inc(result.bytes_read or 0)
    return SqlOut(columns=list(result.columns), rows=[[_cell(v) for v in row] for row in result.rows],
                  row_count=len(result.rows), bytes_read=result.bytes_read, rows_read=result.rows_read,
                  elapsed_ms=result.elapsed_ms, sql=result.sql)


@router.post("/v1/feedback", response_model=FeedbackOut, responses=_ERRORS)
def feedback(body: FeedbackRequest, request: Request, who: Principal = Depends(caller)) -> Any:
    """Record whether an answer helped."""
    s = services(request)
    context = s.recent.get(body.answer_id)
    record = s.feedback.record(answer_id=body.answer_id, helpful=body.helpful, comment=body.comment,
                               principal=_owner(who), context=context)
    return FeedbackOut(feedback_id=record.feedback_id, answer_id=record.answer_id, answer_known=context is not None)


@router.get("/v1/datasets", response_model=DatasetsOut, responses=_ERRORS)
def datasets(request: Request, who: Principal = Depends(caller)) -> Any:
    """What can be asked: each dataset's metrics, dimensions, time grains and example questions."""
    return DatasetsOut(datasets=[d for d in services(request).dataset_summaries if who.can_read(d.name)])


@router.get("/v1/health/data", response_model=DataHealthOut, responses=_ERRORS)
def data_health(request: Request, last: int = Query(5, ge=1, le=50, description="batches per dataset"),
                who: Principal = Depends(caller)) -> Any:
    """Freshness per dataset, the last batches with their row accounting, quarantine by reason code,
    each stream consumer's lag, and where the Data Docs are (read-only; ``assistant.http.datahealth``)."""
    from assistant.http.datahealth import report

    names = [d.name for d in services(request).dataset_summaries if who.can_read(d.name)]
    return report(datasets=names, last=last, now=datetime.now(UTC))


@router.get("/v1/data-docs/{page:path}", response_class=FileResponse, responses={404: {"model": ErrorOut}, **_ERRORS})
def data_docs(page: str, who: Principal = Depends(caller)) -> Any:
    """A Great Expectations Data Docs page: ``index.html`` (every dataset) or ``<dataset>/<batch_id>.html``."""
    from assistant.http.datahealth import data_docs_page

    return data_docs_page(page, who)


@router.get("/health", response_model=HealthOut)
def health(request: Request) -> Any:
    """Liveness and what is degraded; always 200 while the process serves."""
    return services(request).health()


@router.get("/ready", response_model=ReadyOut, responses={503: {"model": ReadyOut}})
def ready(request: Request) -> Any:
    """Readiness: 200 once warm-up has loaded what the first questions need, 503 until then."""
    s = services(request)
    warmed = s.warmed
    body = ReadyOut(ready=s.ready.is_set(), warm_up_s=warmed.total_s if warmed and s.ready.is_set() else None,
                    steps=warmed.seconds if warmed else {}, failed=warmed.failed if warmed else {},
                    primed=warmed.primed if warmed else 0)
    return JSONResponse(body.model_dump(), status_code=200 if body.ready else 503)


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request) -> Response:
    """Prometheus exposition."""
    body, content_type = services(request).metrics.render()
    return Response(body, media_type=content_type)


def _dataset(s: Services, who: Principal, name: str | None) -> str:
    chosen = name or s.settings.default_dataset
    load_dataset(chosen)           # an unknown name is a 400 listing the known ones
    who.require_dataset(chosen)    # 403 outside the key's scope
    return chosen


def _check_length(question: str, limit: int) -> None:
    problem = too_long(question, max_chars=limit)     # the pipeline's rule, as a 422 before any work
    if problem is not None:
        raise RequestValidationError([{"type": "string_too_long", "loc": ("body", "question"),
                                       "ctx": {"max_length": limit}, "msg": problem}])


def _owner(who: Principal) -> str | None:
    return who.name if who.authenticated else None


def _cell(value: Any) -> Any:
    """A warehouse value as JSON: numbers stay numbers, NaN/inf become null, anything exotic text."""
    value = jsonable(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_cell(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _cell(v) for k, v in value.items()}
    return str(value)
