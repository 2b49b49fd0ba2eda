"""Dataset specs: the physical contract (`dataset.yaml`) and the semantic model (`semantic.yaml`).

Each dataset is a folder: the project's under ``warehouse/datasets/``, a user's under
``RETAIL_HOME/datasets/`` (``warehouse.dataset_folders``). Loading validates every key and every
reference (metric filters, view dimensions, hierarchy levels), so a typo fails at load time with a
message that names the key, the file and the fix, instead of surfacing as a wrong number later.
"""

from __future__ import annotations

from functools import cached_property, lru_cache
from pathlib import Path
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
import sqlglot
from sqlglot import exp
import yaml

from retail_insights.errors import ConfigError, UsageError, did_you_mean
from warehouse.dataset_folders import PROJECT_DATASETS_DIR, dataset_folder, dataset_folders
from warehouse.expressions import CompiledColumn, Step, compile_columns

DATASETS_DIR = PROJECT_DATASETS_DIR  # the project's datasets; a user's live elsewhere (dataset_folders)

ColumnType = str  # string | int32 | int64 | date | timestamp | decimal(p,s) | list<string>
_TYPE_RE = re.compile(r"^(string|int32|int64|double|date|timestamp|bool|decimal\(\d+,\d+\)|list<string>)$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceColumn(_Strict):
    name: str
    type: ColumnType
    header: str | None = None
    required: bool = False
    allowed: tuple[str, ...] | None = None
    default: str | None = None
    default_from: str | None = None

    @model_validator(mode="after")
    def _known_type(self) -> SourceColumn:
        if not _TYPE_RE.match(self.type):
            raise ValueError(
                f"column {self.name!r} has unknown type {self.type!r}; use one of string, int32, int64, "
                "double, date, timestamp, bool, decimal(p,s), list<string>"
            )
        return self


class Source(_Strict):
    formats: tuple[Literal["csv", "jsonl", "parquet"], ...]
    columns: tuple[SourceColumn, ...]


class Fix(_Strict):
    """A source column replaced by an expression over the row (``state`` -> its USPS code)."""

    column: str
    expr: str = Field(description="DuckDB SQL over the typed source columns (warehouse.expressions)")
    rule: str | None = None


class Derived(_Strict):
    name: str
    type: ColumnType
    rule: str
    expr: str | None = Field(None, description="DuckDB SQL over the source columns and earlier ones")
    filled_by: Literal["validation"] | None = Field(None, description="'validation': the warning codes")

    @model_validator(mode="after")
    def _one_origin(self) -> Derived:
        if (self.expr is None) == (self.filled_by is None):
            raise ValueError(f"derived column {self.name!r} needs exactly one of expr (an SQL expression) "
                             "and filled_by: validation (the warning codes)")
        return self


class TableSpec(_Strict):
    kind: Literal["silver", "quarantine"]
    description: str


class DimensionTable(_Strict):
    """A table the fact refers to by key (item, store...): ingested from its own files, unpartitioned."""

    description: str
    files: str = Field(description="glob of the file names it is read from ('item*.csv')")
    source: Source
    key: tuple[str, ...]
    validation_suite: str
    fixes: tuple[Fix, ...] = ()
    derived: tuple[Derived, ...] = ()


class DatasetSpec(_Strict):
    name: str
    description: str
    files: str | None = Field(None, description="glob of the fact's file names when a folder holds several tables")
    source: Source
    key: tuple[str, ...]
    dedupe_order: str | None
    time_column: str
    partitioning: tuple[str, ...]
    clustering: tuple[str, ...]
    validation_suite: str
    fixes: tuple[Fix, ...] = ()
    derived: tuple[Derived, ...]
    lineage: tuple[str, ...]
    tables: dict[str, TableSpec]
    dimension_tables: dict[str, DimensionTable] = {}
    references: dict[str, str] = Field({}, description="fact column -> the dimension table whose key it holds; "
                                       "the transform fills <column>__unknown for the suite to check")

    def table_spec(self, table: str | None) -> DatasetSpec:
        """The spec one ingest of ``table`` follows: the fact's own (None), or a dimension table's
        (unpartitioned, deduplicated by its key, with its own quarantine ``<table>_quarantine``)."""
        if table is None or table == self.silver_table:
            return self
        if table not in self.dimension_tables:
            raise UsageError(f"dataset {self.name!r} has no table {table!r}.",
                             hint=did_you_mean(table, [self.silver_table, *self.dimension_tables]))
        dim = self.dimension_tables[table]
        return DatasetSpec(
            name=self.name, description=dim.description, files=dim.files, source=dim.source, key=dim.key,
            dedupe_order=None, time_column=dim.key[0], partitioning=(), clustering=(),
            validation_suite=dim.validation_suite, fixes=dim.fixes, derived=dim.derived, lineage=self.lineage,
            tables={table: TableSpec(kind="silver", description=dim.description),
                    f"{table}_quarantine": TableSpec(kind="quarantine", description=f"Rows of {table} that "
                                                     "broke a critical rule.")},
        )

    @property
    def quarantine_table(self) -> str:
        return next(name for name, t in self.tables.items() if t.kind == "quarantine")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.source.columns) + tuple(d.name for d in self.derived)

    @property
    def column_types(self) -> dict[str, str]:
        """Each source and derived column's declared type."""
        return {c.name: c.type for c in self.source.columns} | {d.name: d.type for d in self.derived}

    @property
    def silver_table(self) -> str:
        return next(name for name, t in self.tables.items() if t.kind == "silver")

    def expression_steps(self, where: Path | str = "dataset.yaml") -> tuple[Step, ...]:
        """Fixes, then derived columns with an expression, in declared order."""
        types = {c.name: c.type for c in self.source.columns}
        steps = [Step(f.column, types.get(f.column, "string"), f.expr, str(where)) for f in self.fixes]
        return (*steps, *(Step(d.name, d.type, d.expr, str(where)) for d in self.derived if d.expr is not None))

    @cached_property
    def compiled_columns(self) -> tuple[CompiledColumn, ...]:
        """Every fixed or derived column as an expression over the source columns (once per spec)."""
        return compile_columns({c.name: c.type for c in self.source.columns}, self.expression_steps())

    def column(self, name: str) -> SourceColumn:
        for col in self.source.columns:
            if col.name == name:
                return col
        raise ConfigError(f"dataset {self.name!r} has no source column {name!r}.",
                          hint=did_you_mean(name, [c.name for c in self.source.columns]))


