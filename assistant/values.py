"""Known values of open dimensions (``open: true`` in the model), looked up from the data.

One ``SELECT DISTINCT`` per open dimension over the smallest table holding its column (a view when
the dimension is a view column, else the base table or the dimension table it lives in), cached per (dataset, data version), so a new
load brings new cities and products without a restart and an unchanged one costs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
import logging
import threading
from typing import Any

from sqlglot import exp

from assistant.execute import QueryRunner
from assistant.vocabulary import Vocabulary, build_vocabulary, open_dimensions
from warehouse.spec import load_dataset

log = logging.getLogger(__name__)
MAX_VALUES = 50_000


def _distinct(dataset: str, dimension: str) -> exp.Select:
    model = load_dataset(dataset).semantic
    logical, column = model.column_of(dimension)
    table, name = (model.tables[logical].table if logical else model.table), column
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
    """Vocabularies with looked-up open values, one per (dataset, data version).

    With ``stale_while_revalidate`` (the HTTP service), a new data version is looked up in a
    background thread while questions keep being read with the previous version's values, so a
    load under traffic never stalls requests on the lookup; the new values are used once read
    (well under a second). Without it (CLI, tests), the lookup runs before the question is read.
    Concurrent lookups of the same version run once. A version whose values and date range are the
    previous one's keeps the previous vocabulary object, so everything built from it (the speller,
    readings of questions, ``assistant.readings``) stays valid: a load of new orders in known cities
    does not make a busy service read every question again.
    """

    def __init__(self, runner_for: Any, *, dimensions: Sequence[str] | None = None,
                 stale_while_revalidate: bool = False) -> None:
        self._runner_for = runner_for          # dataset -> QueryRunner
        self._dimensions = tuple(dimensions) if dimensions is not None else None   # None: the model's open ones
        self._cache: dict[str, tuple[Any, Vocabulary]] = {}      # dataset -> (data version, vocabulary)
        self._built: dict[str, tuple[Any, Vocabulary]] = {}      # dataset -> (what it was read from, vocabulary)
        self._lock = threading.Lock()
        self._loading: dict[tuple[str, Any], threading.Lock] = {}
        self._refreshing: set[tuple[str, Any]] = set()
        self.stale_while_revalidate = stale_while_revalidate

    def vocabulary(self, dataset: str, *, data_version: Any) -> Vocabulary:
        with self._lock:
            found = self._cache.get(dataset)
        if found is not None and found[0] == data_version:
            return found[1]
        if found is not None and self.stale_while_revalidate:
            with self._lock:
                start = (dataset, data_version) not in self._refreshing
                self._refreshing.add((dataset, data_version))
            if start:
                threading.Thread(target=self._refresh, args=(dataset, data_version), daemon=True,
                                 name=f"values-{dataset}").start()
            return found[1]
        return self._load(dataset, data_version)

    def _refresh(self, dataset: str, data_version: Any) -> None:
        try:
            self._load(dataset, data_version)
        except Exception:  # noqa: BLE001 - the previous values keep serving; the next question retries
            log.warning("could not look up %s's values for data version %s", dataset, data_version, exc_info=True)
        finally:
            with self._lock:
                self._refreshing.discard((dataset, data_version))

    def _load(self, dataset: str, data_version: Any) -> Vocabulary:
        key = (dataset, data_version)
        with self._lock:
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:                      # one lookup per version; the others wait and reuse it
            try:
                with self._lock:
                    found = self._cache.get(dataset)
                if found is not None and found[0] == data_version:
                    return found[1]
                vocab = self._built_for(dataset, data_version)
                with self._lock:
                    current = self._cache.get(dataset)
                    if current is None or not _newer(current[0], data_version):
                        self._cache[dataset] = (data_version, vocab)   # one version per dataset
                return vocab
            finally:
                with self._lock:
                    if self._loading.get(key) is loading:
                        del self._loading[key]

    def _built_for(self, dataset: str, data_version: Any) -> Vocabulary:
        """The vocabulary of the values and days ``data_version`` has: the last one built when they are
        the same (order aside: DISTINCT has none), else a new one with its speller and value index."""
        values, days = self._values(dataset, data_version), self._date_range(dataset, data_version)
        read = (sorted((d, sorted(v)) for d, v in values.items()), days)
        with self._lock:
            built = self._built.get(dataset)
        if built is not None and built[0] == read:
            return built[1]
        vocab = build_vocabulary(dataset, open_values=values, date_range=days)
        vocab.speller, vocab.value_index   # built here, not by the first question needing them  # noqa: B018
        with self._lock:
            self._built[dataset] = (read, vocab)
        return vocab

    def _date_range(self, dataset: str, data_version: Any) -> tuple[date, date] | None:
        """The first and last day the dataset has rows for (None before the first load)."""
        if data_version is None:
            return None
        model = load_dataset(dataset).semantic
        column = exp.column(model.time_dimension.date_column)
        query = exp.select(exp.func("MIN", column), exp.func("MAX", column)).from_(exp.table_(model.table, db=dataset))
        rows = self._runner_for(dataset).query(query.sql(dialect="duckdb"), []).rows
        first, last = rows[0] if rows else (None, None)
        return (_day(first), _day(last)) if first is not None and last is not None else None

    def _values(self, dataset: str, data_version: Any) -> dict[str, list[str]]:
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
        return values


def _newer(kept: Any, loaded: Any) -> bool:
    """Whether the kept version is already past the one just loaded (a slow lookup finishing late)."""
    return isinstance(kept, int) and isinstance(loaded, int) and kept > loaded


def _day(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value
