"""With Redis, the vector index or the LLM down, answers still flow: no 5xx but the explicit async 503."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from assistant.factory import build_assistant
from retail_insights.services import RedisServer, free_port
from retail_insights.settings import Settings
from tests.assistant.http.conftest import MakeClient

ASK = {"question": "sales by segment in 2016", "dataset": "superstore"}


@pytest.fixture
def redis_backed(make_client: MakeClient, warehouse_home: Path, redis_url: str):
    """``redis_backed(**api) -> client``: an app and an assistant both using the real Redis (L2 cache, quotas)."""
    def make(**api: object):
        settings = Settings(home=warehouse_home, redis={"url": redis_url})
        return make_client(build_assistant(settings, semantic=False), redis={"url": redis_url}, api=api)

    return make


def test_with_redis_down_questions_are_still_answered(redis_backed, redis_server: RedisServer) -> None:
    client = redis_backed()
    redis_server.stop()
    first = client.post("/v1/ask", json=ASK)
    again = client.post("/v1/ask", json=ASK)
    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == "answered"
    assert again.json()["tier"] == "cache_l1"   # L2 is gone; the in-process cache still serves
    assert client.post("/v1/sql", json={"sql": "SELECT 1 AS one"}).json()["rows"] == [[1]]


def test_with_redis_down_async_is_a_503_with_a_clear_message(redis_backed, redis_server: RedisServer) -> None:
    client = redis_backed()
    redis_server.stop()
    queued = client.post("/v1/ask", json={**ASK, "async": True})
    polled = client.get(f"/v1/tasks/{'0' * 32}")
    assert queued.status_code == polled.status_code == 503
    assert queued.headers["Retry-After"] == "5"
    assert "Redis is not reachable" in queued.json()["detail"]
    assert "without \"async\"" in queued.json()["detail"]


def test_with_redis_down_quotas_fail_open_by_default(redis_backed, redis_server: RedisServer) -> None:
    client = redis_backed(rate_limit_per_minute=1)
    redis_server.stop()
    assert [client.get("/v1/datasets").status_code for _ in range(3)] == [200, 200, 200]


def test_with_redis_down_quotas_can_fail_closed(redis_backed, redis_server: RedisServer) -> None:
    client = redis_backed(quota_fail_open=False)
    assert client.get("/v1/datasets").status_code == 200
    redis_server.stop()
    refused = client.get("/v1/datasets")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "5"
    assert "api.quota_fail_open is false" in refused.json()["detail"]
    assert client.get("/health").status_code == 200


def test_health_reports_redis_down_and_up_again(redis_backed, redis_server: RedisServer) -> None:
    client = redis_backed()
    assert client.get("/health").json()["redis"] == "up"
    redis_server.stop()
    down = client.get("/health")
    assert down.status_code == 200
    assert (down.json()["status"], down.json()["redis"], down.json()["async_tasks"]) == ("degraded", "down", False)
    redis_server.start()
    assert client.get("/health").json()["status"] == "ok"


@pytest.mark.embeddings
def test_with_the_vector_index_down_the_semantic_tier_is_skipped(
        make_client: MakeClient, warehouse_home: Path, caplog: pytest.LogCaptureFixture) -> None:
    # The local index file cannot be read (a directory stands where the .npz should be).
    (warehouse_home / "vectors" / "superstore.npz").mkdir(parents=True)
    client = make_client(build_assistant(Settings(home=warehouse_home)))
    with caplog.at_level(logging.WARNING):
        unparsed = client.post("/v1/ask", json={"question": "kindly tally up the sales for 2016 pls",
                                                "dataset": "superstore"})
    assert unparsed.status_code == 200
    assert unparsed.json()["status"] in ("clarify", "answered")
    assert unparsed.json()["tier"] != "semantic"
    assert any("emantic tier" in r.getMessage() for r in caplog.records)
    parsed = client.post("/v1/ask", json=ASK)
    assert parsed.status_code == 200
    assert parsed.json()["status"] == "answered"


def test_with_the_llm_unreachable_the_rule_tiers_still_answer(make_client: MakeClient, warehouse_home: Path) -> None:
    llm = {"model": "openai/gpt-4o-mini", "api_base": f"http://127.0.0.1:{free_port()}/v1", "api_key": "sk-test",
           "timeout_s": 2, "max_retries": 0}
    client = make_client(build_assistant(Settings(home=warehouse_home, llm=llm), semantic=False), llm=llm)
    assert client.get("/health").json()["llm"] == "configured"
    answered = client.post("/v1/ask", json=ASK)
    unparsed = client.post("/v1/ask", json={"question": "flibbertigibbet wobble", "dataset": "superstore"})
    assert answered.status_code == unparsed.status_code == 200
    assert answered.json()["status"] == "answered"
    assert unparsed.json()["status"] in ("clarify", "error", "refused")
