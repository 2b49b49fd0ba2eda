"""A dataset spec against data: the files given, or the files of each table's last ingested batch.

Files are read as text (as the ingest reads them), headers are matched by the ingest's own rules
(``spark_jobs.headers``) and values parsed by its own parsers (``spark_jobs.parse``), so a value
reported here is one the ingest would reject. Checked per table: declared columns the file lacks,
values that do not parse, keys that repeat; across tables: references to missing keys; against
the semantic model: dimension members the data and the YAML disagree on.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from retail_insights.errors import did_you_mean
from retail_insights.onboarding.problems import CheckReport, Problem
from retail_insights.settings import get_settings
from spark_jobs.bronze import Ledger
from spark_jobs.headers import header_map
from spark_jobs.ingest import expand_paths, route_files
from spark_jobs.parse import parse_source, trim
from warehouse.spec import DatasetSpec, SemanticModel

EXAMPLES = 3


def last_ingested(name: str, spec: DatasetSpec) -> dict[str | None, list[Path]]:
    """By table (None: the fact), the bronze copies of its last committed batch (read from its ledger)."""
    files: dict[str | None, list[Path]] = {}
    for table in (None, *spec.dimension_tables):
        ledger = Ledger(get_settings().state_dir, name if table is None else f"{name}.{table}")
        committed = [e for e in ledger.events() if e["event"] == "committed"]
        if committed:
            files[table] = [Path(f["bronze"]) for f in committed[-1]["files"] if Path(f["bronze"]).exists()]
    return files


def check_data(name: str, spec: DatasetSpec, sem: SemanticModel | None, data: Sequence[Path] | None,
               report: CheckReport) -> None:
    if data:
        files = expand_paths(list(data))
        routed = route_files(spec, files)[0] if spec.dimension_tables else {None: files}
    else:
        routed = last_ingested(name, spec)
        routed = {t: routed.get(t, []) for t in (None, *spec.dimension_tables)} if routed else {}
        files = [f for paths in routed.values() for f in paths]
    if not files:
        report.checked["data"] = "none (pass --data PATH, or ingest first)"
        return
    values: dict[str | None, dict[str, pa.Array]] = {}
    for table, paths in routed.items():
        part = spec.table_spec(table)
        if not paths:
            report.problems.append(Problem(_where(table, "files"), f"no file of the data matches {part.files!r}.",
                                           f"pass the {table or 'fact'} file with --data, or correct `files:`."))
            continue
        text, problems = _read(paths, part, table)
        report.problems += problems
        values[table] = parse_source(part, text)
        report.problems += _parse_problems(part, text, values[table], table)
        report.problems += _key_problems(part, values[table], table)
    report.problems += _reference_problems(spec, values)
    if sem is not None and None in values:
        report.problems += _member_problems(sem, spec, values)
    report.checked["files"] = len(files)
    report.checked["rows"] = f"{sum(len(next(iter(v.values()))) for v in values.values() if v):,}"


def _where(table: str | None, key: str) -> str:
    return f"dataset.yaml:{key}" if table is None else f"dataset.yaml:dimension_tables.{table}.{key}"


def _read(paths: list[Path], spec: DatasetSpec, table: str | None) -> tuple[dict[str, pa.Array], list[Problem]]:
    con, parts, problems = duckdb.connect(), [], []
    for path in paths:
        rel = (con.read_csv(str(path), header=True, all_varchar=True) if path.suffix.lower() == ".csv"
               else con.read_parquet(str(path)))
        raw = rel.to_arrow_table()
        names = header_map(raw.column_names, spec)
        for column in spec.source.columns:
            if column.name not in names.values():
                problems.append(Problem(
                    _where(table, f"source.columns.{column.name}"),
                    f"column {column.name!r} (header {column.header or column.name!r}) is not in {path.name}.",
                    "remove it, or give its `header:` as written in the file. "
                    + did_you_mean(column.header or column.name, raw.column_names)))
        by_name = {n: h for h, n in names.items()}
        parts.append({c.name: trim(pc.fill_null(raw.column(by_name[c.name]).cast(pa.string()).combine_chunks(), ""))
                      if c.name in by_name else pa.array([""] * raw.num_rows, pa.string())
                      for c in spec.source.columns})
    text = {c.name: pa.concat_arrays([p[c.name] for p in parts]) for c in spec.source.columns}
    return text, problems


def _examples(array: pa.Array) -> str:
    seen = pc.unique(array.drop_null()).to_pylist()[:EXAMPLES]
    return ", ".join(repr(v) for v in seen)


def _parse_problems(spec: DatasetSpec, text: dict[str, pa.Array], values: dict[str, pa.Array],
                    table: str | None) -> list[Problem]:
    problems = []
    for column in spec.source.columns:
        bad = values.get(f"{column.name}__rejected")
        if bad is None or bad.null_count == len(bad):
            continue
        count = len(bad) - bad.null_count
        problems.append(Problem(_where(table, f"source.columns.{column.name}.type"),
                                f"{count:,} of {len(bad):,} values of {column.name!r} do not parse as "
                                f"{column.type} (e.g. {_examples(bad)}).",
                                "change `type:` (string keeps any text) or correct the file; at ingest these "
                                "rows would be quarantined or stored empty."))
    return problems


def _key_problems(spec: DatasetSpec, values: dict[str, pa.Array], table: str | None) -> list[Problem]:
    if not spec.key or any(k not in values for k in spec.key):
        return []
    keys = pa.table({k: values[k] for k in spec.key})
    counts = keys.group_by(list(spec.key)).aggregate([([], "count_all")])
    repeated = counts.filter(pc.greater(counts["count_all"], 1))
    problems = []
    if repeated.num_rows:
        sample = ", ".join(str(tuple(r.values())[: len(spec.key)]) for r in repeated.slice(0, EXAMPLES).to_pylist())
        problems.append(Problem(_where(table, "key"),
                                f"key {list(spec.key)} is not unique: {repeated.num_rows:,} values appear more than "
                                f"once (e.g. {sample}); the ingest keeps one row per key.",
                                "add columns to `key:` until it is unique (or set dedupe_order if later rows are "
                                "newer versions)."))
    nulls = sum(values[k].null_count for k in spec.key)
    if nulls:
        problems.append(Problem(_where(table, "key"), f"key {list(spec.key)} is empty in {nulls:,} rows.",
                                "choose key columns that are never empty."))
    return problems


def _reference_problems(spec: DatasetSpec, values: dict[str | None, dict[str, pa.Array]]) -> list[Problem]:
    problems = []
    for column, table in spec.references.items():
        if None not in values or table not in values or column not in values[None]:
            continue
        key = spec.table_spec(table).key[0]
        child = pc.unique(values[None][column].drop_null())
        missing = child.filter(pc.invert(pc.is_in(child, value_set=values[table][key].cast(child.type))))
        if len(missing):
            problems.append(Problem(f"dataset.yaml:references.{column}",
                                    f"{len(missing):,} values of {column!r} are no {table}.{key} "
                                    f"(e.g. {_examples(missing)}); their rows would be quarantined.",
                                    f"add those rows to the {table} file, or remove the reference."))
    return problems


def _member_problems(sem: SemanticModel, spec: DatasetSpec,
                     values: dict[str | None, dict[str, pa.Array]]) -> list[Problem]:
    problems = []
    for name, dim in sem.dimensions.items():
        logical, _, column = dim.column.rpartition(".")
        table = sem.tables[logical].table if logical else None
        data = values.get(table, {}).get(column)
        if dim.values is None or data is None or not pa.types.is_string(data.type):
            continue
        seen = set(pc.unique(data.drop_null()).to_pylist())
        extra, absent = sorted(seen - set(dim.values)), sorted(set(dim.values) - seen)
        if extra:
            problems.append(Problem(f"semantic.yaml:dimensions.{name}.values",
                                    f"the data has values {extra[:5]} that dimension {name!r} does not list.",
                                    "add them to `values:` (or make it `open: true`)."))
        if absent:
            problems.append(Problem(f"semantic.yaml:dimensions.{name}.values",
                                    f"dimension {name!r} lists {absent[:5]}, which the data never has.",
                                    "check their spelling against the data, or remove them."))
    return problems
