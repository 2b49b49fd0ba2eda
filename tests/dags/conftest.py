"""Airflow fixtures: one temp AIRFLOW_HOME with a migrated SQLite DB per session, and DAG runs.

Airflow reads its configuration when it is first imported, so the environment is set here before
any test imports it; test modules import airflow only inside fixtures and tests. The daily batch
runs once per session (``batch_run``) on generated data; the other DAG tests start from the
RETAIL_HOME it loaded (``loaded_home``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
import shutil

import pytest

from retail_insights.settings import get_settings
from tests.dags.airflow_support import DagRunResult, airflow_environment, run_dag


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
