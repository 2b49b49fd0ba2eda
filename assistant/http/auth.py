"""API keys, stored hashed, and what each key may read.

Keys come from two places, both only when ``api.auth_enabled``:

- ``api.api_keys`` (``RETAIL_API__API_KEYS='["key1","key2"]'``): plain keys from the environment,
  hashed when the service starts and never kept in clear; each may read every dataset;
- ``api.api_keys_file``: a JSON file holding only hashes, with optional per-key scopes::

      {"keys": [{"name": "analytics", "sha256": "<hex>", "datasets": ["superstore"]},
                {"name": "admin", "sha256": "<hex>"}]}

  ``datasets`` missing or null = every dataset. Make an entry with
  ``python -m assistant.http.auth --name analytics --datasets superstore``.

A request presents its key as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``: no key or
an unknown one is 401, a known key asking for a dataset outside its scope is 403. Keys are random
tokens of 256 bits, so a plain SHA-256 is enough to make a leaked file useless (a slow password
hash protects low-entropy secrets, which these are not).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
import hashlib
import hmac
import json
from pathlib import Path
import secrets
import sys
from typing import TYPE_CHECKING

from retail_insights.errors import ConfigError, RetailError, did_you_mean

if TYPE_CHECKING:
    from retail_insights.settings import Settings


class Unauthorized(RetailError, PermissionError):
    """No API key, or one the service does not know (HTTP 401)."""


class Forbidden(RetailError, PermissionError):
    """A known key asking for something outside its scope (HTTP 403)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's name (or the client address when auth is off) and its scope."""

    name: str
    datasets: frozenset[str] | None = None   # None = every dataset
    authenticated: bool = False

    def require_dataset(self, dataset: str) -> None:
        if self.datasets is not None and dataset not in self.datasets:
            allowed = ", ".join(sorted(self.datasets)) or "none"
            raise Forbidden(f"API key {self.name!r} may not read dataset {dataset!r}.",
                            hint=f"Its datasets: {allowed}. Fix: use one of those, or ask for a key with access.")

    def can_read(self, dataset: str) -> bool:
        return self.datasets is None or dataset in self.datasets


def hash_key(key: str) -> str:
    """The stored form of a key: hex SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    """A fresh random key (256 bits, URL-safe)."""
    return "ri_" + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class _Entry:
    name: str
    digest: str
    datasets: frozenset[str] | None


class KeyStore:
    """Hashed keys and their scopes; ``authenticate(presented)`` -> ``Principal`` or ``Unauthorized``."""

    def __init__(self, entries: Sequence[_Entry]) -> None:
        self._by_digest = {e.digest: e for e in entries}

    @classmethod
    def from_settings(cls, settings: Settings, *, known_datasets: Sequence[str] = ()) -> KeyStore:
        entries = [_Entry(f"env-key-{i + 1}", hash_key(k.get_secret_value()), None)
                   for i, k in enumerate(settings.api.api_keys)]
        if settings.api.api_keys_file is not None:
            entries.extend(load_keys_file(settings.api.api_keys_file, known_datasets=known_datasets))
        if settings.api.auth_enabled and not entries:
            raise ConfigError("api.auth_enabled is true but no API key is configured.",
                              hint="Fix: set RETAIL_API__API_KEYS or RETAIL_API__API_KEYS_FILE, "
                                   "or turn auth off with RETAIL_API__AUTH_ENABLED=false.")
        return cls(entries)

    def __len__(self) -> int:
        return len(self._by_digest)

    def authenticate(self, presented: str | None) -> Principal:
        if not presented:
            raise Unauthorized("missing API key.",
                               hint="Send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'.")
        digest = hash_key(presented)
        # Compare against every digest so the time taken does not depend on which one matched.
        found = None
        for known, entry in self._by_digest.items():
            if hmac.compare_digest(known, digest):
                found = entry
        if found is None:
            raise Unauthorized("unknown API key.", hint="Check the key; keys are case-sensitive.")
        return Principal(found.name, found.datasets, authenticated=True)


def load_keys_file(path: Path, *, known_datasets: Sequence[str] = ()) -> list[_Entry]:
    """The entries of a keys file (format in the module docstring); bad content names the fix."""
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"API keys file {path} does not exist.",
                          hint="Fix: create it (python -m assistant.http.auth) or unset RETAIL_API__API_KEYS_FILE.") \
            from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"API keys file {path} is not valid JSON ({exc}).",
                          hint='Fix: write {"keys": [{"name": ..., "sha256": ..., "datasets": [...]}]}.') from None
    items = raw.get("keys") if isinstance(raw, dict) else None
    if not isinstance(items, list):
        raise ConfigError(f"API keys file {path} has no 'keys' list.",
                          hint='Fix: write {"keys": [{"name": ..., "sha256": ..., "datasets": [...]}]}.')
    entries = []
    for i, item in enumerate(items):
        digest = item.get("sha256") if isinstance(item, dict) else None
        if not isinstance(digest, str) or len(digest) != 64 or not _is_hex(digest):
            raise ConfigError(f"API keys file {path}: entry {i} has no valid 'sha256' (64 hex characters).",
                              hint="Fix: store hash_key(key), never the key itself.")
        datasets = item.get("datasets")
        if datasets is not None:
            if not isinstance(datasets, list) or not all(isinstance(d, str) for d in datasets):
                raise ConfigError(f"API keys file {path}: entry {i} 'datasets' must be a list of names or null.")
            for name in datasets:
                if known_datasets and name not in known_datasets:
                    raise ConfigError(f"API keys file {path}: entry {i} names unknown dataset {name!r}.",
                                      hint=did_you_mean(name, known_datasets))
        entries.append(_Entry(str(item.get("name") or f"key-{i + 1}"), digest.lower(),
                              frozenset(datasets) if datasets is not None else None))
    return entries


def _is_hex(text: str) -> bool:
    try:
        int(text, 16)
    except ValueError:
        return False
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Print a new key (give it to the client) and its keys-file entry (store it)."""
    parser = argparse.ArgumentParser(prog="python -m assistant.http.auth", description=main.__doc__)
    parser.add_argument("--name", required=True, help="a label for logs and quotas")
    parser.add_argument("--datasets", nargs="*", default=None, help="datasets it may read (default: all)")
    args = parser.parse_args(argv)
    key = new_key()
    entry = {"name": args.name, "sha256": hash_key(key), "datasets": args.datasets}
    print(f"key (shown once): {key}")
    print(f"keys-file entry:  {json.dumps(entry)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
