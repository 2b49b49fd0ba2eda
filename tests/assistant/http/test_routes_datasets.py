"""GET /v1/datasets and GET /health."""

from __future__ import annotations

from warehouse.spec import dataset_names, load_dataset


def test_each_dataset_lists_its_metrics_dimensions_grains_and_examples(client) -> None:
    body = client.get("/v1/datasets").json()
    by_name = {d["name"]: d for d in body["datasets"]}
    assert set(by_name) == set(dataset_names())   # every configured dataset, ingested or not
    store = by_name["superstore"]
    model = load_dataset("superstore").semantic
    assert [m["name"] for m in store["metrics"]] == list(model.metrics)
    assert next(m for m in store["metrics"] if m["name"] == "sales")["format"] == "currency"
    region = next(d for d in store["dimensions"] if d["name"] == "region")
    assert region["values"] == ["Central", "East", "South", "West"]
    assert next(d for d in store["dimensions"] if d["name"] == "city")["values"] is None
    assert "quarter" in store["time"]["grains"]
    assert store["time"]["other_dates"] == {"ship date": "ship_date"}
    assert store["examples"] == list(model.examples)
    assert by_name["retail_sales"]["default"] is True and store["default"] is False


def test_health_reports_what_is_on_and_off(client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "redis": "off", "async_tasks": False, "quotas": "off", "auth": False,
                               "llm": "off", "vector": "local", "assistant": "warm"}


def test_health_with_redis_up(make_client, redis_url: str) -> None:
    body = make_client(redis={"url": redis_url}).get("/health").json()
    assert (body["redis"], body["async_tasks"], body["quotas"]) == ("up", True, "on")
