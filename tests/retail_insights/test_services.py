"""The session services answer their real clients: redis-py, kafka-python and google-cloud-bigquery.

The BigQuery tests also pin what bqemulator 1.4.0 does NOT do (no byte estimates, no
maximum_bytes_billed, no materialized views through the tables API), so backend code that
relies on those features knows to test it elsewhere.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import redis
import sqlglot
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaTimeoutError
from kafka.structs import TopicPartition
from sqlglot import exp

from retail_insights.errors import ConfigError
from retail_insights.services import (
    BigQueryEmulator,
    KafkaBroker,
    ManagedProcess,
    RedisServer,
    ServiceError,
    bqemulator_binary,
)


def _unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


# --- The process helper ------------------------------------------------------------------------


def test_a_process_that_exits_before_it_is_ready_fails_with_its_exit_code_and_log(
    tmp_path: Path,
) -> None:
    process = ManagedProcess(
        name="doomed", log_path=tmp_path / "doomed.log", ready=lambda: False,
        argv=[sys.executable, "-c", "print('cannot bind'); raise SystemExit(3)"],
    )
    with pytest.raises(ServiceError, match=r"(?s)doomed exited with code 3 .*cannot bind"):
        process.start()
    assert not process.running


def test_a_process_that_never_answers_is_killed_when_the_start_timeout_passes(
    tmp_path: Path,
) -> None:
    process = ManagedProcess(
        name="mute", log_path=tmp_path / "mute.log", ready=lambda: False, start_timeout_s=0.5,
        argv=[sys.executable, "-c", "import time; time.sleep(60)"],
    )
    with pytest.raises(ServiceError, match="mute was not ready within 0.5s"):
        process.start()
    assert not process.running


def test_a_missing_emulator_venv_names_the_make_target(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="make bq-emulator-venv"):
        bqemulator_binary(venv=tmp_path / "no-venv")


# --- Redis -------------------------------------------------------------------------------------


def test_redis_answers_set_and_get_on_loopback_without_persistence(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    key = _unique("services-test")
    assert client.set(key, "value", ex=60)
    assert client.get(key) == "value"
    assert client.config_get("bind") == {"bind": "127.0.0.1"}
    assert client.config_get("save") == {"save": ""}
    client.close()


def test_redis_refuses_connections_while_stopped_and_starts_empty_on_the_same_url(
    redis_server: RedisServer,
) -> None:
    client = redis.Redis.from_url(redis_server.url, socket_connect_timeout=1, socket_timeout=1)
    key = _unique("survives-restart")
    client.set(key, b"1")
    redis_server.stop()
    with pytest.raises(redis.ConnectionError):
        client.ping()
    redis_server.start()
    assert client.ping()
    assert client.get(key) is None
    client.close()


# --- Kafka-protocol broker ---------------------------------------------------------------------


def _producer(bootstrap: str) -> KafkaProducer:
    return KafkaProducer(
        bootstrap_servers=bootstrap,
        bootstrap_timeout_ms=5000,
        key_serializer=str.encode,
        value_serializer=lambda value: json.dumps(value).encode(),
    )


def _consumer(bootstrap: str, topic: str, group: str) -> KafkaConsumer:
    # tansu only lets a member join a group with a short max_poll_interval_ms.
    return KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_interval_ms=10_000,
        session_timeout_ms=6_000,
        heartbeat_interval_ms=1_000,
        bootstrap_timeout_ms=5_000,
    )


def _poll(consumer: KafkaConsumer, *, want: int, max_polls: int = 30) -> list[Any]:
    """Poll until ``want`` records arrived or ``max_polls`` one-second polls came back short."""
    records: list[Any] = []
    for _ in range(max_polls):
        batch = consumer.poll(timeout_ms=1000, max_records=want - len(records))
        records += [record for part in batch.values() for record in part]
        if len(records) >= want:
            break
    return records


def test_kafka_consumer_group_commits_offsets_and_a_new_member_resumes_after_them(
    kafka_bootstrap: str,
) -> None:
    topic, group = _unique("orders"), _unique("ingest")
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap, bootstrap_timeout_ms=5000)
    admin.create_topics([NewTopic(topic, num_partitions=4, replication_factor=1)])
    assert len(admin.describe_topics([topic])[0]["partitions"]) == 4
    admin.close()

    producer = _producer(kafka_bootstrap)
    sent = {i: producer.send(topic, key=f"order-{i % 5}", value={"n": i}) for i in range(20)}
    producer.flush()
    partitions = {i: future.get(timeout=10).partition for i, future in sent.items()}
    producer.close()
    # One key always lands on one partition: per-order ordering holds.
    assert all(partitions[i] == partitions[i % 5] for i in range(20))

    first = _consumer(kafka_bootstrap, topic, group)
    first_batch = _poll(first, want=12)
    first.commit()
    first.close()

    second = _consumer(kafka_bootstrap, topic, group)
    second_batch = _poll(second, want=20 - len(first_batch))
    committed = sum(second.committed(TopicPartition(topic, p)) or 0 for p in range(4))
    second.commit()
    second.close()

    assert len(first_batch) == 12
    seen = [json.loads(record.value)["n"] for record in first_batch + second_batch]
    assert sorted(seen) == list(range(20))
    assert committed == 12


def test_kafka_broker_crash_restart_keeps_the_address_and_starts_with_empty_memory_storage(
    kafka_broker: KafkaBroker,
) -> None:
    topic = _unique("orders")
    producer = _producer(kafka_broker.bootstrap)
    producer.send(topic, key="order-1", value={"n": 1}).get(timeout=10)
    producer.close()

    kafka_broker.restart(crash=True)

    admin = KafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap, bootstrap_timeout_ms=5000)
    assert topic not in admin.list_topics()
    admin.close()
    # A new producer (new producer id) works at once and re-creates the topic on first send.
    producer = _producer(kafka_broker.bootstrap)
    producer.send(topic, key="order-2", value={"n": 2}).get(timeout=10)
    producer.close()
    consumer = _consumer(kafka_broker.bootstrap, topic, _unique("after-restart"))
    assert [json.loads(r.value)["n"] for r in _poll(consumer, want=1)] == [2]
    consumer.close()


def test_kafka_broker_refuses_clients_while_stopped_and_serves_again_after_start(
    kafka_broker: KafkaBroker,
) -> None:
    kafka_broker.stop()
    with pytest.raises(KafkaTimeoutError, match="Unable to bootstrap"):
        KafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap, bootstrap_timeout_ms=1000)
    kafka_broker.start()
    admin = KafkaAdminClient(bootstrap_servers=kafka_broker.bootstrap, bootstrap_timeout_ms=5000)
    assert isinstance(admin.list_topics(), list)
    admin.close()


# --- BigQuery emulator -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bq_client(bq_emulator: BigQueryEmulator) -> Iterator[Any]:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    client = bigquery.Client(
        project=bq_emulator.project,
        client_options={"api_endpoint": bq_emulator.endpoint},
        credentials=AnonymousCredentials(),
    )
    yield client
    client.close()


@pytest.fixture
def sales_table(bq_client: Any, tmp_path: Path) -> str:
    """A fresh dataset with ``sales`` partitioned by order_date, clustered by category, state,
    loaded from a local Parquet file by a load job; returns ``project.dataset.sales``."""
    from google.cloud import bigquery

    dataset = bq_client.create_dataset(_unique("retail_test"))
    table = bigquery.Table(
        f"{dataset.project}.{dataset.dataset_id}.sales",
        schema=[
            bigquery.SchemaField("order_date", "DATE", mode="REQUIRED"),
            bigquery.SchemaField("category", "STRING"),
            bigquery.SchemaField("state", "STRING"),
            bigquery.SchemaField("revenue", "FLOAT64"),
        ],
    )
    table.time_partitioning = bigquery.TimePartitioning(type_="DAY", field="order_date")
    table.clustering_fields = ["category", "state"]
    bq_client.create_table(table)

    parquet = tmp_path / "sales.parquet"
    pq.write_table(_sales_rows(), parquet)
    job_config = bigquery.LoadJobConfig(source_format=bigquery.SourceFormat.PARQUET)
    with parquet.open("rb") as source:
        bq_client.load_table_from_file(source, table, job_config=job_config).result()
    return str(table.reference)


def _sales_rows() -> pa.Table:
    return pa.table({
        "order_date": pa.array([dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 2, 1)]),
        "category": ["Books", "Toys", "Books"],
        "state": ["CA", "NY", "TX"],
        "revenue": [10.0, 20.5, 3.25],
    })


def _sql(template: str, **tables: str) -> str:
    """BigQuery SQL from a template whose placeholder table names become table paths (quoted where needed)."""
    expression = sqlglot.parse_one(template, dialect="bigquery")
    for table in list(expression.find_all(exp.Table)):
        if table.name in tables:
            *qualifiers, name = tables[table.name].split(".")
            db, catalog = (qualifiers[::-1] + [None, None])[:2]
            table.replace(exp.table_(name, db=db, catalog=catalog))
    return expression.sql(dialect="bigquery")


def _rows(bq_client: Any, sql: str, **job_options: Any) -> list[tuple[Any, ...]]:
    from google.cloud import bigquery

    config = bigquery.QueryJobConfig(use_query_cache=False, **job_options)
    return [tuple(row.values()) for row in bq_client.query(sql, job_config=config).result()]


def test_bigquery_table_keeps_day_partitioning_on_a_date_column_and_two_clustering_columns(
    bq_client: Any, sales_table: str,
) -> None:
    table = bq_client.get_table(sales_table)
    assert (table.time_partitioning.type_, table.time_partitioning.field) == ("DAY", "order_date")
    assert table.clustering_fields == ["category", "state"]
    assert table.num_rows == 3
    dataset = sales_table.split(".")[1]
    partitions = _rows(bq_client, _sql(
        "SELECT partition_id, total_rows FROM parts WHERE table_name = 'sales' ORDER BY 1",
        parts=f"{dataset}.INFORMATION_SCHEMA.PARTITIONS",
    ))
    assert partitions == [("20240101", 1), ("20240102", 1), ("20240201", 1)]


def test_bigquery_query_with_a_named_parameter_reads_the_loaded_parquet_rows(
    bq_client: Any, sales_table: str,
) -> None:
    from google.cloud import bigquery

    parameter = bigquery.ScalarQueryParameter("category", "STRING", "Books")
    sql = _sql("SELECT state, revenue FROM sales WHERE category = @category ORDER BY state",
               sales=sales_table)
    rows = _rows(bq_client, sql, query_parameters=[parameter])
    assert rows == [("CA", 10.0), ("TX", 3.25)]


def test_bigquery_load_job_reads_a_gs_uri_from_the_emulator_gcs_root(
    bq_client: Any, bq_emulator: BigQueryEmulator, sales_table: str,
) -> None:
    from google.cloud import bigquery

    (bq_emulator.gcs_root / "bucket").mkdir(exist_ok=True)
    blob = f"{_unique('sales')}.parquet"
    pq.write_table(_sales_rows(), bq_emulator.gcs_root / "bucket" / blob)
    config = bigquery.LoadJobConfig(source_format=bigquery.SourceFormat.PARQUET)
    bq_client.load_table_from_uri(f"gs://bucket/{blob}", sales_table, job_config=config).result()
    assert bq_client.get_table(sales_table).num_rows == 6


def test_bigquery_dry_run_validates_the_query_but_estimates_zero_bytes(
    bq_client: Any, sales_table: str,
) -> None:
    from google.api_core.exceptions import BadRequest
    from google.cloud import bigquery

    config = bigquery.QueryJobConfig(dry_run=True, use_query_cache=False)
    job = bq_client.query(_sql("SELECT * FROM sales", sales=sales_table), job_config=config)
    assert job.state == "DONE"
    assert [field.name for field in job.schema] == ["order_date", "category", "state", "revenue"]
    assert job.total_bytes_processed == 0  # no cost model in the emulator
    with pytest.raises(BadRequest, match="no_such_column"):
        bq_client.query(_sql("SELECT no_such_column FROM sales", sales=sales_table),
                        job_config=config)


def test_bigquery_maximum_bytes_billed_is_not_enforced(bq_client: Any, sales_table: str) -> None:
    # Real BigQuery fails this query with "bytesBilledLimitExceeded"; the emulator runs it.
    sql = _sql("SELECT COUNT(*) FROM sales", sales=sales_table)
    rows = _rows(bq_client, sql, maximum_bytes_billed=1)
    assert rows == [(3,)]


def test_bigquery_materialized_view_from_ddl_refreshes_after_its_base_table_changes(
    bq_client: Any, sales_table: str,
) -> None:
    names = {"sales": sales_table, "mv": sales_table.rsplit(".", 1)[0] + ".revenue_by_category"}
    _rows(bq_client, _sql("CREATE MATERIALIZED VIEW mv AS SELECT category, SUM(revenue) AS revenue "
                          "FROM sales GROUP BY category", **names))
    assert bq_client.get_table(names["mv"]).table_type == "MATERIALIZED_VIEW"
    read_view = _sql("SELECT category, revenue FROM mv ORDER BY category", **names)
    assert _rows(bq_client, read_view) == [("Books", 13.25), ("Toys", 20.5)]

    _rows(bq_client, _sql("INSERT INTO sales VALUES (DATE '2024-03-01', 'Toys', 'CA', 1.0)", **names))
    assert _rows(bq_client, read_view) == [("Books", 13.25), ("Toys", 21.5)]


def test_bigquery_tables_api_ignores_mview_query_and_creates_a_plain_table(
    bq_client: Any, sales_table: str,
) -> None:
    from google.cloud import bigquery

    view = bigquery.Table(sales_table.rsplit(".", 1)[0] + ".by_state")
    view.mview_query = _sql("SELECT state, COUNT(*) AS n FROM sales GROUP BY state", sales=sales_table)
    assert bq_client.create_table(view).table_type == "TABLE"
