"""The one-sentence answer written from a result table.

The sentence states the numbers and the resolved dates ("... between 2024-03-01 and 2024-03-31");
money is rounded to cents here only. Comparisons name both values and the change; a top-1 names
the member and its value; a series with changes names each step's change.
"""

from __future__ import annotations

from typing import Any

from assistant.answer import jsonable
from assistant.intent import Condition, Filter, Intent, TimeWindow
from assistant.measures import measure

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_OP_WORDS = {"<": "below", "<=": "at most", ">": "above", ">=": "at least"}
MAX_LISTED = 5
# The lead of a ranking over a change between two periods, by (what ranks it, which end).
RANKED_BY = {("pct_change", "desc"): "Fastest growth", ("pct_change", "asc"): "Slowest growth",
             ("change", "desc"): "Largest gain", ("change", "asc"): "Smallest gain (or largest drop)",
             ("value", "desc"): "Highest value", ("value", "asc"): "Lowest value"}


def metric_label(dataset: str, name: str) -> str:
    return measure(dataset, name).label


def metric_format(dataset: str, name: str) -> str:
    return measure(dataset, name).format


def fmt(value: Any, kind: str) -> str:
    """A number as the sentence shows it: money to cents, counts with separators, shares in %."""
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    number = float(value)
    if kind == "currency":
        return ("-" if number < 0 else "") + f"${abs(number):,.2f}"
    if kind == "integer":   # a count; an average of one ("8.7 orders a day") keeps its fraction
        return f"{number:,.0f}" if number.is_integer() else f"{number:,.2f}"
    if kind == "percent":
        return f"{number * 100:.2f}%"
    return f"{number:,.2f}"


def time_phrase(window: TimeWindow | None) -> str:
    if window is None:
        return "across all dates"
    by = " by ship date" if window.column == "ship_date" else ""
    dates = window.describe()
    label = window.label
    if not label or label in (window.start.isoformat(), f"{window.start.isoformat()} to {window.end.isoformat()}"):
        return f"{dates}{by}"
    return f"{dates} ({label}){by}"


def filter_phrase(filters: tuple[Filter, ...]) -> str:
    parts = []
    for f in filters:
        values = _join(list(f.values), "or" if f.negate else "and")
        dim = f.dimension.replace("_", " ")
        parts.append(f"excluding {dim} {values}" if f.negate else f"for {dim} {values}")
    return (" " + ", ".join(parts)) if parts else ""


def condition_phrase(dataset: str, conditions: tuple[Condition, ...]) -> str:
    from warehouse.spec import load_dataset

    entities = load_dataset(dataset).semantic.language.entities
    parts = []
    for c in conditions:
        kind = metric_format(dataset, c.metric)
        who = "" if c.level == "group" else f"{entities[c.level].label or c.level}s "
        parts.append(f"{who}with {metric_label(dataset, c.metric)} {_OP_WORDS[c.op]} {fmt(c.value, kind)}")
    return (" (" + "; ".join(parts) + ")") if parts else ""


def plural(dimension: str) -> str:
    word = dimension.replace("_", " ")
    if word.endswith("y"):
        return word[:-1] + "ies"
    return word if word.endswith("s") else word + "s"


def _verb(label: str) -> str:
    return "were" if label.endswith("s") and not label.endswith("ss") else "was"


