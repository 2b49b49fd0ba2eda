"""POST /v1/feedback: votes land in state_dir/feedback.jsonl with the answer's context; the hook sees them."""

from __future__ import annotations

import json
from pathlib import Path
import threading

import pytest

from assistant.http.feedback import FeedbackRecord, FeedbackStore
from tests.assistant.http.conftest import MakeClient


def stored(home: Path) -> list[dict]:
    path = home / "state" / "feedback.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_feedback_on_an_answer_is_stored_with_its_context(client, warehouse_home: Path) -> None:
    answer = client.post("/v1/ask", json={"question": "total sales in 2016", "dataset": "superstore"}).json()
    response = client.post("/v1/feedback", json={"answer_id": answer["answer_id"], "helpful": True,
                                                 "comment": "spot on"})
    assert response.status_code == 200
    assert response.json()["answer_known"] is True
    (record,) = stored(warehouse_home)
    assert record["feedback_id"] == response.json()["feedback_id"]
    assert (record["answer_id"], record["helpful"], record["comment"]) == (answer["answer_id"], True, "spot on")
    assert record["answer"]["question"] == "total sales in 2016"
    assert record["answer"]["interpretation"] == answer["interpretation"]
    assert record["answer"]["sql"] == answer["sql"]


def test_feedback_on_an_answer_this_process_did_not_serve_is_stored_without_context(client,
                                                                                   warehouse_home: Path) -> None:
    response = client.post("/v1/feedback", json={"answer_id": "f" * 32, "helpful": False})
    assert response.json()["answer_known"] is False
    assert stored(warehouse_home)[0]["answer"] is None


def test_the_hook_receives_each_record(make_client: MakeClient) -> None:
    seen: list[FeedbackRecord] = []
    client = make_client(on_feedback=seen.append)
    answer_id = client.post("/v1/ask", json={"question": "total sales in 2016", "dataset": "superstore"}
                            ).json()["answer_id"]
    client.post("/v1/feedback", json={"answer_id": answer_id, "helpful": True})
    assert [(r.answer_id, r.helpful, r.answer["dataset"]) for r in seen] == [(answer_id, True, "superstore")]


def test_a_failing_hook_does_not_fail_the_vote(make_client: MakeClient, warehouse_home: Path) -> None:
    def broken(record: FeedbackRecord) -> None:
        raise RuntimeError("promotion store is down")

    client = make_client(on_feedback=broken)
    response = client.post("/v1/feedback", json={"answer_id": "a" * 32, "helpful": True})
    assert response.status_code == 200
    assert len(stored(warehouse_home)) == 1


@pytest.mark.parametrize("body", [{"answer_id": "x", "helpful": "maybe"}, {"answer_id": "../etc", "helpful": True},
                                  {"answer_id": "x", "helpful": True, "comment": "c" * 2001}, {"helpful": True}])
def test_a_malformed_vote_is_a_422(client, body: dict) -> None:
    assert client.post("/v1/feedback", json=body).status_code == 422


def test_concurrent_votes_are_all_stored_intact(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.jsonl")
    threads = [threading.Thread(target=lambda i=i: [store.record(answer_id=f"a{i}-{j}", helpful=j % 2 == 0,
                                                                 comment="x" * 500) for j in range(25)])
               for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = store.read()
    assert len(records) == 100
    assert len({r.answer_id for r in records}) == 100
