"""Serving under load, in process: cached answers never wait for cold ones, identical questions in
flight are computed once, a full cold queue sheds new questions (503, or 202 with Redis), the query
log records answers, and /ready waits for warm-up, which answers the log's most asked questions."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
import gc
import threading
import time
from pathlib import Path

from fastapi.testclient import TestClient
import pytest

from assistant.factory import build_assistant
from assistant.http import services as services_module
from assistant.http.app import create_app
from assistant.querylog import QueryLog
from retail_insights.settings import Settings
from tests.assistant.http.conftest import SUPERSTORE_2016_SALES, MakeClient

CACHED = {"question": "total sales in 2016", "dataset": "superstore"}


class _Calls:
    """The real function, counting its calls."""

    def __init__(self, real: Callable[[], None]) -> None:
        self.real, self.calls = real, 0

    def __call__(self) -> None:
        self.calls += 1
        self.real()


def _block_cold_pool(client: TestClient) -> threading.Event:
    """Occupy every cold thread until the returned event is set."""
    gate = threading.Event()
    pool = client.app.state.services.cold
    for _ in range(pool.workers):
        pool.run(None, lambda: gate.wait(60))
    return gate


def _until(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_cached_answers_are_served_while_every_cold_thread_is_busy(make_client: MakeClient) -> None:
    client = make_client(api={"cold_workers": 1, "max_cold_queued": 0})
    assert client.post("/v1/ask", json=CACHED).status_code == 200          # now cached
    gate = _block_cold_pool(client)
    try:
        cached = client.post("/v1/ask", json={**CACHED, "question": "what were total sales in 2016?"})
        refused = client.post("/v1/ask", json={"question": "profit by segment in 2014", "dataset": "superstore"})
    finally:
        gate.set()
    assert cached.status_code == 200 and cached.json()["tier"] == "cache_l1"
    assert cached.json()["rows"][0][0] == pytest.approx(SUPERSTORE_2016_SALES)
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["code"] == "overloaded"
    assert "the limit is 0" in refused.json()["detail"]
    again = client.post("/v1/ask", json={"question": "profit by segment in 2014", "dataset": "superstore"})
    assert again.status_code == 200 and again.json()["status"] == "answered"
    assert "retail_cold_shed_total 1.0" in client.get("/metrics").text


def test_identical_new_questions_in_flight_are_computed_once(warehouse_home: Path) -> None:
    assistant = build_assistant(Settings(home=warehouse_home), semantic=False)
    with TestClient(create_app(Settings(home=warehouse_home, api={"cold_workers": 1}), assistant)) as client:
        gate = _block_cold_pool(client)
        question = {"question": "units by category in 2015", "dataset": "superstore"}
        with ThreadPoolExecutor(4) as callers:
            futures = [callers.submit(client.post, "/v1/ask", json={**question, "conversation_id": f"c{i}"})
                       for i in range(4)]
            _until(lambda: client.app.state.services.cold.shared == 3)
            gate.set()
            bodies = [f.result(60).json() for f in futures]
        metrics = client.get("/metrics").text
        follow = client.post("/v1/ask", json={"question": "and in 2016?", "dataset": "superstore",
                                              "conversation_id": "c2"}).json()
    assert {b["status"] for b in bodies} == {"answered"}
    assert len({str(b["rows"]) for b in bodies}) == 1
    assert sorted(b["bytes_read"] > 0 for b in bodies) == [False, False, False, True]   # one read the data
    assert sorted(b["conversation_id"] for b in bodies) == ["c0", "c1", "c2", "c3"]
    assert len({b["answer_id"] for b in bodies}) == 4
    assert "retail_single_flight_shared_total 3.0" in metrics
    assert follow["status"] == "answered"                       # each sharer has its own conversation
    assert follow["interpretation"]["follow_up"]["of"] == question["question"]


def test_a_full_cold_queue_with_redis_queues_the_question_as_a_task(make_client: MakeClient, redis_url: str) -> None:
    client = make_client(redis={"url": redis_url}, api={"cold_workers": 1, "max_cold_queued": 0})
    gate = _block_cold_pool(client)
    try:
        response = client.post("/v1/ask", json={"question": "sales by ship mode in 2015", "dataset": "superstore"})
    finally:
        gate.set()
    assert response.status_code == 202
    assert response.headers["Location"] == response.json()["status_url"]


def test_answers_are_written_to_the_query_log(client: TestClient, warehouse_home: Path) -> None:
    for _ in range(2):
        client.post("/v1/ask", json=CACHED)
    client.post("/v1/ask", json={"question": "sales by region in 2015", "dataset": "superstore"})
    log = QueryLog(client.app.state.services.settings.state_dir / "queries.jsonl")
    entries = list(log.entries())
    assert [e["question"] for e in entries] == ["total sales in 2016"] * 2 + ["sales by region in 2015"]
    assert entries[1]["tier"] == "cache_l1" and entries[0]["status"] == "answered"
    assert log.top_questions(1) == [("superstore", "total sales in 2016", None)]
    client.post("/v1/ask", json={**CACHED, "as_of": "2017-06-30"})
    assert list(log.entries())[-1]["as_of"] == "2017-06-30"       # a pinned day is kept for priming


def test_ready_waits_for_warm_up_which_primes_the_most_asked_questions(
        warehouse_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(home=warehouse_home, api={"prime_questions": 3, "freeze_heap": True})
    monkeypatch.setattr(services_module.gc, "freeze", frozen := _Calls(services_module.gc.freeze))
    log = QueryLog(settings.state_dir / "queries.jsonl")
    for question, times in (("profit by region in 2016", 3), ("total sales in 2017", 2), ("units in 2014", 1)):
        for _ in range(times):
            log.append({"dataset": "superstore", "question": question, "status": "answered"})
    for _ in range(4):   # asked as of a day the caller pinned: primed as of that day
        log.append({"dataset": "superstore", "question": "sales last month", "status": "answered"},
                   as_of=date(2017, 12, 15))
    gate = threading.Event()
    real = services_module.warm_up

    def held_warm_up(*args, **kwargs):   # the real warm-up, started only when the test says so
        gate.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(services_module, "warm_up", held_warm_up)
    with TestClient(create_app(settings)) as client:
        waiting = client.get("/ready")
        assert waiting.status_code == 503 and waiting.json()["ready"] is False
        assert client.get("/health").status_code == 200                  # alive meanwhile
        gate.set()
        _until(lambda: client.get("/ready").status_code == 200, timeout_s=300)
        ready = client.get("/ready").json()
        assert ready["primed"] == 3 and not ready["failed"]
        assert frozen.calls == 1 and gc.get_freeze_count() > 0   # warm-up's heap kept out of later collections
        gc.unfreeze()
        assert {"values:superstore", "warehouse:superstore", "semantic:superstore", "query log"} <= set(ready["steps"])
        first = client.post("/v1/ask", json={"question": "profit by region in 2016", "dataset": "superstore"})
        assert first.json()["tier"] == "cache_l1"                         # primed before any user asked
        pinned = client.post("/v1/ask", json={"question": "sales last month", "dataset": "superstore",
                                              "as_of": "2017-12-15"})
        assert pinned.json()["tier"] == "cache_l1" and pinned.json()["interpretation"]["time"]["start"] == "2017-11-01"
        unprimed = client.post("/v1/ask", json={"question": "units in 2014", "dataset": "superstore"})
        assert unprimed.json()["tier"] != "cache_l1"
