"""Table upkeep the scheduler runs: Z-order and compaction, vacuum, quarantine summary, version.

Every function is safe to repeat: optimizing touches only fragmented partitions (a second run finds
none), vacuum deletes only what the retention allows, the summary reads a fixed window, and the
data version is the silver table's own Delta version, written down and announced.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
import fcntl
import json
import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

from retail_insights.errors import RetryableError, UsageError
from retail_insights.settings import get_settings
from warehouse import catalog
from warehouse.spec import load_dataset

DATA_VERSION_FILE = "data_version.json"
REDIS_VERSION_KEY = "retail:data_version:"  # + dataset: the latest version, for late readers
REDIS_VERSION_CHANNEL = "retail:data_version"  # pub/sub: {"dataset": ..., "version": ...}

Partition = tuple[int, ...]


@dataclass(frozen=True)
class OptimizeResult:
    dataset: str
    table: str
    action: Literal["zorder", "compact"]
    partitions: tuple[Partition, ...]  # rewritten; empty when nothing was fragmented
    files_before: int
    files_after: int
    version: int | None  # table version afterwards; None when there is no table yet

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"partitions": [list(p) for p in self.partitions]}


@dataclass(frozen=True)
class VacuumResult:
    dataset: str
    table: str
    retention_hours: int
    deleted_files: int


@dataclass(frozen=True)
class QuarantineSummary:
    dataset: str
    start: str | None  # ISO-8601 UTC; the window is start <= ingested_at < end
    end: str | None
    rows: int  # quarantined rows in the window
    by_code: dict[str, int]  # a row with several codes counts under each
    by_batch: dict[str, int]
    total_rows: int  # in the whole table
    table_version: int | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class DataVersion:
    dataset: str
    version: int | None  # silver Delta version; None before the first load
    path: Path  # the JSON file holding every dataset's version
    published: bool  # announced on Redis (only when settings.redis.url is set)

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"path": str(self.path)}


def optimize(dataset: str, *, min_files: int = 2) -> list[OptimizeResult]:
    """Z-order the silver table and compact the quarantine table, in fragmented partitions only.

    A partition is fragmented when it holds ``min_files`` files or more (stream micro-batches and
    daily merges each add files); the silver table is clustered by the dataset's clustering columns.
    """
    if min_files < 2:
        raise UsageError(f"min_files must be at least 2, got {min_files}.",
                         hint="A partition with one file is already compact; use e.g. 2.")
    from warehouse.delta import zorder

    spec = load_dataset(dataset).spec
    results = []
    for info in catalog.dataset_tables(dataset):
        if info.kind == "view":
            continue  # a refresh rewrites a view's partitions whole
        table = catalog.open_table(info.path)
        action: Literal["zorder", "compact"] = "zorder" if info.kind == "silver" else "compact"
        if table is None:
            results.append(OptimizeResult(dataset, info.name, action, (), 0, 0, None))
            continue
        counts = _files_per_partition(table)
        fragmented = sorted(p for p, n in counts.items() if n >= min_files)
        if fragmented and info.kind == "silver":
            zorder(info.path, columns=spec.clustering, partitions=fragmented)
        elif fragmented:
            _compact(info.path, fragmented)
        after = catalog.open_table(info.path)
        assert after is not None
        results.append(OptimizeResult(
            dataset, info.name, action, tuple(fragmented), sum(counts.values()),
            sum(_files_per_partition(after).values()), after.version()))
    return results


def vacuum(dataset: str, *, retention_hours: int | None = None) -> list[VacuumResult]:
    """Delete files older than the retention that no table version inside it needs, in every table.

    The retention defaults to ``settings.pipeline.vacuum_retention_hours``; time travel reaches back
    only that far afterwards.
    """
    from warehouse.delta import vacuum as vacuum_table

    hours = retention_hours
    if hours is None:
        hours = get_settings().pipeline.vacuum_retention_hours
    if hours < 0:
        raise UsageError(f"retention_hours must be >= 0, got {hours}.",
                         hint="Use e.g. 168 (one week); 0 keeps only the latest version.")
    results = []
    for info in catalog.dataset_tables(dataset):
        table = catalog.open_table(info.path)
        if table is None:
            continue
        # delta-rs lists every expired tombstone, also files an earlier vacuum already deleted:
        # count what is really on disk.
        expired = table.vacuum(retention_hours=hours, dry_run=True,
                               enforce_retention_duration=False)
        present = [info.path / unquote(p) for p in expired if (info.path / unquote(p)).exists()]
        vacuum_table(info.path, retention_hours=hours)
        deleted = sum(not p.exists() for p in present)
        results.append(VacuumResult(dataset, info.name, hours, deleted))
    return results


def quarantine_summary(dataset: str, *, start: datetime | None = None,
                       end: datetime | None = None) -> QuarantineSummary:
    """Quarantined rows by reason code and by batch, for rows ingested in ``[start, end)``.

    Either bound may be None (unbounded); bounds must be timezone-aware.
    """
    import pyarrow.compute as pc
    import pyarrow.dataset as pads

    for name, bound in (("start", start), ("end", end)):
        if bound is not None and bound.tzinfo is None:
            raise UsageError(f"{name} {bound.isoformat()} has no time zone.",
                             hint="Pass an aware datetime, e.g. datetime(2025, 1, 1, tzinfo=UTC).")
    info = next(t for t in catalog.dataset_tables(dataset) if t.kind == "quarantine")
    table = catalog.open_table(info.path)
    window = (start.isoformat() if start else None, end.isoformat() if end else None)
    if table is None:
        return QuarantineSummary(dataset, *window, 0, {}, {}, 0, None)
    data = table.to_pyarrow_dataset()
    condition = None
    for bound, keep in ((start, lambda f, b: f >= b), (end, lambda f, b: f < b)):
        if bound is not None:
            term = keep(pads.field("ingested_at"), bound)
            condition = term if condition is None else condition & term
    rows = data.to_table(columns=["reason_codes", "batch_id"], filter=condition)
    codes = Counter(pc.list_flatten(rows["reason_codes"]).to_pylist())
    batches = Counter(rows["batch_id"].to_pylist())
    return QuarantineSummary(dataset, *window, rows.num_rows, dict(sorted(codes.items())),
                             dict(sorted(batches.items())), data.count_rows(), table.version())


def silver_version(dataset: str) -> int | None:
    """Delta version of the dataset's silver table; None before the first load."""
    from warehouse.delta import read_version

    spec = load_dataset(dataset).spec
    return read_version(get_settings().table_path(dataset, spec.silver_table))


