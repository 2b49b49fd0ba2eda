"""A file's own column headers -> the dataset spec's column names (``Row ID`` -> ``row_id``).

A header matches a spec column when, after removing a byte-order mark and surrounding whitespace,
it equals the column's ``header`` or name ignoring case, spaces, dashes and underscores. A file
without one of the spec's required columns fails here, once, instead of quarantining every row.
Optional columns a file lacks are added as empty text; columns the spec does not know are dropped.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow.parquet as pq

from retail_insights.errors import DataError
from warehouse.spec import DatasetSpec

if TYPE_CHECKING:
    from spark_jobs.readers import Chunk

KEEP = ("source_line",)  # lineage the reader adds; not a source column


def raw_columns(spec: DatasetSpec) -> list[str]:
    """Spec names of the text columns ``transform_partition`` expects (``source_line`` comes on top)."""
    return [c.name for c in spec.source.columns]


def _key(header: str) -> str:
    return re.sub(r"[\s_\-]+", "", header.replace("\ufeff", "").strip().lower())


def header_map(headers: list[str], spec: DatasetSpec) -> dict[str, str]:
    """A file's headers -> the spec column each one fills (headers the spec does not know are left out)."""
    wanted: dict[str, str] = {}
    for column in spec.source.columns:
        wanted[_key(column.name)] = column.name
        if column.header:
            wanted[_key(column.header)] = column.name
    renames: dict[str, str] = {}
    for header in headers:
        name = wanted.get(_key(str(header)))
        if name is None or header in KEEP:
            continue
        if name in renames.values():
            raise DataError(f"{spec.name}: two headers name the column {name!r} "
                            f"({[h for h, n in renames.items() if n == name][0]!r} and {header!r}).",
                            hint="Fix: remove or rename one of them in the file.")
        renames[header] = name
    return renames


def normalize_headers(df: pd.DataFrame, spec: DatasetSpec) -> pd.DataFrame:
    """``df`` with spec column names, in spec order, plus ``source_line`` if present."""
    renames = header_map(list(df.columns), spec)
    missing = [c.header or c.name for c in spec.source.columns if c.required and c.name not in renames.values()]
    if missing:
        raise DataError(f"{spec.name}: the file has no column {missing[0]!r} (required: {missing}).",
                        hint=f"Headers found: {[str(h) for h in df.columns]}. Fix: export the file with them.")
    out = df.rename(columns=renames)
    for name in raw_columns(spec):
        if name not in out.columns:
            out[name] = ""
    return out[raw_columns(spec) + [c for c in KEEP if c in out.columns]]


def check_columns(chunk: Chunk, *, spec: DatasetSpec) -> None:
    """Fail before any work if a CSV header or Parquet schema lacks a required column."""
    if chunk.fmt == "csv":
        names = list(chunk.header)
    elif chunk.fmt == "parquet":
        names = pq.read_schema(chunk.path).names
    else:
        return
    try:
        normalize_headers(pd.DataFrame(columns=names), spec)
    except DataError as exc:
        raise DataError(f"{chunk.source_file!r}: {exc}") from exc
