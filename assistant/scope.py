"""The data version an answer depends on: the table's, or only that of the months it reads.

Answers are cached under ``dataset:version:intent``. With ``AnswerScope`` the version is the newest
data commit that touched a (year, month) partition up to the last month the intent reads
(``warehouse.backends.partitions``), so a load of December 2017 keeps every cached answer about
2016. An intent reads up to the end of its latest window (plus one day where the partition date is
derived from a timestamp: a window on a local date may reach into the next UTC day); an intent
without a window, on a date the partitions do not follow, or on a dataset not partitioned by year
and month, depends on the whole table's data version.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
import re
from typing import TYPE_CHECKING

from assistant.errors import UnsupportedIntent
from assistant.sources import date_column
from warehouse.backends.partitions import Month, partition_changes
from warehouse.spec import load_dataset

if TYPE_CHECKING:
    from assistant.intent import Intent
    from retail_insights.settings import Settings

_OF_DATE = re.compile(r"\b(?:year|month)\((\w+)\)")   # year(order_date), month(order_date)


def months_read(intent: Intent, partition_date: str | None, *, spill_days: int = 0) -> Month | None:
    """The last (year, month) partition the intent's rows can come from; None when it may read any."""
    if intent.time is None or partition_date is None:
        return None
    model = load_dataset(intent.dataset).semantic
    windows = [w for w in (intent.time, intent.compare_time) if w is not None]
    try:
        if any(date_column(model, w) != partition_date for w in windows):
            return None
    except UnsupportedIntent:      # a date the dataset lacks: the compiler says why
        return None
    last = max(w.end for w in windows) + timedelta(days=spill_days)
    return last.year, last.month


def partition_date(dataset: str) -> str | None:
    """The date column the dataset's (year, month) partitions are derived from, if they are."""
    spec = load_dataset(dataset).spec
    if spec.partitioning != ("year", "month"):
        return None
    derived = {d.name: d.expr for d in spec.derived}
    found = {part: _OF_DATE.search(derived.get(part) or "") for part in ("year", "month")}
    columns = {m.group(1) for m in found.values() if m is not None}
    return columns.pop() if len(columns) == 1 and all(found.values()) else None


class AnswerScope:
    """``scope(dataset, version, intent)`` -> the version to cache the intent's answer under."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._tables: dict[str, tuple[Path, str | None, int]] = {}

    def __call__(self, dataset: str, version: int | None, intent: Intent) -> int | None:
        if version is None:
            return None
        if dataset not in self._tables:
            spec, column = load_dataset(dataset).spec, partition_date(dataset)
            self._tables[dataset] = (self._settings.table_path(dataset, spec.silver_table), column,
                                     int(column is not None and spec.time_column != column))
        path, column, spill_days = self._tables[dataset]
        through = months_read(intent, column, spill_days=spill_days)
        if through is None:
            return version
        return partition_changes(path).scope(through, version)
