"""Which version of each key wins (SPEC 1.2): the latest ``order_by``; on a tie, the later arrival.

Within a batch "later" is the optional sequence column, then the position (staged files in
the order given, rows in file order); across batches the incoming row beats a stored row
with the same ``order_by``. Only key, order and sequence columns are read here; the plan
says which staged rows to drop and which stored rows to delete, and counts each outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote

from deltalake import DeltaTable
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from retail_insights.errors import DataError

from warehouse.delta.staged import StagedFile

_FILE, _ROW, _POS, _IN = "__file", "__row", "__pos", "__in"
_STORED, _STORED_ROW, _STORED_ORDER = "__stored", "__stored_row", "__stored_order"
_SAFE_STRING_BOUND = 32


@dataclass(frozen=True)
class StoredFile:
    path: str  # relative to the table root, as in the log
    size: int
    partition: tuple[int, ...]
    rows: int = -1  # known once its keys were read


@dataclass(frozen=True)
class MergePlan:
    inserted: int
    updated: int
    duplicates: int
    drop_staged: dict[int, np.ndarray]  # staged file index -> row numbers that lost
    delete_stored: dict[StoredFile, np.ndarray]  # stored file -> row numbers replaced


def latest_per_key(
    table: pa.Table, *, key: Sequence[str], order_by: str, sequence_by: str | None = None
) -> np.ndarray:
    """Row positions (ascending) of the winning version of each key within ``table``."""
    n = table.num_rows
    ties = [sequence_by] if sequence_by else []
    ranked = table.select([order_by, *ties]).append_column(_POS, pa.array(np.arange(n)))
    # A row without a sequence number counts as the earliest of its tie.
    sort_keys = [(c, "ascending", "at_start") for c in (order_by, *ties, _POS)]
    order = pc.sort_indices(ranked, sort_keys=sort_keys).to_numpy()
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    best = (
        table.select(list(key))
        .append_column("__rank", pa.array(rank))
        .group_by(list(key), use_threads=False)
        .aggregate([("__rank", "max")])
    )
    winners = np.zeros(n, dtype=bool)
    winners[order[best["__rank_max"].to_numpy()]] = True
    return np.flatnonzero(winners)


def plan_merge(
    staged: Sequence[StagedFile],
    table: DeltaTable | None,
    *,
    root: Path,
    schema: pa.Schema,
    key: Sequence[str],
    order_by: str,
    sequence_by: str | None,
    partition_by: Sequence[str],
) -> MergePlan:
    """Resolve the staged batch against itself and against the table's current snapshot."""
    ties = [sequence_by] if sequence_by else []
    incoming = _read_staged(staged, schema=schema, columns=[*key, order_by, *ties])
    _require_values(incoming, [*key, order_by], staged)
    beaten = np.ones(incoming.num_rows, dtype=bool)
    beaten[latest_per_key(incoming, key=key, order_by=order_by, sequence_by=sequence_by)] = False
    winners = incoming.filter(pa.array(~beaten))
    lost = [incoming.filter(pa.array(beaten))]

    matched, updated = 0, 0
    delete_stored: dict[StoredFile, np.ndarray] = {}
    if table is not None and winners.num_rows:
        files = _candidate_files(table, winners, key=key, partition_by=partition_by)
        files, stored = _read_stored(files, root=root, schema=schema, key=key, order_by=order_by)
        sides = winners.select([*key, order_by])
        sides = sides.append_column(_IN, pa.array(np.arange(winners.num_rows)))
        pairs = stored.join(sides, keys=list(key), join_type="inner")  # the one big join
        # A tie goes to the incoming row: it arrived later. A stored row without an order loses.
        newer = pc.fill_null(pc.greater_equal(pairs[order_by], pairs[_STORED_ORDER]), True)
        newer = newer.to_numpy(zero_copy_only=False)
        which = pairs[_IN].to_numpy()
        seen, losing = (
            np.zeros(winners.num_rows, dtype=bool),
            np.zeros(winners.num_rows, dtype=bool),
        )
        seen[which] = True
        losing[which[~newer]] = True  # some stored copy is newer: the incoming row loses
        matched, updated = int(seen.sum()), int(seen.sum() - losing.sum())
        lost.append(winners.filter(pa.array(losing)))
        replaced = ~losing[which]
        by_file = _rows_by_group(
            pairs[_STORED].to_numpy()[replaced], pairs[_STORED_ROW].to_numpy()[replaced]
        )
        delete_stored = {files[index]: rows for index, rows in by_file.items()}

    drop = pa.concat_tables([t.select([_FILE, _ROW]) for t in lost])
    drop_staged = _rows_by_group(drop[_FILE].to_numpy(), drop[_ROW].to_numpy())
    inserted = winners.num_rows - matched
    return MergePlan(inserted, updated, drop.num_rows, drop_staged, delete_stored)


