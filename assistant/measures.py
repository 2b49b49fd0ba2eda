"""What a metric name in an intent means: the semantic model's metrics plus two generic families.

- ``distinct_<dimension>`` counts distinct values of a dimension ("how many cities");
- ``<metric>_per_<entity>`` divides a summable metric by an entity's count ("revenue per customer",
  "average profit" = profit per the row entity, e.g. per order line on Superstore).

Everything a stage needs about a metric (its SQL over the base table and over views, its row
filter, format and label) comes from ``measure(model, name)``, so the compiler, the view chooser
and the answer writer agree on one definition.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp

from assistant.errors import UnknownMetric, UnsupportedIntent
from retail_insights.errors import did_you_mean
from warehouse.spec import SemanticModel, exact_form, load_dataset

DISTINCT_PREFIX = "distinct_"
PER = "_per_"
DIALECT = "duckdb"


@dataclass(frozen=True)
class Measure:
    name: str
    base: str                      # aggregate SQL over base-table rows
    additive: str | None           # aggregate SQL over view measures; None = base table only
    exact: str | None              # over an exact view's columns (one row per answer group); None = none
    filter: str | None             # the named row filter every aggregate keeps
    format: str                    # currency | integer | percent | number
    label: str                     # how answers name it
    summable: bool                 # a plain sum or count: "average <it>" divides it by a count

    @property
    def averages(self) -> bool:
        """An average or a ratio already ("average order value", "margin"): "average" says nothing more."""
        text = " ".join(self.base.split()).upper()
        return "/" in text or text.startswith("AVG(")

    def tree(self, *, view: bool, exact: bool = False) -> exp.Expression:
        text = self.exact if exact else self.additive if view else self.base
        if text is None:
            raise UnsupportedIntent(f"metric {self.name!r} has no form over views.",
                                    hint="Fix: compile it over the base table.")
        tree = sqlglot.parse_one(text, read=DIALECT)
        if view and self.base.strip().upper().startswith("COUNT(") and isinstance(tree, exp.Sum):
            # a count summed over rollup rows: 0, like COUNT itself, when no row matches (not NULL)
            tree = exp.func("COALESCE", tree, exp.Literal.number(0))
        return tree


def ratio_name(metric: str, entity: str) -> str:
    return f"{metric}{PER}{entity}"


def measure(dataset: str, name: str) -> Measure:
    """The definition of ``name`` in ``dataset``; an unknown name raises ``UnknownMetric``."""
    return _measure(dataset, name)


@lru_cache(maxsize=512)
def _measure(dataset: str, name: str) -> Measure:
    model = load_dataset(dataset).semantic
    if name in model.metrics:
        m = model.metrics[name]
        return Measure(name, m.base, m.additive, exact_form(model, name), m.filter, m.format, model.label(name),
                       m.summable)
    if name.startswith(DISTINCT_PREFIX) and name[len(DISTINCT_PREFIX):] in model.dimensions:
        dim = name[len(DISTINCT_PREFIX):]
        column = model.dimensions[dim].column
        default = model.metrics[model.language.default_metric]
        return Measure(name, f"COUNT(DISTINCT {column})", None, None, default.filter, "integer",
                       f"distinct {dim.replace('_', ' ')} values", False)
    if PER in name:
        return _ratio(model, name)
    raise UnknownMetric(f"unknown metric {name!r}.", hint=did_you_mean(name, model.metrics))


def _ratio(model: SemanticModel, name: str) -> Measure:
    metric, _, entity = name.rpartition(PER)
    if metric not in model.metrics or entity not in model.language.entities:
        raise UnknownMetric(f"unknown metric {name!r}.", hint=did_you_mean(name, model.metrics))
    numerator = model.metrics[metric]
    counted_name = model.language.entities[entity].count
    counted = model.metrics[counted_name]
    if not numerator.divisible or numerator.filter != counted.filter or metric == counted_name:
        raise UnsupportedIntent(f"{metric!r} cannot be divided per {entity}.",
                                hint="Fix: divide a plain sum or count that keeps the same rows.")
    base = f"({numerator.base}) / NULLIF({counted.base}, 0)"
    additive = None
    if numerator.additive is not None and counted.additive is not None:
        additive = f"({numerator.additive}) / NULLIF({counted.additive}, 0)"
    exact = None
    if (over := exact_form(model, metric)) is not None and (count := exact_form(model, counted_name)) is not None:
        exact = f"({over}) / NULLIF({count}, 0)"
    fmt = "currency" if numerator.format == "currency" else "number"
    label = f"{model.label(metric)} per {entity.replace('_', ' ')}"
    return Measure(name, base, additive, exact, numerator.filter, fmt, label, False)


def known(dataset: str, name: str) -> bool:
    try:
        measure(dataset, name)
    except (UnknownMetric, UnsupportedIntent):
        return False
    return True
