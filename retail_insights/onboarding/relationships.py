"""Candidate relationships between profiled files: which column of one holds another's key.

Two kinds of evidence, both reported: the name (``ss_item_sk`` ends like ``i_item_sk``;
``customer_id`` is ``customer_id``) and the values (every value of the column is a value of the
other file's unique column). A column whose name matches is a reference; one matched by values
alone is only a suggestion, since surrogate keys numbered 1..N all contain each other's values:
among several such files the tightest one (fewest keys) is suggested.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
from sqlglot import exp

from retail_insights.onboarding.profile import ColumnProfile, FileProfile, _col, _run, _table


@dataclass(frozen=True)
class Relationship:
    table: str            # the referring file's table
    column: str
    target: str           # the referred file's table
    target_column: str    # its unique column
    by_name: bool
    missing: int          # distinct values of `column` that are no value of `target_column`
    example: Any = None   # one of them

    @property
    def contained(self) -> bool:
        return self.missing == 0

    @property
    def confident(self) -> bool:
        return self.by_name and self.contained


def find_relationships(profiles: Sequence[FileProfile], *, con: duckdb.DuckDBPyConnection) -> list[Relationship]:
    """For each column that could refer to another file, the best candidate (name, then values)."""
    found = []
    for child in profiles:
        for column in child.columns:
            if child.key == (column.name,) or column.role not in ("key", "identifier", "flag", "measure"):
                continue
            best = _best(child, column, [p for p in profiles if p is not child], con)
            if best is not None:
                found.append(best)
    return found


def _best(child: FileProfile, column: ColumnProfile, others: list[FileProfile],
          con: duckdb.DuckDBPyConnection) -> Relationship | None:
    named, by_values = [], []
    for parent in others:
        for target in _unique_columns(parent):
            if _family(target.type) != _family(column.type):
                continue
            by_name = names_match(column.name, target.name)
            if not by_name and column.role == "measure":
                continue  # amounts fall inside 1..N key ranges by chance
            missing, example = _missing(con, child, column, parent, target)
            rel = Relationship(child.table, column.name, parent.table, target.name, by_name, missing, example)
            if by_name:
                named.append((rel, target))
            elif missing == 0 and column.distinct > 1:
                by_values.append((rel, target))
    if named:
        return min(named, key=lambda rt: rt[0].missing)[0]
    if by_values:
        return min(by_values, key=lambda rt: rt[1].distinct)[0]
    return None


def names_match(column: str, key: str) -> bool:
    """``customer_id`` ~ ``customer_id``; ``ss_item_sk`` ~ ``i_item_sk`` (the key minus its table prefix)."""
    if column == key:
        return True
    head, _, rest = key.partition("_")
    return bool(rest) and "_" in rest and (column == rest or column.endswith("_" + rest))


def _unique_columns(profile: FileProfile) -> list[ColumnProfile]:
    return [c for c in profile.columns if c.unique and _family(c.type) in ("integer", "string")]


def _family(spec_type: str) -> str:
    return "integer" if spec_type in ("int64", "int32") else "string" if spec_type == "string" else "other"


def _missing(con: duckdb.DuckDBPyConnection, child: FileProfile, column: ColumnProfile,
             parent: FileProfile, target: ColumnProfile) -> tuple[int, Any]:
    parent_column = exp.column(exp.to_identifier(target.header, quoted=True), table=exp.to_identifier("parent"))
    row = _run(con, "profile_missing_keys", {"child": _table(child.table), "column": _col(column.header),
                                             "parent": _table(parent.table), "parent_column": parent_column})[0]
    return int(row[0]), row[1]

