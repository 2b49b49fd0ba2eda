"""Read-only SQL guardrails: one SELECT over known tables and columns, or a refusal that says why.

Used by every way SQL gets in (the backends, the assistant's LLM tier, HTTP). The text is parsed
with sqlglot (DuckDB dialect) and what runs is sqlglot's re-rendering of the accepted tree, so
comments, quoting and statement separators in the input cannot smuggle anything past the checks.
The checks are a first line; the catalog's connections cannot read or write files either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError, TokenError
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

from retail_insights.errors import RetailError, did_you_mean

DIALECT = "duckdb"
ALLOWED_TABLE_FUNCTIONS = frozenset({"unnest", "range", "generate_series"})
# Functions that read settings, the environment, files or sequences, or describe the system.
DENIED_FUNCTIONS = frozenset(
    {
        "getenv",
        "current_setting",
        "current_query",
        "current_schemas",
        "current_database",
        "current_catalog",
        "current_schema",
        "current_user",
        "current_role",
        "session_user",
        "user",
        "version",
        "which_secret",
        "nextval",
        "currval",
        "setseed",
        "query",
        "query_table",
        "glob",
        "sniff_csv",
        "checkpoint",
        "force_checkpoint",
        "txid_current",
        "in_search_path",
        "set_config",
        "current_version",
    }
)
DENIED_FUNCTION_PREFIXES = (
    "read_",
    "parquet_",
    "duckdb_",
    "pragma_",
    "pg_",
    "has_",
    "iceberg_",
    "delta_",
    "sqlite_",
    "postgres_",
    "mysql_",
    "http",
    "s3",
    "load_",
    "enable_",
    "disable_",
    "ducklake_",
    "json_execute",
    "arrow_",
    "python_",
    "test_",
    "icu_",
    "json_serialize_sql",
    "json_deserialize_sql",
)
_STATEMENT_TYPES = tuple(
    getattr(exp, name)
    for name in (
        "Insert",
        "Update",
        "Delete",
        "Merge",
        "Copy",
        "Create",
        "Drop",
        "Alter",
        "AlterTable",
        "Command",
        "Set",
        "Pragma",
        "Use",
        "Attach",
        "Detach",
        "Install",
        "Transaction",
        "Commit",
        "Rollback",
        "Describe",
        "Summarize",
        "Show",
        "Into",
        "Returning",
        "LoadData",
        "Analyze",
        "Export",
        "Refresh",
    )
    if hasattr(exp, name)
)
_NAME = re.compile(r"[a-z_][a-z0-9_]*")
_WHAT_IS_ALLOWED = (
    "Allowed: one SELECT (or WITH ... SELECT, UNION/INTERSECT/EXCEPT) that only reads"
)


class UnsafeSQL(RetailError, ValueError):
    """SQL the read-only surface refuses; the message names the construct and what is allowed."""


@dataclass(frozen=True)
class TableCatalog:
    """What a query may read: schema (one per dataset) -> table -> column -> type."""

    tables: Mapping[str, Mapping[str, Mapping[str, str]]]
    default_schema: str

    @cached_property
    def schema(self) -> MappingSchema:
        """The columns as sqlglot's qualifier wants them, built once per catalog (~2 ms each time)."""
        return MappingSchema(
            {s: {t: dict(cols) for t, cols in tables.items()} for s, tables in self.tables.items()},
            dialect=DIALECT,
        )

    def names(self) -> list[str]:
        return sorted(
            name if schema == self.default_schema else f"{schema}.{name}"
            for schema, tables in self.tables.items()
            for name in tables
        )


@dataclass(frozen=True)
class SafeQuery:
    sql: str  # what runs: sqlglot's rendering of the accepted tree, LIMIT applied
    tables: tuple[tuple[str, str], ...]  # (schema, table) of every table and view the query reads
    limit: int


def _keyword(node: exp.Expression) -> str:
    if isinstance(node, exp.Command):
        return str(node.this).upper()
    if isinstance(node, exp.Create):
        return f"CREATE {node.args.get('kind') or ''}".strip()
    return node.key.upper()


def _function_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    if isinstance(node, exp.Func):
        return node.sql_name().lower()
    return node.key.lower()


def _first_word(sql: str) -> str:
    tokens = sqlglot.tokenize(sql, read=DIALECT)
    return tokens[0].text.upper() if tokens else "?"


def _parse(sql: str) -> exp.Expression:
    if not sql or not sql.strip():
        raise UnsafeSQL("empty query.", hint=f"{_WHAT_IS_ALLOWED}.")
    try:
        statements = [s for s in sqlglot.parse(sql, read=DIALECT) if s is not None]
    except (ParseError, TokenError) as exc:
        first = str(exc).splitlines()[0]
        raise UnsafeSQL(
            f"could not parse the SQL as DuckDB ({first}).", hint=f"{_WHAT_IS_ALLOWED}."
        ) from None
    if len(statements) != 1:
        raise UnsafeSQL(
            f"{len(statements)} statements found; multiple statements are not allowed.",
            hint=f"{_WHAT_IS_ALLOWED}; send one query without ';' between statements.",
        )
    return statements[0]


def _check_shape(root: exp.Expression, sql: str) -> None:
    if not isinstance(root, (exp.Select, exp.SetOperation, exp.Subquery)):
        # Statements sqlglot knows are named by their kind; anything else by its first word.
        what = _keyword(root) if isinstance(root, _STATEMENT_TYPES) else _first_word(sql)
        raise UnsafeSQL(
            f"{what} is not allowed: the SQL surface is read-only.", hint=f"{_WHAT_IS_ALLOWED}."
        )
    for node in root.walk():
        if isinstance(node, _STATEMENT_TYPES):
            raise UnsafeSQL(
                f"{_keyword(node)} is not allowed inside a query (found in a CTE or subquery).",
                hint=f"{_WHAT_IS_ALLOWED}; no data changes, settings or files.",
            )


