"""The real server: ``retail-insights serve`` (uvicorn on a loopback port), JSON logs, several workers."""

from __future__ import annotations

import signal
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.assistant.http.conftest import SUPERSTORE_2016_SALES


def test_the_cli_serves_answers_over_http_with_json_logs(serve) -> None:
    server = serve()
    response = httpx.post(f"{server.url}/v1/ask", json={"question": "total sales in 2016", "dataset": "superstore"},
                          headers={"X-Request-ID": "served-1"}, timeout=60)
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "served-1"
    assert response.json()["rows"][0][0] == pytest.approx(SUPERSTORE_2016_SALES)
    assert httpx.get(f"{server.url}/openapi.json").json()["info"]["title"] == "Retail Insights"
    server.stop()
    # uvicorn shuts down gracefully on SIGTERM, then re-raises it: the exit status is the signal's.
    assert server.process.returncode in (0, -signal.SIGTERM)
    assert server.wait_log("Application shutdown complete.", count=1)
    access = [line for line in server.log_lines() if line.get("request_id") == "served-1"]
    assert access and access[-1]["endpoint"] == "/v1/ask" and access[-1]["status"] == 200
    assert access[-1]["tier"] in ("metadata", "cache_l1")


@pytest.mark.slow
def test_with_two_workers_metrics_add_up_across_processes(serve) -> None:
    server = serve(workers=2)
    pids = {line["pid"] for line in server.wait_log("warm-up done", count=2)}
    with httpx.Client(base_url=server.url, timeout=10) as http:
        for _ in range(20):
            assert http.get("/health").status_code == 200
        # A request is counted once its response has gone out, so the last few may still be on their
        # way into the sample files: wait for the sum rather than for a fixed time.
        counted = _wait_for(lambda: _health_requests(http.get("/metrics").text), at_least=20)
    assert counted >= 20
    assert len(pids) == 2
    # Each worker writes its own sample files, which /metrics sums.
    files = {p.name for p in (server.home / "state" / "prometheus").iterdir()}
    assert {f"counter_{pid}.db" for pid in pids} <= files


def _health_requests(exposition: str) -> float:
    return sum(s.value for family in text_string_to_metric_families(exposition) for s in family.samples
               if s.name == "retail_http_requests_total" and s.labels.get("endpoint") == "/health")


def _wait_for(read, *, at_least: float, timeout_s: float = 60.0) -> float:
    """Poll ``read()`` until it reaches ``at_least`` or the time is up; the last value read."""
    deadline = time.monotonic() + timeout_s
    value = read()
    while value < at_least and time.monotonic() < deadline:
        time.sleep(0.1)
        value = read()
    return value
