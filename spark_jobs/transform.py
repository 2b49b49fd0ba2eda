"""One partition of raw text rows -> clean rows + quarantined rows, validated by the dataset's GE suite.

Pure: no I/O and no clock; everything time-dependent (``ingested_at``) comes in as an argument, so a
re-run of a batch gives the same output. Both engines (Dask, Spark) call ``transform_partition`` on
each partition and deduplicate the clean rows themselves.

Steps: trim every raw value; parse it by its spec type (``spark_jobs.parse``); apply the dataset's
fixes and derived columns, declared as SQL expressions in its ``dataset.yaml``
(``spark_jobs.derive``); let Great Expectations run the suite
(``dq.runner``); rows that broke a critical rule go to quarantine with their raw text and every
code that applies, the others become clean rows carrying their warning codes.

Choices where SPEC is silent (SPEC 1.2 / 1.3 / 4):
- Text is trimmed (Unicode whitespace) before anything else; quarantine keeps the untrimmed raw text.
- In clean rows an empty optional string is null (so COUNT(DISTINCT customer_id) does not count "").
- Values of columns with an allowed list (status, channel, segment) get the allowed spelling when they
  match in any case or spacing: ``pending`` -> ``Pending``, ``home  office`` -> ``Home Office``.
  Unknown values of channel/segment are kept as given (SPEC has no rule for them).
- A present but unparseable ``updated_at`` (BAD_UPDATED_AT) or ``ship_date`` (BAD_SHIP_DATE) is
  critical: storing null would silently lose it, and a bad updated_at would decide deduplication.
- Decimals with more places than their type are rounded half away from zero to the type's scale
  before the checks (the value checked is the value stored); quantity ``3.0`` is the integer 3.
- Upper bounds (quantity <= 1,000,000, unit_price and unit_cost <= 1,000,000,000) keep revenue and
  cost inside decimal(18,2); larger values break BAD_QUANTITY / BAD_PRICE / BAD_COST.
- OLD_ORDER: order_date is before the ingestion date minus 10 calendar years (29 Feb -> 28 Feb).
  FUTURE_ORDER: order_ts is after ``ingested_at``. ``ingested_at`` without a zone is UTC.
- ``reason_codes`` (sorted) and ``reasons`` list only critical codes: warnings do not quarantine.
  ``reasons`` reads ``CODE: what was wrong; ...`` with one part per broken rule.
- A source column missing from ``raw`` is read as all-empty (JSON records may omit keys); a
  missing required one then quarantines every row with its code, so nothing is lost silently.
- A fact column the spec's ``references`` name (a foreign key) gets ``<column>__unknown``: its value
  where it is no key of the dimension table (NULL keys are not unknown), for the suite to check.
- ``quarantined_by_code`` and ``validation["warnings_by_code"]`` only list codes that occurred and
  count output rows; ``validation["rules"]`` holds GE's own counts per rule, over all input rows.
- Superstore: see its ``dataset.yaml`` (postal codes regain leading zeros) and
  ``dq/suites/superstore.yaml`` (every measure required and numeric; SHIP_BEFORE_ORDER checked).
- A declared expression that gives no value on a row the suite keeps, although every column it
  reads was given (an overflow the suite's bounds did not rule out), fails the partition with
  ``DataError``: storing NULL would lose the value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dq import runner
from retail_insights.errors import DataError, UsageError
from dq.parameters import suite_parameters
from spark_jobs.derive import apply_expressions
from spark_jobs.headers import normalize_headers, raw_columns
from spark_jobs.parse import parse_source, text_array, trim
from warehouse.schema import quarantine_schema, silver_schema
from warehouse.spec import load_dataset

__all__ = ["PartitionResult", "normalize_headers", "raw_columns", "transform_partition"]


@dataclass(frozen=True)
class PartitionResult:
    """What one partition became; ``input_rows == clean.num_rows + quarantine.num_rows`` always."""

    clean: pa.Table          # exactly warehouse.schema.silver_schema(spec); NOT deduplicated (engine does that)
    quarantine: pa.Table     # exactly quarantine_schema(spec): raw values as text + reason_codes + reasons + lineage
    input_rows: int
    warning_rows: int
    quarantined_by_code: dict[str, int]   # a row with 3 codes counts once under each code
    validation: dict         # the GE validation result summary (JSON-able) for this partition


def transform_partition(raw: pd.DataFrame, *, dataset: str, batch_id: str, source_file: str,
                        ingested_at: datetime, table: str | None = None,
                        keys: Mapping[str, Sequence[Any]] | None = None) -> PartitionResult:
    """Validate and shape one partition of raw text rows (see the module docstring for every rule).

    ``table`` names a dimension table of the dataset (None: its fact); ``keys`` holds the key values
    of the dimension tables the spec's ``references`` point to (by table name).
    """
    spec = load_dataset(dataset).spec.table_spec(table)
    if "source_line" not in raw.columns:
        raise UsageError("raw rows have no 'source_line' column.",
                         hint="Fix: add the line number in the file (or the Kafka offset) as 'source_line'.")
    ingested_at = ingested_at.replace(tzinfo=UTC) if ingested_at.tzinfo is None else ingested_at.astimezone(UTC)
    n = len(raw)
    raw_text = {c: text_array(raw[c]) if c in raw.columns else pa.array([""] * n, pa.string())
                for c in raw_columns(spec)}
    text = {c: trim(v) for c, v in raw_text.items()}
    values = parse_source(spec, text)
    failed = apply_expressions(spec, values)

    suite = runner.load_suite(spec.validation_suite)
    _unknown_keys(spec, values, keys or {})
    frame = pd.DataFrame({c: _for_validation(values[c]) for c in suite.columns if c in values})
    checked = runner.validate(frame, suite=suite.name,
                              parameters=suite_parameters(suite.parameters, ingested_at=ingested_at))
    critical = [i for i, r in enumerate(suite.rules) if r.severity == "critical"]
    bad = checked.failed[:, critical].any(axis=1)
    keep = ~bad
    _refuse_lost_values(failed, keep, raw, source_file)

    source_line = pa.array(pd.to_numeric(raw["source_line"]).to_numpy(dtype=np.int64), pa.int64())
    lineage = {"batch_id": batch_id, "source_file": source_file, "ingested_at": ingested_at}
    warning_codes, warnings_by_code = _code_lists(checked, keep, severity="warning")
    reason_codes, quarantined_by_code = _code_lists(checked, bad, severity="critical")
    clean = _clean_table(spec, values, keep, warning_codes, source_line, lineage)
    quarantine = _quarantine_table(spec, raw_text, checked, bad, reason_codes, source_line, lineage)
    if clean.num_rows + quarantine.num_rows != n:
        raise DataError(f"partition of {source_file!r}: {n} input rows but {clean.num_rows} clean + "
                        f"{quarantine.num_rows} quarantined.", hint="This is a bug in the transform; report it.")
    warning_rows = int(pc.sum(pc.greater(pc.list_value_length(warning_codes), 0)).as_py() or 0)
    validation = _summary(checked, source_line, lineage, n=n, clean_rows=clean.num_rows,
                          warning_rows=warning_rows, quarantined_by_code=quarantined_by_code,
                          warnings_by_code=warnings_by_code, dataset=dataset)
    return PartitionResult(clean=clean, quarantine=quarantine, input_rows=n, warning_rows=warning_rows,
                           quarantined_by_code=quarantined_by_code, validation=validation)


def _unknown_keys(spec: Any, values: dict[str, pa.Array], keys: Mapping[str, Sequence[Any]]) -> None:
    """``<column>__unknown``: a reference's value where it is no key of its table (null elsewhere)."""
    for column, table in spec.references.items():
        if table not in keys:
            raise UsageError(f"{spec.name}: the keys of table {table!r} were not given, so {column!r} cannot be "
                             "checked.", hint=f"Fix: ingest the {table!r} files first, or with the fact.")
        known = pc.is_in(values[column], value_set=pa.array(keys[table], values[column].type))
        unknown = pc.and_(pc.invert(known), pc.is_valid(values[column]))
        values[f"{column}__unknown"] = pc.if_else(unknown, values[column], pa.scalar(None, values[column].type))


