"""The structured meaning of a question: what to measure, how to slice it, over which dates.

An ``Intent`` is what the router produces, what the compiler turns into SQL and what the caches key
on. It holds only canonical names (semantic-model metrics and dimensions, stored values), so two
questions that mean the same thing get the same ``canonical_key()``.

Beyond the semantic model's own names:
- metrics may be ``distinct_<dimension>`` or ``<metric>_per_<entity>`` (see ``assistant.measures``);
- for ``operation="distribution"`` the one entry in ``dimensions`` is one of the model's
  ``language.buckets`` (order value, discount...), and ``buckets`` holds the bucket starts when the
  question named its own ("under $50, $50-250 and over $250");
- ``conditions`` keep groups ("unprofitable states": profit < 0 per state, ``level="group"``) or
  entities ("orders above $250": each order's revenue > 250, ``level="order"``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from functools import cached_property
import json
from typing import Any, Literal

Operation = Literal["total", "breakdown", "top_n", "compare_periods", "compare_values", "growth",
                    "trend", "share", "distribution"]
OPERATIONS: tuple[str, ...] = ("total", "breakdown", "top_n", "compare_periods", "compare_values", "growth",
                               "trend", "share", "distribution")
Grain = Literal["hour", "day", "week", "month", "quarter", "year", "day_of_week"]
GRAINS: tuple[str, ...] = ("hour", "day", "week", "month", "quarter", "year", "day_of_week")
Comparison = Literal["<", "<=", ">", ">="]
RankBy = Literal["value", "change", "pct_change"]


@dataclass(frozen=True)
class TimeWindow:
    start: date            # inclusive
    end: date              # inclusive
    label: str             # e.g. "March 2024", "last 7 days"
    column: str = "order_date"   # or "ship_date" when the question names the ship date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def describe(self) -> str:
        """The resolved dates as an answer states them."""
        if self.start == self.end:
            return f"on {self.start.isoformat()}"
        return f"between {self.start.isoformat()} and {self.end.isoformat()}"


@dataclass(frozen=True)
class Filter:
    dimension: str         # semantic-model dimension name, e.g. "state"
    values: tuple[str, ...]  # canonical stored values, e.g. ("CA", "OR", "WA")
    negate: bool = False


@dataclass(frozen=True)
class Condition:
    metric: str            # a metric name (its aggregate decides, per group or per entity)
    op: Comparison
    value: float
    level: str = "group"   # "group": each member of the breakdown; else an entity ("order", "line")


@dataclass(frozen=True)
class Intent:
    dataset: str
    metrics: tuple[str, ...]
    operation: Operation
    dimensions: tuple[str, ...] = ()
    filters: tuple[Filter, ...] = ()
    time: TimeWindow | None = None
    compare_time: TimeWindow | None = None   # the other period for compare/growth
    grain: str | None = None                # trend grain: hour/day/week/month/quarter/year/day_of_week
    top_n: int | None = None
    order: Literal["desc", "asc"] = "desc"
    conditions: tuple[Condition, ...] = ()
    buckets: tuple[float, ...] | None = None  # distribution: bucket starts named in the question
    change: bool = False                      # trend: each period's change against the one before
    rank_by: RankBy = "value"                 # top_n over two periods: by the change, or its percent
    average_over: str | None = None           # total: per day/week/month... of the window ("average daily sales")

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (dates as ISO strings); the interpretation shown with an answer."""
        return _jsonable(asdict(self))

    def canonical_key(self) -> str:
        """Stable JSON with sorted keys; labels are dropped so only the meaning counts.

        Filters are sorted by dimension and their values sorted, because "CA or WA" and "WA or CA"
        ask the same thing; metric and dimension order is kept because it shapes the result table.
        Computed once per intent (intents are immutable; a served question's intent is asked for it
        on every request).
        """
        return self._canonical_key

    @cached_property
    def _canonical_key(self) -> str:   # not a field: equality and hashing ignore it
        data = self.to_dict()
        for key in ("time", "compare_time"):
            if data[key] is not None:
                data[key].pop("label", None)
        data["filters"] = sorted(
            ({"dimension": f["dimension"], "values": sorted(f["values"]), "negate": f["negate"]}
             for f in data["filters"]),
            key=lambda f: (f["dimension"], f["negate"], f["values"]),
        )
        return json.dumps(data, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Intent:
        """Inverse of ``to_dict`` (used by caches and the semantic index to restore a template)."""
        def window(raw: dict[str, Any] | None) -> TimeWindow | None:
            if raw is None:
                return None
            return TimeWindow(start=date.fromisoformat(raw["start"]), end=date.fromisoformat(raw["end"]),
                              label=raw.get("label", ""), column=raw.get("column", "order_date"))

        return cls(
            dataset=data["dataset"],
            metrics=tuple(data["metrics"]),
            operation=data["operation"],
            dimensions=tuple(data.get("dimensions", ())),
            filters=tuple(Filter(f["dimension"], tuple(f["values"]), bool(f.get("negate", False)))
                          for f in data.get("filters", ())),
            time=window(data.get("time")),
            compare_time=window(data.get("compare_time")),
            grain=data.get("grain"),
            top_n=data.get("top_n"),
            order=data.get("order", "desc"),
            conditions=tuple(Condition(c["metric"], c["op"], float(c["value"]), c.get("level", "group"))
                             for c in data.get("conditions", ())),
            buckets=tuple(float(b) for b in data["buckets"]) if data.get("buckets") is not None else None,
            change=bool(data.get("change", False)),
            rank_by=data.get("rank_by", "value"),
            average_over=data.get("average_over"),
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value
