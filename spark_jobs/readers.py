"""Raw files -> chunks of raw text rows, in bounded memory, without losing a line.

``plan_file`` walks a file once and cuts it into ``Chunk`` s: byte ranges that begin and end on
record boundaries (CSV, JSON Lines) or groups of row groups (Parquet). A chunk is a small,
picklable description, so an engine ships the description to a worker, and the worker reads
its own range (``read_chunk``); the driver never holds the data.

What a worker gets back (``RawChunk``, defined in ``spark_jobs.raw_chunk``): every field as
text exactly as read (empty = ""), the file's own column names, and ``source_line``: for CSV and
JSON Lines the physical line (1-based, the CSV header is line 1) where the record starts, so
``sed -n '<line>p'`` shows it; for Parquet the 1-based row number. Lines that cannot be rows
(wrong field count, bytes that are not UTF-8, a quote that never closes, JSON that is not an
object) come back as ``Malformed`` with their raw text; the caller quarantines them (code
MALFORMED_ROW). Blank lines hold no data and are not rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO, Literal

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from retail_insights.errors import DataError, UsageError
from spark_jobs import csv_format, json_format
from spark_jobs.raw_chunk import RawChunk
from spark_jobs.records import split_records

Format = Literal["csv", "jsonl", "parquet"]
EXTENSIONS: dict[str, Format] = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
}
BLOCK_BYTES = 16 * 1024 * 1024
# A record still open after this many bytes is taken to be a stray quote, not a long field.
MAX_RECORD_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Chunk:
    """One unit of work: a slice of one file that a worker reads on its own."""

    path: str  # the file to read (the bronze copy)
    source_file: str  # lineage: the file as the user named it
    fmt: Format
    file_index: int  # position of the file in the batch (decides ties between versions)
    index: int  # position of the chunk in its file
    start: int  # byte offset, or first row group (Parquet)
    stop: int  # byte offset past the end, or row group past the end
    first_line: int  # line of the byte at ``start``; Parquet: rows before ``start``
    header: tuple[str, ...] = ()
    broken: bool = False  # one line whose quote never closes: parsed alone or quarantined


def file_format(path: Path) -> Format:
    """Format of a raw file from its extension."""
    try:
        return EXTENSIONS[path.suffix.lower()]
    except KeyError:
        raise UsageError(
            f"cannot ingest {str(path)!r}: unknown extension {path.suffix!r}.",
            hint=f"Allowed: {', '.join(EXTENSIONS)}. Fix: rename the file or convert it.",
        ) from None


def plan_file(
    path: Path, *, fmt: Format, file_index: int, source_file: str, chunk_rows: int
) -> Iterator[Chunk]:
    """Chunks of at most ``chunk_rows`` records covering the whole file, in file order."""
    if fmt == "parquet":
        yield from _plan_parquet(
            path, file_index=file_index, source_file=source_file, chunk_rows=chunk_rows
        )
        return
    header: tuple[str, ...] = ()
    pos, line = 0, 1
    with open(path, "rb") as f:
        if fmt == "csv":
            found = csv_format.read_header(f, max_bytes=MAX_RECORD_BYTES, path=path)
            if found is None:
                return
            header, pos, line = found
        base = Chunk(
            path=str(path),
            source_file=source_file,
            fmt=fmt,
            file_index=file_index,
            index=0,
            start=pos,
            stop=pos,
            first_line=line,
            header=header,
        )
        yield from _plan_text(f, base, quoted=fmt == "csv", chunk_rows=chunk_rows)


def _plan_text(f: BinaryIO, base: Chunk, *, quoted: bool, chunk_rows: int) -> Iterator[Chunk]:
    pos, line = base.start, base.first_line
    chunk_start, chunk_line, pending, index = pos, line, 0, 0
    block = BLOCK_BYTES

    def emit(
        stop: int, *, broken: bool = False, start: int | None = None, first: int | None = None
    ) -> Chunk:
        nonlocal index
        index += 1
        return replace(
            base,
            index=index - 1,
            start=chunk_start if start is None else start,
            stop=stop,
            first_line=chunk_line if first is None else first,
            broken=broken,
        )

    while True:
        f.seek(pos)
        buf = f.read(block)
        if not buf:
            break
        eof = len(buf) < block
        rec = split_records(buf, first_line=line, final=eof, quoted=quoted)
        if rec.consumed == 0 and not eof and not rec.open_quote and block < MAX_RECORD_BYTES:
            block *= 2  # one record longer than the block: look further before judging it
            continue
        # cut a chunk after every chunk_rows-th record
        last_cut = -1
        for cut in range(chunk_rows - pending - 1, len(rec.ends), chunk_rows):
            end = int(rec.ends[cut])
            yield emit(pos + end)
            chunk_start, chunk_line, last_cut = pos + end, rec.line_at(end, first_line=line), cut
        pending = len(rec.ends) - last_cut - 1 if last_cut >= 0 else pending + len(rec.ends)
        line = rec.line_at(rec.consumed, first_line=line)
        pos += rec.consumed
        block = BLOCK_BYTES
        if eof and not rec.open_quote:
            break
        if rec.consumed == 0:
            # No record ends within MAX_RECORD_BYTES (or before the end of the file): a stray quote.
            # The chunk so far is sealed; the first physical line becomes a chunk of its own, and
            # reading resumes on the next line with the quote forgotten.
            if pending:
                yield emit(pos)
                pending = 0
            stop = _line_end(f, pos)
            yield emit(stop, broken=True, start=pos, first=line)
            pos, line = stop, line + 1
            chunk_start, chunk_line = pos, line
    if pending:
        yield emit(pos)


def _line_end(f: BinaryIO, pos: int) -> int:
    """Offset just past the newline that ends the physical line starting at ``pos`` (or EOF)."""
    f.seek(pos)
    while True:
        buf = f.read(BLOCK_BYTES)
        if not buf:
            return pos
        found = buf.find(b"\n")
        if found >= 0:
            return pos + found + 1
        pos += len(buf)


def _plan_parquet(
    path: Path, *, file_index: int, source_file: str, chunk_rows: int
) -> Iterator[Chunk]:
    try:
        metadata = pq.read_metadata(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(
            f"{source_file!r} is not a readable Parquet file ({exc}).",
            hint="Fix: re-export the file, or ingest it as CSV/JSON Lines.",
        ) from None
    start, rows_before, rows, index = 0, 0, 0, 0
    for group in range(metadata.num_row_groups):
        rows += metadata.row_group(group).num_rows
        if rows >= chunk_rows or group == metadata.num_row_groups - 1:
            yield Chunk(
                path=str(path),
                source_file=source_file,
                fmt="parquet",
                file_index=file_index,
                index=index,
                start=start,
                stop=group + 1,
                first_line=rows_before,
            )
            start, rows_before, rows, index = group + 1, rows_before + rows, 0, index + 1


def read_chunk(chunk: Chunk) -> RawChunk:
    """The rows of one chunk as text (see the module docstring for the contract)."""
    if chunk.fmt == "parquet":
        return _read_parquet(chunk)
    with open(chunk.path, "rb") as f:
        f.seek(chunk.start)
        buf = f.read(chunk.stop - chunk.start)
    if len(buf) != chunk.stop - chunk.start:
        raise DataError(
            f"{chunk.source_file!r} changed while it was being ingested (short read at byte "
            f"{chunk.start}).",
            hint="Fix: ingest it again; bronze copies are never modified.",
        )
    if chunk.fmt == "csv":
        return csv_format.parse(
            buf, header=chunk.header, first_line=chunk.first_line, broken=chunk.broken
        )
    return json_format.parse(buf, first_line=chunk.first_line)


def _read_parquet(chunk: Chunk) -> RawChunk:
    table = pq.ParquetFile(chunk.path).read_row_groups(list(range(chunk.start, chunk.stop)))
    columns = {name: _as_text(table.column(name)) for name in table.column_names}
    frame = pa.table(columns).to_pandas() if columns else pd.DataFrame(index=range(table.num_rows))
    frame["source_line"] = pd.Series(
        range(chunk.first_line + 1, chunk.first_line + 1 + table.num_rows),
        dtype="int64",
        index=frame.index,
    )
    return RawChunk(rows=frame)


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A typed Parquet column as the text a CSV would have held (ISO-8601 times, "" for null)."""
    import pyarrow.compute as pc

    kind = column.type
    if pa.types.is_timestamp(kind):
        fmt = "%Y-%m-%dT%H:%M:%S%z" if kind.tz else "%Y-%m-%dT%H:%M:%S"
        text = pc.strftime(column, format=fmt)
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = column
    elif pa.types.is_boolean(kind):
        text = pc.if_else(column, "true", "false")
    else:
        text = pc.cast(column, pa.string())
    return pc.fill_null(text.cast(pa.string()), "")