class Metric(_Strict):
    synonyms: tuple[str, ...] = ()
    verbs: tuple[str, ...] = Field((), description="everyday words for it that yield to a named metric "
                                   "('sold' in 'units sold')")
    patterns: tuple[str, ...] = Field((), description="regular expressions for longer wordings "
                                      "('how long ... to ship')")
    label: str | None = Field(None, description="how answers name it; default: the name with spaces")
    base: str = Field(description="aggregate over base-table rows")
    additive: str | None = Field(None, description="aggregate over view measures; None = base table only")
    filter: str | None = None
    format: Literal["currency", "integer", "percent", "number"] = "number"
    duration: bool = Field(False, description="a span of time: the slowest is the largest, the fastest the smallest")
    also_money: tuple[str, ...] = Field((), description="synonyms of a count that are also the money ('receipts'): "
                                        "asked as an amount ('total receipts', 'how much ... in receipts') they clarify")

    @property
    def summable(self) -> bool:
        """A plain SUM(...) or COUNT(*): "average <it>" is it per row entity."""
        text = " ".join(self.base.split()).upper()
        return bool(re.fullmatch(r"SUM\([A-Z_]+\)|COUNT\(\*\)", text))

    @property
    def divisible(self) -> bool:
        """A plain sum or count, distinct or not: "<it> per customer" divides it by the customers."""
        text = " ".join(self.base.split()).upper()
        return self.summable or bool(re.fullmatch(r"COUNT\(DISTINCT [A-Z_]+\)", text))


class Dimension(_Strict):
    column: str
    synonyms: tuple[str, ...] = ()
    values: tuple[str, ...] | None = None
    values_from: Literal["geo.states", "geo.state_names"] | None = None
    aliases: dict[str, str] = Field({}, description="everyday word -> stored value ('web' -> 'Online')")
    open: bool = Field(False, description="values are looked up from the data (cities, products, customers)")
    any_case: bool = Field(False, description="one-word looked-up values match in any case (sub-categories)")
    one_member_per_name: bool = Field(False, description="a value names one member wherever it sits in its "
                                                          "hierarchy (a brand sold in several classes), unlike a "
                                                          "city name in several states: no need to say which")


