"""One base error for the project; each subclass also inherits the matching builtin.

Messages name the bad value, what is allowed and the fix, so a user can act on one line.
"""

from __future__ import annotations

from collections.abc import Iterable
import difflib


class RetailError(Exception):
    """Base class for every error this project raises on purpose."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.hint = hint
        super().__init__(f"{message} {hint}" if hint else message)


class UsageError(RetailError, ValueError):
    """Bad input from the user: exit code 2."""

    exit_code = 2


class ConfigError(RetailError, ValueError):
    """A setting or spec file that cannot be used."""

    exit_code = 2


class DataError(RetailError, RuntimeError):
    """Data that breaks an invariant the pipeline guarantees (row accounting, schema)."""


class RetryableError(RetailError, RuntimeError):
    """A failure that may go away on retry (a service down, a commit conflict)."""


def did_you_mean(value: str, allowed: Iterable[str]) -> str:
    """Suffix for an 'unknown name' message: the closest allowed names, or the full list."""
    options = sorted(set(allowed))
    close = difflib.get_close_matches(value, options, n=3, cutoff=0.6)
    if close:
        return "Did you mean " + " or ".join(repr(c) for c in close) + "?"
    return "Allowed: " + ", ".join(repr(o) for o in options) + "."