def _check_tables(root: exp.Expression, catalog: TableCatalog) -> tuple[tuple[str, str], ...]:
    """The (schema, table) pairs the query reads, as the catalog spells them."""
    ctes = {cte.alias_or_name.lower() for cte in root.find_all(exp.CTE)}
    known = {(s.lower(), t.lower()): (s, t) for s, tables in catalog.tables.items() for t in tables}
    read: set[tuple[str, str]] = set()
    for table in root.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            name = _function_name(table.this)
            if name not in ALLOWED_TABLE_FUNCTIONS:
                raise UnsafeSQL(
                    f"table function {name}() is not allowed: "
                    "queries read only the known tables and views.",
                    hint=f"Allowed table functions: {', '.join(sorted(ALLOWED_TABLE_FUNCTIONS))}; "
                    f"tables: {', '.join(catalog.names())}.",
                )
            continue
        name, schema = table.name.lower(), table.db.lower()
        if table.catalog:
            raise UnsafeSQL(
                f"three-part table name {table.sql(dialect=DIALECT)!r} is not allowed.",
                hint=f"Use the table names: {', '.join(catalog.names())}.",
            )
        if not schema and name in ctes:
            continue
        schema = schema or catalog.default_schema.lower()
        if (schema, name) not in known:
            shown = name if schema == catalog.default_schema.lower() else f"{schema}.{name}"
            raise UnsafeSQL(
                f"unknown table {shown!r}: queries may read only the known tables and views.",
                hint=did_you_mean(shown, catalog.names()),
            )
        read.add(known[(schema, name)])
    return tuple(sorted(read))


def _rendered_name(node: exp.Expression) -> str:
    """The function name DuckDB will see; it can differ from sqlglot's (CurrentVersion: version)."""
    head, paren, _ = node.sql(dialect=DIALECT).partition("(")
    name = head.strip().strip('"').lower()
    return name if paren and _NAME.fullmatch(name) else ""


def check_functions(root: exp.Expression) -> None:
    """Refuse functions that read files, settings or system state (also used for declared expressions)."""
    for node in root.find_all(exp.Func):
        denied = [
            n
            for n in (_function_name(node), _rendered_name(node))
            if n in DENIED_FUNCTIONS or n.startswith(DENIED_FUNCTION_PREFIXES)
        ]
        if denied:
            raise UnsafeSQL(
                f"function {denied[-1]}() is not allowed: "
                "it reads files, settings or system state.",
                hint="Use SQL functions over the known tables' columns "
                "(aggregates, date, text, math).",
            )


def _check_columns(
    root: exp.Expression, catalog: TableCatalog, tables: tuple[tuple[str, str], ...]
) -> None:
    try:
        qualify(
            root.copy(),
            schema=catalog.schema,
            db=catalog.default_schema,
            dialect=DIALECT,
            validate_qualify_columns=True,
            quote_identifiers=False,
        )
    except OptimizeError as exc:
        listing = "; ".join(f"{s}.{t}: {', '.join(catalog.tables[s][t])}" for s, t in tables)
        raise UnsafeSQL(
            f"unknown column ({str(exc).splitlines()[0]}): queries may use only the known columns.",
            hint=f"Allowed columns: {listing or 'none (no table read)'}.",
        ) from None
    except Exception:  # noqa: BLE001 - constructs sqlglot's qualifier cannot follow; DuckDB's binder still checks
        return


def _clamp_limit(root: exp.Expression, max_rows: int) -> tuple[exp.Expression, int]:
    limit = root.args.get("limit") if isinstance(root, (exp.Select, exp.SetOperation)) else None
    if limit is None and isinstance(root, (exp.Select, exp.SetOperation)):
        root.set("limit", exp.Limit(expression=exp.Literal.number(max_rows)))
        return root, max_rows
    count = (
        limit.args.get("count")
        if isinstance(limit, exp.Fetch)
        else getattr(limit, "expression", None)
    )
    options = limit.args.get("limit_options") if limit is not None else None
    plain = options is None or not (options.args.get("percent") or options.args.get("with_ties"))
    if isinstance(count, exp.Literal) and not count.is_string and plain:
        rows = min(int(count.to_py()), max_rows)
        root.set("limit", exp.Limit(expression=exp.Literal.number(rows)))
        return root, rows
    # A computed, percent or tied limit: keep it, and cap the rows around it.
    wrapped = exp.select("*").from_(
        exp.Subquery(this=root, alias=exp.TableAlias(this=exp.to_identifier("q")))
    )
    return wrapped.limit(max_rows), max_rows


def check(sql: str, catalog: TableCatalog, *, max_rows: int) -> SafeQuery:
    """Accept one read-only query over the catalog's tables and columns, capped at ``max_rows``.

    Raises ``UnsafeSQL`` naming the offending construct: another statement kind (DDL, DML, PRAGMA,
    SET, ATTACH, COPY, INSTALL, LOAD, CALL, ...), a write hidden in a CTE, more than one statement,
    an unknown table or column, a table function that is not allow-listed (file, network and
    catalog readers), or a function that reads settings, the environment or system state.
    """
    root = _parse(sql)
    _check_shape(root, sql)
    tables = _check_tables(root, catalog)
    check_functions(root)
    _check_columns(root, catalog, tables)
    for node in root.walk():
        node.comments = None
    root, limit = _clamp_limit(root, max_rows)
    return SafeQuery(sql=root.sql(dialect=DIALECT), tables=tables, limit=limit)