class Entity(_Strict):
    """Something people count and divide by: "per order", "orders above $250", "customers who ..."."""

    key: str = Field(description="the column that identifies one")
    count: str = Field(description="the metric that counts them")
    words: tuple[str, ...]
    per_row: bool = Field(False, description="one base-table row is one of these")
    label: str | None = Field(None, description="how answers and prompts name one; default: the entity's name")


class Bucketing(_Strict):
    """A measure people split into ranges: "order values under $50, $50-250 and over $250"."""

    words: tuple[str, ...]
    column: str | None = Field(None, description="a row-level column to bucket")
    metric: str | None = Field(None, description="...or a summable metric totalled per `entity` first")
    entity: str | None = None
    count: str = Field(description="the metric counted in each bucket")
    edges: tuple[float, ...] | None = Field(None, description="default bucket starts; None = one per value")
    format: Literal["currency", "integer", "percent", "number"] = "number"


class Condition(_Strict):
    """An adjective that keeps members or rows by a metric: "unprofitable" = profit < 0."""

    words: tuple[str, ...]
    metric: str
    op: Literal["<", "<=", ">", ">="]
    value: float


class Rewrite(_Strict):
    """A metric read with a filter that means another metric ("cancelled orders" -> cancelled_orders)."""

    metric: str
    filter: dict[str, str]
    becomes: str
    as_rate: str | None = Field(None, description="the metric when the question asks for a rate or share")


class Language(_Strict):
    """How people talk about this dataset, beyond metric and dimension names (see docs/semantics.md)."""

    default_metric: str = Field(description="the metric of a question that names none ('how did Texas do')")
    count_metric: str = Field(description="what 'most common', 'most popular', 'busiest' count")
    quantity_metric: str = Field(description="what 'how many ... did we sell' counts (units)")
    person_dimension: str | None = Field(None, description="the dimension 'who' asks about")
    row_entity: str = Field(description="the entity one base-table row is (order, order line)")
    entities: dict[str, Entity] = {}
    buckets: dict[str, Bucketing] = {}
    conditions: dict[str, Condition] = {}
    rewrites: tuple[Rewrite, ...] = ()


class TimeDimension(_Strict):
    column: str
    date_column: str
    other_dates: dict[str, str] = {}
    grains: tuple[Literal["hour", "day", "week", "month", "quarter", "year", "day_of_week"], ...]
    # The month a fiscal year starts in, when the data says so; only 1 (the calendar year) is read, so
    # "FY2001" is 2001. Unset: a fiscal year is unknown and such a question clarifies.
    fiscal_year_start_month: Literal[1] | None = None


Grain = Literal["hour", "day", "month", "quarter", "year", "all"]
# Coarsest first. "quarter" (partitioned by year) and "all" (one all-time period, unpartitioned) are
# exact views' grains only: rollups derive additive views from months and years.
GRAIN_RANK: dict[str, int] = {"all": -1, "year": 0, "quarter": 1, "month": 2, "day": 3, "hour": 4}
EXACT_GRAINS = ("all", "quarter")


class View(_Strict):
    """One gold view: ``view_columns.measures`` summed per period of ``grain`` and per dimensions.

    ``dimensions`` defaults to ``view_columns.dimensions`` (the full views); a rollup view names a
    subset. ``metrics`` defaults to every metric whose additive form and row filter the view's
    columns hold. Both are filled in at load time, so a loaded view always has them.

    An ``exact`` view also holds ``view_columns.distinct`` (distinct counts, which no sum of rows
    gives) and is computed straight from silver at its own grain and dimensions. It answers only a
    question whose every answer group is one of its rows: the same grain (one period of it, or
    grouped by it), each of its dimensions grouped or pinned to one value. Its ``metrics`` are those
    whose every aggregate is one of its columns (``exact_form``).
    """

    grain: Grain
    table: str
    dimensions: tuple[str, ...] | None = None
    metrics: tuple[str, ...] | None = None
    exact: bool = Field(False, description="holds the distinct counts too; answers only its own grain and "
                                           "dimensions (see the class doc)")

    @property
    def dims(self) -> tuple[str, ...]:
        assert self.dimensions is not None, "views are resolved when the dataset loads"
        return self.dimensions

    @property
    def answers(self) -> tuple[str, ...]:
        assert self.metrics is not None, "views are resolved when the dataset loads"
        return self.metrics


