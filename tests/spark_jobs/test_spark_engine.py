"""The Spark engine gives the Dask engine's tables row for row, on local[2] and on a cluster.

The standalone test runs last: one SparkContext per process, so switching masters stops the
local one.
"""

from __future__ import annotations

from collections.abc import Iterator
import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from retail_insights.settings import get_settings
from spark_jobs.ingest import IngestSummary, ingest
from warehouse.delta import current_files, open_table

pytestmark = pytest.mark.spark

COUNTS = (
    "input_rows",
    "written_rows",
    "quarantined_rows",
    "duplicate_rows",
    "warning_rows",
    "quarantined_by_code",
)


def _tables() -> tuple[Path, Path]:
    settings = get_settings()
    return (
        settings.table_path("retail_sales", "sales"),
        settings.table_path("retail_sales", "quarantine"),
    )


@pytest.fixture(scope="module")
def dask_reference(
    generated: Path, tmp_path_factory: pytest.TempPathFactory, now: dt.datetime, table_rows
) -> Iterator[tuple[IngestSummary, dict]]:
    """The generated files ingested once by the Dask engine, in a warehouse of their own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RETAIL_HOME", str(tmp_path_factory.mktemp("dask-home")))
        patch.setenv("RETAIL_PIPELINE__CHUNK_ROWS", "700")
        get_settings.cache_clear()
        summary = ingest([generated], dataset="retail_sales", now=now, progress=False)
        silver, quarantine = _tables()
        rows = {"sales": table_rows(silver), "quarantine": table_rows(quarantine, order=())}
    get_settings.cache_clear()
    yield summary, rows


def assert_same_as_dask(
    summary: IngestSummary, reference: tuple[IngestSummary, dict], table_rows
) -> None:
    expected, rows = reference
    assert {k: getattr(summary, k) for k in COUNTS} == {k: getattr(expected, k) for k in COUNTS}
    silver, quarantine = _tables()
    assert table_rows(silver).equals(rows["sales"])
    assert table_rows(quarantine, order=()).equals(rows["quarantine"])


def test_spark_on_local_2_writes_the_same_tables_as_dask(
    generated: Path, dask_reference, now: dt.datetime, table_rows
) -> None:
    summary = ingest(
        [generated],
        dataset="retail_sales",
        engine="spark",
        spark_master="local[2]",
        now=now,
        progress=False,
    )
    assert summary.engine == "spark"
    assert_same_as_dask(summary, dask_reference, table_rows)


def test_spark_reads_the_committed_table_as_plain_parquet_like_duckdb_does(
    generated: Path, now: dt.datetime
) -> None:
    from spark_jobs.spark_engine import session

    ingest([generated], dataset="retail_sales", now=now, progress=False)
    silver = _tables()[0]
    spark = session("local[2]")
    frame = spark.read.option("basePath", str(silver)).parquet(*current_files(silver))
    by_spark = frame.groupBy().agg({"quantity": "sum", "order_id": "count"}).collect()[0]
    con = duckdb.connect()
    con.register("sales", open_table(silver).to_pyarrow_dataset())
    by_duckdb = con.execute("SELECT sum(quantity), count(order_id) FROM sales").fetchone()
    assert (by_spark["sum(quantity)"], by_spark["count(order_id)"]) == by_duckdb
    assert sorted(frame.columns) == sorted(pa.schema(open_table(silver).schema().to_arrow()).names)


def test_spark_on_a_standalone_cluster_writes_the_same_tables_as_dask(
    generated: Path, dask_reference, spark_cluster: str, now: dt.datetime, table_rows
) -> None:
    assert spark_cluster.startswith("spark://127.0.0.1:")
    summary = ingest(
        [generated],
        dataset="retail_sales",
        engine="spark",
        spark_master=spark_cluster,
        now=now,
        progress=False,
    )
    assert_same_as_dask(summary, dask_reference, table_rows)
