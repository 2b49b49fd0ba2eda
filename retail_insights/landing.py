"""The landing folder: where raw files arrive for the daily batch, and how a run claims them.

Files are dropped into ``<RETAIL_HOME>/landing/``; a writer that needs time to finish writes
under a name starting with ``.`` and renames when done (the generator does), because dot-files
are never picked up. A run *claims* what is there: it writes down, before touching anything,
which files it takes and where they go (``landing/processed/<ds>/``), then moves them. The
claim is kept under ``state_dir/landing/`` by the run's key (its logical date, or its run id when
it has none), so a retried run, or another run for the same logical date, processes exactly the
files claimed the first time, even after a crash halfway through the moves; a file is never
taken by two keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
import hashlib
import json
import os
from pathlib import Path
import re

from retail_insights.errors import DataError, UsageError
from retail_insights.settings import get_settings

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Claim:
    """The files one run took from the landing folder, at their place under ``processed/<ds>/``."""

    run_key: str
    ds: str
    files: tuple[Path, ...]
    manifest: Path

    def to_json(self) -> dict[str, object]:
        return {"run_key": self.run_key, "ds": self.ds, "files": [str(f) for f in self.files],
                "manifest": str(self.manifest)}


def landing_dir() -> Path:
    """``<RETAIL_HOME>/landing``: drop raw files (CSV, JSON Lines, Parquet) here."""
    return get_settings().home.resolve() / "landing"


def processed_dir(ds: str) -> Path:
    """Where the files claimed by the run for logical date ``ds`` (YYYY-MM-DD) end up."""
    return landing_dir() / "processed" / _check_ds(ds)


def pending_files() -> list[Path]:
    """Raw files waiting in the landing folder, oldest first (then by name).

    Only the folder's own files count: sub-folders (``processed/``), dot-files (files still
    being written) and files the pipeline cannot read are left alone.
    """
    from spark_jobs.readers import EXTENSIONS  # one list of readable formats, owned by the readers

    folder = landing_dir()
    if not folder.is_dir():
        return []
    found = [entry for entry in folder.iterdir()
             if entry.is_file() and not entry.name.startswith(".")
             and entry.suffix.lower() in EXTENSIONS]
    return sorted(found, key=lambda p: (p.stat().st_mtime_ns, p.name))


def read_claim(run_key: str) -> Claim | None:
    """The claim made earlier under ``run_key``, or None if nothing was claimed under it yet."""
    manifest = _manifest_path(run_key)
    if not manifest.is_file():
        return None
    data = json.loads(manifest.read_text(encoding="utf-8"))
    return Claim(run_key, data["ds"], tuple(Path(e["target"]) for e in data["files"]), manifest)


def claim(*, run_key: str, ds: str) -> Claim:
    """Take the pending files for the run keyed ``run_key`` and move them to ``processed/<ds>/``.

    ``run_key`` is the run's logical date (ISO-8601), or its run id when it has none. The first
    call records the pending files and their targets, then moves them; a later call with the same
    key returns the same files, finishing any move an earlier attempt left undone. No pending
    files on the first call gives an empty claim, which is recorded too.
    """
    _check_ds(ds)
    previous = _manifest_path(run_key)
    if previous.is_file():
        entries = json.loads(previous.read_text(encoding="utf-8"))["files"]
    else:
        entries = _plan(pending_files(), ds=ds)
        _write_json(previous, {"run_key": run_key, "ds": ds, "files": entries})
    for entry in entries:
        _move(entry)
    return Claim(run_key, ds, tuple(Path(e["target"]) for e in entries), previous)


def _plan(files: list[Path], *, ds: str) -> list[dict[str, object]]:
    """Targets under processed/<ds>/ that collide neither with earlier runs nor with each other."""
    target_dir = processed_dir(ds)
    taken = {p.name for p in target_dir.iterdir()} if target_dir.is_dir() else set()
    entries = []
    for source in files:
        name, n = source.name, 1
        while name in taken:  # e.g. a feed that drops orders.csv every hour
            name = f"{source.stem}-{n}{source.suffix}"
            n += 1
        taken.add(name)
        stat = source.stat()
        entries.append({"source": str(source), "target": str(target_dir / name),
                        "size": stat.st_size, "mtime_ns": stat.st_mtime_ns})
    return entries


def _move(entry: dict[str, object]) -> None:
    source, target = Path(str(entry["source"])), Path(str(entry["target"]))
    if target.is_file():
        return  # moved by an earlier attempt
    if not source.is_file():
        raise DataError(f"claimed file {str(source)!r} is neither in the landing folder nor at "
                        f"{str(target)!r}.",
                        hint="Fix: put the file back where it was, or delete the run's claim "
                             "manifest and run again to claim what is there now.")
    stat = source.stat()
    if (stat.st_size, stat.st_mtime_ns) != (entry["size"], entry["mtime_ns"]):
        raise DataError(f"{str(source)!r} changed after the run claimed it "
                        f"(size {entry['size']} -> {stat.st_size}).",
                        hint="Fix: land files under a dot-name and rename them when complete.")
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)  # a rename: same file system, atomic


def _manifest_path(run_key: str) -> Path:
    if not run_key:
        raise UsageError("run_key must not be empty.",
                         hint="Pass the run's logical date (ISO-8601), or its run id without one.")
    # Keys hold ':' and '+'; keep them readable and add a hash so two keys never share a file.
    digest = hashlib.sha256(run_key.encode()).hexdigest()[:8]
    return get_settings().state_dir / "landing" / f"{_SAFE.sub('_', run_key)}-{digest}.json"


def _check_ds(ds: str) -> str:
    try:
        date.fromisoformat(ds)
    except (TypeError, ValueError):
        raise UsageError(f"ds {ds!r} is not a date.",
                         hint="Pass the logical date as YYYY-MM-DD.") from None
    return ds


def _write_json(path: Path, payload: dict[str, object]) -> None:
    """Write whole or not at all: a crash leaves the old file or none, never half a manifest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(json.dumps(payload, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(temp, path)
