"""Faults under load, against the real server (``retail-insights serve``) and the real Redis.

Load is a few client threads asking a mix of cached and new questions without pause while the fault
happens: a batch ingest that changes the data, Redis stopped and started again, the table's files
replaced under the open snapshot, and a flood of malformed requests. No request may fail.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
import csv
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from deltalake import DeltaTable, write_deltalake
import httpx
import pytest
import redis

from retail_insights.services import RedisServer
from retail_insights.settings import Settings
from tests.assistant.http.conftest import ROOT, SUPERSTORE_2016_SALES

TOTAL_2017 = {"question": "total sales in 2017", "dataset": "superstore"}
MIX = [TOTAL_2017, {"question": "total sales in 2016", "dataset": "superstore"},
       {"question": "profit by region in 2017", "dataset": "superstore"},
       {"question": "orders by channel in 2024", "dataset": "retail_sales"},
       {"question": "units by category last month", "dataset": "retail_sales", "as_of": "2024-07-01"}]


class Load:
    """``threads`` clients asking ``questions`` in turn until stopped; every response is kept."""

    def __init__(self, url: str, questions: list[dict[str, Any]], *, threads: int = 3) -> None:
        self.url, self.questions, self.threads = url, questions, threads
        self.responses: list[tuple[float, dict[str, Any], int, dict[str, Any]]] = []
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(threads)
        self._lock = threading.Lock()

    def __enter__(self) -> Load:
        self._futures = [self._pool.submit(self._client, i) for i in range(self.threads)]
        return self

    def _client(self, offset: int) -> None:
        with httpx.Client(base_url=self.url, timeout=60) as http:
            i = offset
            while not self._stop.is_set():
                body = self.questions[i % len(self.questions)]
                sent = time.monotonic()
                response = http.post("/v1/ask", json=body)
                with self._lock:
                    self.responses.append((sent, body, response.status_code, response.json()))
                i += 1

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for future in self._futures:
            future.result(120)
        self._pool.shutdown()

    def count(self) -> int:
        with self._lock:
            return len(self.responses)

    def wait_for(self, more: int) -> None:
        target = self.count() + more
        _until(lambda: self.count() >= target)


def _until(condition: Callable[[], bool], timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.05)


@pytest.fixture
def own_home(tmp_path: Path, http_warehouse: Path) -> Path:
    """A RETAIL_HOME with its own copy of the warehouse, which this test may change."""
    home = tmp_path / "own-home"
    shutil.copytree(http_warehouse / "warehouse", home / "warehouse", symlinks=False)
    return home


def _new_orders_csv(path: Path, *, rows: int = 25) -> float:
    """Superstore rows the warehouse has not seen (new ids, December 2017); returns their sales."""
    source = Settings().superstore_dir / "superstore_2014_2017.csv"
    with source.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        picked = [row for _, row in zip(range(rows), reader)]
    added = 0.0
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(picked[0]))
        writer.writeheader()
        for n, row in enumerate(picked):
            row.update({"Row ID": str(900_000 + n), "Order ID": f"CA-2017-9{n:05d}", "Order Date": "2017-12-20",
                        "Ship Date": "2017-12-24"})
            added += float(row["Sales"])
            writer.writerow(row)
    return added


def test_a_batch_ingest_under_load_fails_no_request_and_never_serves_old_numbers_as_new(
        serve, own_home: Path, tmp_path: Path) -> None:
    """December 2017 orders loaded while clients ask: 2017's total moves to the new version and its
    new number; 2016's cached answer is kept (its months did not change)."""
    server = serve(home=own_home)
    with httpx.Client(base_url=server.url, timeout=60) as http:
        before = http.post("/v1/ask", json=TOTAL_2017).json()
    added = _new_orders_csv(tmp_path / "late_orders.csv")
    with Load(server.url, MIX) as load:
        load.wait_for(30)
        ingest = subprocess.run([sys.executable, "-m", "retail_insights.cli", "ingest", "--dataset", "superstore",
                                 "--json", str(tmp_path / "late_orders.csv")], cwd=ROOT, capture_output=True,
                                text=True, env=_env(own_home), timeout=600)
        assert ingest.returncode == 0, ingest.stderr[-2000:]
        done = time.monotonic()

        def switched() -> bool:
            return any(sent > done and body is TOTAL_2017 and answer.get("data_version") != before["data_version"]
                       for sent, body, _, answer in list(load.responses))
        _until(switched)
        load.wait_for(30)
    assert {status for _, _, status, _ in load.responses} == {200}
    totals = {}   # data version -> the 2017 total every answer under it gave
    for _, body, _, answer in load.responses:
        if body is TOTAL_2017:
            totals.setdefault(answer["data_version"], set()).add(round(answer["rows"][0][0], 4))
    assert totals[before["data_version"]] == {round(before["rows"][0][0], 4)}
    new_versions = [v for v in totals if v != before["data_version"]]
    assert len(new_versions) == 1 and new_versions[0] > before["data_version"]
    assert totals[new_versions[0]] == {round(before["rows"][0][0] + added, 4)}
    seen_new = min(sent for sent, body, _, a in load.responses
                   if body is TOTAL_2017 and a["data_version"] == new_versions[0])
    assert not [a for sent, body, _, a in load.responses      # once switched, never back
                if body is TOTAL_2017 and sent > seen_new + 1.0 and a["data_version"] == before["data_version"]]
    # 2016 did not change: its cached answer stays, labelled with the new version (assistant.scope)
    total_2016 = [a for _, body, _, a in load.responses if body is MIX[1]]
    assert len({round(a["rows"][0][0], 4) for a in total_2016}) == 1
    assert [a for a in total_2016 if a["data_version"] == new_versions[0] and a["tier"].startswith("cache")]


