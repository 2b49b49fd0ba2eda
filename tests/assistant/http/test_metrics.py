"""GET /metrics: Prometheus text with latency per endpoint and tier, cache hits, bytes read and errors."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def samples(client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = client.get("/metrics").text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_answers_are_counted_by_tier_with_latency_per_endpoint_and_tier(client) -> None:
    question = {"question": "quantity by ship mode in 2014", "dataset": "superstore"}
    first = client.post("/v1/ask", json=question).json()
    client.post("/v1/ask", json=question)
    found = samples(client)
    assert value(found, "retail_answers_total", tier=first["tier"], status="answered") >= 1
    assert value(found, "retail_cache_hits_total", tier="cache_l1") >= 1
    assert value(found, "retail_http_request_duration_seconds_count", endpoint="/v1/ask", tier="cache_l1") >= 1
    assert value(found, "retail_http_requests_total", endpoint="/v1/ask", method="POST", status="200") == 2
    assert value(found, "retail_bytes_read_total", endpoint="/v1/ask") >= first["bytes_read"]


def test_sql_bytes_and_errors_are_counted(client) -> None:
    # A column is read: COUNT(*) alone comes from the Parquet footers, which the catalog caches.
    client.post("/v1/sql", json={"sql": "SELECT SUM(sales) FROM superstore", "dataset": "superstore"})
    client.post("/v1/sql", json={"sql": "DROP TABLE superstore", "dataset": "superstore"})
    client.get("/no-such-page")
    found = samples(client)
    assert value(found, "retail_bytes_read_total", endpoint="/v1/sql") > 0
    assert value(found, "retail_errors_total", endpoint="/v1/sql", kind="unsafe_sql") == 1
    assert value(found, "retail_http_requests_total", endpoint="unmatched", method="GET", status="404") == 1


def test_llm_counters_and_both_cache_tiers_are_exposed_from_the_start(client) -> None:
    found = samples(client)
    for name in ("retail_llm_calls_total", "retail_llm_tokens_total", "retail_llm_cost_usd_total"):
        assert (name, ()) in found
    assert ("retail_cache_hits_total", (("tier", "cache_l2"),)) in found
    assert client.get("/metrics").headers["content-type"].startswith("text/plain")


def test_a_query_an_answer_runs_is_counted_by_table_and_its_bytes_observed_but_a_cache_hit_is_not(client) -> None:
    question = {"question": "average discount by ship mode in 2015", "dataset": "superstore"}   # asked nowhere else
    first = client.post("/v1/ask", json=question).json()
    assert client.post("/v1/ask", json=question).json()["tier"] == "cache_l1"
    found = samples(client)
    assert first["tier"] == "metadata"
    kind = first["interpretation"]["source_kind"]
    assert value(found, "retail_source_queries_total", dataset="superstore", table=first["source"], kind=kind) == 1
    assert value(found, "retail_query_bytes_read_count", dataset="superstore", kind=kind) == 1
    assert value(found, "retail_query_bytes_read_sum", dataset="superstore", kind=kind) == first["bytes_read"]


def test_quota_rejection_reasons_are_exposed_from_the_start(client) -> None:
    found = samples(client)
    for reason in ("rate_limit", "daily_quota", "unavailable"):
        assert ("retail_quota_rejections_total", (("reason", reason),)) in found
