"""Rephrasings offered with a ``clarify`` answer, built from what the router did understand.

A missing metric gets the same question with the dataset's main metrics; unknown words get the
understood part alone plus the dataset's own example questions. Suggestions only ever name metrics,
dimensions and values the dataset has, so following one leads to an answer.
"""

from __future__ import annotations

from typing import Any

from assistant.router import Route
from warehouse.spec import load_dataset

MAX_SUGGESTIONS = 3


def _phrase(metric: str, understood: dict[str, Any]) -> str:
    words = [metric.replace("_", " ")]
    for f in understood.get("filters") or []:
        values = " and ".join(f["values"][:3])
        words.append(f"excluding {values}" if f.get("negate") else f"for {values}")
    dims = understood.get("dimensions") or []
    if dims:
        words.append("by " + " and ".join(d.replace("_", " ") for d in dims))
    times = understood.get("time") or []
    if times:
        words.append(f"in {times[0]['label']}" if times[0]["label"][:1].isdigit() or times[0]["label"][:1].isupper()
                     else times[0]["label"])
    text = " ".join(words)
    return text[0].upper() + text[1:]


def suggestions_for(route: Route, *, dataset: str) -> tuple[str, ...]:
    model = load_dataset(dataset).semantic
    understood = dict(route.understood)
    out: list[str] = []
    main = [m for m in model.metrics if model.metrics[m].format in ("currency", "integer")][:2]
    if "metric" in route.missing or not understood.get("metrics"):
        out += [_phrase(m, understood) for m in main]
    elif understood.get("metrics"):
        out.append(_phrase(understood["metrics"][0], understood))
    for example in model.examples:
        if len(out) >= MAX_SUGGESTIONS:
            break
        if example not in out:
            out.append(example)
    return tuple(dict.fromkeys(out))[:MAX_SUGGESTIONS]
