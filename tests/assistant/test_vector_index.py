"""Vector indexes: the local file backend for real, the Pinecone adapter against a fake client.

There is no Pinecone server here, so the Pinecone tests cover only construction and
configuration errors (with the real SDK client, which makes no request when built) and the
requests the adapter builds (with an in-test fake of the SDK's client and index objects).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

from assistant.vector_index import BadMetadata, BadVector, Neighbour, VectorIndex, build_index
from assistant.vector_index.local import LocalIndex
from assistant.vector_index.pinecone import PineconeIndex
from retail_insights.errors import ConfigError
from retail_insights.settings import Settings, get_settings

DIM = 4


def unit(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("RETAIL_HOME", str(tmp_path))
    monkeypatch.delenv("RETAIL_VECTOR__BACKEND", raising=False)
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


@pytest.fixture
def index(tmp_path: Path) -> LocalIndex:
    return LocalIndex(tmp_path / "vectors" / "retail_sales.npz", dimension=DIM)


def test_the_factory_builds_a_local_index_under_home_vectors(settings: Settings) -> None:
    built = build_index(settings, "retail_sales")
    assert isinstance(built, LocalIndex) and isinstance(built, VectorIndex)
    assert built.path == settings.home.resolve() / "vectors" / "retail_sales.npz"


def test_the_nearest_entry_comes_first_with_its_cosine_score(index: LocalIndex) -> None:
    index.upsert("east", [1, 0, 0, 0], {"label": "east"})
    index.upsert("north", [0, 1, 0, 0], {"label": "north"})
    index.upsert("north-east", [1, 1, 0, 0], {"label": "north-east"})
    found = index.query(unit(1, 0.1, 0, 0), k=2)
    assert [n.id for n in found] == ["east", "north-east"]
    assert found[0].score == pytest.approx(float(unit(1, 0.1, 0, 0)[0]), abs=1e-6)
    assert found[0].metadata == {"label": "east"}


def test_entries_survive_a_new_process(index: LocalIndex) -> None:
    index.upsert("a", [1, 0, 0, 0], {"dataset": "retail_sales", "verified": True})
    code = ("import sys; from assistant.vector_index.local import LocalIndex; "
            f"i = LocalIndex({str(index.path)!r}, dimension={DIM}); "
            "print(i.count(), i.query([1, 0, 0, 0], k=1)[0])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1 " + repr(Neighbour("a", 1.0, {"dataset": "retail_sales",
                                                                  "verified": True}))


def test_a_write_by_another_instance_is_seen_without_reopening(index: LocalIndex) -> None:
    other = LocalIndex(index.path, dimension=DIM)
    assert index.count() == 0
    other.upsert("a", [1, 0, 0, 0], {})
    index.upsert("b", [0, 1, 0, 0], {})  # must re-read first, not overwrite "a"
    assert {n.id for n in other.query([1, 1, 0, 0], k=5)} == {"a", "b"}


def test_concurrent_writers_in_separate_processes_lose_no_entry(index: LocalIndex) -> None:
    code = ("import sys; from assistant.vector_index.local import LocalIndex; "
            f"i = LocalIndex({str(index.path)!r}, dimension={DIM}); p = sys.argv[1]; "
            "[i.upsert(f'{p}-{n}', [1, n, 0, 0], {}) for n in range(15)]")
    workers = [subprocess.Popen([sys.executable, "-c", code, name]) for name in ("x", "y")]
    assert [w.wait() for w in workers] == [0, 0]
    assert index.count() == 30


def test_upsert_replaces_an_entry_with_the_same_id(index: LocalIndex) -> None:
    index.upsert("a", [1, 0, 0, 0], {"v": 1})
    index.upsert("a", [0, 1, 0, 0], {"v": 2})
    assert index.count() == 1
    assert index.query([0, 1, 0, 0], k=1) == [Neighbour("a", pytest.approx(1.0), {"v": 2})]


def test_delete_removes_an_entry_and_ignores_unknown_ids(index: LocalIndex) -> None:
    index.upsert("a", [1, 0, 0, 0], {})
    index.upsert("b", [0, 1, 0, 0], {})
    index.delete("a")
    index.delete("never-there")
    assert index.count() == 1
    assert [n.id for n in index.query([1, 0, 0, 0], k=5)] == ["b"]


def test_a_filter_keeps_only_entries_equal_on_every_field(index: LocalIndex) -> None:
    index.upsert("verified-sales", [1, 0, 0, 0], {"dataset": "retail_sales", "verified": True})
    index.upsert("proposed-sales", [1, 0.01, 0, 0], {"dataset": "retail_sales", "verified": False})
    index.upsert("verified-store", [1, 0.02, 0, 0], {"dataset": "superstore", "verified": True})
    found = index.query([1, 0, 0, 0], k=5, filter={"dataset": "retail_sales", "verified": True})
    assert [n.id for n in found] == ["verified-sales"]
    assert index.query([1, 0, 0, 0], k=5, filter={"dataset": "none"}) == []


def test_a_filter_finds_an_entry_ranked_below_the_shortlist(tmp_path: Path) -> None:
    index = LocalIndex(tmp_path / "short.npz", dimension=DIM, shortlist=3)
    # Five near entries fill the shortlist; the one that passes the filter is the farthest.
    for i in range(5):
        index.upsert(f"near-{i}", [1, i / 10, 0, 0], {"v": "near"})
    index.upsert("far", [0, 1, 0, 0], {"v": "far"})
    assert [n.id for n in index.query([1, 0, 0, 0], k=1, filter={"v": "far"})] == ["far"]
    assert [n.id for n in index.query([1, 0, 0, 0], k=2)] == ["near-0", "near-1"]


def test_a_boolean_filter_does_not_match_an_integer(index: LocalIndex) -> None:
    index.upsert("one", [1, 0, 0, 0], {"verified": 1})
    assert index.query([1, 0, 0, 0], k=5, filter={"verified": True}) == []


def test_an_empty_index_answers_no_neighbours(index: LocalIndex) -> None:
    assert index.query([1, 0, 0, 0], k=3) == []
    assert index.count() == 0


def test_a_vector_of_the_wrong_dimension_is_refused(index: LocalIndex) -> None:
    with pytest.raises(BadVector, match=r"3 dimensions but the index holds 4"):
        index.upsert("a", [1, 0, 0], {})


def test_a_zero_vector_is_refused(index: LocalIndex) -> None:
    with pytest.raises(BadVector, match=r"norm 0.0.*non-zero"):
        index.query([0, 0, 0, 0], k=1)


def test_metadata_that_is_not_flat_is_refused(index: LocalIndex) -> None:
    with pytest.raises(BadMetadata, match=r"'intent'=\{'a': 1\}.*JSON string"):
        index.upsert("a", [1, 0, 0, 0], {"intent": {"a": 1}})


def test_a_file_from_another_model_is_refused_with_the_fix(index: LocalIndex) -> None:
    index.upsert("a", [1, 0, 0, 0], {})
    with pytest.raises(BadVector, match=r"shape \(1, 4\), not \(n, 8\).*delete the file"):
        LocalIndex(index.path, dimension=8).count()


# --- Pinecone: construction with the real SDK client, requests against a fake one -------------


def test_the_pinecone_backend_without_an_api_key_names_the_setting(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETAIL_VECTOR__BACKEND", "pinecone")
    monkeypatch.delenv("RETAIL_VECTOR__PINECONE_API_KEY", raising=False)
    get_settings.cache_clear()
    with pytest.raises(ConfigError, match=r"needs an API key.*RETAIL_VECTOR__PINECONE_API_KEY"):
        build_index(get_settings(), "retail_sales")


def test_the_pinecone_backend_builds_the_sdk_client_lazily(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETAIL_VECTOR__BACKEND", "pinecone")
    monkeypatch.setenv("RETAIL_VECTOR__PINECONE_API_KEY", "pk-test-0000")
    monkeypatch.setenv("RETAIL_VECTOR__PINECONE_INDEX", "questions")
    get_settings.cache_clear()
    built = build_index(get_settings(), "superstore")
    import pinecone

    assert isinstance(built, PineconeIndex) and isinstance(built, VectorIndex)
    assert isinstance(built._client, pinecone.Pinecone)
    assert (built.index_name, built.namespace, built._handle) == ("questions", "superstore", None)


@dataclass
class FakeMatch:
    id: str
    score: float
    metadata: dict[str, Any] | None


@dataclass
class FakePineconeIndex:
    """Records the calls the adapter makes; answers like the SDK's data-plane ``Index``."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    matches: list[FakeMatch] = field(default_factory=list)

    def upsert(self, **kwargs: Any) -> None:
        self.calls.append(("upsert", kwargs))

    def query(self, **kwargs: Any) -> Any:
        self.calls.append(("query", kwargs))
        return type("QueryResponse", (), {"matches": self.matches})()

    def delete(self, **kwargs: Any) -> None:
        self.calls.append(("delete", kwargs))

    def describe_index_stats(self, **kwargs: Any) -> Any:
        summary = type("NamespaceSummary", (), {"vector_count": 3})()
        return type("Stats", (), {"namespaces": {"retail_sales": summary}})()


