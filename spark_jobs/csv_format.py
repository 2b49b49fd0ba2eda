"""CSV: the header, and one chunk's bytes -> rows as text plus the lines that cannot be rows.

The fast path hands every well-formed record of a chunk to pyarrow's CSV parser in one call
(all columns as strings, empty stays ""). Records with the wrong number of fields, bytes that
are not UTF-8, or quotes that a parser may read differently from the record splitter go through
Python's ``csv`` module (strict) one at a time; a multi-line record that still does not fit
(usually a stray quote that swallowed the lines after it) is retried line by line, so one bad
quote costs one line, not the rest of the file.
"""

from __future__ import annotations

import csv
import io
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from retail_insights.errors import DataError
from spark_jobs.raw_chunk import Malformed, RawChunk
from spark_jobs.records import Records, split_records

_BOM = b"\xef\xbb\xbf"
_FIELD_LIMIT = 2**31 - 1  # the csv module's default (128 KiB) would reject legitimately huge fields


def read_header(
    f: BinaryIO, *, max_bytes: int, path: object
) -> tuple[tuple[str, ...], int, int] | None:
    """(column names, byte offset after the header, line after it); None for an empty file."""
    block = 1 << 20
    while True:
        f.seek(0)
        buf = f.read(block)
        eof = len(buf) < block
        rec = split_records(buf, first_line=1, final=eof)
        if len(rec.starts):
            break
        if eof:
            if rec.open_quote:
                raise DataError(
                    f"The header of {str(path)!r} opens a quote that never closes.",
                    hint="Fix: correct the first line of the file.",
                )
            return None
        if block >= max_bytes:
            raise DataError(
                f"The header of {str(path)!r} is longer than {max_bytes} bytes.",
                hint="Fix: check that the file is CSV with a header line.",
            )
        block *= 2
    raw = buf[int(rec.starts[0]) : int(rec.ends[0])]
    try:
        text = raw.decode("utf-8-sig").lstrip("\ufeff")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"The header of {str(path)!r} is not UTF-8 (byte {exc.start}).",
            hint="Fix: save the file as UTF-8.",
        ) from None
    try:
        names = tuple(name.strip() for name in _csv_rows(text)[0])
    except csv.Error as exc:
        raise DataError(
            f"The header of {str(path)!r} is not valid CSV ({exc}).",
            hint="Fix: correct the first line of the file.",
        ) from None
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise DataError(
            f"The header of {str(path)!r} repeats the columns {dupes}.",
            hint="Fix: give every column a distinct name.",
        )
    end = int(rec.ends[0])
    return names, end, rec.line_at(end, first_line=1)


def parse(buf: bytes, *, header: tuple[str, ...], first_line: int, broken: bool):
    """Rows (the header's columns as text, plus ``source_line``) and malformed lines of a chunk."""
    width = len(header)
    if broken:  # one physical line whose quote never closes
        rows, bad = _salvage(bytes(buf), first_line, width)
        return RawChunk(rows=_frame(header, rows), malformed=[Malformed(*m) for m in bad])
    rec = split_records(buf, first_line=first_line, final=True, count_fields=True)
    if rec.open_quote or rec.consumed != len(buf):
        raise DataError(
            f"Chunk at line {first_line} does not end on a record boundary.",
            hint="This is a bug in the planner; please report it with the file.",
        )
    good = (rec.fields == width) & ~rec.irregular
    _no_leading_bom(buf, rec, good)
    table = _fast(buf, rec, good, width)
    if table is None:  # some bytes are not UTF-8: find the records that hold them, then retry once
        good &= _decodable(buf, rec)
        _no_leading_bom(buf, rec, good)
        table = _fast(buf, rec, good, width)
    if table is None:  # pyarrow and the splitter disagree: read every record the slow way
        good[:] = False
    salvaged: list[tuple[int, list[str]]] = []
    malformed: list[tuple[int, str, str]] = []
    for i in np.flatnonzero(~good):
        rows, bad = _salvage(bytes(buf[rec.starts[i] : rec.ends[i]]), int(rec.lines[i]), width)
        salvaged += rows
        malformed += bad
    frame = _fast_frame(table, header, rec.lines[good]) if table is not None else _frame(header, [])
    if salvaged:
        frame = pd.concat([frame, _frame(header, salvaged)], ignore_index=True)
        frame = frame.sort_values("source_line", kind="stable", ignore_index=True)
    return RawChunk(rows=frame, malformed=[Malformed(*m) for m in malformed])


