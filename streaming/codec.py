"""POS events on the wire: one JSON object per Kafka record, SPEC 1.1 field names, keyed by order_id.

Decoding turns a micro-batch of payloads into text columns for ``transform_partition`` (the same
raw text a CSV line gives), or a MALFORMED_EVENT reason. Choices where SPEC is silent:

- Field names are exactly the SPEC 1.1 names; other fields are ignored (as extra CSV columns are).
- A missing field or JSON ``null`` is an empty field. Numbers and booleans keep their JSON text
  (``3`` -> ``"3"``), so a producer that sends numbers is validated like one that sends strings.
- MALFORMED_EVENT: an empty payload, bytes that are not UTF-8, text that is not JSON, JSON that is
  not an object, or a field holding an object or array.

Most batches decode in pyarrow's C++ JSON reader; a chunk it refuses (numbers, broken records) is
decoded record by record with ``json``, which gives the same text for every record both accept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
import io
import json

import numpy as np
import pyarrow as pa

MALFORMED_EVENT = "MALFORMED_EVENT"
_CHUNK = 2_000  # records per fast-path parse: one bad record sends only its chunk to the slow path


@dataclass(frozen=True)
class Malformed:
    index: int  # position of the record in the decoded sequence
    reason: str


@dataclass(frozen=True)
class Decoded:
    rows: pa.Table  # one string column per field (null = empty), for the records that decoded
    index: np.ndarray  # input position of each row of ``rows``, ascending
    malformed: tuple[Malformed, ...]


def encode_event(event: Mapping[str, object]) -> bytes:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def event_key(event: Mapping[str, object]) -> bytes | None:
    """The record key: the trimmed order_id, so every version of an order lands in one partition.

    Trimming matters because the transform trims too: ``" ORD-1"`` and ``"ORD-1"`` are one order,
    and only one partition keeps their versions in arrival order. No usable order_id: no key.
    """
    value = event.get("order_id")
    text = value.strip() if isinstance(value, str) else ""
    return text.encode("utf-8") if text else None


def decode(payloads: Sequence[bytes | None], *, fields: Sequence[str]) -> Decoded:
    """Decode payloads into text columns named ``fields``; undecodable ones become Malformed."""
    schema = pa.schema([(name, pa.string()) for name in fields])
    tables: list[pa.Table] = []
    index: list[np.ndarray] = []
    malformed: list[Malformed] = []
    for start in range(0, len(payloads), _CHUNK):
        chunk = payloads[start : start + _CHUNK]
        table = _fast(chunk, schema)
        if table is not None:
            tables.append(table)
            index.append(np.arange(start, start + len(chunk), dtype=np.int64))
            continue
        rows, positions, bad = _slow(chunk, fields)
        tables.append(pa.Table.from_pylist(rows, schema=schema))
        index.append(np.asarray(positions, dtype=np.int64) + start)
        malformed += [Malformed(start + i, reason) for i, reason in bad]
    rows = pa.concat_tables(tables) if tables else schema.empty_table()
    positions = np.concatenate(index) if index else np.empty(0, dtype=np.int64)
    return Decoded(rows.combine_chunks(), positions, tuple(malformed))


def _fast(chunk: Sequence[bytes | None], schema: pa.Schema) -> pa.Table | None:
    """The chunk through pyarrow's JSON reader, or None if any record needs the careful path."""
    import pyarrow.json as pajson

    # One record per line only holds when no payload is empty or spans lines.
    if any(not p or b"\n" in p or b"\r" in p for p in chunk):
        return None
    try:
        table = pajson.read_json(
            io.BytesIO(b"\n".join(chunk)),  # type: ignore[arg-type]  # None ruled out above
            read_options=pajson.ReadOptions(use_threads=False, block_size=1 << 26),
            parse_options=pajson.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="ignore"
            ),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError):
        return None
    if table.num_rows != len(chunk):  # e.g. two objects on one line, or a blank payload
        return None
    return table.select(schema.names)


def _slow(
    chunk: Sequence[bytes | None], fields: Sequence[str]
) -> tuple[list[dict[str, str | None]], list[int], list[tuple[int, str]]]:
    rows, positions, bad = [], [], []
    for i, payload in enumerate(chunk):
        row, reason = _one(payload, fields)
        if reason is None:
            rows.append(row)
            positions.append(i)
        else:
            bad.append((i, reason))
    return rows, positions, bad


def _one(payload: bytes | None, fields: Sequence[str]) -> tuple[dict[str, str | None], str | None]:
    if not payload:
        return {}, "empty payload"
    try:
        data = json.loads(payload.decode("utf-8"))
    except UnicodeDecodeError as error:
        return {}, f"payload is not UTF-8 ({error.reason} at byte {error.start})"
    except ValueError as error:
        return {}, f"payload is not JSON ({error})"
    if not isinstance(data, dict):
        return {}, f"payload is a JSON {type(data).__name__}, not an object"
    row: dict[str, str | None] = {}
    for name in fields:
        value = data.get(name)
        if value is None or isinstance(value, str):
            text = value
        elif isinstance(value, (dict, list)):
            return {}, f"field {name!r} holds a JSON {type(value).__name__}, not a value"
        else:
            text = json.dumps(value)  # numbers and booleans as their JSON text
        if text is not None and not _utf8(text):
            return {}, f"field {name!r} holds a lone surrogate escape"
        row[name] = text
    return row, None


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
