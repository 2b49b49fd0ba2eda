"""Which table answers an intent: the smallest view that can, else the base table.

A view can answer when every metric is one it answers (an additive form over its columns, see
``warehouse.spec.View``), every dimension and filter is one of its dimensions, the time windows are
whole periods of its grain (a month view cannot answer "last 7 days"), the question's time grain is
at least its grain, and the dates are order dates (views bucket the order time). Distributions,
distinct counts, per-entity ratios and entity conditions ("orders above $250") read the base table. Views are tried in
the semantic model's declared order, smallest first (``SemanticModel.views_by_size``), so a rollup
with a few dimensions answers before a full view with all of them.

Distinct counts and ratios of them ("customers by year", "average ticket by category") can read an
exact view (``warehouse.spec.View``) when every answer group is one of its rows: each window exactly
one of its periods, or the question grouped by its grain; each of its dimensions grouped or pinned
to one value; nothing beyond them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from assistant.errors import UnsupportedIntent
from assistant.intent import Intent, TimeWindow
from assistant.measures import measure
from assistant.periods import is_month_end, is_month_start
from warehouse.spec import GRAIN_RANK as _GRAIN_RANK, SemanticModel, View
from warehouse.view_definitions import grain_partitions

DEFAULT_DATE = "order_date"   # a TimeWindow's column when the question names no other date
# The finest view grain each question grain needs.
_NEEDS = {"year": "year", "quarter": "month", "month": "month", "week": "day", "day": "day",
          "day_of_week": "day", "hour": "hour"}


@dataclass(frozen=True)
class Source:
    table: str                # physical table name in the dataset's schema
    kind: str                 # "view" or "base"
    grain: str | None         # the view's grain; None for the base table
    exact: bool = False       # an exact view: metrics read its rows one per answer group


def date_column(model: SemanticModel, window: TimeWindow) -> str:
    """The column a window filters: the one its date names (``other_dates``: the ship date), else the
    model's date column. A window's default column, ``order_date``, means "the default date" whatever
    the dataset calls it (tpcds_store: ``sold_date``)."""
    dates = model.time_dimension
    if window.column in dates.other_dates.values():
        return window.column
    if window.column not in (DEFAULT_DATE, dates.date_column):
        raise UnsupportedIntent(f"this dataset has no {window.column.replace('_', ' ')}.",
                                hint=f"Dates it has: {', '.join([dates.date_column, *dates.other_dates.values()])}.")
    return dates.date_column


def _window_grain(window: TimeWindow) -> str:
    """Coarsest grain whose whole periods make up the window."""
    if window.start.month == 1 and window.start.day == 1 and window.end.month == 12 and window.end.day == 31:
        return "year"
    if is_month_start(window.start) and is_month_end(window.end):
        return "month"
    return "day"


def choose_source(intent: Intent, model: SemanticModel) -> Source:
    base = Source(model.table, "base", None)
    if intent.operation == "distribution" or any(c.level != "group" for c in intent.conditions):
        return base
    metrics = set(intent.metrics) | {c.metric for c in intent.conditions}
    used = set(intent.dimensions) | {f.dimension for f in intent.filters}
    windows = [w for w in (intent.time, intent.compare_time) if w is not None]
    if any(date_column(model, w) != model.time_dimension.date_column for w in windows):
        return base
    needed = [_window_grain(w) for w in windows]
    if intent.grain is not None:
        needed.append(_NEEDS[intent.grain])
    finest = max(needed, key=_GRAIN_RANK.__getitem__, default="year")
    for _, view in model.views_by_size():
        if (not view.exact and _GRAIN_RANK[view.grain] >= _GRAIN_RANK[finest] and used <= set(view.dims)
                and metrics <= set(model.metrics) and metrics <= set(view.answers)):
            return Source(view.table, "view", view.grain)
    for _, view in model.views_by_size():
        if view.exact and _one_row_per_group(intent, view, windows) \
                and all(measure(intent.dataset, m).exact is not None for m in metrics):
            return Source(view.table, "view", view.grain, exact=True)
    return base


def _one_row_per_group(intent: Intent, view: View, windows: list[TimeWindow]) -> bool:
    """Whether each answer group of ``intent`` is exactly one row of the exact ``view``."""
    pinned = {f.dimension for f in intent.filters if not f.negate and len(f.values) == 1}
    grouped = set(intent.dimensions)
    # Every split and filter is on its dimensions, each of which is split or pinned to one member.
    if not grouped | {f.dimension for f in intent.filters} <= set(view.dims) <= grouped | pinned:
        return False
    by_period = intent.grain is not None and intent.operation in ("trend", "top_n") and intent.compare_time is None
    if view.grain == "all":
        return not windows and not by_period
    if by_period:
        return intent.grain == view.grain and all(_GRAIN_RANK[_window_grain(w)] <= _GRAIN_RANK[view.grain]
                                                  for w in windows)
    return bool(windows) and all(_one_period(w, view.grain) for w in windows)


def _one_period(window: TimeWindow, grain: str) -> bool:
    start, end = window.start, window.end
    if grain == "day":
        return start == end
    if grain in ("month", "quarter"):
        months = 1 if grain == "month" else 3
        return (is_month_start(start) and is_month_end(end) and start.year == end.year
                and (start.month - 1) % months == 0 and end.month == start.month + months - 1)
    return grain == "year" and _window_grain(window) == "year" and start.year == end.year


def partition_columns(partitioning: Sequence[str], source: Source) -> tuple[str, ...]:
    """The source's ``year``/``month`` partition columns, given silver's ``partitioning``: the year
    and month of the default date (silver derives them from it; a view keeps silver's or the year).
    A window on the default date may name them too, so the engine opens only those partitions' files."""
    if tuple(partitioning) != ("year", "month"):
        return ()
    return tuple(partitioning) if source.grain is None else grain_partitions(source.grain, partitioning)


def exclusive_end(window: TimeWindow) -> date:
    """The day after the window: filters are half-open so they work on dates and timestamps alike."""
    return window.end + timedelta(days=1)
