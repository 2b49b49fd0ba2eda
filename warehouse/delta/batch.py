"""What one commit is about: table schema, key, ordering, partitioning and the app transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from deltalake import DeltaTable, Schema as DeltaSchema
import pyarrow as pa

from retail_insights.errors import DataError, UsageError, did_you_mean

Mode = Literal["merge", "append"]


@dataclass(frozen=True)
class Batch:
    schema: pa.Schema  # as Delta stores it
    key: tuple[str, ...]
    order_by: str
    sequence_by: str | None
    partition_by: tuple[str, ...]
    app_id: str
    app_version: int
    mode: Mode

    def __post_init__(self) -> None:
        if self.mode not in get_args(Mode):
            raise UsageError(
                f"Unknown commit mode {self.mode!r}.", hint=did_you_mean(self.mode, get_args(Mode))
            )
        if not self.key or isinstance(self.key, str):
            raise UsageError(
                f"key must be a non-empty tuple of column names, got {self.key!r}.",
                hint="Pass e.g. key=('order_id',).",
            )
        ties = [self.sequence_by] if self.sequence_by else []
        for column in (*self.key, self.order_by, *self.partition_by, *ties):
            if column not in self.schema.names:
                raise UsageError(
                    f"Column {column!r} is not in the table schema.",
                    hint=did_you_mean(column, self.schema.names),
                )
        if self.order_by in self.key or self.sequence_by in self.key:
            raise UsageError(
                f"order_by {self.order_by!r} and sequence_by {self.sequence_by!r} must not be "
                f"key columns {list(self.key)}.",
                hint="Order versions by updated_at (and a sequence number), not by the key.",
            )
        for column in self.partition_by:
            if not pa.types.is_integer(self.schema.field(column).type) or column in self.key:
                raise UsageError(
                    f"Partition column {column!r} must be an integer column outside the key.",
                    hint="Partition by derived integers such as year and month.",
                )
        if not self.app_id or self.app_version < 0:
            raise UsageError(
                f"app_id {self.app_id!r} must be non-empty and app_version "
                f"{self.app_version} >= 0.",
                hint="Name the writer (e.g. 'batch', 'stream') and count its batches from 0.",
            )

    @classmethod
    def of(
        cls,
        schema: pa.Schema,
        key: Sequence[str],
        order_by: str,
        sequence_by: str | None,
        partition_by: Sequence[str],
        app_id: str,
        app_version: int,
        mode: Mode,
    ) -> Batch:
        """From the keyword options of commit_staged, checked."""
        if isinstance(key, str):  # ("order_id") is a string, not a one-column key
            raise UsageError(
                f"key must be a sequence of column names, got {key!r}.",
                hint=f"Pass key=({key!r},).",
            )
        # Compare with the schema as Delta stores it: that is what readers will see.
        stored = pa.schema(DeltaSchema.from_arrow(schema).to_arrow())
        return cls(
            stored,
            tuple(key),
            order_by,
            sequence_by,
            tuple(partition_by),
            app_id,
            app_version,
            mode,
        )

    def check_table(self, table: DeltaTable) -> None:
        """The existing table must have this batch's schema and partitioning."""
        stored = pa.schema(table.schema().to_arrow())
        columns = tuple(table.metadata().partition_columns)
        same_schema = [(f.name, f.type) for f in stored] == [(f.name, f.type) for f in self.schema]
        if not same_schema or columns != self.partition_by:
            raise DataError(
                f"Table {table.table_uri!r} has schema {stored} partitioned by {list(columns)}; "
                f"the batch has schema {self.schema} partitioned by {list(self.partition_by)}.",
                hint="Stage files with the table's schema, or migrate the table first.",
            )