def _refuse_lost_values(failed: dict[str, np.ndarray], keep: np.ndarray, raw: pd.DataFrame,
                        source_file: str) -> None:
    for column, rows in failed.items():
        kept = np.flatnonzero(rows & keep)
        if kept.size:
            line = raw["source_line"].iloc[int(kept[0])]
            raise DataError(f"{source_file!r} line {line}: the declared expression of {column!r} gave no value "
                            f"although its inputs were given ({kept.size} kept rows).",
                            hint="Fix: the suite must reject such values (see dq/suites), or the expression "
                                 "must handle them.")


def _for_validation(values: pa.Array) -> pd.Series:
    """The pandas form GE compares: decimals as float (exact enough for bounds), dates as UTC midnights.

    Dates become zone-aware timestamps because GE compares those vectorised and naive ones row by row.
    """
    kind = values.type
    if pa.types.is_decimal(kind):
        values = values.cast(pa.float64())
    elif pa.types.is_date(kind):
        values = values.cast(pa.timestamp("us")).cast(pa.timestamp("us", tz="UTC"))
    elif pa.types.is_string(kind):
        # GE hashes every batch it loads; categories hash far faster than strings when few are distinct.
        encoded = pc.dictionary_encode(values)
        if len(encoded.dictionary) * 4 <= len(values):
            return encoded.to_pandas()
    return values.to_pandas()


