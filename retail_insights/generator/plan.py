"""A generation run's plan: checked arguments, the date window and the fixed-size blocks.

Blocks, not output files, are the unit of randomness: block k draws from a numpy Generator
seeded by (seed, k) and covers the k-th slice of the run's order volume in time. So the rows
depend only on (seed, rows, dates, dirty_rate, today), never on how the output is split into
files, on chunk_rows, or on the order blocks are produced in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Literal, get_args

from retail_insights.errors import UsageError, did_you_mean
from retail_insights.generator.revisions import CORRECTION_RATE, RESEND_RATE

Format = Literal["csv", "jsonl", "parquet"]
FORMATS: tuple[str, ...] = get_args(Format)
BLOCK_ROWS = 50_000


@dataclass(frozen=True)
class Block:
    index: int
    rows: int  # rows this block contributes to the output
    originals: int  # distinct orders (clean and dirty); the rest are corrections and re-sends
    dirty: int
    corrections: int
    resends: int
    seq_start: int  # order number of the block's first original
    lo: float  # slice [lo, hi) of the run's order volume, as quantiles of the calendar
    hi: float


@dataclass(frozen=True)
class Plan:
    seed: int
    rows: int
    first: date
    last: date  # last day with clean orders
    today: date
    dirty_rate: float

    def blocks(self) -> list[Block]:
        sizes = [BLOCK_ROWS] * (self.rows // BLOCK_ROWS)
        if self.rows % BLOCK_ROWS:
            sizes.append(self.rows % BLOCK_ROWS)
        layouts = [_layout(n, self.dirty_rate) for n in sizes]
        total = sum(originals for originals, *_ in layouts)
        blocks, seq = [], 0
        for k, (n, (originals, dirty, corrections, resends)) in enumerate(zip(sizes, layouts)):
            blocks.append(Block(k, n, originals, dirty, corrections, resends, seq,
                                seq / total, (seq + originals) / total))
            seq += originals
        return blocks


def _layout(n: int, dirty_rate: float) -> tuple[int, int, int, int]:
    dirty = round(n * dirty_rate)
    rest = n - dirty
    corrections, resends = int(rest * CORRECTION_RATE), int(rest * RESEND_RATE)
    return n - corrections - resends, dirty, corrections, resends


def make_plan(*, rows: int, seed: int, dirty_rate: float, start: date | None, end: date | None,
              today: date | None) -> Plan:
    """Check the arguments and fill in the default window; raise UsageError naming a bad value."""
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 1:
        raise UsageError(f"rows must be a whole number of at least 1, got {rows!r}.",
                         hint="Ask for e.g. rows=100000.")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UsageError(f"seed must be a whole number >= 0, got {seed!r}.",
                         hint="Use e.g. seed=42.")
    if not isinstance(dirty_rate, (int, float)) or not 0.0 <= dirty_rate <= 1.0:
        raise UsageError(f"dirty_rate must be between 0 and 1, got {dirty_rate!r}.",
                         hint="Use 0 for clean data or e.g. 0.02 for 2% dirty rows.")
    today = today or datetime.now(timezone.utc).date()
    start = start or date(today.year - 2, 1, 1)
    end = end or today
    if end < start:
        raise UsageError(f"end {end} is before start {start}.",
                         hint="Swap them or widen the window.")
    if end > today:
        raise UsageError(f"end {end} is after today ({today}); orders cannot be in the future.",
                         hint="Pass an end on or before today, or a later `today`.")
    # Orders stop at the start of today (UTC): a run never writes orders later than its own clock.
    last = min(end, today - timedelta(days=1))
    if last < start:
        raise UsageError(f"start {start} leaves no complete day before today ({today}).",
                         hint="Pass a start before today.")
    return Plan(seed=seed, rows=rows, first=start, last=last, today=today,
                dirty_rate=float(dirty_rate))


def check_format(fmt: str) -> Format:
    if fmt not in FORMATS:
        raise UsageError(f"Unknown format {fmt!r}; allowed: {', '.join(FORMATS)}.",
                         hint=did_you_mean(str(fmt), FORMATS))
    return fmt  # type: ignore[return-value]


def check_chunk_rows(chunk_rows: int) -> int:
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise UsageError(f"chunk_rows must be a whole number of at least 1, got {chunk_rows!r}.",
                         hint="Use e.g. chunk_rows=200000 rows per file.")
    return chunk_rows

