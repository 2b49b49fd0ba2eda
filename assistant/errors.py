"""Errors of the question pipeline; each also inherits the matching builtin."""

from __future__ import annotations

from retail_insights.errors import RetailError, RetryableError


class AssistantError(RetailError):
    """Base class for errors the assistant raises on purpose."""


class UnsupportedIntent(AssistantError, ValueError):
    """An intent the compiler cannot turn into SQL (a shape the router should not have produced)."""


class WarehouseUnavailable(RetryableError):
    """The warehouse could not be reached; the same question may work on retry."""


class UnknownMetric(AssistantError, ValueError):
    """An intent names a metric its dataset does not define."""
