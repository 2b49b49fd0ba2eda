"""The raw order feed (SPEC 1.1): `generate` writes it to files, `iter_events` yields it as dicts.

Both walk the same blocks, so `iter_events(count=n, seed=s)` yields exactly the rows
`generate(rows=n, seed=s)` writes, in the same order. Memory stays flat: one block of
BLOCK_ROWS rows exists at a time, written and dropped before the next.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
from rich.console import Console
from rich.progress import (
    BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn,
)

from retail_insights.generator.dirty import KINDS, assign_kinds, corrupt, distort
from retail_insights.generator.model import World, build_world, draw_orders
from retail_insights.generator.plan import (
    Block, Format, Plan, check_chunk_rows, check_format, make_plan,
)
from retail_insights.generator.render import SCHEMA, render
from retail_insights.generator.revisions import revise
from retail_insights.generator.writer import ChunkedWriter


@dataclass(frozen=True)
class GenerateResult:
    """What a generate run wrote.

    What the pipeline should then report: quarantined rows = sum of `by_kind[k]` over
    `QUARANTINED`, duplicate rows = `corrections + resends`, written = the rest.
    """

    files: list[Path]
    rows: int
    dirty_rows: int
    bytes: int
    seconds: float
    corrections: int = 0
    resends: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else float("inf")


@dataclass(frozen=True)
class _BlockOut:
    table: pa.Table
    kinds: Counter[str]
    corrections: int
    resends: int


def _build(plan: Plan, world: World, block: Block) -> _BlockOut:
    rng = np.random.default_rng(np.random.SeedSequence([plan.seed, 1, block.index]))
    orders = draw_orders(world, rng, n=block.originals, lo=block.lo, hi=block.hi,
                         seq_start=block.seq_start)
    kinds = assign_kinds(rng, rows=block.originals, dirty=block.dirty)
    revised = revise(orders, kinds, rng, corrections=block.corrections, resends=block.resends,
                     as_of_s=world.as_of_s)
    orders = distort(revised.orders, revised.kinds, rng, as_of_s=world.as_of_s)
    table = corrupt(render(orders), revised.kinds, rng)
    counts = Counter(KINDS[k] for k in revised.kinds[revised.kinds >= 0])
    return _BlockOut(table, counts, revised.corrections, revised.resends)


def _world(plan: Plan) -> World:
    return build_world(seed=plan.seed, rows=plan.rows, first=plan.first, last=plan.last,
                       today=plan.today)


def iter_events(*, count: int, seed: int, dirty_rate: float = 0.02, start: date | None = None,
                end: date | None = None, today: date | None = None) -> Iterator[dict[str, str]]:
    """The raw records `generate` would write, one dict of strings per row (for producers).

    Arguments are checked now; rows are made lazily, one block at a time.
    """
    plan = make_plan(rows=count, seed=seed, dirty_rate=dirty_rate, start=start, end=end,
                     today=today)
    return _events(plan)


def _events(plan: Plan) -> Iterator[dict[str, str]]:
    world = _world(plan)
    for block in plan.blocks():
        yield from _build(plan, world, block).table.to_pylist()


def generate(*, rows: int, seed: int, out: Path, fmt: Format = "csv", start: date | None = None,
             end: date | None = None, dirty_rate: float = 0.02, chunk_rows: int = 200_000,
             progress: bool = True, today: date | None = None) -> GenerateResult:
    """Write `rows` raw order rows to out/orders-00000.<fmt>, ... (at most chunk_rows per file).

    Default window: 1 January two years before `today` (default: today, UTC) through today;
    orders stop at the start of `today` (UTC). dirty_rate is the share of rows with one
    injected defect (0 = clean); corrections and re-sends appear at any dirty_rate.
    """
    fmt = check_format(fmt)
    chunk_rows = check_chunk_rows(chunk_rows)
    plan = make_plan(rows=rows, seed=seed, dirty_rate=dirty_rate, start=start, end=end,
                     today=today)
    began = time.perf_counter()
    world = _world(plan)
    kinds: Counter[str] = Counter()
    corrections = resends = 0
    with _progress(enabled=progress, total=rows) as advance, \
            ChunkedWriter(Path(out), fmt=fmt, chunk_rows=chunk_rows, schema=SCHEMA) as writer:
        for block in plan.blocks():
            built = _build(plan, world, block)
            writer.write(built.table)
            kinds += built.kinds
            corrections += built.corrections
            resends += built.resends
            advance(block.rows)
        files = writer.close()
    return GenerateResult(
        files=files, rows=rows, dirty_rows=sum(kinds.values()),
        bytes=sum(f.stat().st_size for f in files), seconds=time.perf_counter() - began,
        corrections=corrections, resends=resends,
        by_kind={k: kinds[k] for k in KINDS if kinds[k]},
    )


@contextmanager
def _progress(*, enabled: bool, total: int) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr (stdout stays clean for pipes); a no-op when disabled."""
    if not enabled:
        yield lambda rows: None
        return
    columns = (TextColumn("[bold]generate"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"),
               TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task("generate", total=total)
        yield lambda rows: bar.advance(task, rows)
