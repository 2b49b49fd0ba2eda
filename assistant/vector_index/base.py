"""The vector index interface every backend implements, and the small types it speaks.

Filters are equality-only on scalar metadata (``{"dataset": "retail_sales", "verified": True}``):
that is all the semantic tier needs, and every backend can express it exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from assistant.errors import AssistantError

Scalar = str | int | float | bool
Metadata = Mapping[str, Any]
MetadataFilter = Mapping[str, Scalar]


class BadVector(AssistantError, ValueError):
    """A vector of the wrong shape, or with no length to normalize."""


class BadMetadata(AssistantError, ValueError):
    """Metadata or a filter the backends cannot store or express."""


@dataclass(frozen=True)
class Neighbour:
    id: str
    score: float  # cosine similarity, 1.0 = same direction
    metadata: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class VectorIndex(Protocol):
    """Nearest neighbours by cosine similarity over vectors with JSON metadata."""

    dimension: int

    def upsert(self, id: str, vector: Sequence[float] | np.ndarray, metadata: Metadata) -> None:
        """Insert or replace the entry ``id``."""
        ...

    def query(self, vector: Sequence[float] | np.ndarray, *, k: int = 5,
              filter: MetadataFilter | None = None) -> list[Neighbour]:
        """Up to ``k`` entries whose metadata equals every ``filter`` item, best first."""
        ...

    def delete(self, id: str) -> None:
        """Remove ``id``; unknown ids are ignored."""
        ...

    def count(self) -> int:
        """How many entries the index holds."""
        ...


def unit_vector(vector: Sequence[float] | np.ndarray, *, dimension: int) -> np.ndarray:
    """``vector`` as float32 of length 1, checked against the index's dimension."""
    array = np.asarray(vector, dtype=np.float32).reshape(-1)
    if array.shape[0] != dimension:
        raise BadVector(
            f"Vector has {array.shape[0]} dimensions but the index holds {dimension}.",
            hint="Embed with the same model the index was built with, or use a new index.",
        )
    norm = float(np.linalg.norm(array))
    if not np.isfinite(norm) or norm == 0.0:
        raise BadVector(f"Vector has norm {norm}; cosine similarity needs a finite, non-zero vector.")
    return array / norm


def check_metadata(metadata: Metadata) -> dict[str, Any]:
    """A plain dict of strings, numbers, booleans and lists of strings (what Pinecone stores)."""
    clean: dict[str, Any] = {}
    for key, value in metadata.items():
        ok = isinstance(value, (str, int, float, bool)) or (
            isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value))
        if not isinstance(key, str) or not ok:
            raise BadMetadata(
                f"Metadata item {key!r}={value!r} cannot be stored.",
                hint="Use str keys with str, int, float, bool or list-of-str values "
                "(serialize anything richer to a JSON string).",
            )
        clean[key] = list(value) if isinstance(value, tuple) else value
    return clean


def check_filter(filter: MetadataFilter | None) -> dict[str, Scalar]:
    if not filter:
        return {}
    for key, value in filter.items():
        if not isinstance(value, (str, int, float, bool)):
            raise BadMetadata(
                f"Filter item {key!r}={value!r} is not a scalar.",
                hint="Filters match metadata by equality on str, int, float or bool values.",
            )
    return dict(filter)


def matches(metadata: Mapping[str, Any], filter: Mapping[str, Scalar]) -> bool:
    # type() as well as ==, because True == 1 must not let a bool filter match an int.
    return all(key in metadata and type(metadata[key]) is type(value) and metadata[key] == value
               for key, value in filter.items())