class ViewColumns(_Strict):
    dimensions: tuple[str, ...]
    measures: dict[str, str]
    distinct: dict[str, str] = Field({}, description="distinct counts ('COUNT(DISTINCT key)') only exact views "
                                                     "hold: never summed across rows")


class LogicalTable(_Strict):
    """A dimension table questions may join to the fact (Cortex Analyst's logical table)."""

    table: str = Field(description="one of dataset.yaml's dimension_tables")
    key: str = Field(description="its key column; every relationship to it ends there")


class Relationship(_Strict):
    """Many-to-one: each fact row's ``column`` names at most one row of ``table`` (by its key)."""

    column: str = Field(description="the fact's foreign-key column")
    table: str = Field(description="the logical table it refers to")


class SemanticModel(_Strict):
    table: str
    tables: dict[str, LogicalTable] = Field({}, description="dimension tables, joined when a question needs them")
    relationships: tuple[Relationship, ...] = ()
    time_dimension: TimeDimension
    filters: dict[str, str]
    metrics: dict[str, Metric]
    dimensions: dict[str, Dimension]
    hierarchies: dict[str, tuple[str, ...]]
    views: dict[str, View]
    view_columns: ViewColumns
    language: Language
    examples: tuple[str, ...] = ()

    def label(self, metric: str) -> str:
        known = self.metrics.get(metric)
        return (known.label if known is not None and known.label else None) or metric.replace("_", " ")

    def column_of(self, dimension: str) -> tuple[str | None, str]:
        """(logical table or None for the fact, column) of a dimension: ``item.i_brand`` -> (item, i_brand)."""
        table, _, column = self.dimension(dimension).column.rpartition(".")
        return table or None, column

    def relationship(self, table: str) -> Relationship:
        """How the fact joins ``table`` (exactly one relationship per logical table)."""
        found = [r for r in self.relationships if r.table == table]
        if len(found) != 1:
            raise ConfigError(f"the semantic model has {len(found)} relationships to table {table!r}.",
                              hint="Fix: declare exactly one relationship per logical table.")
        return found[0]

    def metric(self, name: str) -> Metric:
        if name not in self.metrics:
            raise UsageError(f"unknown metric {name!r}.", hint=did_you_mean(name, self.metrics))
        return self.metrics[name]

    def dimension(self, name: str) -> Dimension:
        if name not in self.dimensions:
            raise UsageError(f"unknown dimension {name!r}.", hint=did_you_mean(name, self.dimensions))
        return self.dimensions[name]

    def view_answers(self, metric: str) -> bool:
        return self.metric(metric).additive is not None

    def views_by_grain(self) -> list[tuple[str, View]]:
        """Views from the coarsest grain to the finest; within a grain, full views first; exact
        views last (their rows do not sum).

        Full views (every ``view_columns`` dimension) lead their grain, so the first view holds
        every view dimension. To route a question, use ``views_by_size``.
        """
        full = set(self.view_columns.dimensions)

        def key(item: tuple[str, View]) -> tuple[bool, int, bool]:
            return item[1].exact, GRAIN_RANK[item[1].grain], not full <= set(item[1].dims)

        return sorted(self.views.items(), key=key)

    def views_by_size(self) -> list[tuple[str, View]]:
        """Views in their declared order, smallest first: the first that can answer is the one to use."""
        return list(self.views.items())


class Dataset(_Strict):
    spec: DatasetSpec
    semantic: SemanticModel
    folder: Path


def _format_error(err: ValidationError, path: Path, model: type[BaseModel]) -> str:
    first = err.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(top level)"
    if first["type"] == "extra_forbidden":
        key = str(first["loc"][-1])
        parent = _model_at(model, first["loc"][:-1])
        allowed = ", ".join(parent.model_fields) if parent else "see warehouse/spec.py"
        return (f"{path}: unknown key {key!r} at {where}. Allowed keys there: {allowed}. "
                "Fix: remove it or correct its spelling.")
    if first["type"] == "missing":
        return f"{path}: missing required key {where!r}. Fix: add it (see the other datasets for examples)."
    return f"{path}: bad value at {where}: {first['msg']}. Fix: correct the value."


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    current: Any = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        field = current.model_fields.get(str(part)) if isinstance(current, type) else None
        if field is None:  # a dict key such as a metric name
            continue
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        candidates = [a for a in (annotation, *args) if isinstance(a, type) and issubclass(a, BaseModel)]
        current = candidates[0] if candidates else None
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _read(path: Path, model: type[BaseModel]) -> Any:
    if not path.exists():
        raise ConfigError(f"spec file {path} does not exist.", hint="Fix: create it or check the dataset name.")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc}).", hint="Fix: correct the YAML syntax.") from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_error(exc, path, model)) from None


