"""What a ``clarify`` answer says: the reason, what was understood, and rephrasings to try.

A missing metric gets the same question with the dataset's main metrics; unknown words get the
understood part alone plus the dataset's own example questions. Suggestions only ever name metrics,
dimensions and values the dataset has, so following one leads to an answer. ``clarification`` is
the one place the text is written (the rules tier and the LLM tier both use it).
"""

from __future__ import annotations

from assistant.router import Route, Understood
from warehouse.spec import load_dataset

MAX_SUGGESTIONS = 3


def clarification(reason: str, understood: Understood, tips: tuple[str, ...]) -> str:
    text = f"I could not answer this without guessing. {reason} I understood {understood.summary()}."
    if tips:
        text += " Try: " + " | ".join(tips)
    return text


def _phrase(dataset: str, metric: str, understood: Understood) -> str:
    model = load_dataset(dataset).semantic
    words = [model.label(metric) if metric in model.metrics else metric.replace("_", " ")]
    for f in understood.filters:
        values = " and ".join(f.values[:3])
        words.append(f"excluding {values}" if f.negate else f"for {values}")
    if understood.dimensions:
        words.append("by " + " and ".join(d.replace("_", " ") for d in understood.dimensions))
    if understood.time:
        label = understood.time[0].label
        words.append(f"in {label}" if label[:1].isdigit() or label[:1].isupper() else label)
    text = " ".join(words)
    return text[0].upper() + text[1:]


def suggestions_for(route: Route, *, dataset: str) -> tuple[str, ...]:
    model = load_dataset(dataset).semantic
    understood = route.understood
    out: list[str] = []
    main = [m for m in model.metrics if model.metrics[m].format in ("currency", "integer")][:2]
    if "metric" in route.missing or not understood.metrics:
        out += [_phrase(dataset, m, understood) for m in main]
    else:
        out.append(_phrase(dataset, understood.metrics[0], understood))
    for example in model.examples:
        if len(out) >= MAX_SUGGESTIONS:
            break
        if example not in out:
            out.append(example)
    return tuple(dict.fromkeys(out))[:MAX_SUGGESTIONS]
