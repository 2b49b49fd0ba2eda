"""BigQuery backend: the same tables and views, published from the local Delta tables.

``publish`` creates one BigQuery dataset per project dataset (``<prefix>_<dataset>``), tables
partitioned by order date and clustered like the silver table, loads them with Parquet load jobs
from the current Delta snapshot, and creates BigQuery materialized views from the same view SQL,
transpiled with sqlglot. ``query`` runs the guard on the DuckDB-dialect SQL, transpiles it,
dry-runs it for a byte estimate, refuses it above the cap, and runs it with
``maximum_bytes_billed``. google-cloud-bigquery is imported only when a client is needed.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
from decimal import Decimal
import io
import time
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp

from retail_insights.errors import ConfigError, UsageError
from retail_insights.settings import get_settings
from warehouse import catalog, guard
from warehouse.backends.base import (
    Backend,
    Capabilities,
    Params,
    PublishResult,
    QueryFailed,
    QueryResult,
    QueryTimeout,
    QueryTooExpensive,
)
from warehouse.spec import load_dataset
from warehouse.view_definitions import view_query

if TYPE_CHECKING:
    from google.cloud import bigquery

_LOAD_ROWS = 1_000_000  # rows per Parquet load job


def _bq_type(kind: pa.DataType) -> str:
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return "STRING"
    if pa.types.is_integer(kind):
        return "INT64"
    if pa.types.is_floating(kind):
        return "FLOAT64"
    if pa.types.is_boolean(kind):
        return "BOOL"
    if pa.types.is_date(kind):
        return "DATE"
    if pa.types.is_timestamp(kind):
        return "TIMESTAMP" if kind.tz else "DATETIME"
    if pa.types.is_decimal(kind):
        # NUMERIC holds 29 integer digits and 9 decimals; wider decimals need BIGNUMERIC.
        return "NUMERIC" if kind.scale <= 9 and kind.precision - kind.scale <= 29 else "BIGNUMERIC"
    raise ConfigError(f"no BigQuery type for Arrow type {kind}.", hint="Fix: extend _bq_type.")


def bq_schema(schema: pa.Schema) -> list[bigquery.SchemaField]:
    """BigQuery columns for an Arrow schema (lists of scalars become REPEATED columns)."""
    from google.cloud import bigquery

    fields = []
    for field in schema:
        if pa.types.is_list(field.type) or pa.types.is_large_list(field.type):
            fields.append(
                bigquery.SchemaField(field.name, _bq_type(field.type.value_type), mode="REPEATED")
            )
        else:
            fields.append(bigquery.SchemaField(field.name, _bq_type(field.type)))
    return fields


def _parameter(name: str | None, value: Any) -> Any:
    from google.cloud import bigquery

    if isinstance(value, (list, tuple)):
        kinds = {_scalar_type(v) for v in value} or {"STRING"}
        return bigquery.ArrayQueryParameter(name, kinds.pop(), list(value))
    return bigquery.ScalarQueryParameter(name, _scalar_type(value), value)


def _scalar_type(value: Any) -> str:
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, int):
        return "INT64"
    if isinstance(value, float):
        return "FLOAT64"
    if isinstance(value, Decimal):
        return "NUMERIC"
    if isinstance(value, dt.datetime):
        return "TIMESTAMP" if value.tzinfo else "DATETIME"
    if isinstance(value, dt.date):
        return "DATE"
    if isinstance(value, str):
        return "STRING"
    raise UsageError(
        f"cannot bind a {type(value).__name__} as a BigQuery parameter: {value!r}.",
        hint="Allowed: bool, int, float, Decimal, str, date, datetime, or a list of one of them.",
    )


class BigQueryBackend(Backend):
    name = "bigquery"
    capabilities = Capabilities(dry_run=True, materialized_views=True, bytes_cap=True, local=False)

    def __init__(
        self, *, dataset: str | None = None, client: bigquery.Client | None = None
    ) -> None:
        super().__init__(dataset=dataset)
        self._client = client
        self._columns: dict[str, dict[str, dict[str, str]]] | None = None

    # -- connection --------------------------------------------------------------------------------

    @property
    def client(self) -> bigquery.Client:
        if self._client is None:
            from google.auth.credentials import AnonymousCredentials
            from google.cloud import bigquery

            conf = get_settings().bigquery
            if conf.project is None:
                raise ConfigError(
                    "no BigQuery project configured.",
                    hint="Fix: set RETAIL_BIGQUERY__PROJECT (and RETAIL_BIGQUERY__API_ENDPOINT "
                    "for an emulator).",
                )
            options: dict[str, Any] = {"project": conf.project, "location": conf.location}
            if conf.api_endpoint:  # an emulator: no Google credentials involved
                options |= {
                    "client_options": {"api_endpoint": conf.api_endpoint},
                    "credentials": AnonymousCredentials(),
                }
            self._client = bigquery.Client(**options)
        return self._client

    def dataset_id(self, dataset: str | None = None) -> str:
        """BigQuery dataset holding one project dataset: ``<prefix>_<dataset>``."""
        return f"{get_settings().bigquery.dataset_prefix}_{dataset or self.dataset}"

    def _table(self, dataset: str, table: str) -> exp.Table:
        return exp.table_(table, db=self.dataset_id(dataset), catalog=self.client.project)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    # -- publish -----------------------------------------------------------------------------------

    def publish(self, dataset: str | None = None) -> PublishResult:
        from google.cloud import bigquery

        chosen = dataset or self.dataset
        ds = load_dataset(chosen)
        target = bigquery.Dataset(f"{self.client.project}.{self.dataset_id(chosen)}")
        target.location = get_settings().bigquery.location
        self.client.create_dataset(target, exists_ok=True)
        published = []
        for info in catalog.dataset_tables(chosen):
            if info.kind == "view":
                continue
            table = catalog.open_table(info.path)
            if table is not None:
                self._load(info, table)
                published.append(info.name)
        if ds.spec.silver_table in published:
            for view, spec in ds.semantic.views_by_grain():
                self._create_view(chosen, view, spec.table)
                published.append(spec.table)
        self._columns = None
        return PublishResult(
            self.name, chosen, tuple(published), f"{self.client.project}.{self.dataset_id(chosen)}"
        )

    def _load(self, info: catalog.TableInfo, table: Any) -> None:
        """Replace the BigQuery table with the Delta snapshot, one Parquet load job per chunk."""
        from google.cloud import bigquery

        ds = load_dataset(info.dataset)
        source = catalog.arrow_dataset(table)
        schema = bq_schema(source.schema)
        ref = f"{self.client.project}.{self.dataset_id(info.dataset)}.{info.name}"
        if info.kind == "silver":
            partitioning = bigquery.TimePartitioning(
                type_=bigquery.TimePartitioningType.DAY,
                field=ds.semantic.time_dimension.date_column,
            )
            clustering = list(ds.spec.clustering)
        else:  # quarantine rows carry no valid order date: partition by arrival
            partitioning = bigquery.TimePartitioning(
                type_=bigquery.TimePartitioningType.DAY, field="ingested_at"
            )
            clustering = None
        target = bigquery.Table(ref, schema=schema)
        target.time_partitioning, target.clustering_fields = partitioning, clustering
        target.description = f"Delta table {info.path} at version {table.version()}"
        self.client.delete_table(ref, not_found_ok=True)  # partitioning cannot change in place
        self.client.create_table(target)
        options = bigquery.ParquetOptions()
        options.enable_list_inference = True
        disposition = bigquery.WriteDisposition.WRITE_TRUNCATE
        for chunk in self._chunks(source):
            config = bigquery.LoadJobConfig(
                source_format=bigquery.SourceFormat.PARQUET,
                schema=schema,
                write_disposition=disposition,
                time_partitioning=partitioning,
                clustering_fields=clustering,
                parquet_options=options,
            )
            self.client.load_table_from_file(chunk, ref, job_config=config).result()
            disposition = bigquery.WriteDisposition.WRITE_APPEND

    @staticmethod
    def _chunks(source: Any) -> Any:
        buffer, writer, rows = io.BytesIO(), None, 0
        for batch in source.to_batches():
            if writer is None:
                writer = pq.ParquetWriter(buffer, source.schema)
            writer.write_batch(batch)
            rows += batch.num_rows
            if rows >= _LOAD_ROWS:
                writer.close()
                buffer.seek(0)
                yield buffer
                buffer, writer, rows = io.BytesIO(), None, 0
        if writer is not None:
            writer.close()
            buffer.seek(0)
            yield buffer

    def _create_view(self, dataset: str, view: str, table: str) -> None:
        ds = load_dataset(dataset)
        query = view_query(dataset, view, silver=self._table(dataset, ds.spec.silver_table))
        columns = {e.alias_or_name for e in query.expressions}
        properties: list[exp.Expression] = [exp.MaterializedProperty()]
        clustering = [exp.column(c) for c in ds.spec.clustering if c in columns]
        if clustering:
            properties.append(exp.ClusterProperty(expressions=clustering))
        ddl = exp.Create(
            this=self._table(dataset, table),
            kind="VIEW",
            replace=True,
            expression=query,
            properties=exp.Properties(expressions=properties),
        )
        self.client.query(ddl.sql(dialect="bigquery")).result()

    # -- query -------------------------------------------------------------------------------------

    def _table_catalog(self) -> guard.TableCatalog:
        if self._columns is None:
            # The specs fix every table's columns, so the guard needs no round trip to BigQuery.
            with catalog.open_catalog(self.dataset, empty=True) as cat:
                self._columns = cat.columns()
        return guard.TableCatalog(self._columns, self.dataset)

    def _prepare(self, sql: str, params: Params) -> tuple[str, list[Any], int]:
        """Guard the DuckDB SQL, point its tables at the BigQuery datasets, transpile, bind."""
        safe = guard.check(sql, self._table_catalog(), max_rows=get_settings().sql.max_rows)
        tree = sqlglot.parse_one(safe.sql, read=guard.DIALECT)
        ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        for table in tree.find_all(exp.Table):
            if not isinstance(table.this, exp.Identifier) or (
                not table.db and table.name.lower() in ctes
            ):
                continue
            table.replace(
                self._table(table.db or self.dataset, table.name).as_(table.alias_or_name)
            )
        if params is None:
            bound = []
        elif isinstance(params, dict):
            bound = [_parameter(name, value) for name, value in params.items()]
        else:
            bound = [_parameter(None, value) for value in params]
        return tree.sql(dialect="bigquery"), bound, safe.limit

    def dry_run(self, sql: str, params: Params = None) -> int:
        from google.cloud import bigquery

        text, bound, _ = self._prepare(sql, params)
        config = bigquery.QueryJobConfig(
            dry_run=True, use_query_cache=False, query_parameters=bound
        )
        return int(self.client.query(text, job_config=config).total_bytes_processed or 0)

    def query(self, sql: str, params: Params = None) -> QueryResult:
        from google.api_core import exceptions as gexc
        from google.cloud import bigquery

        settings = get_settings()
        text, bound, limit = self._prepare(sql, params)
        cap = min(settings.sql.max_bytes_scanned, settings.bigquery.maximum_bytes_billed)
        try:
            estimate = int(
                self.client.query(
                    text,
                    job_config=bigquery.QueryJobConfig(
                        dry_run=True, use_query_cache=False, query_parameters=bound
                    ),
                ).total_bytes_processed
                or 0
            )
        except gexc.BadRequest as exc:
            raise QueryFailed(
                f"BigQuery rejected the query: {exc.message}",
                hint="Fix: correct the SQL and retry.",
            ) from None
        if estimate > cap:
            raise QueryTooExpensive(
                f"query would scan {estimate:,} bytes, above the cap of {cap:,}.",
                hint="Fix: filter on the order date (partitions) or use a coarser view; "
                "the caps are "
                "RETAIL_SQL__MAX_BYTES_SCANNED and RETAIL_BIGQUERY__MAXIMUM_BYTES_BILLED.",
            )
        config = bigquery.QueryJobConfig(
            query_parameters=bound,
            maximum_bytes_billed=settings.bigquery.maximum_bytes_billed,
            job_timeout_ms=int(settings.sql.timeout_s * 1000),
        )
        started = time.perf_counter()
        job = self.client.query(text, job_config=config)
        try:
            result = job.result(timeout=settings.sql.timeout_s, max_results=limit)
            rows = [tuple(row.values()) for row in result]
        except concurrent.futures.TimeoutError:
            job.cancel()
            raise QueryTimeout(
                f"query ran longer than {settings.sql.timeout_s:g}s and was cancelled.",
                hint="Fix: narrow the date range or use a coarser view.",
            ) from None
        except gexc.BadRequest as exc:
            raise QueryFailed(
                f"BigQuery rejected the query: {exc.message}",
                hint="Fix: correct the SQL and retry.",
            ) from None
        plan = job.query_plan or []
        return QueryResult(
            columns=tuple(field.name for field in result.schema),
            rows=rows,
            bytes_read=job.total_bytes_processed,
            rows_read=sum(int(s.records_read or 0) for s in plan if not s.input_stages)
            if plan
            else None,
            elapsed_ms=(time.perf_counter() - started) * 1000,
            sql=text,
        )