@dataclass
class FakePinecone:
    data_plane: FakePineconeIndex = field(default_factory=FakePineconeIndex)
    opened: list[str] = field(default_factory=list)

    def index(self, *, name: str) -> FakePineconeIndex:
        self.opened.append(name)
        return self.data_plane


def test_pinecone_upsert_sends_a_normalized_vector_into_the_dataset_namespace() -> None:
    client = FakePinecone()
    index = PineconeIndex(index_name="questions", namespace="retail_sales", client=client, dimension=2)
    index.upsert("q1", [3, 4], {"dataset": "retail_sales", "kinds": ("metric", "time")})
    index.upsert("q2", [1, 0], {})
    assert client.opened == ["questions"]  # the handle is resolved once
    name, kwargs = client.data_plane.calls[0]
    assert name == "upsert" and kwargs["namespace"] == "retail_sales"
    assert kwargs["vectors"] == [{"id": "q1", "values": pytest.approx([0.6, 0.8]),
                                  "metadata": {"dataset": "retail_sales", "kinds": ["metric", "time"]}}]


def test_pinecone_query_translates_the_filter_and_reads_the_matches() -> None:
    client = FakePinecone()
    client.data_plane.matches = [FakeMatch("q1", 0.93, {"question": "revenue"}), FakeMatch("q2", 0.5, None)]
    index = PineconeIndex(index_name="questions", namespace="retail_sales", client=client, dimension=2)
    found = index.query([0, 2], k=2, filter={"dataset": "retail_sales", "verified": True})
    assert found == [Neighbour("q1", 0.93, {"question": "revenue"}), Neighbour("q2", 0.5, {})]
    assert client.data_plane.calls == [("query", {
        "vector": [0.0, 1.0], "top_k": 2, "namespace": "retail_sales", "include_metadata": True,
        "filter": {"dataset": {"$eq": "retail_sales"}, "verified": {"$eq": True}}})]


def test_pinecone_delete_and_count_address_the_namespace() -> None:
    client = FakePinecone()
    index = PineconeIndex(index_name="questions", namespace="retail_sales", client=client, dimension=2)
    index.delete("q1")
    assert client.data_plane.calls == [("delete", {"ids": ["q1"], "namespace": "retail_sales"})]
    assert index.count() == 3
