"""SQL files in one source dialect (DuckDB), loaded by name and rendered with sqlglot.

A file under ``warehouse/sql/`` is one query whose variable parts are ``$name`` placeholders.
Rendering swaps each placeholder for a sqlglot node (an identifier, a literal, a list of select
items), so SQL text is never assembled with string formatting. Values that change per call stay
positional ``?`` parameters, bound by the caller (sqlglot parses ``$name`` and ``:name`` alike, so
named parameters would be mistaken for placeholders; ``:name`` cannot open a DuckDB select list).
Other dialects are produced from the rendered tree at the edge.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import sqlglot
from sqlglot import exp

from retail_insights.errors import ConfigError, UsageError, did_you_mean

SQL_DIR = Path(__file__).parent / "sql"
SOURCE_DIALECT = "duckdb"

Substitution = exp.Expression | Sequence[exp.Expression]


def names() -> list[str]:
    """Names of the SQL files, without the ``.sql`` suffix."""
    return sorted(p.stem for p in SQL_DIR.glob("*.sql"))


@lru_cache(maxsize=None)
def load(name: str) -> str:
    """Text of ``warehouse/sql/<name>.sql``; an unknown name lists the files that exist."""
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise UsageError(
            f"unknown SQL file {name!r} in {SQL_DIR}.", hint=did_you_mean(name, names())
        )
    return path.read_text(encoding="utf-8")


@lru_cache(maxsize=None)
def _parsed(name: str) -> exp.Expression:
    try:
        return sqlglot.parse_one(load(name), read=SOURCE_DIALECT)
    except sqlglot.errors.ParseError as exc:
        raise ConfigError(
            f"{SQL_DIR / name}.sql is not valid {SOURCE_DIALECT} SQL: {exc}",
            hint="Fix: correct the file; it must hold exactly one query.",
        ) from exc


def placeholders(name: str) -> set[str]:
    """The ``$name`` placeholders a SQL file expects."""
    return {p.name for p in _parsed(name).find_all(exp.Placeholder) if p.this}  # `?` has no name


def render(name: str, substitutions: Mapping[str, Substitution]) -> exp.Expression:
    """The file's query with every placeholder replaced (a fresh tree, in the source dialect).

    A sequence substitutes several nodes where the placeholder sits in a list (select items,
    GROUP BY keys); a missing or an unused substitution is an error, so a typo cannot slip through.
    """
    expected = placeholders(name)
    missing, unused = expected - set(substitutions), set(substitutions) - expected
    if missing or unused:
        raise ConfigError(
            f"SQL file {name!r} expects placeholders {sorted(expected)}; "
            f"missing {sorted(missing)}, "
            f"unknown {sorted(unused)}.",
            hint="Fix: pass exactly the placeholders the file uses.",
        )
    tree = _parsed(name).copy()
    for node in tree.walk():
        node.comments = None  # the file's comments document the template, not each rendering
    for node in [p for p in tree.find_all(exp.Placeholder) if p.this]:
        _substitute(node, substitutions[node.name])
    return tree


def _substitute(node: exp.Placeholder, value: Substitution) -> None:
    if isinstance(value, exp.Expression):
        node.replace(value.copy())
        return
    parent, key = node.parent, node.arg_key
    siblings = parent.args.get(key) if parent is not None else None
    if not isinstance(siblings, list):
        raise ConfigError(
            f"placeholder ${node.name} stands for one expression, got a list of {len(value)}.",
            hint="Fix: put list placeholders only where SQL allows a list.",
        )
    index = next(i for i, item in enumerate(siblings) if item is node)
    parent.set(key, [*siblings[:index], *(v.copy() for v in value), *siblings[index + 1 :]])


def to_sql(
    expression: exp.Expression, *, dialect: str = SOURCE_DIALECT, pretty: bool = True
) -> str:
    """Text of a tree in ``dialect`` (default DuckDB); unsupported constructs raise."""
    return expression.sql(
        dialect=dialect, pretty=pretty, unsupported_level=sqlglot.ErrorLevel.RAISE
    )


def transpile(sql: str, *, to: str, pretty: bool = True) -> str:
    """DuckDB SQL rewritten for another engine (e.g. ``bigquery``)."""
    return to_sql(sqlglot.parse_one(sql, read=SOURCE_DIALECT), dialect=to, pretty=pretty)
