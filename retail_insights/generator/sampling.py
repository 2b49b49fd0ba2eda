"""Drawing from discrete distributions fast enough for millions of rows.

Small distributions use an inverse-cdf lookup table: one random integer and one gather per
draw, where searchsorted with random keys is several times slower. Probabilities are thereby
rounded to multiples of 1/RESOLUTION, far below anything the synthetic data needs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

RESOLUTION = 1 << 16


def cdf(weights: Sequence[float] | np.ndarray) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    return np.cumsum(w) / w.sum()


def table(weights: Sequence[float] | np.ndarray) -> np.ndarray:
    """Lookup table: entry i is the outcome at cumulative probability (i + 0.5) / RESOLUTION."""
    c = cdf(weights)
    points = (np.arange(RESOLUTION) + 0.5) / RESOLUTION
    return np.searchsorted(c, points, side="right").clip(max=len(c) - 1).astype(np.int32)


def draw(rng: np.random.Generator, lookup: np.ndarray, n: int) -> np.ndarray:
    return lookup[rng.integers(0, RESOLUTION, n)]


def draw_rows(rng: np.random.Generator, lookups: np.ndarray, row: np.ndarray) -> np.ndarray:
    """One draw per element, from the table in row `row[i]` of a 2-D stack of tables."""
    return lookups[row, rng.integers(0, RESOLUTION, len(row))]


def draw_large(rng: np.random.Generator, c: np.ndarray, n: int) -> np.ndarray:
    """Draws from a long cdf (customers, days): searchsorted on sorted keys, then shuffled back.

    Sorted keys walk the cdf in order, which is cache-friendly even for millions of entries.
    """
    u = rng.random(n)
    order = np.argsort(u)
    out = np.empty(n, dtype=np.int64)
    out[order] = np.searchsorted(c, u[order], side="right").clip(max=len(c) - 1)
    return out