def _fast(buf: bytes, rec: Records, good: np.ndarray, width: int) -> pa.Table | None:
    """All good records parsed by pyarrow in one call; None if it disagrees or sees bad UTF-8."""
    if not good.any():
        return pa.table({f"c{i}": pa.array([], pa.string()) for i in range(width)})
    view = memoryview(buf)
    if good.all():
        data: bytes | memoryview = view[int(rec.starts[0]) : int(rec.ends[-1])]
    else:  # join runs of consecutive good records
        edges = np.flatnonzero(np.diff(np.concatenate(([0], good.astype(np.int8), [0]))))
        data = b"".join(
            _with_newline(view[int(rec.starts[a]) : int(rec.ends[b - 1])])
            for a, b in zip(edges[::2], edges[1::2])
        )
    spanned = np.searchsorted(rec.newlines, rec.ends[good]) - np.searchsorted(
        rec.newlines, rec.starts[good]
    )
    names = [f"c{i}" for i in range(width)]
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(
                column_names=names, use_threads=False, block_size=max(1 << 20, len(data) + 1)
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=bool((spanned > 1).any())),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        return None
    return table if table.num_rows == int(good.sum()) else None


def _no_leading_bom(buf: bytes, rec: Records, good: np.ndarray) -> None:
    """Send the good records that would open pyarrow's input with a byte-order mark the slow way.

    pyarrow drops a BOM at the start of its input, while the same line inside a chunk keeps it:
    without this, a row's text would depend on where its chunk happens to start.
    """
    for i in np.flatnonzero(good):
        if bytes(buf[int(rec.starts[i]) : int(rec.starts[i]) + len(_BOM)]) != _BOM:
            return
        good[i] = False


def _with_newline(piece: memoryview) -> bytes:
    data = bytes(piece)
    return data if data.endswith(b"\n") else data + b"\n"


def _decodable(buf: bytes, rec: Records) -> np.ndarray:
    ok = np.ones(len(rec.starts), dtype=bool)
    view = memoryview(buf)
    for i, (start, end) in enumerate(zip(rec.starts.tolist(), rec.ends.tolist())):
        try:
            str(view[start:end], "utf-8")
        except UnicodeDecodeError:
            ok[i] = False
    return ok


def _salvage(
    raw: bytes, line: int, width: int
) -> tuple[list[tuple[int, list[str]]], list[tuple[int, str, str]]]:
    """One record the slow way; if it does not fit, each of its physical lines on its own."""
    fields, reason = _one_row(raw, width)
    if fields is not None:
        return [(line, fields)], []
    pieces = raw.split(b"\n")
    if len([p for p in pieces if p.strip(b"\r")]) <= 1:
        return [], [(line, reason, _text(raw))]
    rows, bad = [], []
    for offset, piece in enumerate(pieces):
        if not piece.strip(b"\r"):
            continue
        fields, reason = _one_row(piece, width)
        if fields is not None:
            rows.append((line + offset, fields))
        else:
            bad.append((line + offset, reason, _text(piece)))
    return rows, bad


def _one_row(raw: bytes, width: int) -> tuple[list[str] | None, str]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"bytes are not UTF-8 (byte {exc.start} of the line)"
    try:
        rows = _csv_rows(text)
    except csv.Error as exc:
        return None, f"not CSV ({exc})"
    if len(rows) == 1 and len(rows[0]) == width:
        return rows[0], ""
    found = sum(len(r) for r in rows)
    return None, f"expected {width} fields, found {found}" + (
        " over several lines" if len(rows) > 1 else ""
    )


def _csv_rows(text: str) -> list[list[str]]:
    """Rows of ``text`` by RFC 4180 with literal quotes inside unquoted fields (``5" TV``).

    Strict: a quoted field that never closes, or text after a closing quote, is an error here,
    so such a line is quarantined rather than guessed at.
    """
    csv.field_size_limit(_FIELD_LIMIT)
    return [row for row in csv.reader(io.StringIO(text, newline=""), strict=True) if row]


def _text(raw: bytes) -> str:
    return raw.rstrip(b"\r\n").decode("utf-8", "backslashreplace")


def _fast_frame(table: pa.Table, header: tuple[str, ...], lines: np.ndarray) -> pd.DataFrame:
    frame = table.to_pandas()
    frame.columns = list(header)
    frame["source_line"] = lines.astype(np.int64)
    return frame


def _frame(header: tuple[str, ...], rows: list[tuple[int, list[str]]]) -> pd.DataFrame:
    frame = pd.DataFrame([fields for _, fields in rows], columns=list(header), dtype="str")
    frame["source_line"] = np.array([line for line, _ in rows], dtype=np.int64)
    return frame
