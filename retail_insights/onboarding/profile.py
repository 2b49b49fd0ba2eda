"""Profile raw files with DuckDB: what each column holds and what it could be in a dataset spec.

Per column: its type as the ingest would read it (``warehouse.spec`` types), null fraction, distinct
count, min and max, the members of a low-cardinality column, and a role: part of the key, a date,
a measure (numeric, many values), a dimension (a string that repeats), an identifier (named like
one) or plain text. Per file: candidate keys (unique and never null, one column or a pair).

CSV types are DuckDB's guess checked against the ingest's own parsers (``spark_jobs.parse``), so a
column is only called a date or a number when every value would parse at ingest; text columns
whose every value parses as a date (``11/8/2016``, mixed formats included) are dates.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
import itertools
from pathlib import Path
import re
import time
from typing import Any, Literal

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from retail_insights.errors import UsageError
from spark_jobs.parse import parse_as, trim
from warehouse import sqlfiles

Role = Literal["key", "date", "measure", "dimension", "identifier", "text", "flag"]
MAX_MEMBERS = 60          # a string column with at most this many values lists them (closed dimension)
MIN_MEASURE_DISTINCT = 10  # fewer distinct numbers read as codes or flags, not amounts
MAX_SCALE = 6              # decimals beyond this many places are rounded at ingest
PAIR_CANDIDATES = 6        # columns tried two by two when no single column is a key
# Names that say "this identifies something" (order_id, ss_item_sk, postal_code): never summed.
IDENTIFIER_NAME = re.compile(r"(^|_)(id|sk|key|code|number|no|num|zip|uuid)$")


@dataclass(frozen=True)
class ColumnProfile:
    name: str                  # spec-style name (snake case)
    header: str                # as written in the file
    duck_type: str             # DuckDB's type
    type: str                  # the spec type the draft declares
    rows: int
    nulls: int
    distinct: int
    min: Any
    max: Any
    scale: int = 0             # decimal places seen (numbers)
    members: tuple[str, ...] | None = None  # the values, when few
    role: Role = "text"

    @property
    def null_fraction(self) -> float:
        return self.nulls / self.rows if self.rows else 0.0

    @property
    def unique(self) -> bool:
        return self.rows > 0 and self.nulls == 0 and self.distinct == self.rows


@dataclass(frozen=True)
class FileProfile:
    path: Path
    fmt: Literal["csv", "parquet"]
    table: str                 # the name of the table it becomes (the file's stem, snake case)
    rows: int
    columns: tuple[ColumnProfile, ...]
    keys: tuple[tuple[str, ...], ...]   # candidate keys, best first
    seconds: float

    def column(self, name: str) -> ColumnProfile:
        return next(c for c in self.columns if c.name == name)

    @property
    def key(self) -> tuple[str, ...]:
        return self.keys[0] if self.keys else ()


def snake(text: str) -> str:
    """``Sub-Category`` -> ``sub_category``: the spec name of a header."""
    name = re.sub(r"[^0-9a-zA-Z]+", "_", text.replace("\ufeff", "").strip()).strip("_").lower()
    return f"c_{name}" if not name or name[0].isdigit() else name


def profile_files(paths: Sequence[Path], *, con: duckdb.DuckDBPyConnection,
                  on_file: Callable[[FileProfile], None] = lambda p: None) -> list[FileProfile]:
    """Profile each file, loading it as table ``<stem>`` (and ``<stem>__text``) into ``con``."""
    profiles = []
    for path in paths:
        profiles.append(profile_file(path, con=con))
        on_file(profiles[-1])
    return profiles


def profile_file(path: Path, *, con: duckdb.DuckDBPyConnection) -> FileProfile:
    started = time.perf_counter()
    fmt = _format(path)
    table = snake(path.name.split(".")[0])
    typed = con.read_csv(str(path), header=True) if fmt == "csv" else con.read_parquet(str(path))
    typed.create(table)
    text = None
    if fmt == "csv":
        con.read_csv(str(path), header=True, all_varchar=True).create(f"{table}__text")
        text = con.table(f"{table}__text").to_arrow_table()
    headers, duck_types = con.table(table).columns, [str(t) for t in con.table(table).dtypes]
    stats = _stats(con, table, headers, text_table=f"{table}__text" if text is not None else None)
    columns = []
    for i, (header, duck_type) in enumerate(zip(headers, duck_types, strict=True)):
        spec_type = _spec_type(duck_type, text.column(header) if text is not None else None, stats[i]["scale"])
        columns.append(ColumnProfile(name=snake(header), header=header, duck_type=duck_type, type=spec_type,
                                     rows=stats["rows"], nulls=stats["rows"] - stats[i]["non_null"],
                                     distinct=stats[i]["distinct"], min=stats[i]["min"], max=stats[i]["max"],
                                     scale=stats[i]["scale"]))
    columns = [_with_members(con, table, c) for c in columns]
    keys = _candidate_keys(con, table, columns)
    key_columns = set(keys[0]) if keys else set()
    columns = [_with_role(c, key_columns) for c in columns]
    return FileProfile(path=path, fmt=fmt, table=table, rows=stats["rows"], columns=tuple(columns), keys=keys,
                       seconds=time.perf_counter() - started)


def _format(path: Path) -> Literal["csv", "parquet"]:
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise UsageError(f"cannot profile {str(path)!r}: only CSV and Parquet files.",
                         hint="Fix: pass .csv or .parquet files.")
    if not path.is_file():
        raise UsageError(f"no such file: {str(path)!r}.", hint="Fix: check the path.")
    return "csv" if suffix == ".csv" else "parquet"


def _col(name: str) -> exp.Column:
    return exp.column(exp.to_identifier(name, quoted=True))


def _table(name: str) -> exp.Table:
    return exp.to_table(exp.to_identifier(name, quoted=True).sql("duckdb"), dialect="duckdb")


def _run(con: duckdb.DuckDBPyConnection, name: str, subs: dict[str, Any]) -> list[tuple[Any, ...]]:
    return con.execute(sqlfiles.to_sql(sqlfiles.render(name, subs), pretty=False)).fetchall()


def _stats(con: duckdb.DuckDBPyConnection, table: str, headers: list[str], *, text_table: str | None) -> dict:
    items: list[exp.Expression] = []
    for i, header in enumerate(headers):
        col = _col(header)
        items += [exp.alias_(exp.func("count", col), f"n{i}"),
                  exp.alias_(exp.Count(this=exp.Distinct(expressions=[col])), f"d{i}"),
                  exp.alias_(exp.func("min", col), f"lo{i}"), exp.alias_(exp.func("max", col), f"hi{i}")]
    row = _run(con, "profile_columns", {"table": _table(table), "measures": items})[0]
    out: dict[Any, Any] = {"rows": row[0]}
    for i in range(len(headers)):
        out[i] = {"non_null": row[1 + 4 * i], "distinct": row[2 + 4 * i], "min": row[3 + 4 * i],
                  "max": row[4 + 4 * i], "scale": 0}
    scales = _scales(con, text_table or table, headers)
    for i, scale in enumerate(scales):
        out[i]["scale"] = scale
    return out


def _scales(con: duckdb.DuckDBPyConnection, table: str, headers: list[str]) -> list[int]:
    """Decimal places written (the text of CSV values; the shortest form of Parquet numbers)."""
    fraction = exp.Literal.string(r"\.\d+$")  # the dot and its digits: one more than the places
    items = [exp.alias_(exp.func("coalesce", exp.func("max", exp.func("length", exp.func(
        "regexp_extract", exp.cast(_col(h), "VARCHAR"), fraction))), exp.Literal.number(0)), f"s{i}")
        for i, h in enumerate(headers)]
    found = _run(con, "profile_columns", {"table": _table(table), "measures": items})[0][1:]
    return [max(int(v) - 1, 0) for v in found]


_INTEGER = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")


def _spec_type(duck_type: str, text: pa.ChunkedArray | None, scale: int) -> str:
    """The spec type of a column: DuckDB's guess, kept only where the ingest parses every value."""
    guess = _guess(duck_type, scale)
    if text is None:
        return guess
    if guess.startswith("decimal"):  # the places written in the file, not the sniffer's width
        guess = _guess("DOUBLE", scale)
    values = trim(pc.fill_null(text.combine_chunks(), ""))
    given = pc.sum(pc.not_equal(values, "")).as_py() or 0
    if guess == "string":  # a text column can still hold dates in the formats the ingest reads
        for kind in ("date", "timestamp"):
            if given and parse_as(values, kind).null_count == len(values) - given:
                return kind
        return "string"
    return guess if parse_as(values, guess).null_count == len(values) - given else "string"