def _rows_by_group(groups: np.ndarray, rows: np.ndarray) -> dict[int, np.ndarray]:
    """{group: its rows} from two parallel arrays."""
    order = np.argsort(groups, kind="stable")
    groups, rows = groups[order], rows[order]
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]]) if len(groups) else []
    bounds = [*starts, len(groups)]
    return {int(groups[a]): rows[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)}


def _read_staged(
    staged: Sequence[StagedFile], *, schema: pa.Schema, columns: list[str]
) -> pa.Table:
    """The named columns of all staged files, tagged with file index and row number."""
    target = pa.schema([schema.field(c) for c in columns])
    pieces = []
    for index, file in enumerate(staged):
        piece = pq.read_table(file.path, columns=columns).select(columns).cast(target)
        pieces.append(
            piece.append_column(
                _FILE, pa.array(np.full(piece.num_rows, index, dtype=np.int64))
            ).append_column(_ROW, pa.array(np.arange(piece.num_rows, dtype=np.int64)))
        )
    tagged = target.append(pa.field(_FILE, pa.int64())).append(pa.field(_ROW, pa.int64()))
    return pa.concat_tables(pieces) if pieces else tagged.empty_table()


def _require_values(incoming: pa.Table, columns: list[str], staged: Sequence[StagedFile]) -> None:
    for column in columns:
        nulls = incoming.filter(pc.is_null(incoming[column]))
        if nulls.num_rows:
            where = staged[nulls[_FILE][0].as_py()].path
            raise DataError(
                f"{nulls.num_rows} staged rows have no {column!r} (first in {str(where)!r}); "
                "key and order columns must be set on every row.",
                hint="Fill updated_at from order_ts and quarantine rows without a key first.",
            )


def _candidate_files(
    table: DeltaTable,
    winners: pa.Table,
    *,
    key: Sequence[str],
    partition_by: Sequence[str],
) -> list[StoredFile]:
    """Files of the snapshot that may hold an incoming key, by the first key column's min/max.

    Keys are not tied to a partition (a correction may move an order to another month), so
    only statistics can rule a file out; a file without them is always read.
    """
    actions = pa.table(table.get_add_actions(flatten=True))
    lead, low, high = winners[key[0]], f"min.{key[0]}", f"max.{key[0]}"
    maybe = pa.array(np.ones(actions.num_rows, dtype=bool))
    # Writers may truncate long string bounds, which then no longer bound the real values.
    short = (
        not pa.types.is_string(lead.type)
        or pc.max(pc.utf8_length(lead)).as_py() <= _SAFE_STRING_BOUND
    )
    if low in actions.column_names and high in actions.column_names and short:
        bounds = pc.min_max(lead)
        overlaps = pc.and_(
            pc.less_equal(actions[low], bounds["max"]),
            pc.greater_equal(actions[high], bounds["min"]),
        )
        maybe = pc.fill_null(overlaps, True)
    return [
        StoredFile(
            a["path"], a["size_bytes"], tuple(int(a[f"partition.{c}"]) for c in partition_by)
        )
        for a in actions.filter(maybe).to_pylist()
    ]


def _read_stored(
    files: list[StoredFile], *, root: Path, schema: pa.Schema, key: Sequence[str], order_by: str
) -> tuple[list[StoredFile], pa.Table]:
    """Key and order of every row of ``files``, tagged with file index and row number."""
    columns = [*key, order_by]
    target = pa.schema([schema.field(c) for c in columns])
    pieces, counted = [], []
    for index, file in enumerate(files):
        piece = pq.read_table(root / unquote(file.path), columns=columns)
        piece = piece.select(columns).cast(target)
        n = piece.num_rows
        pieces.append(
            piece.append_column(_STORED, pa.array(np.full(n, index, dtype=np.int64))).append_column(
                _STORED_ROW, pa.array(np.arange(n, dtype=np.int64))
            )
        )
        counted.append(replace(file, rows=n))
    tags = [pa.field(_STORED, pa.int64()), pa.field(_STORED_ROW, pa.int64())]
    empty = pa.schema([*target, *tags]).empty_table()
    stored = pa.concat_tables(pieces) if pieces else empty
    return counted, stored.rename_columns([*key, _STORED_ORDER, _STORED, _STORED_ROW])
