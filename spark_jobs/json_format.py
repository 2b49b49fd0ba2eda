"""JSON Lines: one chunk's bytes -> rows as text plus the lines that cannot be rows.

Each line must be a JSON object; its values become the text a CSV would have held (null -> "",
true -> "true", numbers as written by Python, nested values as compact JSON), so every format
reaches the transform in the same shape. A key missing from a line is "" like an empty field.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from spark_jobs.raw_chunk import Malformed, RawChunk
from spark_jobs.records import split_records


def parse(buf: bytes, *, first_line: int):
    """Rows (the union of the objects' keys as text, plus ``source_line``) and malformed lines."""
    rec = split_records(buf, first_line=first_line, final=True, quoted=False)
    objects: list[dict[str, str]] = []
    lines: list[int] = []
    malformed: list[Malformed] = []
    view = memoryview(buf)
    for start, end, line in zip(rec.starts.tolist(), rec.ends.tolist(), rec.lines.tolist()):
        raw = bytes(view[start:end])
        parsed, reason = _object(raw)
        if parsed is None:
            malformed.append(
                Malformed(line, reason, raw.rstrip(b"\r\n").decode("utf-8", "backslashreplace"))
            )
            continue
        objects.append(parsed)
        lines.append(line)
    frame = pd.DataFrame(objects, dtype="str").fillna("") if objects else pd.DataFrame()
    frame["source_line"] = np.array(lines, dtype=np.int64)
    return RawChunk(rows=frame, malformed=malformed)


def _object(raw: bytes) -> tuple[dict[str, str] | None, str]:
    try:
        text = raw.decode("utf-8").lstrip("\ufeff")  # a byte-order mark opens some exports
    except UnicodeDecodeError as exc:
        return None, f"bytes are not UTF-8 (byte {exc.start} of the line)"
    if not text.strip():
        return None, "blank line"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"not JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(value, dict):
        return None, f"a JSON {type(value).__name__}, not an object"
    return {str(k): _text(v) for k, v in value.items()}, ""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
