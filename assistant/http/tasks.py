"""Questions answered in the background: an rq queue in Redis, drained by ``assistant.http.worker``.

``TaskQueue.submit`` enqueues ``answer_question`` with the question and returns the task id;
``TaskQueue.get`` reads the job's state and result back. Jobs and results travel as JSON (rq's
JSON serializer), never pickles, so what is in Redis cannot run code in the worker. Results are
kept for ``RESULT_TTL_S``. A task belongs to the API key that submitted it: with auth on, another
key asking for it gets the same 404 as for an unknown id.

Async questions need Redis: without it, or while it is down, ``submit`` and ``get`` raise
``TasksUnavailable`` (HTTP 503) and synchronous questions keep working.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
import re
from typing import TYPE_CHECKING, Any, Literal
import uuid

import redis
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

from assistant.querylog import query_log
from retail_insights.errors import RetryableError

if TYPE_CHECKING:
    from assistant.pipeline import Assistant
    from retail_insights.settings import Settings

QUEUE_NAME = "retail-questions"
JOB_TIMEOUT_S = 300
RESULT_TTL_S = 24 * 3600
TaskState = Literal["queued", "running", "done", "failed"]
_TASK_ID = re.compile(r"^[0-9a-f]{32}$")
_STATES: dict[JobStatus, TaskState] = {
    JobStatus.STARTED: "running", JobStatus.FINISHED: "done", JobStatus.FAILED: "failed",
    JobStatus.STOPPED: "failed", JobStatus.CANCELED: "failed",
}


class TasksUnavailable(RetryableError):
    """Async questions cannot be queued or read: Redis is not configured or not reachable."""


@dataclass(frozen=True)
class TaskInfo:
    task_id: str
    status: TaskState
    result: dict[str, Any] | None = None   # the answer object, once done
    error: str | None = None               # why it failed, once failed


class TaskQueue:
    """The rq queue of questions; one per process, sharing Redis with the workers."""

    def __init__(self, redis_url: str | None, *, queue_name: str = QUEUE_NAME, socket_timeout_s: float = 0.25,
                 job_timeout_s: int = JOB_TIMEOUT_S) -> None:
        self.redis_url = redis_url
        self.queue_name = queue_name
        self.job_timeout_s = job_timeout_s
        self._connection = None
        self._queue: Queue | None = None
        if redis_url:
            self._connection = redis.Redis.from_url(redis_url, socket_timeout=socket_timeout_s,
                                                    socket_connect_timeout=socket_timeout_s)
            self._queue = Queue(queue_name, connection=self._connection, serializer=JSONSerializer)

    @property
    def configured(self) -> bool:
        return self._queue is not None

    @classmethod
    def from_settings(cls, settings: Settings, *, queue_name: str = QUEUE_NAME) -> TaskQueue:
        return cls(settings.redis.url, queue_name=queue_name, socket_timeout_s=settings.redis.socket_timeout_s)

    def submit(self, question: str, *, dataset: str, as_of: date | None, owner: str | None,
               conversation_id: str | None = None) -> str:
        """Queue the question; the task id is what ``get`` takes."""
        queue = self._require()
        task_id = uuid.uuid4().hex
        try:
            queue.enqueue_call(
                func=answer_question,
                kwargs={"question": question, "dataset": dataset, "as_of": as_of.isoformat() if as_of else None,
                        "caller": owner, "conversation_id": conversation_id},
                job_id=task_id, timeout=self.job_timeout_s, result_ttl=RESULT_TTL_S, failure_ttl=RESULT_TTL_S,
                meta={"owner": owner}, description="question",
            )
        except redis.RedisError as exc:
            raise _down(exc) from None
        return task_id

    def get(self, task_id: str, *, owner: str | None) -> TaskInfo | None:
        """The task's state (and answer when done); None for an unknown id or another key's task."""
        self._require()
        if not _TASK_ID.match(task_id):
            return None
        try:
            job = Job.fetch(task_id, connection=self._connection, serializer=JSONSerializer)
            if owner is not None and job.meta.get("owner") != owner:
                return None
            state = _STATES.get(job.get_status(), "queued")
            if state == "done":
                return TaskInfo(task_id, state, result=job.return_value())
            if state == "failed":
                latest = job.latest_result()
                last_line = (latest.exc_string or "").strip().splitlines()[-1:] if latest is not None else []
                return TaskInfo(task_id, state, error=last_line[0] if last_line else "the task failed")
            return TaskInfo(task_id, state)
        except NoSuchJobError:
            return None
        except redis.RedisError as exc:
            raise _down(exc) from None

    def _require(self) -> Queue:
        if self._queue is None:
            raise TasksUnavailable("async questions are unavailable: no Redis is configured.",
                                   hint="Fix: set RETAIL_REDIS__URL and run `python -m assistant.http.worker`, "
                                        "or send the question without \"async\".")
        return self._queue


def _down(exc: Exception) -> TasksUnavailable:
    return TasksUnavailable(f"async questions are unavailable: Redis is not reachable ({type(exc).__name__}).",
                            hint="Retry later, or send the question without \"async\" to answer it now.")


# --- what the worker runs ------------------------------------------------------------------------

_assistant: Assistant | None = None


def use_assistant(assistant: Assistant | None) -> None:
    """The assistant ``answer_question`` uses in this process (the worker sets its warm one)."""
    global _assistant
    _assistant = assistant


def answer_question(question: str, dataset: str, as_of: str | None = None,
                    caller: str | None = None, conversation_id: str | None = None) -> dict[str, Any]:
    """Answer one queued question with this process's assistant; returns the answer object.

    ``caller`` is the API key that asked: its daily LLM budget pays (None: anonymous).
    """
    from assistant.llm.budget import caller_scope

    assistant = _assistant
    if assistant is None:
        from assistant.factory import default_assistant

        assistant = default_assistant()
    when = date.fromisoformat(as_of) if as_of else None
    with caller_scope(caller):
        answer = assistant.answer(question, dataset=dataset, as_of=when, conversation_id=conversation_id).to_dict()
    query_log().append(answer)
    return answer
