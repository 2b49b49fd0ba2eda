"""Fixtures for the batch pipeline: small chunks, a second RETAIL_HOME, generated raw files, Spark.

The Dask cluster and the Spark sessions are shared by the whole test session (process start-up,
the JVM and the validation suite's first build are slow); each is stopped at session end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from retail_insights.settings import get_settings

NOW = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)  # ingestion time of every test batch
EXCLUDED = ("batch_id", "source_file", "ingested_at")  # lineage that differs between runs by design


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch, retail_home: Path) -> None:
    """Chunks of 700 rows, so a few thousand rows already make several tasks."""
    monkeypatch.setenv("RETAIL_PIPELINE__CHUNK_ROWS", "700")
    get_settings.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def _stop_engines() -> Iterator[None]:
    yield
    from spark_jobs import dask_engine, spark_engine

    spark_engine.stop_sessions()
    dask_engine.shutdown()


@pytest.fixture
def use_home(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], Path]:
    """Switch RETAIL_HOME (e.g. to ingest the same files into two independent warehouses)."""

    def switch(home: Path) -> Path:
        monkeypatch.setenv("RETAIL_HOME", str(home))
        get_settings.cache_clear()
        return home

    return switch


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 dirty raw orders over two months as CSV (corrections and re-sends included)."""
    from retail_insights.generator import generate

    out = tmp_path_factory.mktemp("generated")
    generate(
        rows=3000,
        seed=11,
        out=out,
        fmt="csv",
        dirty_rate=0.05,
        start=dt.date(2025, 1, 1),
        end=dt.date(2025, 2, 28),
        today=NOW.date(),
        progress=False,
    )
    return out


def _table_rows(
    table_path: Path, *, version: int | None = None, order: tuple[str, ...] = ("order_id",)
) -> pa.Table:
    from warehouse.delta import dataset

    table = dataset(table_path, version=version).to_table()
    table = table.drop_columns([c for c in EXCLUDED if c in table.column_names])
    return table.sort_by([(c, "ascending") for c in (*order, "source_line")])


@pytest.fixture(scope="session")
def table_rows() -> Callable[..., pa.Table]:
    """``table_rows(path, version=None, order=("order_id",))``: a Delta table's rows without
    run-dependent lineage, sorted by ``order`` then line (for row-by-row equality)."""
    return _table_rows


@pytest.fixture(scope="session")
def now() -> dt.datetime:
    """The ingestion time of every test batch (the generated data ends the day before)."""
    return NOW


@pytest.fixture(scope="session")
def spark_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``spark://127.0.0.1:PORT`` of a standalone master + worker, stopped at session end."""
    from spark_jobs.cluster import standalone_cluster

    with standalone_cluster(
        work_dir=tmp_path_factory.mktemp("spark-standalone"), cores=2, memory="2g"
    ) as cluster:
        yield cluster.master_url
