"""One chunk, start to finish on a worker: read -> transform -> staged Parquet files.

Both engines run exactly this function (Dask as a task, Spark inside ``mapInPandas``), so they
stage byte-identical files and differ only in scheduling. A worker writes only into the batch's
staging folder: clean rows as one file per (year, month), quarantined rows (validation failures
and malformed lines) likewise, named ``f<file>-c<chunk>-<yyyymm>.parquet`` so the arrival order
of the batch can be read back from the names. What returns to the driver is a few numbers.

Malformed lines (see ``spark_jobs.readers``) are quarantined here, not by the transform: their
source fields are null (nothing trustworthy could be read), ``reason_codes`` is
``["MALFORMED_ROW"]`` and ``reasons`` holds the reader's diagnosis and the raw line, so nothing
that arrived is lost.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timezone
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from retail_insights.errors import DataError
from spark_jobs.raw_chunk import Malformed
from spark_jobs.readers import Chunk, read_chunk

MALFORMED_ROW = "MALFORMED_ROW"


@dataclass(frozen=True)
class StageJob:
    """What every chunk of a batch shares."""

    dataset: str
    batch_id: str
    ingested_at: datetime
    staging: str  # the batch's staging folder
    table: str | None = None  # a dimension table of the dataset; None = its fact
    keys: dict[str, list[Any]] | None = None  # key values of the dimension tables the fact refers to


@dataclass(frozen=True)
class ChunkStats:
    file_index: int
    chunk_index: int
    input_rows: int  # every row read, malformed lines included
    clean_rows: int
    quarantined_rows: int
    warning_rows: int
    malformed_rows: int
    quarantined_by_code: dict[str, int]
    validation: dict[str, Any]
    clean_files: tuple[str, ...]
    quarantine_files: tuple[str, ...]
    transform_input_rows: int = 0  # rows handed to the transform (input_rows - malformed_rows)

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=str)

    @classmethod
    def from_json(cls, text: str) -> ChunkStats:
        data = json.loads(text)
        data["clean_files"] = tuple(data["clean_files"])
        data["quarantine_files"] = tuple(data["quarantine_files"])
        return cls(**data)


def stage_chunk(chunk: Chunk, job: StageJob) -> ChunkStats:
    """Read, validate and transform one chunk and stage its rows; the pure per-partition step."""
    from spark_jobs.transform import transform_partition
    from warehouse.schema import quarantine_schema, silver_schema
    from warehouse.spec import load_dataset

    spec = load_dataset(job.dataset).spec.table_spec(job.table)
    raw = read_chunk(chunk)
    try:
        frame = conform(raw.rows, spec=spec, chunk=chunk)
    except DataError as exc:
        raise DataError(f"{chunk.source_file!r}: {exc}") from exc
    result = transform_partition(
        frame,
        dataset=job.dataset,
        batch_id=job.batch_id,
        source_file=chunk.source_file,
        ingested_at=job.ingested_at,
        table=job.table,
        keys=job.keys,
    )
    rows_out = result.clean.num_rows + result.quarantine.num_rows
    if result.input_rows != len(frame) or rows_out != len(frame):
        raise DataError(
            f"Chunk {chunk.index} of {chunk.source_file!r}: {len(frame)} rows went into the "
            "transform, "
            f"it reports {result.input_rows} and returned {result.clean.num_rows} clean + "
            f"{result.quarantine.num_rows} quarantined = {rows_out}.",
            hint="Every row must come out exactly once; this is a bug in spark_jobs.transform.",
        )
    malformed = malformed_table(raw.malformed, spec=spec, chunk=chunk, job=job)
    quarantine = pa.concat_tables([result.quarantine.cast(quarantine_schema(spec)), malformed])
    stem = f"f{chunk.file_index:05d}-c{chunk.index:06d}"
    folder = Path(job.staging)
    by_code = dict(result.quarantined_by_code)
    validation = dict(result.validation)
    if raw.malformed:  # malformed lines are input and quarantine too: the DQ record shows them
        by_code[MALFORMED_ROW] = by_code.get(MALFORMED_ROW, 0) + len(raw.malformed)
        validation.update(
            input_rows=validation["input_rows"] + len(raw.malformed),
            quarantined_rows=validation["quarantined_rows"] + len(raw.malformed),
            quarantined_by_code=dict(sorted(by_code.items())),
        )
    return ChunkStats(
        file_index=chunk.file_index,
        chunk_index=chunk.index,
        input_rows=len(frame) + len(raw.malformed),
        clean_rows=result.clean.num_rows,
        quarantined_rows=quarantine.num_rows,
        warning_rows=result.warning_rows,
        malformed_rows=len(raw.malformed),
        quarantined_by_code=by_code,
        validation=validation,
        clean_files=write_by_partition(
            result.clean.cast(silver_schema(spec)), folder / "clean", stem=stem,
            partition_by=spec.partitioning,
        ),
        quarantine_files=write_by_partition(quarantine, folder / "quarantine", stem=stem),
        transform_input_rows=len(frame),
    )


def conform(rows: pd.DataFrame, *, spec, chunk: Chunk) -> pd.DataFrame:
    """The file's columns renamed to the dataset's raw columns (``spark_jobs.headers``).

    A CSV header or Parquet schema without a required column fails there (the wrong file, not
    dirty rows). JSON Lines has no header: a key no line of the chunk carries is an empty field,
    so a line without ``order_id`` is quarantined as MISSING_ORDER_ID like in a CSV.
    """
    from spark_jobs.headers import normalize_headers, raw_columns

    if rows.empty and len(rows.columns) <= 1:  # every line was malformed: no columns to map
        frame = pd.DataFrame({c: pd.Series([], dtype="str") for c in raw_columns(spec)})
        frame["source_line"] = pd.Series([], dtype="int64")
        return frame
    if chunk.fmt == "jsonl":
        present = {_header_key(str(c)) for c in rows.columns}
        absent = [
            c.name
            for c in spec.source.columns
            if _header_key(c.name) not in present and _header_key(c.header or c.name) not in present
        ]
        rows = rows.assign(**{name: "" for name in absent})
    frame = normalize_headers(rows, spec)
    return frame.reset_index(drop=True)


def _header_key(header: str) -> str:
    """How ``spark_jobs.headers`` compares headers: no BOM, case, spaces, dashes or underscores."""
    return re.sub(r"[\s_\-]+", "", header.replace("\ufeff", "").strip().lower())


def malformed_table(malformed: list[Malformed], *, spec, chunk: Chunk, job: StageJob) -> pa.Table:
    """Quarantine rows for lines that could not be read as rows (source fields null)."""
    from warehouse.schema import quarantine_schema

    schema = quarantine_schema(spec)
    n = len(malformed)
    at = job.ingested_at.astimezone(timezone.utc)
    values: dict[str, Any] = {
        "reason_codes": [[MALFORMED_ROW]] * n,
        "reasons": [f"{MALFORMED_ROW}: {m.reason}; raw line: {m.text}" for m in malformed],
        "year": [at.year] * n,
        "month": [at.month] * n,
        "batch_id": [job.batch_id] * n,
        "source_file": [chunk.source_file] * n,
        "source_line": [m.line for m in malformed],
        "ingested_at": [at] * n,
    }
    columns = [pa.array(values.get(f.name, [None] * n), type=f.type) for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


def write_by_partition(table: pa.Table, folder: Path, *, stem: str,
                       partition_by: tuple[str, ...] = ("year", "month")) -> tuple[str, ...]:
    """One Parquet file per (year, month), rows in line order; returns the paths written.

    An unpartitioned table (a dimension table, ``partition_by=()``) gets one file.
    """
    if table.num_rows == 0:
        return ()
    folder.mkdir(parents=True, exist_ok=True)
    if not partition_by:
        path = folder / f"{stem}.parquet"
        pq.write_table(table.take(pc.sort_indices(table, sort_keys=[("source_line", "ascending")])), path)
        return (str(path),)
    order = pc.sort_indices(
        table,
        sort_keys=[("year", "ascending"), ("month", "ascending"), ("source_line", "ascending")],
    )
    table = table.take(order)
    ym = table["year"].to_numpy().astype(np.int64) * 100 + table["month"].to_numpy().astype(
        np.int64
    )
    cuts = np.flatnonzero(np.diff(ym)) + 1
    paths = []
    for start, stop in zip(np.concatenate(([0], cuts)), np.concatenate((cuts, [len(ym)]))):
        path = folder / f"{stem}-{int(ym[start]):06d}.parquet"
        pq.write_table(table.slice(int(start), int(stop - start)), path)
        paths.append(str(path))
    return tuple(paths)
