"""Dataset specs: the physical contract (`dataset.yaml`) and the semantic model (`semantic.yaml`).

Each dataset is a folder under ``warehouse/datasets/``. Loading validates every key and every
reference (metric filters, view dimensions, hierarchy levels), so a typo fails at load time with a
message that names the key, the file and the fix, instead of surfacing as a wrong number later.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
import yaml

from retail_insights.errors import ConfigError, UsageError, did_you_mean

DATASETS_DIR = Path(__file__).parent / "datasets"

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


class Derived(_Strict):
    name: str
    type: ColumnType
    rule: str


class TableSpec(_Strict):
    kind: Literal["silver", "quarantine"]
    description: str


class DatasetSpec(_Strict):
    name: str
    description: str
    source: Source
    key: tuple[str, ...]
    dedupe_order: str | None
    time_column: str
    partitioning: tuple[str, ...]
    clustering: tuple[str, ...]
    validation_suite: str
    derived: tuple[Derived, ...]
    lineage: tuple[str, ...]
    tables: dict[str, TableSpec]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.source.columns) + tuple(d.name for d in self.derived)

    @property
    def silver_table(self) -> str:
        return next(name for name, t in self.tables.items() if t.kind == "silver")

    def column(self, name: str) -> SourceColumn:
        for col in self.source.columns:
            if col.name == name:
                return col
        raise ConfigError(f"dataset {self.name!r} has no source column {name!r}.",
                          hint=did_you_mean(name, [c.name for c in self.source.columns]))


class Metric(_Strict):
    synonyms: tuple[str, ...] = ()
    base: str = Field(description="aggregate over base-table rows")
    additive: str | None = Field(None, description="aggregate over view measures; None = base table only")
    filter: str | None = None
    format: Literal["currency", "integer", "percent", "number"] = "number"


class Dimension(_Strict):
    column: str
    synonyms: tuple[str, ...] = ()
    values: tuple[str, ...] | None = None
    values_from: Literal["geo.states", "geo.state_names"] | None = None


class TimeDimension(_Strict):
    column: str
    date_column: str
    other_dates: dict[str, str] = {}
    grains: tuple[Literal["hour", "day", "week", "month", "quarter", "year", "day_of_week"], ...]


class View(_Strict):
    grain: Literal["hour", "day", "month", "year"]
    table: str


class ViewColumns(_Strict):
    dimensions: tuple[str, ...]
    measures: dict[str, str]


class SemanticModel(_Strict):
    table: str
    time_dimension: TimeDimension
    filters: dict[str, str]
    metrics: dict[str, Metric]
    dimensions: dict[str, Dimension]
    hierarchies: dict[str, tuple[str, ...]]
    views: dict[str, View]
    view_columns: ViewColumns
    examples: tuple[str, ...] = ()

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
        """Views from the coarsest grain to the finest: the first that fits is the smallest."""
        order = {"year": 0, "month": 1, "day": 2, "hour": 3}
        return sorted(self.views.items(), key=lambda item: order[item[1].grain])


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
    for name, dim in sem.dimensions.items():
        if dim.column not in columns:
            raise bad("dimension", name, dim.column, columns)
    for name, levels in sem.hierarchies.items():
        for level in levels:
            if level not in sem.dimensions and level not in sem.time_dimension.grains:
                raise bad("hierarchy", name, level, [*sem.dimensions, *sem.time_dimension.grains])
    for dim in sem.view_columns.dimensions:
        if dim not in sem.dimensions:
            raise bad("view_columns", "dimensions", dim, sem.dimensions)
    for col in (*spec.key, *spec.partitioning, *spec.clustering, spec.time_column):
        if col not in columns:
            raise ConfigError(f"{folder / 'dataset.yaml'}: key/partitioning/clustering column {col!r} is not a "
                              "source or derived column.", hint=did_you_mean(col, columns))
    if sem.table not in spec.tables:
        raise bad("semantic model", "table", sem.table, spec.tables)


def load_dataset_from(folder: Path) -> Dataset:
    """Load and cross-check one dataset folder (``dataset.yaml`` + ``semantic.yaml``)."""
    spec = _read(folder / "dataset.yaml", DatasetSpec)
    semantic = _read(folder / "semantic.yaml", SemanticModel)
    _check_references(spec, semantic, folder)
    return Dataset(spec=spec, semantic=semantic, folder=folder)


def dataset_names() -> list[str]:
    return sorted(p.name for p in DATASETS_DIR.iterdir() if (p / "dataset.yaml").exists())


@lru_cache(maxsize=None)
def load_dataset(name: str) -> Dataset:
    """The dataset spec registered under ``name``; an unknown name says which ones exist."""
    if name not in dataset_names():
        raise UsageError(f"unknown dataset {name!r}.", hint=did_you_mean(name, dataset_names()))
    return load_dataset_from(DATASETS_DIR / name)
