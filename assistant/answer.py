"""The answer object and the one-sentence answer written from a result table.

The sentence states the numbers and the resolved dates ("... between 2024-03-01 and 2024-03-31");
money is rounded to cents in the sentence only: ``rows`` keep the unrounded values the warehouse
returned (as JSON numbers: Decimal -> float, dates -> ISO strings).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from assistant.intent import DISTINCT_PREFIX, Filter, Intent, TimeWindow
from warehouse.spec import load_dataset

Status = Literal["answered", "clarify", "refused", "error"]
Tier = Literal["cache_l1", "cache_l2", "semantic", "metadata", "llm"]

METRIC_LABELS = {"aov": "average order value", "avg_discount": "average discount",
                 "cancellation_rate": "cancellation rate", "cancelled_orders": "cancelled orders",
                 "days_to_ship": "average days to ship", "order_lines": "order lines"}
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_LISTED = 5


@dataclass(frozen=True)
class Answer:
    status: Status
    answer: str
    question: str = ""
    dataset: str = ""
    as_of: str | None = None
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[Any, ...], ...] = ()
    sql: str | None = None
    params: tuple[Any, ...] = ()
    tier: Tier | None = None
    interpretation: dict[str, Any] | None = None
    source: str | None = None
    latency_ms: float = 0.0
    llm_calls: int = 0
    cost_usd: float = 0.0
    bytes_read: int = 0
    rows_read: int = 0
    data_version: int | None = None
    chart: dict[str, Any] | None = None
    answer_id: str = ""
    suggestions: tuple[str, ...] = ()
    error: str | None = None
    neighbour: str | None = None        # the remembered question a semantic answer re-used

    def to_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it deep-copies every leaf, which cost ~5 ms per cached HTTP answer.
        data = {name: _copied(getattr(self, name)) for name in self.__dataclass_fields__}
        data["columns"] = list(self.columns)
        data["rows"] = [list(r) for r in self.rows]
        data["params"] = [jsonable(p) for p in self.params]
        data["suggestions"] = list(self.suggestions)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["columns"] = tuple(known.get("columns", ()))
        known["rows"] = tuple(tuple(r) for r in known.get("rows", ()))
        known["params"] = tuple(known.get("params", ()))
        known["suggestions"] = tuple(known.get("suggestions", ()))
        return cls(**known)

    def with_(self, **changes: Any) -> Answer:
        return replace(self, **changes)


def _copied(value: Any) -> Any:
    """``value`` with its dicts, lists, tuples and sets copied (as ``asdict`` would); other leaves shared.

    Leaves of an answer are str, numbers, None, bool, dates and Decimals: immutable, so sharing them
    is safe, while a caller that edits the returned containers cannot reach into the answer.
    """
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return type(value)(_copied(v) for v in value)
    return value


def jsonable(value: Any) -> Any:
    """A warehouse value as JSON: Decimal -> float (unrounded), dates and timestamps -> ISO text."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def metric_label(name: str) -> str:
    if name.startswith(DISTINCT_PREFIX):
        return "distinct " + name[len(DISTINCT_PREFIX):].replace("_", " ") + " values"
    return METRIC_LABELS.get(name, name.replace("_", " "))


def metric_format(dataset: str, name: str) -> str:
    metrics = load_dataset(dataset).semantic.metrics
    return metrics[name].format if name in metrics else "integer"


def fmt(value: Any, kind: str) -> str:
    """A number as the sentence shows it: money to cents, counts with separators, shares in %."""
    if value is None:
        return "n/a"
    if isinstance(value, str):
        return value
    number = float(value)
    if kind == "currency":
        return ("-" if number < 0 else "") + f"${abs(number):,.2f}"
    if kind == "integer":
        return f"{number:,.0f}"
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


def _verb(metric: str) -> str:
    label = metric_label(metric)
    return "were" if label.endswith("s") and not label.endswith("ss") else "was"


def plural(dimension: str) -> str:
    word = dimension.replace("_", " ")
    if word.endswith("y"):
        return word[:-1] + "ies"
    return word if word.endswith("s") else word + "s"


