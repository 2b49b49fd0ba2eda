"""SQL backends by name: ``get_backend("duckdb")`` (the default) or ``get_backend("bigquery")``.

Each backend module is imported only when asked for, so using DuckDB never imports google-cloud.
"""

from __future__ import annotations

import importlib

from retail_insights.errors import UsageError, did_you_mean
from retail_insights.settings import get_settings
from warehouse.backends.base import (
    Backend,
    Capabilities,
    Params,
    PublishResult,
    QueryFailed,
    QueryResult,
    QueryTimeout,
    QueryTooExpensive,
)

_REGISTRY = {
    "duckdb": ("warehouse.backends.duckdb", "DuckDBBackend"),
    "bigquery": ("warehouse.backends.bigquery", "BigQueryBackend"),
}

__all__ = [
    "Backend",
    "Capabilities",
    "Params",
    "PublishResult",
    "QueryFailed",
    "QueryResult",
    "QueryTimeout",
    "QueryTooExpensive",
    "backend_names",
    "get_backend",
]


def backend_names() -> list[str]:
    return sorted(_REGISTRY)


def get_backend(name: str | None = None, *, dataset: str | None = None) -> Backend:
    """The backend registered under ``name`` (default: ``settings.backend``) for ``dataset``."""
    chosen = name or get_settings().backend
    if chosen not in _REGISTRY:
        raise UsageError(f"unknown backend {chosen!r}.", hint=did_you_mean(chosen, _REGISTRY))
    module, cls = _REGISTRY[chosen]
    backend: type[Backend] = getattr(importlib.import_module(module), cls)
    return backend(dataset=dataset)