def test_files_replaced_under_the_open_snapshot_fail_no_request(serve, own_home: Path) -> None:
    """Every table rewritten with the same rows and its old files vacuumed while new questions run."""
    server = serve(home=own_home, env={"RETAIL_CACHE__VERSION_TTL_S": "3600"})   # it will not list the log again
    table_path = own_home / "warehouse" / "superstore" / "superstore"
    months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December"]
    fresh = [{"question": f"{metric}{split} in {month} {year}", "dataset": "superstore"}   # each one a new query
             for split in ("", " by region") for metric in ("sales", "profit", "quantity")
             for year in (2015, 2016, 2017) for month in months]
    with Load(server.url, fresh) as load:
        load.wait_for(20)
        for path in sorted(p for p in table_path.parent.iterdir() if (p / "_delta_log").is_dir()):
            table = DeltaTable(str(path))            # silver and every view the questions may read
            write_deltalake(str(path), table.to_pyarrow_table(), mode="overwrite",
                            partition_by=table.metadata().partition_columns)
            assert DeltaTable(str(path)).vacuum(retention_hours=0, enforce_retention_duration=False, dry_run=False)
        load.wait_for(40)
    statuses = {status for _, _, status, _ in load.responses}
    assert statuses == {200}
    errors = [a for _, _, _, a in load.responses if a.get("status") != "answered"]
    assert errors == []
    assert len(load.responses) <= len(fresh)     # every answer read the tables
    with httpx.Client(base_url=server.url, timeout=60) as http:
        after = http.post("/v1/ask", json={"question": "what were sales in 2016?", "dataset": "superstore"}).json()
    assert after["rows"][0][0] == pytest.approx(SUPERSTORE_2016_SALES)


def test_redis_stopped_and_restarted_under_load_fails_no_request(serve, warehouse_home: Path, redis_url: str,
                                                                  redis_server: RedisServer) -> None:
    server = serve(env={"RETAIL_REDIS__URL": redis_url})
    keys = redis.Redis.from_url(redis_url)
    with Load(server.url, MIX) as load:
        load.wait_for(20)
        redis_server.stop()
        load.wait_for(40)
        redis_server.start()
        load.wait_for(40)
    assert {status for _, _, status, _ in load.responses} == {200}
    assert {a["status"] for _, _, _, a in load.responses} == {"answered"}
    # Redis is used again once back (the cache retries after its backoff): a new answer lands in L2.
    with httpx.Client(base_url=server.url, timeout=60) as http:
        def stored_again() -> bool:
            http.post("/v1/ask", json={"question": f"sales in {2014 + int(time.time()) % 4}", "dataset": "superstore"})
            return bool(keys.keys("retail:answer:superstore:*"))
        keys.flushdb()
        _until(stored_again, timeout_s=90)
        assert http.get("/health").json()["redis"] == "up"


def test_a_flood_of_malformed_requests_gets_only_clear_4xx(serve) -> None:
    server = serve()
    bad: list[tuple[str, dict[str, Any]]] = [
        ("huge body", {"content": b'{"question": "' + b"x" * 200_000 + b'"}',
                       "headers": {"Content-Type": "application/json"}}),
        ("invalid JSON", {"content": b'{"question": "sales by region",', "headers": {"Content-Type": "application/json"}}),
        ("not JSON at all", {"content": b"\x00\xff\xfe garbage", "headers": {"Content-Type": "application/json"}}),
        ("10k characters", {"json": {"question": "sales " * 1700, "dataset": "superstore"}}),
        ("unknown dataset", {"json": {"question": "total sales", "dataset": "no_such_dataset"}}),
        ("question not a string", {"json": {"question": 42}}),
        ("no question", {"json": {"dataset": "superstore"}}),
        ("bad date", {"json": {"question": "total sales", "as_of": "2017-13-45"}}),
        ("bad conversation id", {"json": {"question": "total sales", "conversation_id": "../../etc/passwd"}}),
        ("array body", {"json": [1, 2, 3]}),
    ]
    statuses: dict[str, set[int]] = {}
    with httpx.Client(base_url=server.url, timeout=60) as http:
        for _ in range(40):
            for name, request in bad:
                response = http.post("/v1/ask", **request)
                statuses.setdefault(name, set()).add(response.status_code)
                assert response.json()["detail"], name       # every refusal says why
        normal = http.post("/v1/ask", json=TOTAL_2017)
    assert all(400 <= s < 500 for codes in statuses.values() for s in codes), statuses
    assert statuses["huge body"] == {413} and statuses["unknown dataset"] == {400}
    assert statuses["10k characters"] == {422} and statuses["invalid JSON"] == {422}
    assert normal.status_code == 200 and normal.json()["status"] == "answered"
    assert not [line for line in server.log_lines() if line.get("level") == "error"]


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "RETAIL_HOME": str(home)}
