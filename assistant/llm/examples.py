"""Verified question/SQL pairs, retrieved by similarity as the prompt's examples.

Questions are embedded in their masked form (``assistant.slots.mask``: "how much cash did
<filter_value:state> bring in during <time>"), as the semantic tier does, so a paraphrase about
other values finds the pair. Stored in the semantic tier's vector index
(``assistant.vector_index.build_index``) under the name ``<dataset>.sql_examples`` (a local
``.npz`` beside the templates, or a Pinecone namespace), embedded with the same model
(``assistant.embeddings``). Only pairs promoted by ``assistant.llm.learning``
(positive feedback and a clean re-execution) are added, so an example was both liked and re-run.
Retrieval is best effort: a failing index or model means a prompt without examples, never a failed
question.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
import hashlib
import logging
from typing import TYPE_CHECKING

from assistant.slots import Slot, mask

if TYPE_CHECKING:
    from assistant.embeddings import Embedder
    from assistant.vector_index import VectorIndex
    from retail_insights.settings import Settings

log = logging.getLogger(__name__)

SUFFIX = ".sql_examples"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Example:
    question: str
    sql: str
    similarity: float


class ExampleStore:
    """``similar(question)`` -> the closest verified pairs; ``add(question, sql)`` stores one."""

    def __init__(self, *, index_for: Callable[[str], VectorIndex], embedder: Embedder,
                 k: int = 3, min_similarity: float = 0.5) -> None:
        self._index_for = index_for
        self._indexes: dict[str, VectorIndex] = {}
        self._embedder = embedder
        self.k, self.min_similarity = k, min_similarity

    @classmethod
    def from_settings(cls, settings: Settings, *, embedder: Embedder | None = None) -> ExampleStore:
        from assistant.embeddings import get_embedder
        from assistant.vector_index import build_index

        return cls(index_for=lambda dataset: build_index(settings, dataset + SUFFIX),
                   embedder=embedder or get_embedder())

    def similar(self, question: str, *, dataset: str, slots: Sequence[Slot] = ()) -> tuple[Example, ...]:
        """Up to ``k`` verified pairs at least ``min_similarity`` close to ``question`` (with its ``slots``)."""
        try:
            index = self._index(dataset)
            if index.count() == 0:
                return ()   # nothing verified yet: no need to load the embedding model
            vector = self._embedder.embed([mask(question, slots)])[0]
            found = index.query(vector, k=self.k, filter={"dataset": dataset, "verified": True,
                                                                         "schema": SCHEMA_VERSION})
        except Exception as exc:  # noqa: BLE001 - examples help; their absence must not fail a question
            log.warning("SQL examples unavailable for %s: %s: %s", dataset, type(exc).__name__, exc)
            return ()
        return tuple(Example(str(n.metadata["question"]), str(n.metadata["sql"]), n.score)
                     for n in found if n.score >= self.min_similarity)

    def add(self, question: str, sql: str, *, dataset: str, slots: Sequence[Slot] = ()) -> None:
        masked = mask(question, slots)
        digest = hashlib.sha256(f"{dataset}\n{masked}".encode()).hexdigest()[:32]
        vector = self._embedder.embed([masked])[0]
        self._index(dataset).upsert(digest, vector, {"dataset": dataset, "verified": True, "schema": SCHEMA_VERSION,
                                                     "question": question, "sql": sql})

    def _index(self, dataset: str) -> VectorIndex:
        if dataset not in self._indexes:
            self._indexes[dataset] = self._index_for(dataset)
        return self._indexes[dataset]
