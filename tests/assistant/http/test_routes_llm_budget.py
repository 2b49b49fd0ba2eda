"""/v1/ask charges the LLM tier to the calling API key, and the token metric counts what it used."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from assistant.http.auth import new_key
from assistant.llm.budget import Budget, FileLedger
from tests.assistant.http.conftest import MakeClient
from tests.assistant.llm.llm_helpers import CHEAP, RecordingRunner, make_stage, pipeline, reply
from warehouse.backends import get_backend

KEY = new_key()
QUESTION = "How much cash did California bring in during March 2024?"
SQL = ("SELECT SUM(revenue) AS revenue FROM sales WHERE status <> 'Cancelled' AND state = 'CA' "
       "AND order_date BETWEEN DATE '2024-03-01' AND DATE '2024-03-31'")


def _counter(text: str, name: str) -> float:
    return sum(s.value for family in text_string_to_metric_families(text) for s in family.samples if s.name == name)


def test_an_llm_answer_is_charged_to_the_api_key_and_its_tokens_are_counted(
        make_client: MakeClient, warehouse_home: Path) -> None:
    ledger = FileLedger(warehouse_home / "state" / "budget.json")
    runner = RecordingRunner(get_backend("duckdb", dataset="retail_sales"))
    stage = make_stage(runner, {CHEAP: [reply(SQL, "Revenue of California in March 2024.")]},
                       budget=Budget(per_key_usd=1.0, total_usd=10.0, ledger=ledger))
    client = make_client(pipeline(runner, stage), api={"auth_enabled": True, "api_keys": [KEY]})

    response = client.post("/v1/ask", json={"question": QUESTION, "dataset": "retail_sales", "as_of": "2024-07-01"},
                           headers={"X-API-Key": KEY})

    body = response.json()
    assert response.status_code == 200 and body["tier"] == "llm" and body["status"] == "answered"
    mine, total = ledger.spent(datetime.now(UTC).date(), "env-key-1")
    assert mine == total == body["cost_usd"] > 0
    assert ledger.spent(datetime.now(UTC).date(), "anonymous")[0] == 0.0
    tokens = body["interpretation"]["llm"]["tokens"]
    assert tokens > 0
    assert _counter(client.get("/metrics").text, "retail_llm_tokens_total") == tokens
