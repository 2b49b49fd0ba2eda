"""Which table answers an intent: the smallest view that can, else the base table.

A view can answer when every metric has an ``additive`` form, every dimension and filter is one of
``view_columns.dimensions``, the time windows are whole periods of the view's grain (a month view
cannot answer "last 7 days"), the question's time grain is at least the view's, and the dates are
order dates (views bucket the order time). Views are tried from the coarsest grain to the finest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from assistant.intent import DISTINCT_PREFIX, Intent, TimeWindow
from assistant.periods import is_month_end, is_month_start
from warehouse.spec import SemanticModel

_GRAIN_RANK = {"year": 0, "month": 1, "day": 2, "hour": 3}
# The finest view grain each question grain needs.
_NEEDS = {"year": "year", "quarter": "month", "month": "month", "week": "day", "day": "day",
          "day_of_week": "day", "hour": "hour"}


@dataclass(frozen=True)
class Source:
    table: str                # physical table name in the dataset's schema
    kind: str                 # "view" or "base"
    grain: str | None         # the view's grain; None for the base table


def _window_grain(window: TimeWindow) -> str:
    """Coarsest grain whose whole periods make up the window."""
    if window.start.month == 1 and window.start.day == 1 and window.end.month == 12 and window.end.day == 31:
        return "year"
    if is_month_start(window.start) and is_month_end(window.end):
        return "month"
    return "day"


def choose_source(intent: Intent, model: SemanticModel) -> Source:
    base = Source(model.table, "base", None)
    if intent.operation == "distribution":
        return base
    for metric in intent.metrics:
        if metric.startswith(DISTINCT_PREFIX) or model.metrics[metric].additive is None:
            return base
    view_dims = set(model.view_columns.dimensions)
    used = set(intent.dimensions) | {f.dimension for f in intent.filters}
    if not used <= view_dims:
        return base
    windows = [w for w in (intent.time, intent.compare_time) if w is not None]
    if any(w.column != model.time_dimension.date_column for w in windows):
        return base
    needed = [_window_grain(w) for w in windows]
    if intent.grain is not None:
        needed.append(_NEEDS[intent.grain])
    finest = max(needed, key=_GRAIN_RANK.__getitem__, default="year")
    for _, view in model.views_by_grain():
        if _GRAIN_RANK[view.grain] >= _GRAIN_RANK[finest]:
            return Source(view.table, "view", view.grain)
    return base


def exclusive_end(window: TimeWindow) -> date:
    """The day after the window: filters are half-open so they work on dates and timestamps alike."""
    return window.end + timedelta(days=1)
