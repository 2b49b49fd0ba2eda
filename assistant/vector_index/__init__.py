"""Vector indexes for the semantic tier: one interface, a local file backend and Pinecone.

``build_index(settings, dataset)`` picks the backend named by ``settings.vector.backend``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from assistant.vector_index.base import BadMetadata, BadVector, Neighbour, VectorIndex
from retail_insights.errors import ConfigError, did_you_mean

if TYPE_CHECKING:
    from retail_insights.settings import Settings

__all__ = ["BACKENDS", "BadMetadata", "BadVector", "Neighbour", "VectorIndex", "build_index",
           "local_index_path"]

BACKENDS = ("local", "pinecone")


def local_index_path(settings: Settings, dataset: str) -> Path:
    return settings.home.resolve() / "vectors" / f"{dataset}.npz"


def build_index(settings: Settings, dataset: str, *, dimension: int = 384) -> VectorIndex:
    """The index holding ``dataset``'s remembered questions, on the configured backend."""
    backend = settings.vector.backend
    if backend == "local":
        from assistant.vector_index.local import LocalIndex

        return LocalIndex(local_index_path(settings, dataset), dimension=dimension)
    if backend == "pinecone":
        from assistant.vector_index.pinecone import PineconeIndex

        key = settings.vector.pinecone_api_key
        return PineconeIndex(
            index_name=settings.vector.pinecone_index,
            namespace=dataset,
            api_key=key.get_secret_value() if key is not None else None,
            dimension=dimension,
        )
    raise ConfigError(f"Unknown vector backend {backend!r}.", hint=did_you_mean(backend, BACKENDS))
