"""The LLM tier's SQL guardrails: ``warehouse.guard`` over a narrower catalog, plus three stricter rules.

``warehouse.guard.check`` already accepts only one read-only SELECT/WITH over known tables and
columns, rejects DDL, DML, multiple statements, PRAGMA/SET/ATTACH/COPY/INSTALL/LOAD/CALL, writes
hidden in CTEs, file/network table functions and getenv-style functions, and injects a LIMIT. What
model-written SQL needs on top:

- the catalog is the dataset's silver table and its views only (no quarantine, no other dataset);
- no table functions at all (``range``/``generate_series``/``unnest`` can make rows out of nothing,
  which a question about the data never needs and a runaway query does);
- no parameter placeholders (``$1``, ``?``): the model writes literal values, there is nothing to bind;
- at least one table is read (``SELECT 'pwned'`` is not an answer from the data).

Every rejection is classified, because the tier treats them differently: ``unsafe`` (a statement
or function that is not a read, a table named like a file or URL, the engine's own catalogs:
refused, never repaired), ``invalid`` (does not parse, or names a table or column that does not
exist: one repair round).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
import re
from typing import Literal

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokens import TokenType

from retail_insights.errors import RetailError
from warehouse import guard
from warehouse.spec import load_dataset

RejectionKind = Literal["unsafe", "invalid"]
# Statement words that never belong in a read-only query; seen outside strings and quoted names they
# make a rejection "unsafe" even when the text does not parse (``EXPORT DATABASE`` has no sqlglot tree).
WRITE_WORDS = frozenset({
    "ALTER", "ATTACH", "CALL", "CHECKPOINT", "COPY", "CREATE", "DELETE", "DETACH", "DROP", "EXPORT", "GRANT",
    "IMPORT", "INSERT", "INSTALL", "LOAD", "MERGE", "PRAGMA", "RESET", "REVOKE", "SET", "TRUNCATE", "UPDATE",
    "USE", "VACUUM",
})
# Schemas and name prefixes of the engine's own catalogs: reading them is probing, not a hallucination.
SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog", "main", "temp", "system"})
SYSTEM_PREFIXES = ("duckdb_", "sqlite_", "pg_", "pragma_")
_PATH_LIKE = re.compile(r"[/\\:]|\.(?:csv|tsv|json|jsonl|ndjson|parquet|txt|db|duckdb|sqlite|xlsx?)$", re.I)
_QUOTED = {TokenType.STRING, TokenType.IDENTIFIER, TokenType.NATIONAL_STRING, TokenType.RAW_STRING}
_INVALID_PREFIXES = ("could not parse", "unknown table", "unknown column", "empty query", "0 statements")


class RejectedSQL(RetailError, ValueError):
    """Model-written SQL the tier will not run; ``kind`` says whether a repair round may follow."""

    def __init__(self, message: str, *, kind: RejectionKind, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.kind: RejectionKind = kind


@dataclass(frozen=True)
class GuardedSQL:
    sql: str                               # what runs: the guard's rendering, LIMIT applied
    tables: tuple[tuple[str, str], ...]    # (dataset, table) it reads
    limit: int


def allowed_tables(dataset: str) -> tuple[str, ...]:
    """The tables model-written SQL may read: the silver table, then the views (coarsest first)."""
    ds = load_dataset(dataset)
    return (ds.spec.silver_table, *(view.table for _, view in ds.semantic.views_by_grain()))


@lru_cache(maxsize=8)
def table_catalog(dataset: str) -> guard.TableCatalog:
    """Names and types of ``allowed_tables`` as the warehouse catalog defines them (cached per process).

    Read from an empty catalog (no data is opened), so it is the same before and after a load.
    """
    from warehouse.catalog import open_catalog

    with open_catalog(dataset, empty=True) as cat:
        columns = cat.columns()
    tables = columns.get(dataset, {})
    return guard.TableCatalog({dataset: {t: dict(tables[t]) for t in allowed_tables(dataset) if t in tables}},
                              default_schema=dataset)


def check(sql: str, catalog: guard.TableCatalog, *, max_rows: int) -> GuardedSQL:
    """``sql`` as it may run over ``catalog`` with at most ``max_rows`` rows, or ``RejectedSQL`` saying why."""
    try:
        safe = guard.check(sql, catalog, max_rows=max_rows)
    except guard.UnsafeSQL as exc:
        raise RejectedSQL(str(exc), kind=_kind(sql, exc)) from None
    root = sqlglot.parse_one(safe.sql, read=guard.DIALECT)
    for source in root.find_all(exp.Table, exp.Unnest):
        inner = source.this if isinstance(source, exp.Table) else source
        if isinstance(inner, exp.Identifier) or (isinstance(source, exp.Unnest)
                                                 and not isinstance(source.parent, (exp.From, exp.Join))):
            continue  # a named table, or unnest() of a column inside the SELECT list
        name = inner.sql_name() if isinstance(inner, exp.Func) else inner.key
        raise RejectedSQL(f"table function {name.lower()}() is not allowed in generated SQL.",
                          kind="unsafe", hint=f"Read only the tables: {', '.join(catalog.names())}.")
    if next(root.find_all(exp.Placeholder, exp.Parameter), None) is not None:
        raise RejectedSQL("parameter placeholders ($1, ?) are not allowed in generated SQL.", kind="invalid",
                          hint="Write the values as literals, e.g. state = 'CA'.")
    if not safe.tables:
        raise RejectedSQL("the query reads none of the tables, so its answer would not come from the data.",
                          kind="invalid", hint=f"Read from: {', '.join(catalog.names())}.")
    return GuardedSQL(sql=safe.sql, tables=safe.tables, limit=safe.limit)


def _kind(sql: str, exc: guard.UnsafeSQL) -> RejectionKind:
    if not str(exc).startswith(_INVALID_PREFIXES):
        return "unsafe"
    return "unsafe" if _write_words(sql) or _probes_files_or_system(sql) else "invalid"


def _probes_files_or_system(sql: str) -> bool:
    """A table named like a file or URL, or one of the engine's own catalogs."""
    try:
        root = sqlglot.parse_one(sql, read=guard.DIALECT)
    except (ParseError, TokenError):
        return False
    for table in root.find_all(exp.Table):
        name, schema = table.name.lower(), table.db.lower()
        if _PATH_LIKE.search(name) or schema in SYSTEM_SCHEMAS or name.startswith(SYSTEM_PREFIXES):
            return True
    return False


def _write_words(sql: str) -> set[str]:
    try:
        tokens = sqlglot.tokenize(sql, read=guard.DIALECT)
    except (TokenError, ParseError):
        return set()
    return {t.text.upper() for t in tokens if t.token_type not in _QUOTED} & WRITE_WORDS