def _code_lists(checked: runner.Validation, rows: np.ndarray, *, severity: str) -> tuple[pa.Array, dict[str, int]]:
    """Per selected row, the sorted codes of ``severity`` it broke (a list array), and counts by code."""
    codes = sorted(checked.suite.codes(severity))
    matrix = np.column_stack([checked.rows_with(c)[rows] for c in codes]) if codes else np.zeros((rows.sum(), 0), bool)
    offsets = np.concatenate([[0], np.cumsum(matrix.sum(axis=1))]).astype(np.int32)
    flat = pa.array(np.asarray(codes, dtype=object)[np.nonzero(matrix)[1]] if codes else [], pa.string())
    counts = {c: int(k) for c, k in zip(codes, matrix.sum(axis=0), strict=True) if k}
    return pa.ListArray.from_arrays(pa.array(offsets), flat), counts


def _clean_table(spec: Any, values: dict[str, pa.Array], keep: np.ndarray, warning_codes: pa.Array,
                 source_line: pa.Array, lineage: dict[str, Any]) -> pa.Table:
    schema = silver_schema(spec)
    mask = pa.array(keep)
    rows = int(keep.sum())
    columns = {**values, "warnings": warning_codes} if "warnings" in schema.names else dict(values)
    arrays = []
    for field in schema:
        if field.name in lineage:
            arrays.append(_constant(lineage[field.name], field.type, rows))
            continue
        column = source_line if field.name == "source_line" else columns[field.name]
        column = column if field.name == "warnings" else column.filter(mask)  # warnings: kept rows only
        try:
            arrays.append(column.cast(field.type))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise DataError(f"{spec.name}: clean column {field.name!r} does not fit {field.type}: {exc}",
                            hint="Fix: the suite must reject such values (see dq/suites).") from None
    return pa.Table.from_arrays(arrays, schema=schema)


def _quarantine_table(spec: Any, raw_text: dict[str, pa.Array], checked: runner.Validation, bad: np.ndarray,
                      reason_codes: pa.Array, source_line: pa.Array, lineage: dict[str, Any]) -> pa.Table:
    schema = quarantine_schema(spec)
    mask = pa.array(bad)
    rows = int(bad.sum())
    day = lineage["ingested_at"]
    columns = {**{c: v.filter(mask) for c, v in raw_text.items()}, "reason_codes": reason_codes,
               "reasons": _reasons(checked, bad), "source_line": source_line.filter(mask),
               "year": _constant(day.year, pa.int32(), rows), "month": _constant(day.month, pa.int32(), rows)}
    arrays = [columns[f.name].cast(f.type) if f.name in columns else _constant(lineage[f.name], f.type, rows)
              for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def _reasons(checked: runner.Validation, bad: np.ndarray) -> pa.Array:
    """``CODE: reason; ...`` per quarantined row, built once per distinct combination of broken rules."""
    rules = [i for i, r in enumerate(checked.suite.rules) if r.severity == "critical"]
    broken = checked.failed[bad][:, rules]
    combos, which = np.unique(broken, axis=0, return_inverse=True)
    texts = ["; ".join(f"{checked.suite.rules[rules[j]].code}: {checked.suite.rules[rules[j]].reason}"
                       for j in np.flatnonzero(combo)) for combo in combos]
    return pa.array(texts, pa.string()).take(pa.array(which.reshape(-1)))


def _constant(value: Any, kind: pa.DataType, rows: int) -> pa.Array:
    return pa.array([value], kind).take(pa.array(np.zeros(rows, dtype=np.int32)))


def _summary(checked: runner.Validation, source_line: pa.Array, lineage: dict[str, Any], *, n: int,
             clean_rows: int, warning_rows: int, quarantined_by_code: dict[str, int],
             warnings_by_code: dict[str, int], dataset: str) -> dict[str, Any]:
    """The runner's GE summary plus where the rows came from; sampled rows are named by source line."""
    lines = source_line.to_numpy()
    rules = []
    for rule in checked.summary["rules"]:
        samples = [{"source_line": int(lines[i]), "value": value}
                   for i, value in zip(rule["partial_unexpected_index_list"], rule["partial_unexpected_list"],
                                     strict=False)]  # samples only: never fail a batch over them
        rest = {k: v for k, v in rule.items() if not k.startswith("partial_unexpected")}
        rules.append({**rest, "samples": samples})
    return {**checked.summary, "rules": rules, "dataset": dataset, "batch_id": lineage["batch_id"],
            "source_file": lineage["source_file"], "ingested_at": lineage["ingested_at"].isoformat(),
            "input_rows": n, "clean_rows": clean_rows, "quarantined_rows": n - clean_rows,
            "warning_rows": warning_rows, "quarantined_by_code": quarantined_by_code,
            "warnings_by_code": warnings_by_code}
