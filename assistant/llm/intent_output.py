"""The intent path's output: the rules tier's ``Intent`` as a JSON schema whose enums come from the data.

The model's first job is to restate the question as the same intent the rules produce; the compiler
then writes the SQL. The schema pins every name to the semantic model: metrics (the model's own, plus
``distinct_<dimension>`` and ``<metric>_per_<entity>`` where ``assistant.measures`` defines them),
dimensions, operations, grains, and, per dimension, the filter values it may use (a closed
dimension's full list; an open one's only the stored values the router matched in the question).
Dates are ``YYYY-MM-DD`` strings. When the question needs more than an intent can say, the model
answers ``{"fits": false, "missing": "..."}`` and the tier asks for SQL instead.

``intent_output(dataset, values)`` builds the ``schema.Output`` (the JSON schema sent as
``response_format`` and the parser); ``to_intent`` turns a parsed reply into an ``Intent`` or raises
``UnusableIntent`` saying what does not fit (an operation without the fields it needs, a value from
another dimension...), which sends the question to the SQL path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from functools import lru_cache
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, RootModel, create_model

from assistant.errors import AssistantError
from assistant.intent import GRAINS, OPERATIONS, Condition, Filter, Intent, TimeWindow
from assistant.llm.schema import Output, parse_json, validated
from assistant.measures import DISTINCT_PREFIX, known, ratio_name
from warehouse import geo
from warehouse.spec import load_dataset

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
MAX_VALUES = 60


class UnusableIntent(AssistantError, ValueError):
    """The model's intent cannot be compiled as given; the SQL path takes the question."""


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Window(_Closed):
    start: str = Field(pattern=DATE_PATTERN)
    end: str = Field(pattern=DATE_PATTERN)
    column: Literal["order_date", "ship_date"] = "order_date"


class NoFit(_Closed):
    fits: Literal[False]
    missing: str = Field(max_length=200, description="what an intent cannot say about this question")


def metric_names(dataset: str) -> tuple[str, ...]:
    """Every metric name an intent may use in ``dataset``: the model's, ratios per entity, distinct counts."""
    model = load_dataset(dataset).semantic
    names = list(model.metrics)
    counts = {e.count for e in model.language.entities.values()}      # "customers per order" means nothing
    names += [r for m in model.metrics if m not in counts for e in model.language.entities
              if known(dataset, r := ratio_name(m, e))]
    names += [f"{DISTINCT_PREFIX}{d}" for d in model.dimensions if d not in model.language.entities]
    return tuple(dict.fromkeys(names))


def closed_values(dataset: str) -> dict[str, tuple[str, ...]]:
    """The filter values every question may use: each closed dimension's full list."""
    model = load_dataset(dataset).semantic
    out: dict[str, tuple[str, ...]] = {}
    for name, dim in model.dimensions.items():
        values: tuple[str, ...] = tuple(dim.values or ())
        if dim.values_from == "geo.states":
            values = tuple(geo.STATES)
        elif dim.values_from == "geo.state_names":
            values = tuple(s.name for s in geo.STATES.values())
        if values:
            out[name] = values[:MAX_VALUES]
    return out


def intent_output(dataset: str, found: Mapping[str, Sequence[str]] = ()) -> Output:
    """The schema and parser of the intent reply; ``found`` adds open dimensions' values the question matched."""
    values = dict(closed_values(dataset))
    for dim, extra in dict(found).items():
        values[dim] = tuple(dict.fromkeys((*values.get(dim, ()), *extra)))
    key = tuple(sorted((d, tuple(v)) for d, v in values.items()))
    root = _reply_model(dataset, key)
    return Output(name="intent", schema=root.model_json_schema(), strict=False,
                  parse=validated(lambda text: root.model_validate(parse_json(text)).root))