def record_data_version(dataset: str, *, run_id: str | None = None) -> DataVersion:
    """Write the silver version to ``state_dir/data_version.json`` and announce it on Redis.

    Answer caches key on this version, so a new one makes every cached answer for the dataset
    stale. Redis (when ``settings.redis.url`` is set) gets the key ``retail:data_version:<dataset>``
    and a message on the channel ``retail:data_version``; a Redis failure is retryable.
    """
    settings = get_settings()
    version = silver_version(dataset)
    path = settings.state_dir / DATA_VERSION_FILE
    with _locked(path):
        recorded = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        recorded[dataset] = {"version": version, "run_id": run_id}
        temp = path.with_name(f".{path.name}.tmp")
        temp.write_text(json.dumps(recorded, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(temp, path)  # readers see the old file or the new one, never half of one
    if settings.redis.url is None:
        return DataVersion(dataset, version, path, False)
    _announce(settings.redis.url, settings.redis.socket_timeout_s, dataset, version)
    return DataVersion(dataset, version, path, True)


def _announce(url: str, timeout_s: float, dataset: str, version: int | None) -> None:
    import redis

    client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
    try:
        with client.pipeline(transaction=True) as pipe:
            pipe.set(REDIS_VERSION_KEY + dataset, json.dumps(version))
            message = {"dataset": dataset, "version": version}
            pipe.publish(REDIS_VERSION_CHANNEL, json.dumps(message))
            pipe.execute()
    except redis.RedisError as error:
        raise RetryableError(f"could not announce data version {version} of {dataset!r} on Redis "
                             f"at {url!r}: {error}.",
                             hint="The version is recorded on disk; the task retries. "
                                  "Fix: start Redis or unset RETAIL_REDIS__URL.") from error
    finally:
        client.close()


def _files_per_partition(table: Any) -> dict[Partition, int]:
    import pyarrow as pa

    actions = pa.table(table.get_add_actions(flatten=True))
    columns = [f"partition.{c}" for c in table.metadata().partition_columns]
    counts: Counter[Partition] = Counter()
    for values in zip(*(actions[c].to_pylist() for c in columns)):
        counts[tuple(int(v) for v in values)] += 1
    return dict(counts)


def _compact(path: Path, partitions: list[Partition]) -> None:
    from deltalake.exceptions import CommitFailedError

    table = catalog.open_table(path)
    assert table is not None
    names = table.metadata().partition_columns
    for partition in partitions:
        filters = [(c, "=", str(v)) for c, v in zip(names, partition, strict=True)]
        try:
            table.optimize.compact(partition_filters=filters)
        except CommitFailedError as error:  # a writer committed to this partition meanwhile
            raise RetryableError(
                f"compacting {str(path)!r} partition {partition} lost a race: {error}.",
                hint="Run again; compaction is safe to repeat.") from error


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One writer at a time for a small shared file (two DAGs may record versions at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
