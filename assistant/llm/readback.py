"""Read the model's work back against the question before it answers: a wrong intent is a confident wrong number.

The rules tier could not finish the question, but it did read parts of it (``Route.understood`` and the
slots: metrics, members, periods, numbers, amounts). A model's reply must agree with those parts and
add nothing the question does not say:

- ``intent_disagreements(intent, route)``: every metric, member filter, condition, period and number
  the rules read is in the intent; every member, dimension, period and threshold the intent adds is
  named in the question (a dimension by one of its words, a member by its value, a period by a date
  or a relative-time word, a number by its digits);
- ``sql_disagreements(sql, route)``: the SQL path's query names every member value and period year
  the rules read, and every threshold amount.

A disagreement hands the question on (intent -> SQL, SQL -> one repair round, then clarify), never to
an answer. Both checks are about the question's own words, not a dataset's: the words come from the
semantic model through the router.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from assistant.measures import PER
from assistant.vocabulary import closed_vocabulary
from warehouse.spec import load_dataset

if TYPE_CHECKING:
    from assistant.amounts import Amount
    from assistant.intent import Intent, TimeWindow
    from assistant.router import Route

_RELATIVE_TIME = re.compile(r"\b(?:last|this|past|previous|prior|recent|ytd|mtd|qtd|to\s+date|so\s+far|since|"
                            r"ago|current|latest|yesterday|today|before|after|same)\b", re.I)
_NUMBER = re.compile(r"(?<![\w.])(?P<n>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?P<k>k|m|mm|bn)?(?![\w.])", re.I)
_SCALE = {"k": 1e3, "m": 1e6, "mm": 1e6, "bn": 1e9}
_GRAIN_WORDS = {"hour": ("hour",), "day": ("day", "daily"), "week": ("week",), "month": ("month",),
                "quarter": ("quarter", "q[1-4]\\b", "qtr"), "year": ("year", "annual"),
                "day_of_week": ("weekday", "day of (?:the )?week", "monday", "tuesday", "wednesday", "thursday",
                                "friday", "saturday", "sunday", "weekend")}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def intent_disagreements(intent: Intent, route: Route) -> list[str]:
    """What ``intent`` leaves out of the rules' reading of the question, or adds to it (empty: they agree)."""
    text, understood = route.question.lower(), route.understood
    problems: list[str] = []
    used = _metric_parts(intent)
    problems += [f"the question names {m}, the model's reading does not" for m in understood.metrics if m not in used]
    for f in understood.filters:
        if not any(g.dimension == f.dimension and g.negate == f.negate and set(f.values) <= set(g.values)
                   for g in intent.filters):
            problems.append(f"the question {'excludes' if f.negate else 'names'} {f.dimension} "
                            f"{', '.join(f.values)}, the model's reading does not")
    read = {f.dimension: set(f.values) for f in understood.filters}
    for g in intent.filters:
        extra = [v for v in g.values if v not in read.get(g.dimension, ()) and not _said(v, text)]
        if extra:
            problems.append(f"the model filters on {g.dimension} {', '.join(extra)}, which the question does not name")
    grounded = {*understood.dimensions, *read}
    words = closed_vocabulary(intent.dataset).dimension_words
    for dim in intent.dimensions:
        if dim not in grounded and not any(_said(w, text) for w in (dim, *words.get(dim, ()))) \
                and not _bucket_said(intent.dataset, dim, text):
            problems.append(f"the model splits by {dim}, which the question does not ask for")
    covered = {*intent.dimensions, *(g.dimension for g in intent.filters)}
    problems += [f"the question splits by {d}, the model's reading does not" for d in understood.dimensions
                 if d not in covered]
    if {"rank_desc", "rank_asc"} & set(understood.cues) and intent.operation not in ("top_n", "breakdown", "share"):
        problems.append("the question ranks, the model's reading does not")   # "which stretch ... gave the biggest"
    problems += _period_problems(intent, route, text)
    if intent.grain is not None and intent.grain != understood.grain \
            and not any(re.search(rf"\b{w}", text) for w in _GRAIN_WORDS.get(intent.grain, (intent.grain,))):
        problems.append(f"the model splits by {intent.grain.replace('_', ' ')}, which the question does not ask for")
    problems += _number_problems(intent, route)
    for c in understood.conditions:
        if not any(k.metric == c.metric and k.op == c.op and abs(k.value - c.value) < 1e-9 for k in intent.conditions):
            problems.append(f"the question asks for {c.metric} {c.op} {c.value:g}, the model's reading does not")
    return problems


def sql_disagreements(sql: str, route: Route) -> list[str]:
    """Member values, period years and threshold amounts the rules read that ``sql`` never mentions."""
    lower, understood = sql.lower(), route.understood
    problems = [f"the query does not use {v!r}, which the question names" for f in understood.filters
                for v in f.values if v.lower() not in lower]
    years = {y for w in understood.time for y in range(w.start.year, w.end.year + 1)}
    if years and not any(str(y) in lower for y in years):
        problems.append(f"the query does not restrict the period the question names ({_periods(understood.time)})")
    for amount in _amounts(route):
        ends = [e for e in (amount.low, amount.high) if e is not None]
        if ends and not any(_number_in(e, lower) for e in ends):
            problems.append(f"the query does not use the amount {' to '.join(f'{e:g}' for e in ends)} the question "
                            "names")
    return problems


