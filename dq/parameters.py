"""Values a suite's ``{$PARAMETER: name}`` placeholders take, by name, from the batch's context.

A suite names what it needs; the transform asks for exactly those. Everything comes from the
batch's ingestion time (never ``now()``), so a re-run judges rows the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

import pandas as pd

from retail_insights.errors import ConfigError, did_you_mean

OLD_AFTER_YEARS = 10


def _ingested_at(ingested_at: datetime) -> Any:
    return pd.Timestamp(ingested_at)


def _ten_years_before(ingested_at: datetime) -> Any:
    """The first date that is not more than ten calendar years old (29 February -> 28 February)."""
    day = ingested_at.date()
    try:
        cutoff = day.replace(year=day.year - OLD_AFTER_YEARS)
    except ValueError:
        cutoff = date(day.year - OLD_AFTER_YEARS, 2, 28)
    return pd.Timestamp(cutoff, tz="UTC")


PARAMETERS: dict[str, Callable[[datetime], Any]] = {
    "ingested_at": _ingested_at,
    "ten_years_before_ingestion": _ten_years_before,
}


def suite_parameters(names: Iterable[str], *, ingested_at: datetime) -> dict[str, Any]:
    """The value of each named parameter for a batch ingested at ``ingested_at``."""
    out = {}
    for name in names:
        if name not in PARAMETERS:
            raise ConfigError(f"unknown suite parameter {name!r}.",
                              hint=did_you_mean(name, PARAMETERS) + " Fix: use one of those in the suite.")
        out[name] = PARAMETERS[name](ingested_at)
    return out
