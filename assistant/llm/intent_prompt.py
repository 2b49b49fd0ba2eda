"""The intent path's prompt: the whole semantic model in short, worked examples, then the question.

The system message depends only on the dataset and the as-of date (not on the question), so a local
server that keeps its prompt cache reads it once and then only the short user message per question.
It lists every metric (definition and synonyms), every dimension with its stored values (closed
ones in full), the operations and fields of an intent, when to answer ``fits: false``, and worked
examples built from the dataset's own names (``examples``). The user message holds the as-of date,
the dates and stored values the router already resolved in the question, and the question, fenced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
import json
from typing import TYPE_CHECKING, Any

from assistant.intent import GRAINS
from assistant.llm.intent_output import closed_values
from assistant.llm.prompts import Message, render
from warehouse.spec import SemanticModel, load_dataset

if TYPE_CHECKING:
    from assistant.router import Route


FIELD_ORDER = ("filters", "conditions", "time", "compare_time", "grain", "top_n", "order", "rank_by")


@dataclass(frozen=True)
class Worked:
    question: str
    as_of: str
    reply: str


def intent_messages(question: str, *, dataset: str, as_of: date, route: Route | None = None) -> list[Message]:
    """System and user messages asking for the intent of ``question``."""
    windows, found, hints = (), {}, ""
    if route is not None:
        windows = route.understood.time
        found = {f.dimension: list(f.values) for f in route.understood.filters}
        hints = _hints(route)
    user = render("intent", as_of=as_of.isoformat(), windows=[_window(w) for w in windows], found=found,
                  hints=hints, question=question)
    return [{"role": "system", "content": _system(dataset, as_of)}, {"role": "user", "content": user}]


@lru_cache(maxsize=16)
def _system(dataset: str, as_of: date) -> str:
    model = load_dataset(dataset).semantic
    values = closed_values(dataset)
    metrics = [{"name": name, "definition": _definition(model, name), "synonyms": m.synonyms[:3]}
               for name, m in model.metrics.items()]
    dims = [{"name": name, "synonyms": d.synonyms[:1], "stored": values.get(name, ())}
            for name, d in model.dimensions.items()]
    lang = model.language
    ratios = [f"{lang.default_metric}_per_{e}" for e in lang.entities]
    return render("intent_system", dataset=dataset, grains=GRAINS, buckets=list(lang.buckets), metrics=metrics,
                  dimensions=dims, entities=list(lang.entities), ratios=ratios,
                  row_entity=lang.entities[lang.row_entity].label or lang.row_entity,
                  examples=examples(dataset, as_of))


def _definition(model: SemanticModel, name: str) -> str:
    metric = model.metrics[name]
    where = f" where {model.filters[metric.filter]}" if metric.filter else ""
    return metric.base + where


def _hints(route: Route) -> str:
    """The rules' partial reading: metrics, dimensions and cue words (a small model follows such pointers)."""
    u = route.understood
    parts = [f"metrics {', '.join(u.metrics)}" if u.metrics else "",
             f"dimensions {', '.join(u.dimensions)}" if u.dimensions else "",
             f"grain {u.grain}" if u.grain else "",
             f"numbers {', '.join(str(n) for n in u.numbers)}" if u.numbers else "",
             f"cues {', '.join(c for c in u.cues if c != 'group')}" if any(c != "group" for c in u.cues) else ""]
    return "; ".join(p for p in parts if p)


def _window(w: Any) -> dict[str, str]:
    return {"label": w.label, "start": w.start.isoformat(), "end": w.end.isoformat(), "column": w.column}


def examples(dataset: str, as_of: date) -> list[Worked]:
    """Worked questions and replies in this dataset's own names (metrics, dimensions, values, dates)."""
    model = load_dataset(dataset).semantic
    values = closed_values(dataset)
    lang = model.language
    metric = lang.default_metric
    # a second money metric for the examples (the profit where a dataset has one, as it is listed first)
    profit = next((m for m, spec in model.metrics.items() if m != metric and spec.format == "currency"), metric)
    closed = [d for d in model.dimensions if d in values and d not in ("state", "status")]
    dim, dim2 = closed[0], closed[1]
    value = values[dim][0]
    geo = "state" if "state" in model.dimensions else dim2
    y = as_of.year - 1
    year, prev = _year(y), _year(y - 1)
    q1 = {"start": f"{y}-01-01", "end": f"{y}-03-31"}
    person = next((e for e in lang.entities if e != lang.row_entity and e != "order"), lang.row_entity)
    cases: list[tuple[str, dict[str, Any]]] = [
        (f"{metric} by {dim} in {y}", _fit("breakdown", [metric], [dim], time=year)),
        (f"what share of {metric} came from each {dim2.replace('_', ' ')} in Q1 {y}?",
         _fit("share", [metric], [dim2], time=q1)),
        (f"which 3 {geo}s had the lowest {profit} last year", _fit("top_n", [profit], [geo], time=year, top_n=3,
                                                                  order="asc")),
        (f"how did {metric} for {value} grow from {y - 1} to {y}",
         _fit("growth", [metric], [], time=year, compare_time=prev, filters=[_filter(dim, [value])])),
        (f"monthly {lang.count_metric} in {y}, leaving out {value}",
         _fit("trend", [lang.count_metric], [], time=year, grain="month", filters=[_filter(dim, [value], True)])),
        (f"{dim} that lost money in {y}", _fit("breakdown", [profit], [dim], time=year,
                                               conditions=[{"metric": profit, "op": "<", "value": 0,
                                                            "level": "group"}])),
        (f"average {metric} per {person} by {dim2.replace('_', ' ')} in {y}",
         _fit("breakdown", [f"{metric}_per_{person}"], [dim2], time=year)),
        (f"median {metric} per {person} in {y}",
         {"fits": False, "missing": f"a median of {metric} over {person}s"}),
    ]
    return [Worked(q, as_of.isoformat(), json.dumps(reply, separators=(", ", ": "))) for q, reply in cases]


def _year(y: int) -> dict[str, str]:
    return {"start": f"{y}-01-01", "end": f"{y}-12-31"}


def _filter(dimension: str, values: list[str], negate: bool = False) -> dict[str, Any]:
    return {"dimension": dimension, "values": values, "negate": negate}


def _fit(operation: str, metrics: list[str], dimensions: list[str], **fields: Any) -> dict[str, Any]:
    """A fitting reply as the model should write it: only the fields the question needs (defaults left out)."""
    reply = {"fits": True, "operation": operation, "metrics": metrics, "dimensions": dimensions}
    given = {k: v for k, v in fields.items() if v not in (None, [], "desc", "value")}
    return reply | {k: given[k] for k in FIELD_ORDER if k in given}   # the grammar's order of the fields
