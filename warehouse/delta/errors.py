"""Errors of the Delta commit layer; each also inherits the builtin a caller would catch."""

from __future__ import annotations

from retail_insights.errors import RetailError, RetryableError


class TableMissing(RetailError, FileNotFoundError):
    """No Delta table at the path a reader asked for."""


class CommitConflict(RetryableError):
    """Other writers kept winning the race for the next table version; running again is safe."""
