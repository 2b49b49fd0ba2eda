"""Where records start and end in a block of delimited text, found with numpy instead of a parser.

A newline ends a record only outside double quotes, so a record is found by the parity of the
quotes before each newline (an escaped quote ``""`` adds two and keeps the parity). This is the
one place that decides record boundaries: the planner uses it to cut a file into byte ranges
that start and end on record boundaries, and the reader uses it again inside a range, so both
agree on every record and on the physical line it starts on (CRLF ends are one line; a quoted
newline moves the line count on without ending the record).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_NEWLINE, _QUOTE, _COMMA, _CR = 10, 34, 44, 13


@dataclass(frozen=True)
class Records:
    """Non-blank records of a buffer; offsets are relative to the buffer's first byte."""

    starts: np.ndarray  # first byte of each record
    ends: np.ndarray  # one past its last byte (past the newline, if it has one)
    lines: np.ndarray  # physical line number the record starts on
    fields: np.ndarray  # delimiters outside quotes + 1 (only when fields were counted)
    irregular: np.ndarray  # records a strict RFC 4180 reading might split differently (idem)
    consumed: int  # bytes up to the end of the last complete record
    open_quote: bool  # the bytes after ``consumed`` hold a quote that never closes
    newlines: np.ndarray  # offsets of every newline byte, to turn an offset into a line

    def line_at(self, offset: int, *, first_line: int) -> int:
        """Physical line number of the byte at ``offset``."""
        return first_line + int(np.searchsorted(self.newlines, offset))


def split_records(
    buf: bytes, *, first_line: int, final: bool, quoted: bool = True, count_fields: bool = False
) -> Records:
    """Complete records of ``buf``, which must start at a record boundary.

    With ``final`` the buffer ends the input, so a last record without a newline counts when its
    quotes are balanced. ``quoted=False`` treats every newline as a record end (JSON Lines).
    """
    data = np.frombuffer(buf, dtype=np.uint8)
    newlines = np.flatnonzero(data == _NEWLINE)
    quotes = np.flatnonzero(data == _QUOTE) if quoted else np.empty(0, dtype=np.int64)
    outside = (np.searchsorted(quotes, newlines) & 1) == 0
    terminators = newlines[outside]
    ends = terminators + 1
    consumed = int(ends[-1]) if ends.size else 0
    open_quote = False
    if final and consumed < len(buf):
        if (quotes.size - int(np.searchsorted(quotes, consumed))) & 1:
            open_quote = True
        else:
            ends = np.append(ends, len(buf))
            consumed = len(buf)
    starts = np.concatenate(([0], ends[:-1])).astype(np.int64) if ends.size else ends
    keep = ~_blank(data, starts, ends)
    starts, ends = starts[keep], ends[keep]
    lines = first_line + np.searchsorted(newlines, starts)
    fields = irregular = np.empty(0, dtype=np.int64)
    if count_fields:
        commas = np.flatnonzero(data == _COMMA)
        commas = commas[(np.searchsorted(quotes, commas) & 1) == 0]
        fields = np.searchsorted(commas, ends) - np.searchsorted(commas, starts) + 1
        irregular = _irregular(data, quotes, ends)
    return Records(
        starts=starts,
        ends=ends,
        lines=lines,
        fields=fields,
        irregular=irregular,
        consumed=consumed,
        open_quote=open_quote,
        newlines=newlines,
    )


def _irregular(data: np.ndarray, quotes: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Records holding a quote that does not open or close a field, or a bare carriage return.

    Quote parity and a CSV parser agree on every record boundary when quotes only open fields
    and close them (an escaped quote is a close and an open); a quote inside a field
    (``5" TV``) is a literal to the parser but flips the parity, and a lone CR ends a line for
    the parser but not for the splitter. Such records are parsed one by one instead of in bulk.
    """
    size = len(data)
    odd = np.zeros(len(ends), dtype=bool)
    if size == 0 or len(ends) == 0:
        return odd
    before = np.where(quotes > 0, data[np.maximum(quotes - 1, 0)], _NEWLINE)
    after = np.where(quotes < size - 1, data[np.minimum(quotes + 1, size - 1)], _NEWLINE)
    opening = (np.arange(len(quotes)) & 1) == 0
    ok_open = np.isin(before, (_COMMA, _NEWLINE, _QUOTE))
    ok_close = np.isin(after, (_COMMA, _NEWLINE, _CR, _QUOTE))
    bad = quotes[np.where(opening, ~ok_open, ~ok_close)]
    carriage = np.flatnonzero(data == _CR)
    carriage = carriage[
        (carriage == size - 1) | (data[np.minimum(carriage + 1, size - 1)] != _NEWLINE)
    ]
    bad = np.concatenate((bad, carriage[(np.searchsorted(quotes, carriage) & 1) == 0]))
    which = np.searchsorted(ends, bad, side="right")  # the record each position falls in
    odd[which[which < len(ends)]] = True
    return odd


def _blank(data: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Records that are an empty line (``\\n`` or ``\\r\\n``): no data, so not rows."""
    length = ends - starts
    blank = length == 0
    blank |= (
        (length == 1) & (data[np.minimum(starts, len(data) - 1)] == _NEWLINE)
        if len(data)
        else blank
    )
    if len(data):
        cr_first = data[np.minimum(starts, len(data) - 1)] == _CR
        blank |= (
            (length == 2) & cr_first & (data[np.minimum(starts + 1, len(data) - 1)] == _NEWLINE)
        )
        # a lone trailing "\r" at the very end of the input is an empty line as well
        blank |= (length == 1) & cr_first
    return blank
