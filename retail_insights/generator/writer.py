"""Chunked writing of string tables to `orders-00000.<ext>` files of at most chunk_rows rows.

Each file is written under a hidden temporary name and renamed when complete, so a reader
watching the directory never sees half a file; files a previous run left behind under the
same names are removed first, so a re-run replaces its output instead of adding to it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from retail_insights.errors import UsageError
from retail_insights.generator.plan import Format

_EXTENSIONS: dict[str, str] = {"csv": "csv", "jsonl": "jsonl", "parquet": "parquet"}
_OUR_FILES = re.compile(r"orders-\d{5}\.(csv|jsonl|parquet)")
_NEEDS_JSON_ESCAPE = r'["\\\x00-\x1f]'


class ChunkedWriter:
    """Write tables in arrival order, starting a new file every chunk_rows rows."""

    def __init__(self, out: Path, *, fmt: Format, chunk_rows: int, schema: pa.Schema) -> None:
        if out.exists() and not out.is_dir():
            raise UsageError(f"Output {str(out)!r} is a file, not a directory.",
                             hint="Pass a directory; files orders-00000.* are written inside it.")
        out.mkdir(parents=True, exist_ok=True)
        for old in out.iterdir():
            if _OUR_FILES.fullmatch(old.name):
                old.unlink()
        self.out, self.fmt, self.chunk_rows, self.schema = out, fmt, chunk_rows, schema
        self.files: list[Path] = []
        self._sink: _Sink | None = None
        self._left = 0

    def write(self, table: pa.Table) -> None:
        offset = 0
        while offset < len(table):
            if self._sink is None:
                self._open()
            take = min(self._left, len(table) - offset)
            assert self._sink is not None
            self._sink.write(table.slice(offset, take))
            offset += take
            self._left -= take
            if self._left == 0:
                self._finish()

    def close(self) -> list[Path]:
        if self._sink is not None:
            self._finish()
        return list(self.files)

    def __enter__(self) -> ChunkedWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is None:
            self.close()
        elif self._sink is not None:  # leave no partial file behind
            self._sink.abort()
            self._sink = None

    def _open(self) -> None:
        final = self.out / f"orders-{len(self.files):05d}.{_EXTENSIONS[self.fmt]}"
        self._sink = _Sink(final, self.fmt, self.schema)
        self._left = self.chunk_rows

    def _finish(self) -> None:
        assert self._sink is not None
        self.files.append(self._sink.commit())
        self._sink = None


class _Sink:
    """One output file in one format, written to a temporary name until commit."""

    def __init__(self, final: Path, fmt: Format, schema: pa.Schema) -> None:
        self.final, self.fmt = final, fmt
        self.temp = final.with_name(f".{final.name}.tmp")
        self._parquet: pq.ParquetWriter | None = None
        self._csv: pa_csv.CSVWriter | None = None
        self._file: BinaryIO | None = None
        if fmt == "parquet":
            self._parquet = pq.ParquetWriter(self.temp, schema, compression="zstd")
        else:
            self._file = open(self.temp, "wb")  # noqa: SIM115 - closed in commit/abort
            if fmt == "csv":
                # Values never hold a delimiter or quote (see dirty.py), and "none" fails loudly
                # if one ever does; Arrow's "needed" would quote every string.
                options = pa_csv.WriteOptions(quoting_style="none", quoting_header="none")
                self._csv = pa_csv.CSVWriter(self._file, schema, write_options=options)

    def write(self, table: pa.Table) -> None:
        if self._parquet is not None:
            self._parquet.write_table(table)
        elif self._csv is not None:
            self._csv.write_table(table)
        else:
            assert self._file is not None
            self._file.write(_json_lines(table))

    def commit(self) -> Path:
        self._close()
        self.temp.replace(self.final)
        return self.final

    def abort(self) -> None:
        self._close()
        self.temp.unlink(missing_ok=True)

    def _close(self) -> None:
        if self._parquet is not None:
            self._parquet.close()
        if self._csv is not None:
            self._csv.close()
        if self._file is not None:
            self._file.close()


def _json_lines(table: pa.Table) -> bytes:
    """One JSON object per row, all values strings, keys in schema order."""
    columns = [table[name].combine_chunks() for name in table.column_names]
    if any(pc.any(pc.match_substring_regex(c, _NEEDS_JSON_ESCAPE)).as_py() for c in columns):
        # The rare slow path: let the json module do the escaping.
        return "".join(json.dumps(row, ensure_ascii=False) + "\n"
                       for row in table.to_pylist()).encode()
    parts: list[pa.Array | str] = []
    for i, (name, column) in enumerate(zip(table.column_names, columns)):
        parts += [('{"' if i == 0 else '","') + name + '":"', column]
    lines = pc.binary_join_element_wise(*parts, '"}\n', "")
    # The string array's data buffer is exactly the file's bytes, lines back to back.
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
    offsets = offsets[lines.offset:lines.offset + len(lines) + 1]
    return memoryview(lines.buffers()[2])[offsets[0]:offsets[-1]].tobytes()
