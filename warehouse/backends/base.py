"""The one small interface every SQL backend implements, and what a query returns.

Backends differ in attributes and capability flags, not in method names: callers ask
``backend.capabilities.dry_run`` instead of checking which class they hold.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ClassVar

from retail_insights.errors import RetailError, UsageError
from retail_insights.settings import get_settings

Params = Sequence[Any] | Mapping[str, Any] | None


# Queries of background work (warming a new data version) wait for a connection until no live
# request wants it: see ``in_background`` and the DuckDB backend's turn lock.
BACKGROUND: ContextVar[bool] = ContextVar("retail_background_query", default=False)


@contextmanager
def in_background() -> Iterator[None]:
    """Run the queries of this block behind every live request on the same connection."""
    token = BACKGROUND.set(True)
    try:
        yield
    finally:
        BACKGROUND.reset(token)

class QueryTimeout(RetailError, TimeoutError):
    """A query ran past ``settings.sql.timeout_s`` and was stopped."""


class QueryTooExpensive(RetailError, ValueError):
    """A query would scan more bytes than the configured cap."""


class QueryFailed(RetailError, ValueError):
    """The engine rejected a query that passed the guard (a type error, a bad cast, ...)."""


@dataclass(frozen=True)
class Capabilities:
    dry_run: bool  # estimates bytes before running (``Backend.dry_run``)
    materialized_views: bool  # the engine maintains the views itself
    bytes_cap: bool  # the engine enforces a per-query byte cap
    local: bool  # runs in this process over the local Delta tables


@dataclass(frozen=True)
class QueryResult:
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]
    bytes_read: int | None  # bytes read from storage; None when the engine does not say
    rows_read: int | None  # rows the table scans produced after pruning; None when unknown
    elapsed_ms: float
    sql: str  # the SQL that ran (guarded, limited, in the engine's dialect)


@dataclass(frozen=True)
class PublishResult:
    backend: str
    dataset: str
    tables: tuple[str, ...]  # what is now queryable there
    location: str  # a file path or a project.dataset


class Backend(ABC):
    """A place to run the read-only SQL surface for one dataset (``dataset``: unqualified names)."""

    name: ClassVar[str]
    capabilities: ClassVar[Capabilities]

    def __init__(self, *, dataset: str | None = None) -> None:
        self.dataset = dataset or get_settings().default_dataset

    @abstractmethod
    def query(self, sql: str, params: Params = None) -> QueryResult:
        """Run one guarded read-only query (DuckDB dialect); its rows and read statistics."""

    def dry_run(self, sql: str, params: Params = None) -> int:
        """Bytes the query would read, without running it (only where ``capabilities.dry_run``)."""
        raise UsageError(
            f"backend {self.name!r} cannot estimate a query before running it.",
            hint="Fix: check backend.capabilities.dry_run first, or use the 'bigquery' backend.",
        )

    @abstractmethod
    def publish(self, dataset: str | None = None) -> PublishResult:
        """Make the dataset's current tables and views queryable on this backend."""

    def close(self) -> None:  # noqa: B027 - optional hook: most backends hold nothing to release
        """Release connections (a no-op where there are none)."""

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
