"""Declared column expressions: a dataset's fixes and derived columns, checked and compiled by sqlglot.

``dataset.yaml`` says how a source column is fixed (``fixes``) or a column is derived (``derived``)
as one SQL expression in DuckDB's dialect over the typed source columns and the columns fixed or
derived before it: ``round(quantity * unit_price * (1 - discount), 2)``. A named function of
``warehouse.functions`` may be called like any SQL function (``census_region(state)``).

Loading checks each expression: it parses, it reads only known columns, and it is scalar (no
subquery, aggregate, window or ``*``; no function that reads files, settings or system state, the
same list the SQL guard refuses). ``compile_columns`` inlines every reference to an earlier fix or
derived column, so each output is an expression over the source columns alone and all of them run
in one SELECT, cast to their declared types (``spark_jobs.derive`` runs it on the transform's
engine-independent path, so Dask and Spark evaluate the same SQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from retail_insights.errors import ConfigError, did_you_mean
from warehouse import guard
from warehouse.functions import FUNCTIONS

DIALECT = "duckdb"
_DECIMAL = re.compile(r"decimal\((\d+),(\d+)\)")
_SQL_TYPES = {"string": "VARCHAR", "int32": "INTEGER", "int64": "BIGINT", "double": "DOUBLE",
              "date": "DATE", "timestamp": "TIMESTAMPTZ", "bool": "BOOLEAN"}


@dataclass(frozen=True)
class Step:
    """One declared expression: the column it writes, its type and its SQL (``where`` names it in errors)."""

    column: str
    type: str
    sql: str
    where: str


@dataclass(frozen=True)
class CompiledColumn:
    name: str
    type: str                     # the declared spec type
    tree: exp.Expression          # CAST(<expression over source columns> AS <declared type>)
    inputs: tuple[str, ...]       # the source columns it reads


def sql_type(spec_type: str) -> exp.DataType:
    """The DuckDB type of a spec column type (``decimal(18,2)`` -> DECIMAL(18, 2))."""
    if m := _DECIMAL.fullmatch(spec_type):
        return exp.DataType.build(f"DECIMAL({m.group(1)}, {m.group(2)})", dialect=DIALECT)
    if spec_type not in _SQL_TYPES:
        raise ConfigError(f"a declared expression cannot produce type {spec_type!r}.",
                          hint=f"Allowed: {', '.join(_SQL_TYPES)}, decimal(p,s).")
    return exp.DataType.build(_SQL_TYPES[spec_type], dialect=DIALECT)


def parse_expression(step: Step) -> exp.Expression:
    """The step's SQL as a scalar sqlglot tree; anything else fails naming the step and the fix."""
    try:
        tree = sqlglot.parse_one(step.sql, read=DIALECT)
    except (ParseError, TokenError) as exc:
        raise ConfigError(f"{step.where}: the expression of {step.column!r} is not valid DuckDB SQL: "
                          f"{str(exc).splitlines()[0]} (in {step.sql!r}).",
                          hint="Fix: write one SQL expression, e.g. \"round(quantity * price, 2)\".") from None
    bad = next((n for n in tree.walk() if isinstance(n, (exp.Query, exp.AggFunc, exp.Window, exp.Star))), None)
    if bad is not None:
        raise ConfigError(f"{step.where}: the expression of {step.column!r} uses {bad.key.upper()} "
                          f"({bad.sql(dialect=DIALECT)!r}); an expression is computed row by row.",
                          hint="Fix: use scalar SQL over the row's columns (no subquery, aggregate or window).")
    try:
        guard.check_functions(tree)
    except guard.UnsafeSQL as exc:
        raise ConfigError(f"{step.where}: the expression of {step.column!r}: {exc}", hint=exc.hint) from None
    return tree


def compile_columns(source: dict[str, str], steps: tuple[Step, ...]) -> tuple[CompiledColumn, ...]:
    """Each step's output as an expression over the ``source`` columns (name -> spec type) alone.

    A reference to a column an earlier step fixed or derived is replaced by that step's expression;
    a reference to anything else that is not a source column fails, naming the known ones.
    """
    defined: dict[str, exp.Expression] = {}
    out: dict[str, CompiledColumn] = {}
    for step in steps:
        known = [*source, *defined]

        def inline(node: exp.Expression, step: Step = step, known: list[str] = known) -> exp.Expression:
            if not isinstance(node, exp.Column):
                return node
            if node.name in defined:
                return exp.paren(defined[node.name].copy())
            if node.name not in source:
                raise ConfigError(f"{step.where}: the expression of {step.column!r} reads unknown column "
                                  f"{node.name!r}.", hint=did_you_mean(node.name, known)
                                  + " Fix: use a source column or one fixed or derived before it.")
            return node

        tree = parse_expression(step).transform(inline)
        typed = exp.cast(tree, sql_type(step.type))
        defined[step.column] = typed
        inputs = tuple(dict.fromkeys(c.name for c in typed.find_all(exp.Column)))
        out[step.column] = CompiledColumn(step.column, step.type, typed, inputs)
    return tuple(out.values())


@lru_cache(maxsize=64)
def named_functions_in(sql: str) -> frozenset[str]:
    """The registry's functions an SQL text calls (the evaluator registers just those)."""
    tree = sqlglot.parse_one(sql, read=DIALECT)
    return frozenset(n.name.lower() for n in tree.find_all(exp.Anonymous) if n.name.lower() in FUNCTIONS)