def _join(items: list[str], word: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


def _key(value: Any, column: str) -> str:
    if column == "day_of_week" and isinstance(value, (int, float)) and 1 <= int(value) <= 7:
        return _WEEKDAYS[int(value) - 1]
    return str(jsonable(value))


def sentence(intent: Intent, columns: tuple[str, ...], rows: tuple[tuple[Any, ...], ...]) -> str:
    """One plain sentence with the numbers and the resolved dates."""
    op = intent.operation
    when = time_phrase(intent.time)
    where = filter_phrase(intent.filters)
    m = intent.metrics[0]
    kind = metric_format(intent.dataset, m)
    label = metric_label(m)
    if not rows:
        return f"No data matched: {label}{where} {when} has no rows."
    col = {c: i for i, c in enumerate(columns)}
    if op == "total":
        values = [f"{metric_label(x)} {_verb(x)} {fmt(rows[0][col[x]], metric_format(intent.dataset, x))}"
                  for x in intent.metrics]
        if len(values) == 1:
            text = f"{label}{where} {when} {_verb(m)} {fmt(rows[0][col[m]], kind)}"
        else:
            text = f"{_join(values)}{where} {when}"
        return f"{text[0].upper()}{text[1:]}."
    if op in ("compare_periods", "growth"):
        return _compare_periods(intent, columns, rows, where)
    keys = [c for c in columns if c not in intent.metrics and c not in ("share",)]
    listed = [f"{', '.join(_key(r[col[k]], k) for k in keys)} {fmt(r[col[m]], kind)}" for r in rows[:MAX_LISTED]]
    more = f" (and {len(rows) - MAX_LISTED} more)" if len(rows) > MAX_LISTED else ""
    by = " and ".join(k.replace("_", " ") for k in keys)
    many = " and ".join(plural(k) for k in keys)
    if op == "share":
        focus = [f for f in intent.filters if f.dimension in intent.dimensions and not f.negate]
        if focus and len(rows) <= MAX_LISTED:
            others = filter_phrase(tuple(f for f in intent.filters if f not in focus))
            parts = [f"{_key(r[0], columns[0])} accounted for {fmt(r[col['share']], 'percent')} of {label} "
                     f"({fmt(r[col[m]], kind)})" for r in rows]
            return f"{'; '.join(parts)}{others} {when}."
        parts = [f"{', '.join(_key(r[col[k]], k) for k in intent.dimensions)} {fmt(r[col['share']], 'percent')} "
                 f"({fmt(r[col[m]], kind)})" for r in rows[:MAX_LISTED]]
        return f"Share of {label} by {by}{where} {when}: {'; '.join(parts)}{more}."
    if op == "compare_values":
        return _compare_values(intent, columns, rows, where, when)
    if op == "distribution":
        parts = [f"{bucket_label(r[0], r[1], intent.dimensions[0])}: {fmt(r[2], 'integer')}" for r in rows]
        return (f"{label[0].upper()}{label[1:]} by {intent.dimensions[0].replace('_', ' ')}{where} {when}: "
                f"{'; '.join(parts)}.")
    if op == "trend":
        values = [r[col[m]] for r in rows if r[col[m]] is not None]
        peak = max(rows, key=lambda r: float(r[col[m]] or 0))
        grain = (intent.grain or "").replace("_", " ")
        return (f"{label[0].upper()}{label[1:]} by {grain}{where} {when}: {len(rows)} points, from "
                f"{fmt(values[0] if values else None, kind)} ({_key(rows[0][0], columns[0])}) to "
                f"{fmt(values[-1] if values else None, kind)} ({_key(rows[-1][0], columns[0])}); highest "
                f"{fmt(peak[col[m]], kind)} ({_key(peak[0], columns[0])}).")
    if op == "top_n":
        word = "Top" if intent.order == "desc" else "Bottom"
        head = f"{word} {intent.top_n} {many}" if (intent.top_n or 1) > 1 else f"{word} {by}"
        return f"{head} by {label}{where} {when}: {'; '.join(listed)}."
    return f"{label[0].upper()}{label[1:]} by {by}{where} {when}: {'; '.join(listed)}{more}."


def bucket_label(start: Any, end: Any, measure: str) -> str:
    if measure == "discount":
        low = f"{float(start) * 100:.0f}%"
        return f"{low} to {float(end) * 100:.0f}%" if end is not None else f"{low} or more"
    if measure == "order_value":
        return f"${float(start):,.0f} to ${float(end):,.0f}" if end is not None else f"${float(start):,.0f} or more"
    return str(jsonable(start))


def _change(current: Any, other: Any, kind: str) -> str:
    if current is None or other is None:
        return "no change can be computed"
    diff = float(current) - float(other)
    direction = "up" if diff > 0 else "down" if diff < 0 else "unchanged"
    if direction == "unchanged":
        return "unchanged"
    amount = fmt(abs(diff), kind) if kind != "percent" else f"{abs(diff) * 100:.2f} points"
    pct = f", {diff / float(other) * 100:+.2f}%" if float(other) != 0 and kind != "percent" else ""
    return f"{direction} {amount}{pct}"


def _compare_periods(intent: Intent, columns: tuple[str, ...], rows: tuple[tuple[Any, ...], ...], where: str) -> str:
    assert intent.time is not None and intent.compare_time is not None
    col = {c: i for i, c in enumerate(columns)}
    parts = []
    for row in rows[:MAX_LISTED]:
        head = ", ".join(_key(row[col[d]], d) for d in intent.dimensions)
        for m in intent.metrics:
            kind = metric_format(intent.dataset, m)
            cur, other = row[col[m]], row[col[f"{m}_compare"]]
            parts.append(f"{head + ' ' if head else ''}{metric_label(m)} was {fmt(cur, kind)} "
                         f"{time_phrase(intent.time)} vs {fmt(other, kind)} {time_phrase(intent.compare_time)}: "
                         f"{_change(cur, other, kind)}")
    text = "; ".join(parts)
    more = f" (and {len(rows) - MAX_LISTED} more)" if len(rows) > MAX_LISTED else ""
    return f"{text[0].upper()}{text[1:]}{where}{more}."


def _compare_values(intent: Intent, columns: tuple[str, ...], rows: tuple[tuple[Any, ...], ...],
                    where: str, when: str) -> str:
    dim = intent.dimensions[0]
    m = intent.metrics[0]
    kind = metric_format(intent.dataset, m)
    col = {c: i for i, c in enumerate(columns)}
    by_value = {str(r[col[dim]]): r[col[m]] for r in rows}
    wanted = next((f.values for f in intent.filters if f.dimension == dim and not f.negate), tuple(by_value))
    values = [(v, by_value.get(v)) for v in wanted]
    listed = " vs ".join(f"{v} {fmt(x if x is not None else 0, kind)}" for v, x in values)
    tail = ""
    if len(values) == 2:
        (a, x), (b, y) = values
        tail = f": {a} is {_change(x or 0, y or 0, kind)} on {b}"
    others = filter_phrase(tuple(f for f in intent.filters if f.dimension != dim))
    return f"{metric_label(m)[0].upper()}{metric_label(m)[1:]}{others} {when}: {listed}{tail}."
