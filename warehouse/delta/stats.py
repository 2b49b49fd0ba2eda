"""Delta per-file statistics (numRecords, minValues, maxValues, nullCount) from a Parquet footer.

Readers skip files with these numbers, so every value must be a true bound: a column whose
bounds cannot be stated exactly (a row group without min/max, NaN-only floats, long strings)
gets no min/max at all, which Delta reads as "may contain anything".
"""

from __future__ import annotations

from collections.abc import Collection
import datetime as dt
from decimal import Decimal
import json
import math
from typing import Any

import pyarrow.parquet as pq

# Long strings bloat the log and would need truncation tricks to stay true bounds; skip them.
_MAX_STRING_CHARS = 64
# Above this many digits a decimal no longer round-trips through a JSON number.
_MAX_DECIMAL_DIGITS = 15
MISSING = object()


def delta_stats(metadata: pq.FileMetaData, *, exclude: Collection[str] = ()) -> str:
    """The ``stats`` JSON of a Delta add action for one Parquet file.

    Only top-level primitive columns are described; ``exclude`` names columns to leave out
    (partition columns, whose value is in the add action itself).
    """
    mins: dict[str, Any] = {}
    maxs: dict[str, Any] = {}
    nulls: dict[str, int] = {}
    for index in range(metadata.num_columns):
        name = metadata.schema.column(index).path
        if "." in name or name in exclude:
            continue
        low, high, null_count = column_bounds(metadata, index)
        if null_count is not None:
            nulls[name] = null_count
        low, high = _encode(low, upper=False), _encode(high, upper=True)
        if low is not MISSING and high is not MISSING:
            mins[name], maxs[name] = low, high
    stats = {
        "numRecords": metadata.num_rows,
        "minValues": mins,
        "maxValues": maxs,
        "nullCount": nulls,
    }
    return json.dumps(stats, separators=(",", ":"))


def leaf_index(metadata: pq.FileMetaData, name: str) -> int:
    """Index of a top-level primitive column among the Parquet leaf columns (lists add leaves)."""
    for index in range(metadata.num_columns):
        if metadata.schema.column(index).path == name:
            return index
    raise KeyError(name)


def column_bounds(metadata: pq.FileMetaData, index: int) -> tuple[Any, Any, int | None]:
    """(min, max, null count) of one leaf column over all row groups; MISSING where unknown."""
    low: Any = None
    high: Any = None
    null_count: int | None = 0
    bounded = True
    for group in range(metadata.num_row_groups):
        row_group = metadata.row_group(group)
        stats = row_group.column(index).statistics
        if stats is None:
            return MISSING, MISSING, None
        if null_count is not None:
            null_count = null_count + stats.null_count if stats.has_null_count else None
        all_null = stats.has_null_count and stats.null_count == row_group.num_rows
        if all_null or row_group.num_rows == 0:
            continue
        if not stats.has_min_max:
            bounded = False
            continue
        low = stats.min if low is None else min(low, stats.min)
        high = stats.max if high is None else max(high, stats.max)
    if not bounded or low is None:
        return MISSING, MISSING, null_count
    return low, high, null_count


def _encode(value: Any, *, upper: bool) -> Any:
    """A Parquet statistic as Delta writes it in JSON, or MISSING if it cannot be a true bound."""
    if value is MISSING or isinstance(value, bytes):
        return MISSING
    if isinstance(value, dt.datetime):
        return _timestamp(value, upper=upper)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        digits = len(value.as_tuple().digits)
        return float(value) if value.is_finite() and digits <= _MAX_DECIMAL_DIGITS else MISSING
    if isinstance(value, float):
        return value if math.isfinite(value) else MISSING
    if isinstance(value, str):
        return value if len(value) <= _MAX_STRING_CHARS else MISSING
    if isinstance(value, (bool, int)):
        return value
    return MISSING


def _timestamp(value: dt.datetime, *, upper: bool) -> str:
    """Delta keeps milliseconds; a max is rounded up so it still bounds the microseconds."""
    # pandas Timestamps (nanosecond files) carry digits below the microsecond as well.
    extra = value.microsecond % 1000 or getattr(value, "nanosecond", 0)
    if extra:
        value = value.replace(microsecond=value.microsecond - value.microsecond % 1000)
        if hasattr(value, "nanosecond"):
            value = value.replace(nanosecond=0)
        if upper:
            value += dt.timedelta(milliseconds=1)
    if value.tzinfo is None:  # timestamp_ntz: no zone marker
        return value.isoformat(timespec="milliseconds")
    utc = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return utc.isoformat(timespec="milliseconds") + "Z"
