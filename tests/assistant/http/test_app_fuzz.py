"""Property-based fuzzing of every operation in the OpenAPI schema with schemathesis: never a 5xx.

Each operation gets a bounded number of schema-valid and of schema-violating requests
(schemathesis' positive and negative generation modes), sent to the app in process. Async
questions go to the real Redis, on a queue of this test's own that no worker drains.
"""

from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from assistant.http.tasks import TaskQueue
from tests.assistant.http.conftest import MakeClient

MAX_EXAMPLES = 30
OPERATIONS = [("POST", "/v1/ask"), ("GET", "/v1/tasks/{task_id}"), ("POST", "/v1/sql"), ("POST", "/v1/feedback"),
              ("GET", "/v1/datasets"), ("GET", "/health"), ("GET", "/ready"), ("GET", "/metrics"),
              ("GET", "/v1/health/data"), ("GET", "/v1/data-docs/{page}")]


@pytest.fixture
def api_schema(make_client: MakeClient, redis_url: str):
    client = make_client(redis={"url": redis_url})
    client.app.state.services.tasks = TaskQueue(redis_url, queue_name=f"fuzz-{uuid.uuid4().hex[:8]}")
    return schemathesis.openapi.from_asgi("/openapi.json", client.app)


def test_every_operation_is_fuzzed(api_schema) -> None:
    served = {(method.upper(), path) for path, methods in api_schema.raw_schema["paths"].items() for method in methods}
    assert served == set(OPERATIONS)


# Operations without any input have no schema-violating request to send.
CASES = [(m, p, mode) for m, p in OPERATIONS for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
         if mode is GenerationMode.POSITIVE or p not in ("/health", "/ready", "/metrics")]


@pytest.mark.parametrize(("method", "path", "mode"), CASES, ids=[f"{m} {p} {mode.value}" for m, p, mode in CASES])
def test_no_request_makes_the_service_fail(api_schema, method: str, path: str, mode: GenerationMode) -> None:
    operation = api_schema[path][method]
    statuses: list[int] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    def no_server_error(case) -> None:
        statuses.append(case.call_and_validate(checks=[not_a_server_error]).status_code)

    no_server_error()
    assert statuses and max(statuses) < 500
