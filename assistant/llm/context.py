"""What the prompt tells the model: only the parts of the semantic model a question needs.

Relevance, from the router's partial understanding and the question's words:
- metrics: those the router found or whose name/synonym the question contains; none found -> all
  (the model must then map the user's word, e.g. "cash", to one of them);
- dimensions: those found the same way (none found -> every dimension's column); known values are
  listed for relevant dimensions only (closed values from the model, plus the stored values the
  router matched in the question), others show at most three sample values;
- tables: the base table with its time columns, the relevant dimension columns and the columns the
  relevant metrics read (lineage and quality columns are left out); views only when every metric
  and dimension the question names exists on them (rollups included only when they keep them all),
  and the hourly view only for hour questions;
- examples: verified question/SQL pairs closest to the question (``ExampleStore``);
- the resolved as-of date and the SQL dialect (DuckDB; other backends transpile it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
import re
from typing import TYPE_CHECKING, Any

import sqlglot
from sqlglot import exp

from assistant.intent import Filter
from assistant.router import Understood
from warehouse import geo, guard
from warehouse.spec import SemanticModel, load_dataset

if TYPE_CHECKING:
    from assistant.llm.examples import Example, ExampleStore
    from assistant.router import Route

DIALECT = "duckdb"
MAX_VALUES = 60
SAMPLE_VALUES = 3
VIEW_TIME_COLUMNS = ("period_start", "year", "month")


@dataclass(frozen=True)
class TableInfo:
    name: str
    kind: str                                # "base table" | "view"
    grain: str                               # "order" / "order line" for the base table, else the view grain
    columns: tuple[tuple[str, str], ...]     # (name, DuckDB type)


@dataclass(frozen=True)
class MetricInfo:
    name: str
    synonyms: tuple[str, ...]
    base: str                                # SQL over base-table rows, with its row filter
    on_views: str | None                     # SQL over view rows, None = base table only


@dataclass(frozen=True)
class DimensionInfo:
    name: str
    column: str
    synonyms: tuple[str, ...]
    in_views: bool
    values: tuple[str, ...]                  # stored values (all known ones for relevant dimensions)
    complete: bool                           # values is the full list


@dataclass(frozen=True)
class PromptContext:
    dataset: str
    question: str
    as_of: date
    dialect: str
    time_column: str
    date_column: str
    tables: tuple[TableInfo, ...]
    metrics: tuple[MetricInfo, ...]
    dimensions: tuple[DimensionInfo, ...]
    examples: tuple[Example, ...] = ()


class ContextBuilder:
    """Builds a ``PromptContext``; one public method, ``build``."""

    def __init__(self, *, tables_for: Callable[[str], guard.TableCatalog],
                 examples: ExampleStore | None = None) -> None:
        self._tables_for = tables_for
        self._examples = examples

    def build(self, question: str, *, dataset: str, as_of: date, route: Route | None = None) -> PromptContext:
        model = load_dataset(dataset).semantic
        text = question.lower()
        understood = route.understood if route is not None else Understood()
        found_metrics = _relevant(model.metrics, list(understood.metrics), text)
        metrics = found_metrics or list(model.metrics)
        found_values = _found_values(understood.filters)
        dims = [d for d in _relevant(model.dimensions, [*understood.dimensions, *found_values], text)]
        dims += [d for d in model.dimensions if d not in dims and _closed_value_named(model, d, text)]
        return PromptContext(
            dataset=dataset, question=question, as_of=as_of, dialect=DIALECT,
            time_column=model.time_dimension.column, date_column=model.time_dimension.date_column,
            tables=self._tables(dataset, model, found_metrics, dims or list(model.dimensions), text),
            metrics=tuple(_metric(model, m) for m in metrics),
            dimensions=tuple(_dimension(model, d, relevant=d in dims, found=found_values.get(d, ()))
                             for d in model.dimensions),
            examples=self._examples.similar(question, dataset=dataset, slots=route.slots if route is not None else ())
            if self._examples is not None else (),
        )

    def _tables(self, dataset: str, model: SemanticModel, found_metrics: Sequence[str], dims: Sequence[str],
                text: str) -> tuple[TableInfo, ...]:
        metrics = found_metrics or list(model.metrics)
        catalog = self._tables_for(dataset).tables.get(dataset, {})
        base_cols = {model.time_dimension.column, model.time_dimension.date_column,
                     *model.time_dimension.other_dates.values(), "year", "month"}
        base_cols |= {model.dimensions[d].column for d in dims}
        for m in metrics:
            base_cols |= _metric_columns(model, m, additive=False)
        base_cols |= {c for c in catalog.get(model.table, {}) if _named(c, text)}
        row = model.language.entities[model.language.row_entity]
        grain = row.label or model.language.row_entity
        tables = [TableInfo(model.table, "base table", grain, _pick(catalog.get(model.table, {}), base_cols))]
        on_views = [d for d in dims if d in model.view_columns.dimensions]
        named_all = len(dims) == len(model.dimensions)   # no dimension named: every one is passed
        if all(model.metrics[m].additive for m in found_metrics) and (len(on_views) == len(dims) or named_all):
            view_cols = {*VIEW_TIME_COLUMNS, *on_views}
            for m in metrics:
                if model.metrics[m].additive:
                    view_cols |= _metric_columns(model, m, additive=True)
            for _, view in model.views_by_grain():
                if view.exact or view.grain == "hour" and "hour" not in text:   # exact rows do not sum
                    continue
                if not named_all and not (set(on_views) <= set(view.dims) and set(found_metrics) <= set(view.answers)):
                    continue                 # a rollup without a named dimension cannot answer it
                tables.append(TableInfo(view.table, "view", view.grain, _pick(catalog.get(view.table, {}), view_cols)))
        return tuple(t for t in tables if t.columns)


def _metric_columns(model: SemanticModel, name: str, *, additive: bool) -> set[str]:
    metric = model.metrics[name]
    columns = _columns_of((metric.additive or "") if additive else metric.base)
    return columns | (_columns_of(model.filters[metric.filter]) if metric.filter else set())


def _relevant(names: Mapping[str, Any], found: Sequence[str] | None, text: str) -> list[str]:
    return [n for n in names if n in (found or ()) or _named(n, text)
            or any(_named(s, text) for s in getattr(names[n], "synonyms", ()))]


def _named(phrase: str, text: str) -> bool:
    words = phrase.lower().replace("_", " ")
    return re.search(rf"(?<![\w]){re.escape(words)}(?![\w])", text) is not None


def _closed_value_named(model: SemanticModel, dim: str, text: str) -> bool:
    values = model.dimensions[dim].values or ()
    return any(_named(v, text) for v in values)


def _found_values(filters: Sequence[Filter]) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for f in filters:
        out[f.dimension] = tuple(dict.fromkeys((*out.get(f.dimension, ()), *f.values)))
    return out


def _columns_of(sql: str) -> set[str]:
    if not sql:
        return set()
    return {c.name for c in sqlglot.parse_one(sql, read=DIALECT).find_all(exp.Column)}


def _pick(columns: Mapping[str, str], wanted: set[str]) -> tuple[tuple[str, str], ...]:
    return tuple((name, kind) for name, kind in columns.items() if name in wanted)


def _metric(model: SemanticModel, name: str) -> MetricInfo:
    metric = model.metrics[name]
    where = f" over rows where {model.filters[metric.filter]}" if metric.filter else " over all rows"
    return MetricInfo(name=name, synonyms=metric.synonyms, base=metric.base + where,
                      on_views=metric.additive + where if metric.additive else None)


def _dimension(model: SemanticModel, name: str, *, relevant: bool, found: Sequence[str]) -> DimensionInfo:
    dim = model.dimensions[name]
    values: tuple[str, ...] = tuple(dim.values or ())
    if dim.values_from == "geo.states":
        values = tuple(geo.STATES)
    elif dim.values_from == "geo.state_names":
        values = tuple(s.name for s in geo.STATES.values())
    complete = bool(values) and relevant and len(values) <= MAX_VALUES
    shown = values[:MAX_VALUES] if relevant else values[:SAMPLE_VALUES]
    shown = tuple(dict.fromkeys((*found, *shown)))
    return DimensionInfo(name=name, column=dim.column, synonyms=dim.synonyms,
                         in_views=name in model.view_columns.dimensions, values=shown, complete=complete)
