"""A small real warehouse for the assistant's tests, built in seconds.

Raw rows go through the real transform (``spark_jobs.transform.transform_partition``: parsing,
validation, fixes, derived columns), one partition per dataset without the Dask/Spark engines;
versions of one order are deduplicated as SPEC 1.2 says (latest ``updated_at``, then the later row),
the silver tables are written with ``deltalake.write_deltalake`` partitioned like the spec says, and
the views come from ``warehouse.views.refresh``. retail_sales comes from the seeded generator;
superstore from the real CSV.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from deltalake import write_deltalake
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from retail_insights.settings import get_settings
from spark_jobs.headers import normalize_headers
from spark_jobs.transform import transform_partition
from warehouse.spec import load_dataset

SUPERSTORE_FILE = "superstore_2014_2017.csv"  # in the superstore_dir setting
RETAIL_SEED, RETAIL_ROWS = 7, 12_000
RETAIL_START, RETAIL_END, RETAIL_TODAY = date(2023, 1, 1), date(2024, 6, 30), date(2024, 7, 1)
INGESTED_AT = datetime(2024, 7, 1, 12, tzinfo=UTC)


def _read_raw(path: Path, dataset: str) -> pd.DataFrame:
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    raw = normalize_headers(raw, load_dataset(dataset).spec)
    raw["source_line"] = range(2, len(raw) + 2)
    return raw


def _dedupe(table: pa.Table, key: str, order: str | None) -> pa.Table:
    if order is None:
        return table
    position = pa.array(range(table.num_rows), pa.int64())
    ranked = table.append_column("__pos", position)
    ranked = ranked.sort_by([(key, "ascending"), (order, "descending"), ("__pos", "descending")])
    keys = ranked.column(key).to_pylist()
    keep = [i for i, k in enumerate(keys) if i == 0 or keys[i - 1] != k]
    return ranked.take(pa.array(keep)).drop_columns(["__pos"])


def _write(dataset: str, raw: pd.DataFrame, home: Path, source_file: str, *, mode: str = "overwrite") -> int:
    from retail_insights.settings import get_settings

    spec = load_dataset(dataset).spec
    result = transform_partition(raw, dataset=dataset, batch_id="test-batch", source_file=source_file,
                                 ingested_at=INGESTED_AT)
    clean = _dedupe(result.clean, spec.key[0], spec.dedupe_order)
    path = get_settings().table_path(dataset, spec.silver_table)
    write_deltalake(str(path), clean, partition_by=list(spec.partitioning), mode=mode)
    return clean.num_rows


def append_superstore(home: Path, rows: pd.DataFrame) -> int:
    """Append raw Superstore rows (CSV columns, as ``superstore_rows`` reads them) and refresh the views."""
    from warehouse.views import refresh

    rows = rows.assign(source_line=range(2, len(rows) + 2))
    added = _write("superstore", rows, home, "late_orders.csv", mode="append")
    refresh("superstore", full=True)
    return added


def superstore_rows(n: int) -> pd.DataFrame:
    """The first ``n`` rows of the real Superstore CSV, headers normalized (no source_line yet)."""
    return _read_raw(get_settings().superstore_dir / SUPERSTORE_FILE, "superstore").head(n).drop(columns="source_line")


def build(home: Path) -> dict[str, int]:
    """Write both datasets' silver tables and views under ``home`` (RETAIL_HOME must point there)."""
    from retail_insights.generator import generate
    from warehouse.views import refresh

    raw_dir = home / "raw"
    generate(rows=RETAIL_ROWS, seed=RETAIL_SEED, out=raw_dir, start=RETAIL_START, end=RETAIL_END,
             dirty_rate=0.0, progress=False, today=RETAIL_TODAY)
    frames = [_read_raw(p, "retail_sales") for p in sorted(raw_dir.glob("*.csv"))]
    counts = {"retail_sales": _write("retail_sales", pd.concat(frames, ignore_index=True), home, "orders.csv"),
              "superstore": _write("superstore", _read_raw(get_settings().superstore_dir / SUPERSTORE_FILE, "superstore"),
                                   home, SUPERSTORE_FILE)}
    for dataset in counts:
        refresh(dataset, full=True)
    return counts


def local_assistant(runner, **stages: object):
    """An Assistant over the current RETAIL_HOME that queries through ``runner`` (a CatalogRunner).

    A CatalogRunner keeps one catalog open for the built warehouse, so a golden set runs in seconds.
    One runner is shared by the whole session and closed at its end, so no connection is left to the
    garbage collector.
    """
    from assistant.factory import data_version_reader
    from assistant.pipeline import Assistant
    from assistant.values import ValueCatalog
    from retail_insights.settings import get_settings

    version = data_version_reader(get_settings())
    values = ValueCatalog(lambda dataset: runner)
    return Assistant(runner_for=lambda dataset: runner, data_version=version,
                     vocabulary_for=lambda dataset, v: values.vocabulary(dataset, data_version=v), **stages)
