"""Known values of open dimensions (``open: true`` in the model), looked up from the data.

One ``SELECT DISTINCT`` per open dimension over the smallest table holding its column (a view when
the dimension is a view column, else the base table), cached per (dataset, data version), so a new
load brings new cities and products without a restart and an unchanged one costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
import threading
from typing import Any

from sqlglot import exp

from assistant.execute import QueryRunner
from assistant.vocabulary import Vocabulary, build_vocabulary, open_dimensions
from warehouse.spec import load_dataset

MAX_VALUES = 50_000


def _distinct(dataset: str, dimension: str) -> exp.Select:
    model = load_dataset(dataset).semantic
    column = model.dimension(dimension).column
    table, name = model.table, column
    if dimension in model.view_columns.dimensions:
        table, name = model.views_by_grain()[0][1].table, dimension
    return (exp.select(exp.Literal.string(dimension).as_("dimension"), exp.cast(exp.column(name), "VARCHAR").as_("value"))
            .distinct().from_(exp.table_(table, db=dataset)).where(exp.column(name).is_(exp.null()).not_()))


def distinct_sql(dataset: str, dimension: str) -> str:
    """``SELECT DISTINCT`` of one dimension over the smallest table that has it."""
    return _distinct(dataset, dimension).limit(MAX_VALUES).sql(dialect="duckdb")


def distinct_values_sql(dataset: str, dimensions: Sequence[str]) -> str:
    """All open dimensions in one query (one round trip): rows of (dimension, value)."""
    selects = [_distinct(dataset, d) for d in dimensions]
    query: exp.Query = selects[0]
    for select in selects[1:]:
        query = exp.union(query, select, distinct=False)
    return query.sql(dialect="duckdb")


class ValueCatalog:
    """Vocabularies with looked-up open values, one per (dataset, data version)."""

    def __init__(self, runner_for: Any, *, dimensions: Sequence[str] | None = None) -> None:
        self._runner_for = runner_for          # dataset -> QueryRunner
        self._dimensions = tuple(dimensions) if dimensions is not None else None   # None: the model's open ones
        self._cache: dict[tuple[str, Any], Vocabulary] = {}
        self._lock = threading.Lock()

    def vocabulary(self, dataset: str, *, data_version: Any) -> Vocabulary:
        key = (dataset, data_version)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        model = load_dataset(dataset).semantic
        wanted = self._dimensions if self._dimensions is not None else open_dimensions(model)
        open_dims = [d for d in wanted if d in model.dimensions and model.dimensions[d].values is None
                     and model.dimensions[d].values_from is None]
        values: dict[str, list[str]] = {}
        if data_version is not None and open_dims:
            runner: QueryRunner = self._runner_for(dataset)
            for dimension, value in runner.query(distinct_values_sql(dataset, open_dims), []).rows:
                if value not in (None, ""):
                    values.setdefault(str(dimension), []).append(str(value))
        vocab = build_vocabulary(dataset, open_values=values)
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items() if k[0] != dataset}   # one version per dataset
            self._cache[key] = vocab
        return vocab
