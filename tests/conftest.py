"""Shared fixtures: an isolated RETAIL_HOME for every test, and real services on loopback.

Each service starts once per session, on a free port, only when a test asks for it; its log is
under the session's pytest tmp dir. Tests that use a service fixture get its marker
(``redis``, ``kafka``, ``bigquery``) automatically, so ``-m "not kafka"`` deselects them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from retail_insights.services import (
    BigQueryEmulator,
    KafkaBroker,
    RedisServer,
    start_on_free_port,
)
from retail_insights.settings import get_settings
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
