"""Arrow schemas of the stored tables, derived from the dataset spec (one place, every writer uses it)."""

from __future__ import annotations

import re

import pyarrow as pa

from warehouse.spec import DatasetSpec

LINEAGE_FIELDS = (
    pa.field("batch_id", pa.string()),
    pa.field("source_file", pa.string()),
    pa.field("source_line", pa.int64()),  # line in the file, or the Kafka offset
    pa.field("ingested_at", pa.timestamp("us", tz="UTC")),
)

_DECIMAL = re.compile(r"decimal\((\d+),(\d+)\)")


def arrow_type(name: str) -> pa.DataType:
    """Arrow type for a spec type name."""
    if m := _DECIMAL.fullmatch(name):
        return pa.decimal128(int(m.group(1)), int(m.group(2)))
    return {
        "string": pa.string(),
        "int32": pa.int32(),
        "int64": pa.int64(),
        "double": pa.float64(),
        "bool": pa.bool_(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "list<string>": pa.list_(pa.string()),
    }[name]


def silver_schema(spec: DatasetSpec) -> pa.Schema:
    """Schema of the clean table: typed source columns, derived columns, then lineage."""
    fields = [pa.field(c.name, arrow_type(c.type)) for c in spec.source.columns]
    fields += [pa.field(d.name, arrow_type(d.type)) for d in spec.derived]
    return pa.schema(fields + list(LINEAGE_FIELDS))


def quarantine_schema(spec: DatasetSpec) -> pa.Schema:
    """Schema of the quarantine table: raw values as text, every reason code, where the row came from."""
    fields = [pa.field(c.name, pa.string()) for c in spec.source.columns]
    fields += [
        pa.field("reason_codes", pa.list_(pa.string())),
        pa.field("reasons", pa.string()),
        pa.field("year", pa.int32()),   # of the ingestion date: quarantine is partitioned by arrival
        pa.field("month", pa.int32()),
    ]
    return pa.schema(fields + list(LINEAGE_FIELDS))
