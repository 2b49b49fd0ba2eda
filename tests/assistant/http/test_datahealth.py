"""GET /v1/health/data and the Data Docs pages: what the pipeline wrote, read back through the API.

``ingested_home`` holds one real batch (`retail-insights ingest` of five lines, two of them bad);
the other cases write their records with the pipeline's own writers (the ingest ledger, the
consumer's metrics file) into this test's home.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
import json
from pathlib import Path

from fastapi.testclient import TestClient
import pytest

from assistant.factory import data_version_reader
from assistant.http.app import create_app
from assistant.http.auth import hash_key
from assistant.pipeline import Assistant
from retail_insights.settings import Settings, get_settings
from spark_jobs.bronze import Ledger
from streaming.metrics import BatchStats, append, metrics_path
from tests.assistant.http.conftest import Ingested, MakeClient
from warehouse.spec import dataset_names


@pytest.fixture
def make_ingested_client(ingested_home: Ingested, warm_assistant: Assistant,
                         monkeypatch: pytest.MonkeyPatch) -> Iterator[MakeClient]:
    """``make(**settings) -> TestClient`` over ``ingested_home`` (read only: nothing here writes)."""
    monkeypatch.setenv("RETAIL_HOME", str(ingested_home.home))
    get_settings.cache_clear()
    clients: list[TestClient] = []

    def make(**fields: object) -> TestClient:
        clients.append(TestClient(create_app(Settings(home=ingested_home.home, **fields), warm_assistant)))
        return clients[-1].__enter__()

    yield make
    for client in clients:
        client.__exit__(None, None, None)
    get_settings.cache_clear()


@pytest.fixture
def ingested_client(make_ingested_client: MakeClient) -> TestClient:
    return make_ingested_client()


def dataset(body: dict, name: str) -> dict:
    return next(d for d in body["datasets"] if d["name"] == name)


def test_the_last_batch_carries_its_row_accounting_verdict_and_data_docs_page(ingested_client: TestClient,
                                                                             ingested_home: Ingested) -> None:
    summary = ingested_home.summary
    (batch,) = dataset(ingested_client.get("/v1/health/data").json(), "superstore")["batches"]
    assert batch["batch_id"] == summary["batch_id"]
    assert [batch[k] for k in ("input_rows", "written_rows", "quarantined_rows", "duplicate_rows")] == \
        [summary[k] for k in ("input_rows", "written_rows", "quarantined_rows", "duplicate_rows")] == [5, 3, 2, 0]
    assert batch["accounted"] is True
    assert batch["quarantined_by_code"] == {"BAD_ORDER_DATE": 1, "SHIP_BEFORE_ORDER": 1}
    assert batch["dq_passed"] is False          # two critical rules failed
    assert batch["files"] == ["superstore_batch.csv"]   # the name only, never a server path
    page = ingested_client.get(batch["data_docs_url"])
    assert page.status_code == 200 and summary["batch_id"] in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


def test_freshness_is_the_data_version_answers_carry_and_when_it_was_written(ingested_client: TestClient,
                                                                           ingested_home: Ingested) -> None:
    before = datetime.now(UTC)
    superstore = dataset(ingested_client.get("/v1/health/data").json(), "superstore")
    assert superstore["data_version"] == data_version_reader(Settings(home=ingested_home.home))("superstore")
    written = datetime.fromisoformat(superstore["updated_at"])
    assert before - timedelta(hours=1) < written <= before
    assert superstore["age_s"] >= 0


def test_quarantine_counts_cover_the_whole_quarantine_table(ingested_client: TestClient) -> None:
    body = ingested_client.get("/v1/health/data").json()
    assert dataset(body, "superstore")["quarantine"] == {"total_rows": 2,
                                                         "by_code": {"BAD_ORDER_DATE": 1, "SHIP_BEFORE_ORDER": 1}}
    assert dataset(body, "retail_sales")["quarantine"] == {"total_rows": 0, "by_code": {}}
    assert dataset(body, "retail_sales")["batches"] == []
    assert body["data_docs_url"] == "/v1/data-docs/index.html"


def test_a_batch_whose_rows_do_not_add_up_is_flagged(client: TestClient, warehouse_home: Path) -> None:
    ledger = Ledger(warehouse_home / "state", "retail_sales")
    ledger.started(batch_id="b-lost-rows", seq=1, files=[], at=datetime(2024, 7, 1, tzinfo=UTC))
    ledger.committed(batch_id="b-lost-rows", seq=1, files=[], summary={
        "batch_id": "b-lost-rows", "files": ["/srv/feeds/orders.csv"], "input_rows": 10, "written_rows": 7,
        "quarantined_rows": 1, "duplicate_rows": 1, "warning_rows": 0, "quarantined_by_code": {"BAD_QTY": 1},
        "delta_version": 4})
    (batch,) = dataset(client.get("/v1/health/data").json(), "retail_sales")["batches"]
    assert (batch["accounted"], batch["at"], batch["files"]) == (False, "2024-07-01T00:00:00+00:00", ["orders.csv"])
    assert (batch["dq_passed"], batch["data_docs_url"]) == (None, None)


def test_only_the_last_batches_are_listed_newest_first(client: TestClient, warehouse_home: Path) -> None:
    ledger = Ledger(warehouse_home / "state", "retail_sales")
    for seq in (1, 2, 3):
        ledger.committed(batch_id=f"b{seq}", seq=seq, files=[], summary={
            "batch_id": f"b{seq}", "input_rows": seq, "written_rows": seq, "quarantined_rows": 0,
            "duplicate_rows": 0, "warning_rows": 0, "quarantined_by_code": {}, "delta_version": seq})
    batches = dataset(client.get("/v1/health/data?last=2").json(), "retail_sales")["batches"]
    assert [b["batch_id"] for b in batches] == ["b3", "b2"]
    assert client.get("/v1/health/data?last=0").status_code == 422


def test_a_stream_consumer_reports_its_lag_from_its_last_micro_batch(client: TestClient) -> None:
    finished = datetime.now(UTC) - timedelta(seconds=30)
    for batch, p95 in ((1, 4.0), (2, 1.25)):
        append(metrics_path("pos-events", "retail-ingest"), BatchStats(
            batch=batch, finished_at=finished.isoformat(), events=100 * batch, replayed=0, written=90 * batch,
            duplicates=0, dlq=batch, malformed=0, partitions=(0,), delta_versions=(batch,), freshness_p50_s=0.5,
            freshness_p95_s=p95, seconds=0.4, touched=((2024, 7),)))
    (stream,) = client.get("/v1/health/data").json()["streams"]
    assert (stream["name"], stream["lag_p95_s"], stream["events"], stream["written"], stream["dlq"],
            stream["batches"]) == ("pos-events.retail-ingest", 1.25, 200, 180, 2, 2)
    assert 30 <= stream["last_batch_age_s"] < 600


def test_without_any_pipeline_record_the_report_is_empty_not_an_error(client: TestClient) -> None:
    body = client.get("/v1/health/data").json()
    assert body["streams"] == [] and body["data_docs_url"] is None
    assert all(d["batches"] == [] for d in body["datasets"])
    # the session warehouse holds the two built datasets; one never ingested has no version, not an error
    assert {d["name"]: d["data_version"] is not None for d in body["datasets"]} == \
        {name: name in ("retail_sales", "superstore") for name in dataset_names()}


@pytest.mark.parametrize("page", ["nope.html", "superstore/b0.html", "index.json", "..%2F..%2Fpyproject.toml"])
def test_anything_but_a_data_docs_page_is_a_404_naming_it(ingested_client: TestClient, page: str) -> None:
    response = ingested_client.get(f"/v1/data-docs/{page}")
    assert response.status_code == 404
    assert "no Data Docs page" in response.json()["detail"]


def test_a_key_scoped_to_one_dataset_reads_only_its_own_health_and_pages(make_ingested_client: MakeClient,
                                                                         tmp_path: Path) -> None:
    (tmp_path / "keys.json").write_text(json.dumps({"keys": [
        {"name": "store", "sha256": hash_key("store-key"), "datasets": ["superstore"]}]}))
    client = make_ingested_client(api={"auth_enabled": True, "api_keys_file": tmp_path / "keys.json"})
    assert client.get("/v1/health/data").status_code == 401
    headers = {"X-API-Key": "store-key"}
    body = client.get("/v1/health/data", headers=headers).json()
    assert [d["name"] for d in body["datasets"]] == ["superstore"]
    assert client.get(body["datasets"][0]["batches"][0]["data_docs_url"], headers=headers).status_code == 200
    index = client.get("/v1/data-docs/index.html", headers=headers)
    assert index.status_code == 403 and "lists every dataset" in index.json()["detail"]
    assert client.get("/v1/data-docs/retail_sales/b1.html", headers=headers).status_code == 403
