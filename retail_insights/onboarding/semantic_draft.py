"""Draft ``semantic.yaml`` text from a plan: metrics, dimensions, views and the language section.

Names come from the columns (``sub_category`` is asked about as "sub category"); every other word
people use for them is for a person to add (``synonyms:``), as the comments say.
"""

from __future__ import annotations

from retail_insights.onboarding.draft import GRAINS, NO_TIME, _line, flow
from retail_insights.onboarding.plan import Plan
from retail_insights.onboarding.profile import ColumnProfile, FileProfile


def _words(name: str) -> list[str]:
    spaced = name.replace("_", " ")
    return [spaced] if spaced != name else []


def semantic_yaml(plan: Plan) -> str:
    lines = [f"# Draft semantic model of {plan.name}, written by `retail-insights dataset init`. Names are the",
             "# columns'; add the words people use (`synonyms:`) and check every `review:` comment.",
             f"table: {plan.name}"]
    lines += _tables(plan)
    time = plan.time_column or NO_TIME
    timestamp = plan.time_column and not plan.time_derived and plan.fact.column(time).type == "timestamp"
    day = f"{time}_day" if timestamp else time
    others = {c.name.replace("_", " "): c.name for c in plan.fact.columns
              if c.type == "date" and c.name not in (time, day)}
    lines += ["time_dimension:", f"  column: {time}", f"  date_column: {day}",
              *([f"  other_dates: {flow(others)}"] if others else []), f"  grains: {flow(GRAINS)}", "filters: {}"]
    lines += ["metrics:"] + [_metric(m) for m in plan.metrics]
    lines += ["dimensions:"] + _dimensions(plan)
    lines += ["hierarchies:", "  time: [year, quarter, month, week, day]"]
    lines += _views(plan)
    lines += _language(plan)
    default = _default_metric(plan)
    lines += ["examples:", f"  - Total {default.replace('_', ' ')} by year",
              *(f"  - {default.replace('_', ' ')} by {d.replace('_', ' ')}" for d in plan.view_dimensions[:2])]
    return "\n".join(lines) + "\n"


def _tables(plan: Plan) -> list[str]:
    if not plan.references:
        return []
    keys = {d.table: d.key[0] for d in plan.dimensions if d.key}
    lines = ["# Dimension tables a question may join (one relationship each)."
             , "tables:"]
    lines += [f"  {r.target}: {flow({'table': r.target, 'key': keys.get(r.target, r.target_column)})}"
              for r in plan.references]
    lines += ["relationships:"] + [f"  - {flow({'column': r.column, 'table': r.target})}" for r in plan.references]
    return lines


def _metric(metric) -> str:  # noqa: ANN001 - plan.Metric
    entry = {"base": metric.base, **({"additive": metric.additive} if metric.additive else {}),
             "format": metric.format}
    words = _words(metric.name)
    if words:
        entry = {"synonyms": words, **entry}
    note = f"review: {metric.note}" if metric.note else ""
    if metric.additive is None:
        note = f"{metric.note}; distinct counts are answered from the base table"
    return _line(2, f"{metric.name}: {flow(entry)}", note)


def _dimension(name: str, column: str, col: ColumnProfile) -> str:
    entry: dict = {"column": column}
    if _words(name):
        entry["synonyms"] = _words(name)
    if col.members is not None:
        entry["values"] = list(col.members)
        note = f"{col.distinct} value{'s' if col.distinct > 1 else ''}"
    else:
        entry["open"] = True
        note = f"{col.distinct:,} values, looked up from the data"
    return _line(2, f"{name}: {flow(entry)}", note)


def _dimensions(plan: Plan) -> list[str]:
    lines = [_dimension(c.name, c.name, c) for c in plan.fact.columns if _groups(c)]
    by_table = {d.table: d for d in plan.dimensions}
    taken = {c.name for c in plan.fact.columns}
    for ref in plan.references:
        table: FileProfile = by_table[ref.target]
        if any(c.type == "date" and c.unique for c in table.columns):
            continue  # a calendar table: the time dimension already answers by day, month, year
        for col in table.columns:
            if _groups(col) and col.members is not None and col.name not in taken:
                lines.append(_dimension(col.name, f"{ref.target}.{col.name}", col))
                taken.add(col.name)
    if not lines:
        return ["  {}  # review: no text column repeats; add the columns people group by"]
    return lines


def _groups(col: ColumnProfile) -> bool:
    """A column worth grouping by: a dimension with more than one value."""
    return col.role == "dimension" and col.distinct > 1


def _views(plan: Plan) -> list[str]:
    name, dims = plan.name, plan.view_dimensions
    lines = ["# Gold views, smallest first (the router takes the first that answers); see docs/onboarding.md.",
             "views:", f"  {name}_daily_totals: {{grain: day, table: {name}_daily_totals, dimensions: []}}"]
    if dims:
        lines += [f"  {name}_{label}: {{grain: {grain}, table: {name}_{label}}}"
                  for label, grain in (("yearly", "year"), ("monthly", "month"), ("daily", "day"))]
    measures = {m.measure[0]: m.measure[1] for m in plan.metrics if m.measure}
    lines += ["view_columns:", _line(2, f"dimensions: {flow(dims)}", "review: the dimensions most questions group by"),
              "  measures:"] + [f"    {k}: {flow(v)}" for k, v in measures.items()]
    return lines


def _default_metric(plan: Plan) -> str:
    money = [m.name for m in plan.metrics if m.format == "currency"]
    return (money or [m.name for m in plan.metrics])[0]


def _language(plan: Plan) -> list[str]:
    integers = [m.name for m in plan.metrics if m.format == "integer" and m.base.startswith("SUM(")]
    distinct = [e.count for e in plan.entities if not e.per_row]
    lines = ["# How people talk about this dataset (docs/semantics.md).", "language:",
             _line(2, f"default_metric: {_default_metric(plan)}", "review: the metric of a question that names none"),
             _line(2, f"count_metric: {(distinct or ['rows'])[0]}", "review: what 'most common' and 'busiest' count"),
             _line(2, f"quantity_metric: {(integers or ['rows'])[0]}", "review: what 'how many did we sell' counts"),
             "  row_entity: row", "  entities:"]
    for entity in plan.entities:
        entry = {"key": entity.key, "count": entity.count, **({"per_row": True} if entity.per_row else {}),
                 "words": [entity.name.replace("_", " "), entity.name.replace("_", " ") + "s"]}
        note = "review: one row is one of what? (order line, ticket line...)" if entity.per_row else ""
        lines.append(_line(4, f"{entity.name}: {flow(entry)}", note))
    return lines