def _check_references(spec: DatasetSpec, sem: SemanticModel, folder: Path) -> None:
    columns = set(spec.column_names)
    where = folder / "semantic.yaml"

    def bad(kind: str, name: str, value: str, allowed: Any) -> ConfigError:
        return ConfigError(f"{where}: {kind} {name!r} refers to unknown {value!r}.",
                           hint=did_you_mean(value, allowed) + " Fix: use one of those names.")

    for name, metric in sem.metrics.items():
        if metric.filter is not None and metric.filter not in sem.filters:
            raise bad("metric", name, metric.filter, sem.filters)
    joined = _check_tables(spec, sem, bad)
    for name, dim in sem.dimensions.items():
        table, _, column = dim.column.rpartition(".")
        allowed = joined[table] if table in joined else columns
        if table and table not in joined:
            raise bad("dimension", name, table, sem.tables)
        if column not in allowed:
            raise bad("dimension", name, dim.column, [f"{table}.{c}" if table else c for c in allowed])
    for name, levels in sem.hierarchies.items():
        for level in levels:
            if level not in sem.dimensions and level not in sem.time_dimension.grains:
                raise bad("hierarchy", name, level, [*sem.dimensions, *sem.time_dimension.grains])
    for dim in sem.view_columns.dimensions:
        if dim not in sem.dimensions:
            raise bad("view_columns", "dimensions", dim, sem.dimensions)
    _check_language(sem, columns, bad)
    for col in (*spec.key, *spec.partitioning, *spec.clustering, spec.time_column):
        if col not in columns:
            raise ConfigError(f"{folder / 'dataset.yaml'}: key/partitioning/clustering column {col!r} is not a "
                              "source or derived column.", hint=did_you_mean(col, columns))
    if sem.table not in spec.tables:
        raise bad("semantic model", "table", sem.table, spec.tables)
    _check_expressions(spec, folder / "dataset.yaml")
    _check_dimension_tables(spec, folder / "dataset.yaml")


def _check_dimension_tables(spec: DatasetSpec, where: Path) -> None:
    for column, table in spec.references.items():
        if column not in spec.column_names:
            raise ConfigError(f"{where}: reference of unknown column {column!r}.",
                              hint=did_you_mean(column, spec.column_names) + " Fix: use a fact column.")
        if table not in spec.dimension_tables:
            raise ConfigError(f"{where}: column {column!r} refers to unknown table {table!r}.",
                              hint=did_you_mean(table, spec.dimension_tables) + " Fix: use a dimension table.")
    for table in spec.dimension_tables:
        _check_expressions(spec.table_spec(table), where)


def _check_expressions(spec: DatasetSpec, where: Path) -> None:
    sources = {c.name for c in spec.source.columns}
    for fix in spec.fixes:
        if fix.column not in sources:
            raise ConfigError(f"{where}: fix of unknown source column {fix.column!r}.",
                              hint=did_you_mean(fix.column, sources) + " Fix: fix a source column, or derive a new one.")
    compile_columns({c.name: c.type for c in spec.source.columns}, spec.expression_steps(where))


def _check_tables(spec: DatasetSpec, sem: SemanticModel, bad: Any) -> dict[str, set[str]]:
    """Logical tables and relationships; returns each logical table's columns."""
    joined: dict[str, set[str]] = {}
    fact = set(spec.column_names)
    for name, logical in sem.tables.items():
        if logical.table not in spec.dimension_tables:
            raise bad("logical table", name, logical.table, spec.dimension_tables)
        columns = set(spec.table_spec(logical.table).column_names)
        if logical.key not in columns:
            raise bad("logical table", name, logical.key, columns)
        joined[name] = columns
    for rel in sem.relationships:
        if rel.table not in sem.tables:
            raise bad("relationship of", rel.column, rel.table, sem.tables)
        if rel.column not in fact:
            raise bad("relationship to", rel.table, rel.column, fact)
    for name in sem.tables:
        sem.relationship(name)
    return joined