# --- intent helpers ---------------------------------------------------------------------------------

def _metric_parts(intent: Intent) -> set[str]:
    """Every metric an intent measures, with the parts of its ratios and the counts of their entities."""
    entities = load_dataset(intent.dataset).semantic.language.entities
    names = {*intent.metrics, *(c.metric for c in intent.conditions)}
    out = set(names)
    for name in names:
        if PER in name:
            metric, entity = name.split(PER, 1)
            out.add(metric)
            if entity in entities:
                out.add(entities[entity].count)
    for c in intent.conditions:
        if c.level in entities:
            out.add(entities[c.level].count)
    return out


def _said(phrase: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase.lower())}(?!\w)", text) is not None


def _bucket_said(dataset: str, dim: str, text: str) -> bool:
    """A distribution ("order values") is asked for by its own words, or by amounts named in the question."""
    buckets = load_dataset(dataset).semantic.language.buckets
    bucket = buckets.get(dim)
    return bucket is not None and any(_said(w, text) for w in (dim.replace("_", " "), *bucket.words))


def _period_problems(intent: Intent, route: Route, text: str) -> list[str]:
    windows = [w for w in (intent.time, intent.compare_time) if w is not None]
    read = list(route.understood.time)
    if not read:
        if windows and not (_RELATIVE_TIME.search(text) or re.search(r"\b(?:19|20)\d\d\b", text)
                            or any(m in text for m in _MONTHS) or re.search(r"\bq[1-4]\b", text)):
            return [f"the model restricts the period to {_periods(windows)}, which the question does not name"]
        return []
    columns = {w.column for w in read}
    problems = [f"the model dates the rows by {w.column}, the question by {', '.join(sorted(columns))}"
                for w in windows if w.column not in columns]
    first, last = min(w.start for w in read), max(w.end for w in read)
    problems += [f"the model's period {_periods([w])} lies outside the question's ({_periods(read)})"
                 for w in windows if w.start < first or w.end > last]
    problems += [f"the question's period {_periods([u])} is not in the model's reading" for u in read
                 if not any(w.start <= u.end and u.start <= w.end for w in windows)]
    return problems


def _number_problems(intent: Intent, route: Route) -> list[str]:
    said = _numbers(route)
    ends = [e for a in _amounts(route) for e in (a.low, a.high) if e is not None]
    problems = []
    if intent.top_n is not None and intent.top_n > 1 and intent.top_n not in said:
        problems.append(f"the model keeps the top {intent.top_n}, a number the question does not give")
    for c in intent.conditions:
        if not any(_close(c.value, n) for n in (*said, *ends)):
            problems.append(f"the model's threshold {c.value:g} is not a number of the question")
    used = [*(c.value for c in intent.conditions), *(intent.buckets or ()), *([intent.top_n] if intent.top_n else [])]
    for n in dict.fromkeys((*said, *ends)):
        if not any(_close(u, n) for u in used):
            problems.append(f"the question's number {n:g} is not in the model's reading")
    return problems


def _numbers(route: Route) -> list[float]:
    """Numbers the question says outside its periods: "top 5", "topped 50,000", "over 2.5k"."""
    text = route.question
    times = [(s.start, s.end) for s in route.slots if s.kind == "time"]
    out: list[float] = []
    for m in _NUMBER.finditer(text):
        if any(a <= m.start() < b for a, b in times):
            continue
        value = float(m.group("n").replace(",", "")) * _SCALE.get((m.group("k") or "").lower(), 1)
        out.append(value)
    out += [float(s.value) for s in route.slots if s.kind == "number" and isinstance(s.value, int)
            and not any(a <= s.start < b for a, b in times)]
    return list(dict.fromkeys(out))


def _amounts(route: Route) -> list[Amount]:
    from assistant.amounts import Amount

    return [s.value for s in route.slots if s.kind == "amount" and isinstance(s.value, Amount)]


def _close(value: float, said: float) -> bool:
    """The same number, or the same share written as a percentage ("5%" -> 0.05)."""
    return abs(value - said) < 1e-9 or abs(value * 100 - said) < 1e-6


def _number_in(value: float, sql: str) -> bool:
    forms = {f"{value:g}", str(int(value)) if value == int(value) else f"{value}"}
    return any(re.search(rf"(?<![\d.]){re.escape(f)}(?![\d])", sql) for f in forms)


def _periods(windows: list[TimeWindow] | tuple[TimeWindow, ...]) -> str:
    return ", ".join(f"{w.start.isoformat()} to {w.end.isoformat()}" for w in windows)
