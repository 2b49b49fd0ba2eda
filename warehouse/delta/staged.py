"""What a staged Parquet file holds, read from its footer alone.

The contract with the engines (Dask, Spark, the Kafka consumer): a staged file holds the
table's columns (any order; types castable to the table's) and rows of exactly one
partition, e.g. one (year, month). The partition columns stay inside the file, so the
partition is read from the footer statistics (min == max, no nulls) without reading data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from retail_insights.errors import DataError

from warehouse.delta.stats import MISSING, column_bounds, leaf_index


@dataclass(frozen=True)
class StagedFile:
    path: Path
    rows: int
    partition: tuple[int, ...]  # values of the partition columns, in partition_by order
    needs_cast: bool  # physical types differ from the table's: rewrite, don't link


def inspect_staged(
    paths: Sequence[Path], *, schema: pa.Schema, partition_by: Sequence[str]
) -> list[StagedFile]:
    """Footer facts of every non-empty staged file, in the given (arrival) order."""
    staged = []
    for path in paths:
        metadata = pq.read_metadata(path)
        if metadata.num_rows == 0:
            continue
        file_schema = metadata.schema.to_arrow_schema()
        _check_columns(path, file_schema, schema)
        needs_cast = any(
            _physical(file_schema.field(f.name).type) != _physical(f.type) for f in schema
        )
        partition = tuple(_single_value(path, metadata, column) for column in partition_by)
        staged.append(StagedFile(Path(path), metadata.num_rows, partition, needs_cast))
    return staged


def _physical(kind: pa.DataType) -> pa.DataType:
    """The type as Parquet stores it (string flavours, dictionaries, zone names: same bytes)."""
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    if pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return pa.string()
    if pa.types.is_large_binary(kind) or pa.types.is_binary_view(kind):
        return pa.binary()
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        return pa.timestamp(kind.unit, tz="UTC")
    return kind


def _check_columns(path: Path, file_schema: pa.Schema, schema: pa.Schema) -> None:
    missing = sorted(set(schema.names) - set(file_schema.names))
    extra = sorted(set(file_schema.names) - set(schema.names))
    if missing or extra:
        raise DataError(
            f"Staged file {str(path)!r} does not match the table's columns: "
            f"missing {missing}, unexpected {extra}; allowed columns are {schema.names}.",
            hint="Write staged files with exactly the table schema (warehouse.schema).",
        )


def _single_value(path: Path, metadata: pq.FileMetaData, column: str) -> int:
    """The one value a partition column takes in this file, from its footer statistics."""
    low, high, nulls = column_bounds(metadata, leaf_index(metadata, column))
    if (
        low is MISSING
        or low != high
        or nulls != 0
        or isinstance(low, bool)
        or not isinstance(low, int)
    ):
        found = "unknown" if low is MISSING else f"{low}..{high} with {nulls} nulls"
        raise DataError(
            f"Staged file {str(path)!r} must hold exactly one integer {column!r}, found {found}.",
            hint="Stage one file per partition value, written with Parquet statistics.",
        )
    return int(low)
