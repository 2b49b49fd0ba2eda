"""Shared fixtures: an isolated RETAIL_HOME for every test, and real services on loopback.

Each service starts once per session, on a free port, only when a test asks for it; its log is
under the session's pytest tmp dir. Tests that use a service fixture get its marker
(``redis``, ``kafka``, ``bigquery``) automatically, so ``-m "not kafka"`` deselects them.

Airflow (at the end): one temp AIRFLOW_HOME with a migrated SQLite DB per session. Airflow reads
its configuration when it is first imported, so the environment is set here before any test
imports it; test modules import airflow only inside fixtures and tests. The daily batch DAG runs
once per session (``batch_run``) on generated data; the DAG tests and the warehouse maintenance
tests start from the RETAIL_HOME it loaded (``loaded_home``, ``copied_home``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
import shutil

import pytest

from retail_insights.services import (
    BigQueryEmulator,
    KafkaBroker,
    RedisServer,
    start_on_free_port,
)
from retail_insights.settings import get_settings
from tests.dags.airflow_support import DagRunResult, airflow_environment, run_dag
from tests.services import ensure_bq_emulator, ensure_redis_server

BQ_TEST_PROJECT = "retail-insights-test"

_MARKER_BY_FIXTURE = {
    "redis_url": "redis",
    "redis_server": "redis",
    "kafka_bootstrap": "kafka",
    "kafka_broker": "kafka",
    "bq_endpoint": "bigquery",
    "bq_emulator": "bigquery",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        for marker in sorted({m for f, m in _MARKER_BY_FIXTURE.items() if f in fixtures}):
            item.add_marker(marker)


@pytest.fixture(autouse=True)
def retail_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """RETAIL_HOME under this test's tmp_path (not created: writers create what they need)."""
    home = tmp_path / "retail-home"
    monkeypatch.setenv("RETAIL_HOME", str(home))
    # gc.freeze() after each app's warm-up would pin the whole test process's heap (one test turns it on)
    monkeypatch.setenv("RETAIL_API__FREEZE_HEAP", "false")
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


# --- a small real warehouse (tests/assistant/warehouse_builder.py) ------------------------------


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both datasets' silver tables and views, built once per session (read it, never write it)."""
    from tests.assistant.warehouse_builder import build

    home = tmp_path_factory.mktemp("assistant-warehouse")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RETAIL_HOME", str(home))
        get_settings.cache_clear()
        build(home)
    get_settings.cache_clear()
    return home


# --- Redis -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _redis_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    workdir = tmp_path_factory.mktemp("redis")
    binary = ensure_redis_server(log_dir=workdir)
    server = start_on_free_port(lambda port: RedisServer(port=port, workdir=workdir, binary=binary))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_url(_redis_process: RedisServer) -> str:
    """``redis://127.0.0.1:N/0`` of the session's Redis (no persistence; shared by all tests)."""
    return _redis_process.url


@pytest.fixture
def redis_server(_redis_process: RedisServer) -> Iterator[RedisServer]:
    """The session's Redis, with ``.stop()``/``.start()``/``.kill()``; running again afterwards."""
    yield _redis_process
    _redis_process.start()


# --- Kafka-protocol broker ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def _kafka_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    workdir = tmp_path_factory.mktemp("kafka")
    broker = start_on_free_port(lambda port: KafkaBroker(port=port, workdir=workdir))
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(_kafka_process: KafkaBroker) -> str:
    """``127.0.0.1:N`` of the session's broker; use a unique topic name per test."""
    return _kafka_process.bootstrap


@pytest.fixture
def kafka_broker(_kafka_process: KafkaBroker) -> Iterator[KafkaBroker]:
    """The session's broker, with ``.restart(crash=...)``/``.stop()``/``.start()``.

    Memory storage: a restart loses every topic, record and committed offset. The broker is
    running again after the test.
    """
    yield _kafka_process
    _kafka_process.start()


# --- BigQuery emulator -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def bq_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BigQueryEmulator]:
    """The session's emulator: ``.endpoint``, ``.project``, ``.gcs_root`` (gs:// URIs map there)."""
    workdir = tmp_path_factory.mktemp("bigquery")
    ensure_bq_emulator(log_dir=workdir)
    emulator = start_on_free_port(
        lambda port: BigQueryEmulator(port=port, workdir=workdir, project=BQ_TEST_PROJECT)
    )
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture(scope="session")
def bq_endpoint(bq_emulator: BigQueryEmulator) -> str:
    """``http://127.0.0.1:N``: pass as ``client_options={"api_endpoint": ...}``."""
    return bq_emulator.endpoint


# --- Airflow and the warehouse the daily batch DAG loaded ----------------------------------------


@pytest.fixture(scope="session")
def airflow_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The session's AIRFLOW_HOME, set in the environment before anything imports airflow."""
    home = tmp_path_factory.mktemp("airflow-home")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in airflow_environment(home).items():
            patch.setenv(name, value)
        yield home


@pytest.fixture(scope="session")
def airflow_home(airflow_env: Path) -> Path:
    """The session's AIRFLOW_HOME with its SQLite DB migrated (once per session)."""
    from airflow.utils import db

    db.initdb()
    return airflow_env


@dataclass(frozen=True)
class BatchRun:
    home: Path
    logical_date: datetime
    generated: tuple[Path, ...]  # files the generator wrote into the landing folder
    result: DagRunResult


@pytest.fixture(scope="session")
def batch_run(airflow_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BatchRun]:
    """``retail_daily_batch`` run once on 2,000 generated rows in a RETAIL_HOME of its own."""
    from retail_insights.generator import generate

    home = tmp_path_factory.mktemp("batch") / "retail-home"
    logical_date = datetime.now(UTC)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RETAIL_HOME", str(home))
        get_settings.cache_clear()
        files = generate(rows=2000, seed=1, out=home / "landing", progress=False).files
        try:
            result = run_dag("retail_daily_batch", logical_date=logical_date)
        finally:
            # Stop the ingest's Dask workers now, not at exit when pytest has closed its streams.
            from spark_jobs.dask_engine import shutdown

            shutdown()
    get_settings.cache_clear()
    yield BatchRun(home, logical_date, tuple(files), result)


@pytest.fixture
def loaded_home(batch_run: BatchRun, monkeypatch: pytest.MonkeyPatch) -> Path:
    """RETAIL_HOME pointed at the session's loaded warehouse (the tables the batch wrote)."""
    monkeypatch.setenv("RETAIL_HOME", str(batch_run.home))
    get_settings.cache_clear()
    return batch_run.home


@pytest.fixture
def copied_home(batch_run: BatchRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the loaded RETAIL_HOME, for tests that change tables."""
    home = tmp_path / "loaded-copy"
    shutil.copytree(batch_run.home, home, symlinks=True)
    monkeypatch.setenv("RETAIL_HOME", str(home))
    get_settings.cache_clear()
    return home
