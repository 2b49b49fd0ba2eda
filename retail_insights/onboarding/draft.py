"""Draft YAML text from a plan: ``dataset.yaml``, ``semantic.yaml`` and one suite per table.

Written as text, not dumped, so each guess carries a ``# review:`` comment next to it telling a
person what to confirm. The drafts load as they are wherever the data allows it (a fact without any
date column cannot: its ``time_column`` is left for a person to derive).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from retail_insights.onboarding.plan import Plan
from retail_insights.onboarding.profile import ColumnProfile, FileProfile

GRAINS = ["day", "week", "month", "quarter", "year", "day_of_week"]
NO_TIME = "TODO_date"  # what time_column says when no column is a date


def flow(value: Any) -> str:
    """One-line YAML of a value (``{name: x, type: int64}``)."""
    return yaml.safe_dump(value, default_flow_style=True, width=10**6, sort_keys=False).strip().removesuffix("\n...")


def _line(indent: int, text: str, note: str = "") -> str:
    return " " * indent + text + (f"  # {note}" if note else "")


def _range(col: ColumnProfile) -> str:
    nulls = f"; {col.null_fraction:.1%} empty" if col.nulls else ""
    return f"{col.distinct:,} distinct, {str(col.min)[:24]} .. {str(col.max)[:24]}{nulls}"


def _column(col: ColumnProfile, *, required: bool) -> str:
    entry: dict[str, Any] = {"name": col.name}
    if col.header != col.name:
        entry["header"] = col.header
    entry["type"] = col.type
    if required:
        entry["required"] = True
    note = _range(col)
    if col.role == "identifier" and col.type == "int64" and re.search(r"zip|postal|code|phone", col.name):
        note = f"review: a code stored as a number? `type: string` keeps leading zeros ({note})"
    elif col.type == "string" and col.duck_type not in ("VARCHAR",):
        note = f"review: read as {col.duck_type.lower()}, but not every value would parse at ingest: kept as text"
    elif col.scale > 6 and col.type.startswith("decimal"):
        note = f"review: values have {col.scale} decimals, stored with 6 ({note})"
    return _line(4, "- " + flow(entry), note)


def _source(profile: FileProfile, required: set[str], indent: int = 0) -> list[str]:
    pad = " " * indent
    lines = [f"{pad}source:", f"{pad}  formats: [{profile.fmt}]", f"{pad}  columns:"]
    return lines + [pad + _column(c, required=c.name in required) for c in profile.columns]


def _key_line(profile: FileProfile, indent: int = 0) -> str:
    others = [", ".join(k) for k in profile.keys[1:4]]
    if not profile.key:
        return _line(indent, "key: []", "review: no column (or pair) is unique and never empty: name the key")
    also = f"; also unique: {'; '.join(others)}" if others else ""
    return _line(indent, f"key: {flow(list(profile.key))}",
                 f"review: is this the key? unique and never empty in {profile.rows:,} rows{also}")


def dataset_yaml(plan: Plan) -> str:
    fact, time = plan.fact, plan.time_column
    several = bool(plan.dimensions)
    required = set(fact.key) | ({time} if time else set())
    lines = [f"# Draft written by `retail-insights dataset init` from {fact.path.name} ({fact.rows:,} rows).",
             "# Review every `review:` comment, then run `retail-insights dataset check "
             f"{plan.name}` (spec: warehouse/spec.py).",
             f"name: {plan.name}",
             _line(0, f"description: {flow(f'{fact.table} rows')}", "review: say what one row is"),
             *([f"files: {flow(fact.path.name.split('.')[0] + '.*')}"] if several else []),
             *_source(fact, required), _key_line(fact),
             _line(0, "dedupe_order: null", "review: a column whose larger value marks the newer version of a row")]
    lines += _time_lines(plan)
    lines += [f"validation_suite: {plan.name}", "derived:"]
    lines += _derived(plan)
    lines += ["lineage: [batch_id, source_file, source_line, ingested_at]"]
    lines += _references(plan)
    lines += ["tables:", f"  {plan.name}: {flow({'kind': 'silver', 'description': f'{fact.table} rows.'})}",
              "  quarantine: {kind: quarantine, description: \"Rows that broke a critical rule.\"}"]
    if several:
        lines += ["# Dimension tables: each read from its own files, deduplicated by its key.", "dimension_tables:"]
        for dim in plan.dimensions:
            lines += _dimension_table(plan, dim)
    return "\n".join(lines) + "\n"


def _time_lines(plan: Plan) -> list[str]:
    dates = [c.name for c in plan.fact.columns if c.type in ("date", "timestamp")]
    if plan.time_derived is not None:
        dates.insert(0, plan.time_derived[0])
    if plan.time_column is None:
        return [_line(0, f"time_column: {NO_TIME}", "review: no column is a date; derive one (see docs/onboarding.md) "
                      "and name it here"), "partitioning: []", "clustering: []"]
    others = f"; other dates: {', '.join(dates[1:])}" if dates[1:] else ""
    clustering = plan.view_dimensions[-2:][::-1]
    return [_line(0, f"time_column: {plan.time_column}", f"review: the date questions filter on{others}"),
            "partitioning: [year, month]",
            _line(0, f"clustering: {flow(clustering)}", "review: the columns most questions filter by")]


def _derived(plan: Plan) -> list[str]:
    time = plan.time_column
    if time is None:
        return ["  []"]
    lines = []
    if plan.time_derived is not None:
        name, expr, rule = plan.time_derived
        lines.append(_line(2, "- " + flow({"name": name, "type": "date", "rule": rule, "expr": expr}),
                           "review: the date each row happened on"))
    elif plan.fact.column(time).type == "timestamp":
        lines.append(_line(2, "- " + flow({"name": f"{time}_day", "type": "date", "rule": f"the day of {time}",
                                            "expr": f"CAST({time} AS DATE)"})))
    lines += [_line(2, "- " + flow({"name": part, "type": "int32", "rule": f"{part} of {time} (0 without one)",
                                    "expr": f"coalesce({part}({time}), 0)"})) for part in ("year", "month")]
    if plan.time_nulls:
        lines.append(_line(2, "- " + flow({"name": "warnings", "type": "list<string>", "rule": "warning codes",
                                            "filled_by": "validation"}),
                           f"{plan.time_nulls:,} rows have no {time}: kept, with a warning"))
    return lines


def _references(plan: Plan) -> list[str]:
    if not plan.references and not plan.suggestions:
        return []
    lines = ["# Foreign keys checked at ingest: a value that is no key of the table quarantines its row.",
             "references:"]
    for ref in plan.references:
        lines.append(_line(2, f"{ref.column}: {ref.target}", f"name and values match {ref.target}.{ref.target_column}"))
    for ref in plan.suggestions:
        lines.append(_line(2, f"# {ref.column}: {ref.target}",
                           f"review: every value is found in {ref.target}.{ref.target_column}, but the names differ"))
    return lines if plan.references else [*lines[:1], "references: {}", *lines[2:]]


def _dimension_table(plan: Plan, dim: FileProfile) -> list[str]:
    lines = [f"  {dim.table}:", f"    description: {flow(f'{dim.table} rows.')}",
             f"    files: {flow(dim.path.name.split('.')[0] + '.*')}",
             f"    validation_suite: {plan.name}_{dim.table}", _key_line(dim, 4)]
    return lines + _source(dim, set(dim.key), indent=4)


def suite_name(plan: Plan, table: FileProfile) -> str:
    return plan.name if table is plan.fact else f"{plan.name}_{table.table}"


def suite_yaml(plan: Plan, table: FileProfile) -> str:
    name = suite_name(plan, table)
    time = plan.time_column if table is plan.fact else None
    required = list(table.key) + ([time] if time and not plan.time_nulls else [])
    rules = []
    if time and plan.time_nulls:
        rules.append(_rule(f"NO_{time.upper()}", f"{time} is empty (the row counts in all-time totals, in no period)",
                           "expect_column_values_to_not_be_null", time, severity="warning"))
    rules += [_rule(f"MISSING_{c.upper()}", f"{c} is empty or does not parse", "expect_column_values_to_not_be_null", c)
             for c in dict.fromkeys(required)]
    rules += [_rule(f"BAD_{c.name.upper()}", f"{c.name} is given but is not a {c.type}",
                    "expect_column_values_to_be_null", f"{c.name}__rejected")
              for c in table.columns if c.type != "string" and c.name not in required]
    if table is plan.fact:
        rules += [_rule(f"UNKNOWN_{r.target.upper()}", f"{r.column} is not the key of any {r.target} row",
                        "expect_column_values_to_be_null", f"{r.column}__unknown") for r in plan.references]
    if not rules:
        rules = [_rule("EMPTY_ROW", "every column is empty", "expect_column_values_to_not_be_null", table.columns[0].name)]
    head = [f"# Draft validation suite of {plan.name}'s table {table.table} (run by dq/runner.py at ingest).",
            "# Critical rules quarantine a row. review: add what your data promises (ranges, allowed values,",
            "# one date before another); see dq/suites/ for examples.",
            f"name: {name}", f"description: {flow(f'{table.table} rows ({table.path.name}).')}", "rules:"]
    return "\n".join(head + rules) + "\n"


def _rule(code: str, reason: str, expectation: str, column: str, *, severity: str = "critical") -> str:
    return "\n".join([f"  - code: {code}", f"    severity: {severity}", f"    reason: {flow(reason)}",
                      f"    expectation: {expectation}", f"    column: {column}", ""])
