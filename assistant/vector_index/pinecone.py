"""The ``VectorIndex`` interface over a Pinecone serverless index (package ``pinecone`` >= 10).

One Pinecone index (``settings.vector.pinecone_index``, created with ``dimension=384`` and
``metric="cosine"``) holds every dataset, one namespace per dataset. The SDK is imported when the
index is built, never at ``import assistant`` time, and the data-plane handle (which costs one
describe request to resolve the host) is opened on first use.

Pinecone is eventually consistent: an upsert may take a moment to show up in ``query`` and
``count``, which the semantic tier tolerates (a miss just takes the slow path once more).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from assistant.vector_index.base import (
    Metadata, MetadataFilter, Neighbour, check_filter, check_metadata, unit_vector,
)
from retail_insights.errors import ConfigError

DEFAULT_NAMESPACE = "__default__"


class PineconeIndex:
    """A ``VectorIndex`` stored in one namespace of a Pinecone index.

    ``client`` is a ``pinecone.Pinecone`` (built from ``api_key`` when not given); passing one is
    how tests exercise the request building without a Pinecone server.
    """

    def __init__(
        self,
        *,
        index_name: str,
        namespace: str,
        api_key: str | None = None,
        client: Any = None,
        dimension: int = 384,
    ) -> None:
        if client is None:
            client = _client(api_key)
        self.index_name = index_name
        self.namespace = namespace or DEFAULT_NAMESPACE
        self.dimension = dimension
        self._client = client
        self._handle: Any = None

    def upsert(self, id: str, vector: Sequence[float] | np.ndarray, metadata: Metadata) -> None:
        values = unit_vector(vector, dimension=self.dimension).tolist()
        record = {"id": id, "values": values, "metadata": check_metadata(metadata)}
        self._index().upsert(vectors=[record], namespace=self.namespace)

    def query(self, vector: Sequence[float] | np.ndarray, *, k: int = 5,
              filter: MetadataFilter | None = None) -> list[Neighbour]:
        wanted = check_filter(filter)
        if k < 1:
            return []
        response = self._index().query(
            vector=unit_vector(vector, dimension=self.dimension).tolist(),
            top_k=k,
            namespace=self.namespace,
            filter={key: {"$eq": value} for key, value in wanted.items()} or None,
            include_metadata=True,
        )
        return [Neighbour(m.id, float(m.score), dict(m.metadata or {})) for m in response.matches]

    def delete(self, id: str) -> None:
        self._index().delete(ids=[id], namespace=self.namespace)

    def count(self) -> int:
        stats = self._index().describe_index_stats()
        summary = stats.namespaces.get(self.namespace)
        return int(summary.vector_count) if summary is not None else 0

    def _index(self) -> Any:
        if self._handle is None:
            self._handle = self._client.index(name=self.index_name)
        return self._handle


def _client(api_key: str | None) -> Any:
    if not api_key:
        raise ConfigError(
            "The Pinecone vector backend needs an API key, and none is set.",
            hint="Set RETAIL_VECTOR__PINECONE_API_KEY, or use RETAIL_VECTOR__BACKEND=local.",
        )
    try:
        from pinecone import Pinecone
    except ImportError as exc:
        raise ConfigError(
            "RETAIL_VECTOR__BACKEND=pinecone but the pinecone package is not installed.",
            hint="Install it with pip install 'retail-insights[pinecone]', or use the local backend.",
        ) from exc
    return Pinecone(api_key=api_key, source_tag="retail_insights")