def _guess(duck_type: str, scale: int) -> str:
    if duck_type in _INTEGER:
        return "int64"
    if m := re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", duck_type):
        return f"decimal({m.group(1)},{m.group(2)})"
    if duck_type in ("DOUBLE", "FLOAT"):
        return f"decimal(18,{min(max(scale, 2), MAX_SCALE)})"
    if duck_type == "DATE":
        return "date"
    if duck_type.startswith("TIMESTAMP"):
        return "timestamp"
    return "string"  # VARCHAR, BOOLEAN, TIME...: kept as text


def _with_members(con: duckdb.DuckDBPyConnection, table: str, column: ColumnProfile) -> ColumnProfile:
    if column.type != "string" or not 0 < column.distinct <= MAX_MEMBERS:
        return column
    rows = _run(con, "profile_values", {"table": _table(table), "column": _col(column.header)})
    members = sorted({str(r[0]).strip() for r in rows} - {""})  # the ingest trims every value
    return ColumnProfile(**{**column.__dict__, "members": tuple(members)})


def _candidate_keys(con: duckdb.DuckDBPyConnection, table: str,
                    columns: list[ColumnProfile]) -> tuple[tuple[str, ...], ...]:
    """Unique, never-null columns (integers, then text, then the rest), else unique pairs."""
    def rank(c: ColumnProfile) -> int:
        return 0 if c.type in ("int64", "int32") else 1 if c.type == "string" else 2

    single = sorted((c for c in columns if c.unique and not c.type.startswith("decimal")), key=rank)
    if single:
        return tuple((c.name,) for c in single)
    rows = columns[0].rows if columns else 0
    tried = sorted((c for c in columns if c.nulls == 0 and c.type in ("int64", "int32", "string")),
                   key=lambda c: -c.distinct)[:PAIR_CANDIDATES]
    by_name = {c.name: c for c in columns}
    pairs = []
    for a, b in itertools.combinations(tried, 2):
        found = _run(con, "profile_distinct_rows", {"table": _table(table),
                                                    "columns": [_col(a.header), _col(b.header)]})[0][0]
        if found == rows:
            pairs.append(tuple(sorted((a.name, b.name), key=lambda n: [c.name for c in columns].index(n))))
    return tuple(sorted(pairs, key=lambda p: sum(rank(by_name[n]) for n in p)))


