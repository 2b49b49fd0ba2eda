"""What follows the load of a batch: Z-order the touched partitions, refresh the views over them,
record the DQ results.

Each step is bound to the batch's touched partitions and safe to repeat. Views and DQ results
are written by other packages (``warehouse.views``, ``dq.results``); they are imported where used
because they are heavy, and a missing one fails the batch with ``ModuleNotFoundError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from spark_jobs.load import Outcome, Tables
from spark_jobs.stage import ChunkStats
from spark_jobs.stopwatch import Stopwatch


def finish(
    outcome: Outcome,
    *,
    tables: Tables,
    stats: Sequence[ChunkStats],
    batch_id: str,
    clock: Stopwatch | None = None,
    refresh_views: bool = True,
) -> None:
    """Cluster the touched partitions, refresh the views over them, record the DQ results."""
    from warehouse.delta import table_exists, zorder

    clock = clock or Stopwatch()
    partitions = set(outcome.touched_partitions)
    if partitions and tables.spec.clustering and table_exists(tables.silver):
        with clock.lap("zorder"):
            zorder(tables.silver, columns=tables.spec.clustering, partitions=partitions)
    if refresh_views and partitions:
        from warehouse.views import refresh

        with clock.lap("views"):
            refresh(tables.spec.name, partitions=partitions)
    from dq.results import write_batch_result

    with clock.lap("dq_results"):
        write_batch_result(tables.spec.name, batch_id, [_Validated(s.validation) for s in stats])


@dataclass(frozen=True)
class _Validated:
    """What ``dq.results`` reads of a partition: its validation summary (the rows are committed)."""

    validation: dict[str, Any]
