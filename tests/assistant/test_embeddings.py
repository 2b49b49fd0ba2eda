"""Embeddings from the packaged all-MiniLM-L6-v2 model (real model, loaded once per process)."""

from __future__ import annotations

from pathlib import Path
import subprocess
import sys

import numpy as np
import pytest

from assistant.embeddings import DIMENSION, Embedder, NotASequenceOfTexts, get_embedder

pytestmark = pytest.mark.embeddings


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return get_embedder()


def test_vectors_are_normalized_float32_rows(embedder: Embedder) -> None:
    vectors = embedder.embed(["revenue in Texas in March 2024", "top 5 products by profit"])
    assert vectors.shape == (2, DIMENSION)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_paraphrases_are_closer_than_unrelated_questions(embedder: Embedder) -> None:
    question, paraphrase, unrelated = embedder.embed([
        "what was our revenue by category last month",
        "how much did we sell per category in the previous month",
        "which customers cancelled the most orders",
    ])
    assert question @ paraphrase > question @ unrelated + 0.2


def test_the_same_text_gives_the_same_vector(embedder: Embedder) -> None:
    first, second = embedder.embed(["orders by channel", "orders by channel"])
    np.testing.assert_allclose(first, second, atol=1e-6)


def test_no_texts_give_an_empty_matrix(embedder: Embedder) -> None:
    assert embedder.embed([]).shape == (0, DIMENSION)


def test_a_single_string_is_refused_because_it_would_embed_characters(embedder: Embedder) -> None:
    with pytest.raises(NotASequenceOfTexts, match=r"single string 'orders'.*embed\(\[text\]\)"):
        embedder.embed("orders")  # type: ignore[arg-type]


def test_the_process_shares_one_embedder() -> None:
    assert get_embedder() is get_embedder()


def test_importing_the_assistant_tiers_does_not_import_torch() -> None:
    code = ("import sys, assistant.cache, assistant.embeddings, assistant.semantic, "
            "assistant.vector_index, assistant.vector_index.local, assistant.vector_index.pinecone; "
            "print(sorted(m for m in ('torch', 'sentence_transformers', 'transformers', 'pinecone') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"
