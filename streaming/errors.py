"""Errors of the streaming package; each also inherits the builtin a caller would catch."""

from __future__ import annotations

from retail_insights.errors import RetailError, RetryableError


class StreamingError(RetailError):
    """Base class of the errors the streaming package raises on purpose."""


class BrokerUnavailable(StreamingError, RetryableError, ConnectionError):
    """The Kafka broker did not answer in time; nothing was committed, running again is safe."""
