"""Bronze: raw files kept as they arrived, by content hash, and the ledger of batches.

Every ingested file is copied once to ``bronze/<dataset>/<sha256>.<ext>`` and read from there,
so what a batch processed is exactly what was hashed, even if the original changes later.

The ledger (``state/ingest/<dataset>.jsonl``, one JSON object per line, append-only) records
two events per batch: ``started`` (batch id, sequence number, files) before any commit, and
``committed`` (the summary) after the last step. A file whose hash is in a committed batch is
skipped. The sequence number is the commits' ``app_version``: a batch re-run after a crash
reuses the number it started with, so a Delta commit that already happened is recognised and
skipped instead of applied twice. A lock file serialises batches of one dataset.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
import fcntl
import hashlib
import json
import os
from pathlib import Path
import shutil
from typing import Any

from spark_jobs.readers import Format, file_format

_READ_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Landed:
    source: Path  # the file as the user named it
    sha256: str
    bronze: Path  # the immutable copy that is read
    fmt: Format
    size: int


def land(paths: Sequence[Path], *, bronze_dir: Path) -> list[Landed]:
    """Hash each file and copy it into ``bronze_dir`` unless that content is already there."""
    bronze_dir.mkdir(parents=True, exist_ok=True)
    landed = []
    for path in paths:
        fmt = file_format(path)
        digest = file_sha256(path)
        target = bronze_dir / f"{digest}.{fmt}"
        if not target.exists():
            # copy under a temporary name, then rename: a crash never leaves half a bronze file
            partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
            shutil.copyfile(path, partial)
            os.replace(partial, target)
        landed.append(
            Landed(source=path, sha256=digest, bronze=target, fmt=fmt, size=target.stat().st_size)
        )
    return landed


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_READ_BYTES):
            digest.update(block)
    return digest.hexdigest()


def batch_id_for(dataset: str, hashes: Sequence[str]) -> str:
    """Same dataset and same files in the same order -> same batch id (order decides ties)."""
    digest = hashlib.sha256("\n".join([dataset, *hashes]).encode()).hexdigest()
    return f"b{digest[:19]}"


class Ledger:
    """The append-only record of one dataset's batches."""

    def __init__(self, state_dir: Path, dataset: str) -> None:
        self.folder = state_dir / "ingest"
        self.path = self.folder / f"{dataset}.jsonl"
        self.dataset = dataset

    @contextmanager
    def locked(self) -> Iterator[Ledger]:
        """Hold the dataset's batch lock (another ingest of the same dataset waits here)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / f"{self.dataset}.lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield self
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def events(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        events = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                try:
                    events.append(json.loads(line))
                except (
                    json.JSONDecodeError
                ):  # a torn last line from a crash: that event never finished
                    continue
        return events

    def committed_hashes(self) -> set[str]:
        return {f["sha256"] for e in self.events() if e["event"] == "committed" for f in e["files"]}

    def sequence_for(self, batch_id: str, *, at_least: int) -> int:
        """The batch's sequence number: the one it started with (a re-run after a crash), else
        one past every number in use."""
        events = self.events()
        done = {e["batch_id"] for e in events if e["event"] == "committed"}
        started = [e for e in events if e["event"] == "started"]
        # Reuse only if nothing started since: a later batch may have committed a higher number,
        # and a commit under the old number would then be skipped as already done.
        if started and started[-1]["batch_id"] == batch_id and batch_id not in done:
            return int(started[-1]["seq"])
        return max([at_least, *(int(e["seq"]) for e in events)]) + 1

    def started(self, *, batch_id: str, seq: int, files: Sequence[Landed], at: datetime) -> None:
        self._append(
            {
                "event": "started",
                "batch_id": batch_id,
                "seq": seq,
                "at": at.isoformat(),
                "files": [_file(f) for f in files],
            }
        )

    def committed(
        self, *, batch_id: str, seq: int, files: Sequence[Landed], summary: dict[str, Any]
    ) -> None:
        self._append(
            {
                "event": "committed",
                "batch_id": batch_id,
                "seq": seq,
                "files": [_file(f) for f in files],
                "summary": summary,
            }
        )

    def _append(self, event: dict[str, Any]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        torn = (
            self.path.exists()
            and self.path.stat().st_size > 0
            and not _ends_with_newline(self.path)
        )
        with open(self.path, "a", encoding="utf-8") as f:
            if torn:  # a crash cut the last event short: start ours on a fresh line
                f.write("\n")
            f.write(json.dumps(event, sort_keys=True, default=str) + "\n")
            f.flush()
            os.fsync(f.fileno())


def _file(landed: Landed) -> dict[str, Any]:
    return {
        "sha256": landed.sha256,
        "source": str(landed.source),
        "bronze": str(landed.bronze),
        "format": landed.fmt,
        "bytes": landed.size,
    }


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        return f.read(1) == b"\n"