@lru_cache(maxsize=64)
def _reply_model(dataset: str, values: tuple[tuple[str, tuple[str, ...]], ...]) -> type[RootModel[Any]]:
    model = load_dataset(dataset).semantic
    metric = Literal[metric_names(dataset)]  # type: ignore[valid-type]
    dimension = Literal[(*model.dimensions, *model.language.buckets)]  # type: ignore[valid-type]
    filters = [create_model(f"Filter_{dim}", __base__=_Closed, dimension=(Literal[dim], ...),  # type: ignore[valid-type]
                            values=(list[Literal[vals]], Field(min_length=1)),  # type: ignore[valid-type]
                            negate=(bool, ...))
               for dim, vals in values if vals]
    entities = Literal[("group", *model.language.entities)]  # type: ignore[valid-type]
    condition = create_model("Condition", __base__=_Closed, metric=(metric, ...),
                             op=(Literal["<", "<=", ">", ">="], ...), value=(float, ...), level=(entities, ...))
    fit = create_model(
        "Fit", __base__=_Closed,
        fits=(Literal[True], ...),
        operation=(Literal[OPERATIONS], ...),  # type: ignore[valid-type]
        metrics=(list[metric], Field(min_length=1, max_length=4)),
        dimensions=(list[dimension], Field(max_length=3)),
        # Optional from here on, with defaults: a reply names only what the question needs, so a model on
        # two CPU cores writes ~60 tokens instead of ~200 (llama.cpp's grammar lets it leave them out).
        filters=(list[Annotated[Union[tuple(filters)], Field(discriminator="dimension")]]  # type: ignore[misc]
                 if len(filters) > 1 else list[filters[0]] if filters else list[None], Field([], max_length=4)),
        conditions=(list[condition], Field([], max_length=2)),
        time=(Window | None, None),
        compare_time=(Window | None, None),
        grain=(Literal[GRAINS] | None, None),  # type: ignore[valid-type]
        top_n=(int | None, Field(None, ge=1, le=100)),
        order=(Literal["desc", "asc"], "desc"),
        rank_by=(Literal["value", "change", "pct_change"], "value"),
    )
    return RootModel[Annotated[Union[NoFit, fit], Field(discriminator="fits")]]  # type: ignore[valid-type]


def to_intent(reply: Any, *, dataset: str) -> Intent:
    """The ``Intent`` of a parsed fitting reply, or ``UnusableIntent`` naming what is missing or wrong."""
    if not getattr(reply, "fits", False):
        raise UnusableIntent(f"the model said an intent cannot express this: {getattr(reply, 'missing', '')}")
    intent = Intent(
        dataset=dataset, metrics=tuple(dict.fromkeys(reply.metrics)), operation=reply.operation,
        dimensions=tuple(dict.fromkeys(reply.dimensions)),
        filters=tuple(Filter(f.dimension, tuple(dict.fromkeys(f.values)), f.negate) for f in reply.filters),
        time=_window(reply.time, "the period"), compare_time=_window(reply.compare_time, "the other period"),
        grain=reply.grain, top_n=reply.top_n, order=reply.order, rank_by=reply.rank_by,
        conditions=tuple(Condition(c.metric, c.op, float(c.value), c.level) for c in reply.conditions))
    _check_shape(intent)
    return intent


def _window(raw: Window | None, label: str) -> TimeWindow | None:
    if raw is None:
        return None
    try:
        start, end = date.fromisoformat(raw.start), date.fromisoformat(raw.end)
    except ValueError as exc:
        raise UnusableIntent(f"{label} has an impossible date ({exc}).") from None
    if end < start:
        raise UnusableIntent(f"{label} ends ({end}) before it starts ({start}).")
    return TimeWindow(start, end, f"{start.isoformat()} to {end.isoformat()}", raw.column)


def _check_shape(intent: Intent) -> None:
    """The fields each operation needs (the compiler would build a different question without them)."""
    op, dims = intent.operation, intent.dimensions
    buckets = load_dataset(intent.dataset).semantic.language.buckets
    needs: list[str] = []
    if op in ("compare_periods", "growth") and (intent.time is None or intent.compare_time is None):
        needs.append("two periods (time and compare_time)")
    if op == "trend" and intent.grain is None:
        needs.append("a grain")
    if op in ("breakdown", "share", "compare_values") and not dims:
        needs.append("a dimension")
    if op == "top_n" and (intent.top_n is None or not (dims or intent.grain)):
        needs.append("top_n and a dimension")
    if op == "distribution" and (len(dims) != 1 or dims[0] not in buckets):
        needs.append(f"one of the distributions {sorted(buckets)}")
    if op != "distribution" and any(d in buckets for d in dims):
        needs.append("dimensions that are columns, not distributions")
    if op == "share" and len(dims) != 1:
        needs.append("exactly one dimension")
    if needs:
        raise UnusableIntent(f"operation {op!r} needs {', '.join(needs)}.")