def _check_language(sem: SemanticModel, columns: set[str], bad: Any) -> None:
    lang = sem.language
    for key, name in (("default_metric", lang.default_metric), ("count_metric", lang.count_metric),
                      ("quantity_metric", lang.quantity_metric)):
        if name not in sem.metrics:
            raise bad("language", key, name, sem.metrics)
    if lang.person_dimension is not None and lang.person_dimension not in sem.dimensions:
        raise bad("language", "person_dimension", lang.person_dimension, sem.dimensions)
    if lang.row_entity not in lang.entities:
        raise bad("language", "row_entity", lang.row_entity, lang.entities)
    for name, entity in lang.entities.items():
        if entity.key not in columns:
            raise bad("entity", name, entity.key, columns)
        if entity.count not in sem.metrics:
            raise bad("entity", name, entity.count, sem.metrics)
    for name, bucket in lang.buckets.items():
        if (bucket.column is None) == (bucket.metric is None):
            raise ConfigError(f"bucketing {name!r} needs exactly one of column and metric.",
                              hint="Fix: bucket a row column, or a metric totalled per entity.")
        if bucket.column is not None and bucket.column not in columns:
            raise bad("bucketing", name, bucket.column, columns)
        for ref, allowed in ((bucket.metric, sem.metrics), (bucket.count, sem.metrics), (bucket.entity, lang.entities)):
            if ref is not None and ref not in allowed:
                raise bad("bucketing", name, ref, allowed)
    for name, cond in lang.conditions.items():
        if cond.metric not in sem.metrics:
            raise bad("condition", name, cond.metric, sem.metrics)
    for rewrite in lang.rewrites:
        for ref in (rewrite.metric, rewrite.becomes, rewrite.as_rate):
            if ref is not None and ref not in sem.metrics:
                raise bad("rewrite of", rewrite.metric, ref, sem.metrics)
        for dim in rewrite.filter:
            if dim not in sem.dimensions:
                raise bad("rewrite of", rewrite.metric, dim, sem.dimensions)
    for name, dim in sem.dimensions.items():
        for word, value in dim.aliases.items():
            if dim.values is not None and value not in dim.values:
                raise bad(f"alias {word!r} of dimension", name, value, dim.values)


def _metric_columns(sem: SemanticModel, name: str) -> set[str]:
    """Columns a metric reads over a view: its additive form's and its row filter's."""
    metric = sem.metrics[name]
    texts = [metric.additive or "", sem.filters.get(metric.filter or "", "")]
    return {
        column.name
        for text in texts
        if text
        for column in sqlglot.parse_one(text, read="duckdb").find_all(exp.Column)
    }


def _canonical(node: exp.Expression) -> str:
    return node.sql(dialect="duckdb", normalize=True, identify=False).lower()


def exact_form(sem: SemanticModel, metric: str) -> str | None:
    """A metric over an exact view: each aggregate of its base replaced by the SUM of the view
    column that holds that aggregate (one view row per answer group, so the SUM is that row's value:
    ``SUM(x) / COUNT(DISTINCT t)`` -> ``SUM(sales) / SUM(tickets)``). None when an aggregate has no
    column, or the metric keeps a row filter (view rows are not filtered rows)."""
    m = sem.metrics[metric]
    if m.filter is not None:
        return None
    columns = {**sem.view_columns.measures, **sem.view_columns.distinct}
    held = {_canonical(sqlglot.parse_one(text, read="duckdb")): name for name, text in columns.items()}
    tree = sqlglot.parse_one(m.base, read="duckdb")
    for aggregate in list(tree.find_all(exp.AggFunc)):
        name = held.get(_canonical(aggregate))
        if name is None:
            return None
        summed = exp.func("SUM", exp.column(name))
        if aggregate is tree:
            return summed.sql(dialect="duckdb")
        aggregate.replace(summed)
    return tree.sql(dialect="duckdb")


def _exact_answers(sem: SemanticModel, name: str, view: View, where: Path) -> tuple[str, ...]:
    """The metrics an exact view answers: every one whose aggregates its columns hold."""
    if view.metrics is not None:
        raise ConfigError(f"{where}: exact view {name!r} lists metrics.",
                          hint="Fix: drop `metrics`; an exact view answers every metric its columns hold.")
    return tuple(m for m in sem.metrics if exact_form(sem, m) is not None)


