"""POST /v1/ask over the real warehouse: answers, request ids, limits, CORS and the OpenAPI schema."""

from __future__ import annotations

import pytest

from tests.assistant.http.conftest import SUPERSTORE_2016_SALES, MakeClient


def test_a_question_is_answered_with_numbers_sql_and_tier(client) -> None:
    response = client.post("/v1/ask", json={"question": "total sales in 2016", "dataset": "superstore"})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "answered"
    assert body["rows"][0][0] == pytest.approx(SUPERSTORE_2016_SALES)
    assert "$609,205.60" in body["answer"] and "2016-01-01" in body["answer"]
    assert body["sql"].upper().startswith("SELECT")
    assert body["tier"] in ("metadata", "cache_l1")
    assert len(body["answer_id"]) == 32


def test_the_same_question_again_is_served_from_the_cache(client) -> None:
    question = {"question": "profit by region in 2015", "dataset": "superstore"}
    first = client.post("/v1/ask", json=question).json()
    second = client.post("/v1/ask", json=question).json()
    assert second["tier"] == "cache_l1"
    assert second["rows"] == first["rows"]
    assert second["answer_id"] != first["answer_id"]


def test_relative_dates_resolve_against_as_of(client) -> None:
    body = client.post("/v1/ask", json={"question": "total sales last year", "dataset": "superstore",
                                        "as_of": "2017-03-15"}).json()
    assert body["as_of"] == "2017-03-15"
    assert body["rows"][0][0] == pytest.approx(SUPERSTORE_2016_SALES)


def test_the_default_dataset_comes_from_settings(make_client: MakeClient) -> None:
    client = make_client(default_dataset="superstore")
    body = client.post("/v1/ask", json={"question": "total sales in 2016"}).json()
    assert body["dataset"] == "superstore"


def test_a_question_the_rules_cannot_read_gets_a_clarification_not_an_error(client) -> None:
    response = client.post("/v1/ask", json={"question": "flibbertigibbet wobble", "dataset": "superstore"})
    assert response.status_code == 200
    assert response.json()["status"] == "clarify"
    assert response.json()["rows"] == []


def test_the_conversation_id_and_request_id_are_echoed(client) -> None:
    response = client.post("/v1/ask", json={"question": "total sales in 2016", "dataset": "superstore",
                                            "conversation_id": "conv-7"}, headers={"X-Request-ID": "req-42"})
    assert response.json()["conversation_id"] == "conv-7"
    assert response.headers["X-Request-ID"] == "req-42"


def test_a_missing_or_unsafe_request_id_is_replaced_by_a_new_one(client) -> None:
    plain = client.get("/health")
    forged = client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert len(plain.headers["X-Request-ID"]) == 32
    assert forged.headers["X-Request-ID"] != "bad id\twith spaces"
    assert len(forged.headers["X-Request-ID"]) == 32


def test_an_unknown_dataset_is_a_400_naming_the_known_ones(client) -> None:
    response = client.post("/v1/ask", json={"question": "total sales", "dataset": "superstor"})
    assert response.status_code == 400
    assert response.json()["code"] == "usage_error"
    assert "unknown dataset 'superstor'" in response.json()["detail"]
    assert "'superstore'" in response.json()["detail"]


def test_a_question_over_the_length_limit_is_a_422_naming_the_limit(make_client: MakeClient) -> None:
    client = make_client(llm={"max_question_chars": 40})
    response = client.post("/v1/ask", json={"question": "total sales in 2016 " * 3, "dataset": "superstore"})
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", "question"]
    assert error["ctx"] == {"max_length": 40}
    assert "the limit is 40 (llm.max_question_chars)" in error["msg"]


@pytest.mark.parametrize("body", [{"question": ""}, {}, {"question": "total sales", "datset": "superstore"},
                                  {"question": "total sales", "as_of": "03/15/2017"}])
def test_a_malformed_body_is_a_422(client, body: dict) -> None:
    assert client.post("/v1/ask", json=body).status_code == 422


