"""Async questions through the real rq queue in Redis, answered by a real worker."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
import subprocess
import sys
import uuid

import pytest

from assistant.http.auth import hash_key, new_key
from assistant.http.tasks import TaskQueue, use_assistant
from assistant.http.worker import run_worker
from assistant.pipeline import Assistant
from retail_insights.errors import ConfigError
from retail_insights.settings import Settings
from tests.assistant.http.conftest import SUPERSTORE_2016_SALES, MakeClient

ROOT = Path(__file__).resolve().parents[3]
QUESTION = {"question": "total sales in 2016", "dataset": "superstore", "async": True}


@pytest.fixture
def queue_name() -> str:
    return f"test-questions-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def async_client(make_client: MakeClient, redis_url: str, queue_name: str):
    client = make_client(redis={"url": redis_url})
    client.app.state.services.tasks = TaskQueue(redis_url, queue_name=queue_name)
    return client


@pytest.fixture
def drain(warehouse_home: Path, redis_url: str, queue_name: str, warm_assistant: Assistant):
    """Run the worker in this process (rq's SimpleWorker, burst mode) over the test's queue."""
    def run() -> bool:
        return run_worker(settings=Settings(home=warehouse_home, redis={"url": redis_url}), burst=True,
                          queue_name=queue_name, assistant=warm_assistant)

    # rq installs its own SIGINT/SIGTERM handlers and retitles the process; give pytest back its own.
    from setproctitle import getproctitle, setproctitle

    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    title = getproctitle()
    yield run
    use_assistant(None)
    for sig, handler in saved.items():
        signal.signal(sig, handler)
    setproctitle(title)


def test_an_async_question_round_trips_through_a_worker_process(async_client, warehouse_home: Path,
                                                                redis_url: str, queue_name: str) -> None:
    accepted = async_client.post("/v1/ask", json=QUESTION)
    assert accepted.status_code == 202
    task_id = accepted.json()["task_id"]
    assert accepted.headers["Location"] == accepted.json()["status_url"] == f"/v1/tasks/{task_id}"
    assert async_client.get(f"/v1/tasks/{task_id}").json() == {
        "task_id": task_id, "status": "queued", "result": None, "error": None}

    env = {**os.environ, "RETAIL_HOME": str(warehouse_home), "RETAIL_REDIS__URL": redis_url}
    worker = subprocess.run([sys.executable, "-m", "assistant.http.worker", "--burst", "--queue", queue_name],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert worker.returncode == 0, worker.stderr[-2000:]

    done = async_client.get(f"/v1/tasks/{task_id}").json()
    assert done["status"] == "done"
    assert done["result"]["status"] == "answered"
    assert done["result"]["rows"][0][0] == pytest.approx(SUPERSTORE_2016_SALES)
    feedback = async_client.post("/v1/feedback", json={"answer_id": done["result"]["answer_id"], "helpful": True})
    assert feedback.json()["answer_known"] is True
    assert any(json.loads(line).get("message", "").startswith("worker ")
               for line in worker.stderr.splitlines() if line.startswith("{"))


def test_a_task_that_fails_reports_why(drain, redis_url: str, queue_name: str, async_client) -> None:
    queue = TaskQueue(redis_url, queue_name=queue_name)
    task_id = queue.submit("total sales", dataset="nope", as_of=None, owner=None)
    assert drain() is True
    body = async_client.get(f"/v1/tasks/{task_id}").json()
    assert body["status"] == "failed"
    assert "unknown dataset 'nope'" in body["error"]


def test_as_of_travels_with_the_task(drain, async_client) -> None:
    task_id = async_client.post("/v1/ask", json={**QUESTION, "question": "total sales last year",
                                                 "as_of": "2017-02-01"}).json()["task_id"]
    drain()
    result = async_client.get(f"/v1/tasks/{task_id}").json()["result"]
    assert result["as_of"] == "2017-02-01"
    assert result["rows"][0][0] == pytest.approx(SUPERSTORE_2016_SALES)


@pytest.mark.parametrize("task_id", [uuid.uuid4().hex, "not-a-task", "..%2F..%2Fetc"])
def test_an_unknown_task_is_a_404(async_client, task_id: str) -> None:
    response = async_client.get(f"/v1/tasks/{task_id}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_task_is_visible_only_to_the_key_that_asked(make_client: MakeClient, redis_url: str, queue_name: str,
                                                     tmp_path: Path) -> None:
    owner, other = new_key(), new_key()
    (tmp_path / "keys.json").write_text(json.dumps({"keys": [
        {"name": f"owner-{uuid.uuid4().hex[:6]}", "sha256": hash_key(owner)},
        {"name": f"other-{uuid.uuid4().hex[:6]}", "sha256": hash_key(other)}]}))
    client = make_client(redis={"url": redis_url}, api={"auth_enabled": True,
                                                         "api_keys_file": tmp_path / "keys.json"})
    client.app.state.services.tasks = TaskQueue(redis_url, queue_name=queue_name)
    task_id = client.post("/v1/ask", json=QUESTION, headers={"X-API-Key": owner}).json()["task_id"]
    assert client.get(f"/v1/tasks/{task_id}", headers={"X-API-Key": owner}).json()["status"] == "queued"
    assert client.get(f"/v1/tasks/{task_id}", headers={"X-API-Key": other}).status_code == 404


def test_async_without_redis_configured_is_a_503_saying_what_to_set(client) -> None:
    response = client.post("/v1/ask", json=QUESTION)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "no Redis is configured" in response.json()["detail"]
    assert "RETAIL_REDIS__URL" in response.json()["detail"]
    assert client.post("/v1/ask", json={**QUESTION, "async": False}).status_code == 200


def test_the_worker_refuses_to_start_without_redis(warehouse_home: Path) -> None:
    with pytest.raises(ConfigError, match=r"the worker needs Redis.*RETAIL_REDIS__URL"):
        run_worker(settings=Settings(home=warehouse_home), burst=True)