def _with_role(column: ColumnProfile, key: set[str]) -> ColumnProfile:
    return ColumnProfile(**{**column.__dict__, "role": _role(column, key)})


def _role(c: ColumnProfile, key: set[str]) -> Role:
    if c.name in key:
        return "key"
    if c.type in ("date", "timestamp"):
        return "date"
    if IDENTIFIER_NAME.search(c.name):
        return "identifier"
    numeric = c.type in ("int64", "int32") or c.type.startswith("decimal")
    if numeric:
        return "measure" if c.distinct >= MIN_MEASURE_DISTINCT else "flag"
    if c.members is not None or (c.distinct and c.distinct * 2 <= c.rows - c.nulls):
        return "dimension"  # few values, or each value repeats on average
    return "text"


def day_number_offset(con: duckdb.DuckDBPyConnection, profile: FileProfile) -> int | None:
    """Key minus days since 1970-01-01, when a table's integer key is a day number of its unique date."""
    if len(profile.key) != 1 or profile.column(profile.key[0]).type != "int64":
        return None
    for day in (c for c in profile.columns if c.type == "date" and c.unique):
        key = profile.column(profile.key[0])
        offsets, offset = _run(con, "profile_day_number_key", {"table": _table(profile.table),
                                                               "key": _col(key.header), "day": _col(day.header)})[0]
        if offsets == 1:
            return int(offset)
    return None
