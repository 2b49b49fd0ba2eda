"""Brute-force cosine index in one ``.npz`` file per dataset under ``settings.home / "vectors"``.

Sized for the semantic tier (one entry per distinct masked question): fine up to ~100k entries,
where a query is one 100k x 384 matrix product plus a partial sort (tens of milliseconds) and a
write rewrites ~150 MB (seconds). Beyond that, or with many writers, use the Pinecone backend.

Safe across processes without a server: every write takes an exclusive ``flock`` on a sidecar
lock file, re-reads the latest file, applies its change and publishes a complete new file with
``os.replace`` (atomic on POSIX), so readers never see a half-written index and concurrent
writers never lose each other's entries. Readers take no lock; they reload when the file's
identity (inode, mtime, size) changes. A write rewrites the whole file, which is why writes
should stay rare (an unchanged entry is not rewritten).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
import fcntl
import json
import os
from pathlib import Path
import tempfile
import threading
from typing import Any

import numpy as np

from assistant.vector_index.base import (
    BadVector, Metadata, MetadataFilter, Neighbour, check_filter, check_metadata, matches,
    unit_vector,
)

Stamp = tuple[int, int, int]


@dataclass(frozen=True)
class _Snapshot:
    stamp: Stamp | None
    ids: tuple[str, ...]
    vectors: np.ndarray            # (n, dimension) float32, unit rows
    metadata: tuple[dict[str, Any], ...]

    def position(self, id: str) -> int | None:
        try:
            return self.ids.index(id)
        except ValueError:
            return None


class LocalIndex:
    """A ``VectorIndex`` persisted in ``path`` (an ``.npz`` holding vectors and entries JSON)."""

    def __init__(self, path: Path, *, dimension: int = 384, shortlist: int = 256) -> None:
        self.path = Path(path)
        self.dimension = dimension
        self.shortlist = shortlist  # how many best entries the filter is checked on before a full sort
        self._lock_path = self.path.with_suffix(".lock")
        self._mutex = threading.Lock()
        self._snapshot = _Snapshot(None, (), np.empty((0, dimension), np.float32), ())

    def upsert(self, id: str, vector: Sequence[float] | np.ndarray, metadata: Metadata) -> None:
        row = unit_vector(vector, dimension=self.dimension)
        clean = check_metadata(metadata)
        with self._writing() as snap:
            at = snap.position(id)
            if at is not None and snap.metadata[at] == clean and np.allclose(snap.vectors[at], row):
                return  # identical entry: skip the O(n) rewrite
            ids, vectors, meta = list(snap.ids), snap.vectors.copy(), list(snap.metadata)
            if at is None:
                ids.append(id)
                vectors = np.vstack([vectors, row[None, :]])
                meta.append(clean)
            else:
                vectors[at] = row
                meta[at] = clean
            self._publish(ids, vectors, meta)

    def delete(self, id: str) -> None:
        with self._writing() as snap:
            at = snap.position(id)
            if at is None:
                return
            keep = [i for i in range(len(snap.ids)) if i != at]
            self._publish([snap.ids[i] for i in keep], snap.vectors[keep],
                          [snap.metadata[i] for i in keep])

    def query(self, vector: Sequence[float] | np.ndarray, *, k: int = 5,
              filter: MetadataFilter | None = None) -> list[Neighbour]:
        wanted = check_filter(filter)
        q = unit_vector(vector, dimension=self.dimension)
        snap = self._current()
        if k < 1 or not snap.ids:
            return []
        scores = snap.vectors @ q
        found: list[Neighbour] = []
        for i in _best_first(scores, shortlist=max(self.shortlist, k)):
            if matches(snap.metadata[i], wanted):
                found.append(Neighbour(snap.ids[i], float(scores[i]), dict(snap.metadata[i])))
                if len(found) == k:
                    break
        return found

    def count(self) -> int:
        return len(self._current().ids)

    def _current(self) -> _Snapshot:
        stamp = _stamp(self.path)
        with self._mutex:
            if stamp != self._snapshot.stamp:
                self._snapshot = self._read(stamp)
            return self._snapshot

    @contextmanager
    def _writing(self) -> Iterator[_Snapshot]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._mutex, open(self._lock_path, "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            stamp = _stamp(self.path)
            if stamp != self._snapshot.stamp:
                self._snapshot = self._read(stamp)
            yield self._snapshot

    def _read(self, stamp: Stamp | None) -> _Snapshot:
        if stamp is None:
            return _Snapshot(None, (), np.empty((0, self.dimension), np.float32), ())
        with np.load(self.path, allow_pickle=False) as data:
            vectors = np.asarray(data["vectors"], dtype=np.float32)
            entries = json.loads(data["entries"].tobytes().decode())
        if vectors.shape[1:] != (self.dimension,):
            raise BadVector(
                f"The index file {self.path} holds vectors of shape {vectors.shape}, "
                f"not (n, {self.dimension}).",
                hint="It was built with another embedding model: delete the file to rebuild it.",
            )
        return _Snapshot(stamp, tuple(e["id"] for e in entries), vectors,
                         tuple(e["metadata"] for e in entries))

    def _publish(self, ids: list[str], vectors: np.ndarray, metadata: list[dict[str, Any]]) -> None:
        entries = json.dumps([{"id": i, "metadata": m} for i, m in zip(ids, metadata, strict=True)])
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.stem}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                np.savez(out, vectors=vectors.astype(np.float32),
                         entries=np.frombuffer(entries.encode(), dtype=np.uint8))
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._snapshot = _Snapshot(_stamp(self.path), tuple(ids), vectors, tuple(metadata))


def _best_first(scores: np.ndarray, *, shortlist: int) -> Iterator[int]:
    """Indices by descending score, lazily: the filter is checked on the best ``shortlist`` first
    (argpartition, no full sort), and the rest is sorted only if a selective filter needs it."""
    if shortlist >= len(scores):
        yield from np.argsort(-scores, kind="stable").tolist()
        return
    best = np.argpartition(-scores, shortlist - 1)[:shortlist]
    yield from best[np.argsort(-scores[best], kind="stable")].tolist()
    rest = np.setdiff1d(np.arange(len(scores)), best, assume_unique=True)
    yield from rest[np.argsort(-scores[rest], kind="stable")].tolist()


def _stamp(path: Path) -> Stamp | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size
