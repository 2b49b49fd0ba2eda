"""A real warehouse for the HTTP tests, built once per session; apps and clients over it.

The warehouse (``tests/assistant/warehouse_builder.py``: retail_sales from the seeded generator,
superstore from the real CSV) is written once under the session's tmp dir. Each test's
RETAIL_HOME (the root conftest's ``retail_home``) gets a ``warehouse`` symlink to it, so state
(feedback, vector index, Prometheus files) stays per test while the data is shared and read-only.

``warm_assistant`` is one assistant (rules + exact cache, no semantic tier) for the whole session,
so only its first question pays for loading vocabularies; tests that need another configuration
build their own with ``build_assistant``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
import json
import os
from pathlib import Path
import shutil
import subprocess
import sys
import time
from typing import Any

import httpx

from fastapi.testclient import TestClient
import pytest

from assistant.factory import build_assistant
from assistant.http.app import create_app
from assistant.pipeline import Assistant
from retail_insights.services import free_port, stop_process
from retail_insights.settings import Settings, get_settings
from tests.assistant.warehouse_builder import SUPERSTORE_FILE

SUPERSTORE_2016_SALES = 609_205.598   # SUM(Sales) of 2016 order lines in the real CSV
ROOT = Path(__file__).resolve().parents[3]
# Two order lines that break critical rules of the superstore suite: a month 13, a ship before the order.
BAD_LINES = (
    '90001,"CA-2016-999001",2016-13-45,2016-11-11,"Second Class","CG-12520","Claire Gute","Consumer",'
    '"United States","Henderson","Kentucky",42420,"South","FUR-BO-10001798","Furniture","Bookcases",'
    '"Bush Somerset Collection Bookcase",261.96,2,0,41.9136',
    '90002,"CA-2016-999002",2016-11-08,2016-11-01,"Second Class","CG-12520","Claire Gute","Consumer",'
    '"United States","Henderson","Kentucky",42420,"South","FUR-BO-10001798","Furniture","Bookcases",'
    '"Bush Somerset Collection Bookcase",261.96,2,0,41.9136',
)


@pytest.fixture(scope="session")
def http_warehouse(built_warehouse: Path) -> Path:
    """A folder holding ``warehouse/`` with both datasets' silver tables and views (the session's one)."""
    return built_warehouse


@dataclass(frozen=True)
class Ingested:
    home: Path
    summary: dict   # what `retail-insights ingest --json` printed


@pytest.fixture(scope="session")
def ingested_home(http_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Ingested:
    """A copy of the session warehouse plus one real batch, so the ingest ledger, DQ results, Data
    Docs and quarantine each hold something: `retail-insights ingest` of a five-line CSV (three lines
    of the real file, which the warehouse already holds with the same values, and ``BAD_LINES``).
    """
    home = tmp_path_factory.mktemp("ingested-home")
    shutil.copytree(http_warehouse / "warehouse", home / "warehouse")
    batch = home / "superstore_batch.csv"
    with open(get_settings().superstore_dir / SUPERSTORE_FILE, encoding="utf-8-sig") as real:
        head = [next(real).rstrip("\r\n") for _ in range(4)]
    batch.write_text("\n".join([*head, *BAD_LINES]) + "\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "retail_insights.cli", "ingest", "--dataset", "superstore", str(batch), "--json",
         "--workers", "1"], cwd=ROOT, env={**os.environ, "RETAIL_HOME": str(home)}, capture_output=True, text=True,
        timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return Ingested(home, json.loads(result.stdout.strip().splitlines()[-1]))


@pytest.fixture
def warehouse_home(retail_home: Path, http_warehouse: Path) -> Path:
    """This test's RETAIL_HOME, whose ``warehouse`` is the session's shared warehouse."""
    retail_home.mkdir(parents=True, exist_ok=True)
    os.symlink(http_warehouse / "warehouse", retail_home / "warehouse", target_is_directory=True)
    return retail_home


@pytest.fixture(scope="session")
def warm_assistant(http_warehouse: Path) -> Assistant:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RETAIL_HOME", str(http_warehouse))
        get_settings.cache_clear()
        assistant = build_assistant(Settings(home=http_warehouse), semantic=False)
        assistant.answer("total sales in 2016", dataset="superstore")   # loads the vocabulary once
    get_settings.cache_clear()
    return assistant


MakeClient = Callable[..., TestClient]


@pytest.fixture
def make_client(warehouse_home: Path, warm_assistant: Assistant) -> Iterator[MakeClient]:
    """``make_client(assistant=None, **settings) -> TestClient`` over a fresh app (started).

    Settings keywords are ``Settings`` fields (``api={...}``, ``redis={...}``); the home is this
    test's. Without ``assistant``, the session's warm one answers.
    """
    clients: list[TestClient] = []

    def make(assistant: Assistant | None = None, *, on_feedback: Any = None, **fields: Any) -> TestClient:
        settings = Settings(home=warehouse_home, **fields)
        client = TestClient(create_app(settings, assistant or warm_assistant, on_feedback=on_feedback))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    """An app with default settings (auth off, no Redis) over the warm assistant."""
    return make_client()


# --- the real server (``retail-insights serve``) -------------------------------------------------

STARTUP_S = 300.0   # warm-up answers one question per dataset and loads the embedding model; slow on a busy box


class Served:
    """``retail-insights serve`` on a free loopback port over ``home``, with extra environment ``env``."""

    def __init__(self, home: Path, *, workers: int, env: dict[str, str] | None = None) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = home / "server.log"
        self._log_handle = open(self.log, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "retail_insights.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(workers)],
            cwd=ROOT, env={**os.environ, "RETAIL_HOME": str(home), **(env or {})}, stdout=self._log_handle,
            stderr=subprocess.STDOUT)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/ready", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"server not ready after {STARTUP_S}s: {self.log.read_text()[-3000:]}")

    def wait_log(self, message: str, *, count: int) -> list[dict]:
        deadline = time.monotonic() + STARTUP_S
        while time.monotonic() < deadline:
            found = [line for line in self.log_lines() if line.get("message") == message]
            if len(found) >= count:
                return found
            time.sleep(0.2)
        raise AssertionError(f"{count} x {message!r} not logged after {STARTUP_S}s: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        stop_process(self.process, timeout_s=30)
        self._log_handle.close()

    def log_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.startswith("{")]


@pytest.fixture
def serve(warehouse_home: Path) -> Iterator:
    started: list[Served] = []

    def start(*, workers: int = 1, home: Path | None = None, env: dict[str, str] | None = None) -> Served:
        server = Served(home or warehouse_home, workers=workers, env=env)
        started.append(server)
        server.wait_ready()
        return server

    yield start
    for server in started:
        if server.process.poll() is None:
            server.stop()
