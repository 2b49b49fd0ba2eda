"""Named functions a dataset's declared expressions may call, besides DuckDB's own SQL functions.

Each maps one text value to one text value (or NULL) and is applied once per distinct value, so a
column of a few dozen states costs a few dozen calls, whatever the rows. They hold mechanisms that
SQL cannot say briefly (a table of the 51 states and their names); the datasets' words stay in YAML.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from retail_insights.errors import ConfigError, did_you_mean
from warehouse.geo import STATES, resolve_state


@dataclass(frozen=True)
class NamedFunction:
    name: str
    apply: Callable[[str], str | None]   # one non-null value -> its result (None = NULL)
    doc: str


def _census_region(code: str) -> str | None:
    state = STATES.get(code)
    return state.region if state is not None else None


FUNCTIONS: dict[str, NamedFunction] = {
    f.name: f
    for f in (
        NamedFunction("us_state_code", resolve_state,
                      "a US state (or DC) as a USPS code or name, any case and spacing -> its USPS code; "
                      "NULL when it is none of the 51"),
        NamedFunction("census_region", _census_region,
                      "a USPS state code -> its US Census region (Northeast, Midwest, South, West)"),
    )
}


def named_function(name: str) -> NamedFunction:
    if name not in FUNCTIONS:
        raise ConfigError(f"unknown named function {name!r}.",
                          hint=did_you_mean(name, FUNCTIONS) + " Fix: use a DuckDB SQL function or one of those.")
    return FUNCTIONS[name]