def _join(items: list[str], word: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


def _key(value: Any, column: str) -> str:
    if column == "day_of_week" and isinstance(value, (int, float)) and 1 <= int(value) <= 7:
        return _WEEKDAYS[int(value) - 1]
    return str(jsonable(value))


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def change_phrase(current: Any, other: Any, kind: str) -> str:
    if current is None or other is None:
        return "no change can be computed"
    diff = float(current) - float(other)
    direction = "up" if diff > 0 else "down" if diff < 0 else "unchanged"
    if direction == "unchanged":
        return "unchanged"
    amount = fmt(abs(diff), kind) if kind != "percent" else f"{abs(diff) * 100:.2f} points"
    pct = f", {diff / float(other) * 100:+.2f}%" if float(other) != 0 and kind != "percent" else ""
    return f"{direction} {amount}{pct}"


class _Writer:
    def __init__(self, intent: Intent, columns: tuple[str, ...], rows: tuple[tuple[Any, ...], ...]) -> None:
        self.intent, self.columns, self.rows = intent, columns, rows
        self.col = {c: i for i, c in enumerate(columns)}
        self.m = intent.metrics[0]
        self.kind = metric_format(intent.dataset, self.m)
        self.label = metric_label(intent.dataset, self.m)
        self.when = time_phrase(intent.time)
        self.where = filter_phrase(intent.filters) + condition_phrase(intent.dataset, intent.conditions)

    def value(self, row: tuple[Any, ...], metric: str | None = None) -> str:
        metric = metric or self.m
        return fmt(row[self.col[metric]], metric_format(self.intent.dataset, metric))

    def keys(self) -> list[str]:
        metrics = set(self.intent.metrics)
        return [c for c in self.columns if c not in metrics and c != "share" and not c.endswith(("_change", "_compare"))]

    def listed(self, keys: list[str]) -> tuple[str, str]:
        others = [x for x in self.intent.metrics[1:] if x in self.col]

        def item(r: tuple[Any, ...]) -> str:
            beside = "".join(f", {metric_label(self.intent.dataset, x)} {self.value(r, x)}" for x in others)
            return f"{', '.join(_key(r[self.col[k]], k) for k in keys)} {self.value(r)}{beside}"

        items = [item(r) for r in self.rows[:MAX_LISTED]]
        more = f" (and {len(self.rows) - MAX_LISTED} more)" if len(self.rows) > MAX_LISTED else ""
        return "; ".join(items), more

    def total(self) -> str:
        labels = [(metric_label(self.intent.dataset, x), x) for x in self.intent.metrics]
        if self.intent.average_over:
            labels = [(f"average {label} per {self.intent.average_over}", x) for label, x in labels]
            self.label = labels[0][0]
        if len(labels) == 1:
            return _cap(f"{self.label}{self.where} {self.when} {_verb(self.label)} {self.value(self.rows[0])}.")
        values = [f"{label} {_verb(label)} {self.value(self.rows[0], x)}" for label, x in labels]
        return _cap(f"{_join(values)}{self.where} {self.when}.")

    def breakdown(self) -> str:
        keys = self.keys()
        listed, more = self.listed(keys)
        by = " and ".join(k.replace("_", " ") for k in keys)
        return f"{_cap(self.label)} by {by}{self.where} {self.when}: {listed}{more}."

    def top_n(self) -> str:
        keys = self.keys()
        listed, _ = self.listed(keys)
        word = "Top" if self.intent.order == "desc" else "Bottom"
        n = self.intent.top_n or 1
        names = [self.intent.grain if k == "period" and self.intent.grain else k for k in keys]
        by = " and ".join(k.replace("_", " ") for k in names)
        head = f"{word} {n} {' and '.join(plural(k) for k in names)}" if n > 1 else f"{word} {by}"
        tied = f" ({len(self.rows)} rows: a tie at the cut)" if len(self.rows) > n else ""
        return f"{head} by {self.label}{self.where} {self.when}{tied}: {listed}."

    def trend(self) -> str:
        m, rows = self.m, self.rows
        values = [r[self.col[m]] for r in rows if r[self.col[m]] is not None]
        peak = max(rows, key=lambda r: float(r[self.col[m]] or 0))
        grain = (self.intent.grain or "").replace("_", " ")
        text = (f"{_cap(self.label)} by {grain}{self.where} {self.when}: {len(rows)} point{'' if len(rows) == 1 else 's'}, from "
                f"{fmt(values[0] if values else None, self.kind)} ({_key(rows[0][0], self.columns[0])}) to "
                f"{fmt(values[-1] if values else None, self.kind)} ({_key(rows[-1][0], self.columns[0])}); highest "
                f"{fmt(peak[self.col[m]], self.kind)} ({_key(peak[0], self.columns[0])})")
        if not self.intent.change:
            return text + "."
        steps = []
        for before, row in zip(rows, rows[1:]):
            if row[self.col[f"{m}_change"]] is not None and not self.intent.dimensions:
                steps.append(f"{_key(row[0], self.columns[0])} {change_phrase(row[self.col[m]], before[self.col[m]], self.kind)}")
        return text + (f". Change on the {grain} before: {'; '.join(steps[:MAX_LISTED * 2])}." if steps else ".")

    def share(self) -> str:
        intent, m = self.intent, self.m
        focus = [f for f in intent.filters if f.dimension in intent.dimensions and not f.negate]
        if focus and len(self.rows) <= MAX_LISTED:
            others = filter_phrase(tuple(f for f in intent.filters if f not in focus))
            parts = [f"{_key(r[0], self.columns[0])} accounted for {fmt(r[self.col['share']], 'percent')} of "
                     f"{self.label} ({self.value(r)})" for r in self.rows]
            return f"{'; '.join(parts)}{others} {self.when}."
        parts = [f"{', '.join(_key(r[self.col[k]], k) for k in intent.dimensions)} {fmt(r[self.col['share']], 'percent')} "
                 f"({self.value(r)})" for r in self.rows[:MAX_LISTED]]
        more = f" (and {len(self.rows) - MAX_LISTED} more)" if len(self.rows) > MAX_LISTED else ""
        by = " and ".join(d.replace("_", " ") for d in intent.dimensions)
        top = f", the {'bottom' if intent.order == 'asc' else 'top'} {intent.top_n}" if intent.top_n else ""
        return f"Share of {self.label} by {by}{top}{self.where} {self.when}: {'; '.join(parts)}{more}."

    def compare_periods(self) -> str:
        intent = self.intent
        assert intent.time is not None and intent.compare_time is not None
        parts = []
        for row in self.rows[:MAX_LISTED]:
            head = ", ".join(_key(row[self.col[d]], d) for d in intent.dimensions)
            for m in intent.metrics:
                kind = metric_format(intent.dataset, m)
                cur, other = row[self.col[m]], row[self.col[f"{m}_compare"]]
                parts.append(f"{head + ' ' if head else ''}{metric_label(intent.dataset, m)} was {fmt(cur, kind)} "
                             f"{time_phrase(intent.time)} vs {fmt(other, kind)} {time_phrase(intent.compare_time)}: "
                             f"{change_phrase(cur, other, kind)}")
        more = f" (and {len(self.rows) - MAX_LISTED} more)" if len(self.rows) > MAX_LISTED else ""
        lead = ""
        if intent.operation == "top_n":
            lead = (f"{RANKED_BY[intent.rank_by, intent.order]} in {self.label} by "
                    f"{' and '.join(d.replace('_', ' ') for d in intent.dimensions)}: ")
        return _cap(f"{lead}{'; '.join(parts)}{self.where}{more}.")

    def compare_values(self) -> str:
        intent, m = self.intent, self.m
        dim = intent.dimensions[0]
        by_value = {str(r[self.col[dim]]): r[self.col[m]] for r in self.rows}
        wanted = next((f.values for f in intent.filters if f.dimension == dim and not f.negate), tuple(by_value))
        values = [(v, by_value.get(v)) for v in wanted]
        listed = " vs ".join(f"{v} {fmt(x if x is not None else 0, self.kind)}" for v, x in values)
        tail = ""
        if len(values) == 2:
            (a, x), (b, y) = values
            tail = f": {a} is {change_phrase(x or 0, y or 0, self.kind)} on {b}"
        others = filter_phrase(tuple(f for f in intent.filters if f.dimension != dim))
        return f"{_cap(self.label)}{others} {self.when}: {listed}{tail}."

    def distribution(self) -> str:
        intent = self.intent
        parts = [f"{bucket_label(intent.dataset, r[0], r[1], intent.dimensions[0])}: {fmt(r[2], 'integer')}"
                 for r in self.rows]
        return (f"{_cap(self.label)} by {intent.dimensions[0].replace('_', ' ')}{self.where} {self.when}: "
                f"{'; '.join(parts)}.")


def sentence(intent: Intent, columns: tuple[str, ...], rows: tuple[tuple[Any, ...], ...]) -> str:
    """One plain sentence with the numbers and the resolved dates."""
    writer = _Writer(intent, columns, rows)
    if not rows:
        return f"No data matched: {writer.label}{writer.where} {writer.when} has no rows."
    op = intent.operation
    if op in ("compare_periods", "growth") or (op == "top_n" and intent.compare_time is not None):
        return writer.compare_periods()
    return getattr(writer, op)()


def bucket_label(dataset: str, start: Any, end: Any, name: str) -> str:
    from warehouse.spec import load_dataset

    bucketing = load_dataset(dataset).semantic.language.buckets.get(name)
    kind = bucketing.format if bucketing is not None else "number"
    if kind == "percent":
        low = f"{float(start) * 100:.0f}%"
        return f"{low} to {float(end) * 100:.0f}%" if end is not None else f"{low} or more"
    if kind == "currency":
        return f"${float(start):,.0f} to ${float(end):,.0f}" if end is not None else f"${float(start):,.0f} or more"
    if end is not None and end != start:
        return f"{jsonable(start)} to {jsonable(end)}"
    return str(jsonable(start))