def test_a_body_over_the_size_limit_is_a_413_before_it_is_read(make_client: MakeClient) -> None:
    client = make_client(api={"max_body_bytes": 200})
    response = client.post("/v1/ask", json={"question": "x" * 300})
    assert response.status_code == 413
    assert "larger than 200 bytes (api.max_body_bytes)" in response.json()["detail"]
    assert response.headers["X-Request-ID"]


def test_a_streamed_body_without_length_is_cut_off_at_the_size_limit(make_client: MakeClient) -> None:
    client = make_client(api={"max_body_bytes": 200})

    def chunks():
        yield b'{"question": "'
        for _ in range(10):
            yield b"x" * 50
        yield b'"}'

    response = client.post("/v1/ask", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"


def test_cors_headers_follow_the_configured_origins(make_client: MakeClient) -> None:
    client = make_client(api={"cors_origins": ["https://dash.example"]})
    preflight = client.options("/v1/ask", headers={"Origin": "https://dash.example",
                                                   "Access-Control-Request-Method": "POST"})
    assert preflight.headers["access-control-allow-origin"] == "https://dash.example"
    other = client.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def test_without_cors_origins_no_cors_headers_are_sent(client) -> None:
    response = client.get("/health", headers={"Origin": "https://dash.example"})
    assert "access-control-allow-origin" not in response.headers


def test_the_openapi_schema_describes_every_endpoint(client) -> None:
    schema = client.get("/openapi.json").json()
    assert {"/v1/ask", "/v1/tasks/{task_id}", "/v1/sql", "/v1/feedback", "/v1/datasets", "/health",
            "/metrics"} <= set(schema["paths"])
    ask = schema["paths"]["/v1/ask"]["post"]
    assert {"200", "202", "401", "403", "413", "422", "429", "503"} <= set(ask["responses"])
    assert "async" in schema["components"]["schemas"]["AskRequest"]["properties"]
    assert client.get("/docs").status_code == 200


def test_a_follow_up_sends_the_conversation_id_back_and_edits_the_last_answer(client) -> None:
    first = client.post("/v1/ask", json={"question": "sales by region in 2016", "dataset": "superstore"}).json()
    conversation = first["conversation_id"]
    assert conversation and first["status"] == "answered"
    second = client.post("/v1/ask", json={"question": "and for 2017?", "dataset": "superstore",
                                          "conversation_id": conversation}).json()
    assert second["status"] == "answered" and second["conversation_id"] == conversation
    assert second["interpretation"]["follow_up"]["changed"] == ["time"]
    assert set(second["interpretation"]["follow_up"]["carried_over"]) == {"metrics", "dimensions"}
    assert "2017-01-01" in second["answer"] and len(second["rows"]) == 4


def test_without_a_conversation_id_a_follow_up_has_nothing_to_edit(client) -> None:
    body = client.post("/v1/ask", json={"question": "and for 2017?", "dataset": "superstore"}).json()
    assert body["status"] == "clarify" and "no earlier answer to build on" in body["answer"]
    assert body["conversation_id"]


def test_a_conversation_id_is_letters_digits_dashes_only(client) -> None:
    response = client.post("/v1/ask", json={"question": "sales in 2016", "dataset": "superstore",
                                            "conversation_id": "../../etc"})
    assert response.status_code == 422


def test_conversations_are_shared_through_redis(make_client: MakeClient, warehouse_home, redis_url: str) -> None:
    from assistant.factory import build_assistant
    from retail_insights.settings import Settings

    settings = Settings(home=warehouse_home, redis={"url": redis_url})
    one = make_client(build_assistant(settings, semantic=False), redis={"url": redis_url})
    two = make_client(build_assistant(settings, semantic=False), redis={"url": redis_url})
    first = one.post("/v1/ask", json={"question": "profit in Texas in 2016", "dataset": "superstore"}).json()
    second = two.post("/v1/ask", json={"question": "how about Ohio?", "dataset": "superstore",
                                       "conversation_id": first["conversation_id"]}).json()
    assert second["status"] == "answered" and second["interpretation"]["follow_up"]["changed"] == ["filters"]
    assert "Ohio" in second["answer"] and "2016-01-01" in second["answer"]