def resolve_views(spec: DatasetSpec, sem: SemanticModel, *, where: Path) -> SemanticModel:
    """The model with every view's dimensions and answerable metrics filled in and checked.

    Views are tried in declared order, so a view that an earlier one fully covers (grain as fine
    or finer, every dimension, every metric) could never be chosen: that is an error too.
    """
    names = {spec.silver_table, *spec.tables}
    resolved: dict[str, View] = {}
    for name, view in sem.views.items():
        dims = view.dimensions if view.dimensions is not None else sem.view_columns.dimensions
        for dim in dims:
            if dim not in sem.dimensions:
                raise ConfigError(
                    f"{where}: view {name!r} has unknown dimension {dim!r}.",
                    hint=did_you_mean(dim, sem.dimensions) + " Fix: use declared dimensions.",
                )
        if len(set(dims)) != len(dims):
            raise ConfigError(f"{where}: view {name!r} lists a dimension twice: {list(dims)}.",
                              hint="Fix: list each dimension once.")
        columns = {*dims, *sem.view_columns.measures}
        if not view.exact and view.grain in EXACT_GRAINS:
            raise ConfigError(f"{where}: view {name!r} has grain {view.grain!r} but is not exact.",
                              hint="Fix: add `exact: true` (computed straight from silver), or give it the "
                                   "grain hour, day, month or year.")
        answerable = _exact_answers(sem, name, view, where) if view.exact else tuple(
            m for m in sem.metrics if sem.metrics[m].additive is not None and _metric_columns(sem, m) <= columns)
        for metric in view.metrics or ():
            if metric not in sem.metrics:
                raise ConfigError(f"{where}: view {name!r} lists unknown metric {metric!r}.",
                                  hint=did_you_mean(metric, sem.metrics) + " Fix: use declared metrics.")
            if metric not in answerable:
                needs = sorted(_metric_columns(sem, metric) - columns) or ["an additive form"]
                raise ConfigError(
                    f"{where}: view {name!r} cannot answer metric {metric!r}: it lacks {needs}.",
                    hint=f"It answers {list(answerable)}. Fix: drop the metric or add the dimension.",
                )
        if view.table in names:
            raise ConfigError(f"{where}: view {name!r} reuses the table name {view.table!r}.",
                              hint="Fix: give every view its own table.")
        names.add(view.table)
        resolved[name] = view.model_copy(
            update={"dimensions": tuple(dims),
                    "metrics": view.metrics if view.metrics is not None else answerable})
    _check_shadowing(resolved, where)
    return sem.model_copy(update={"views": resolved})


def _check_shadowing(views: dict[str, View], where: Path) -> None:
    seen: list[tuple[str, View]] = []
    for name, view in views.items():
        if view.exact:      # answers other questions than the additive views: never shadows one
            continue
        for earlier_name, earlier in seen:
            if (GRAIN_RANK[earlier.grain] >= GRAIN_RANK[view.grain]
                    and set(view.dims) <= set(earlier.dims) and set(view.answers) <= set(earlier.answers)):
                raise ConfigError(
                    f"{where}: view {name!r} would never be chosen: {earlier_name!r}, listed before "
                    "it, answers every question it can.",
                    hint="Fix: list views smallest first (the router takes the first that answers).",
                )
        seen.append((name, view))


def load_dataset_from(folder: Path) -> Dataset:
    """Load and cross-check one dataset folder (``dataset.yaml`` + ``semantic.yaml``)."""
    spec = _read(folder / "dataset.yaml", DatasetSpec)
    semantic = _read(folder / "semantic.yaml", SemanticModel)
    _check_references(spec, semantic, folder)
    semantic = resolve_views(spec, semantic, where=folder / "semantic.yaml")
    return Dataset(spec=spec, semantic=semantic, folder=folder)


def dataset_names() -> list[str]:
    return sorted(dataset_folders())


def load_dataset(name: str) -> Dataset:
    """The dataset registered under ``name``; an unknown name says which ones exist.

    Loaded once per folder and file version: an edited user dataset is read again.
    """
    folder = dataset_folder(name)
    if folder.parent == DATASETS_DIR:  # shipped with the code: never edited while it runs
        return _load_cached(folder, ())
    stamps = tuple((folder / f).stat().st_mtime_ns if (folder / f).exists() else 0
                   for f in ("dataset.yaml", "semantic.yaml"))
    return _load_cached(folder, stamps)


@lru_cache(maxsize=64)
def _load_cached(folder: Path, stamps: tuple[int, ...]) -> Dataset:
    return load_dataset_from(folder)

