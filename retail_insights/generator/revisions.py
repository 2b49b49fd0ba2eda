"""Later versions of earlier orders: corrections (newer updated_at) and exact re-sends.

A feed rarely sees an order once. Here a correction is either the order's real latest state
after an earlier one was sent first (the earlier row is "rewound": Shipped before Delivered,
Pending before Shipped or Cancelled) or an amendment (quantity or discount changed). A re-send
is a byte-identical copy. Both arrive after their source, at the time their event happened.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retail_insights.generator.model import (
    CANCELLED, DAY_S, DELIVERED, MAX_QUANTITY, MISSING, PENDING, SHIPPED, Orders,
)

CORRECTION_RATE = 0.02
RESEND_RATE = 0.01
BLANK_UPDATED_AT_RATE = 0.03  # updated_at is optional: missing means order_ts
_REWIND_SHARE = 0.6


@dataclass(frozen=True)
class Revised:
    orders: Orders
    kinds: np.ndarray  # dirty kind per row, -1 = none
    corrections: int
    resends: int


def revise(orders: Orders, kinds: np.ndarray, rng: np.random.Generator, *, corrections: int,
           resends: int, as_of_s: int) -> Revised:
    """Add corrections and re-sends of clean originals and order all rows by arrival."""
    orders = orders.copy()
    clean = np.flatnonzero(kinds < 0)
    picked = rng.choice(clean, size=corrections + resends, replace=False)
    c_src, r_src = picked[:corrections], picked[corrections:]

    fixed = orders.take(c_src)  # the correction rows: start from the source's true state
    status = fixed.status
    chance = rng.random(len(c_src)) < _REWIND_SHARE
    rewind = (status == CANCELLED) | ((status != PENDING) & chance)
    # Rewound sources become the earlier version; the correction keeps the real latest state.
    was_delivered = c_src[rewind & (status == DELIVERED)]
    orders.status[was_delivered] = SHIPPED
    clock = rng.integers(13 * 3600, 25 * 3600, len(was_delivered))
    orders.upd[was_delivered] = np.maximum(orders.ship[was_delivered] * DAY_S + clock,
                                           orders.ts[was_delivered])
    to_pending = c_src[rewind & ((status == SHIPPED) | (status == CANCELLED))]
    orders.status[to_pending] = PENDING
    orders.ship[to_pending] = MISSING
    orders.upd[to_pending] = orders.ts[to_pending]

    amend = np.flatnonzero(~rewind)
    src_upd = orders.upd[c_src[amend]]
    later = np.minimum(src_upd + rng.integers(3600, 7 * DAY_S, len(amend)), as_of_s - 1)
    fixed.upd[amend] = later
    by_qty = rng.random(len(amend)) < 0.5
    qty = fixed.qty[amend]
    step = np.where((qty > 1) & (rng.random(len(amend)) < 0.5), -1, 1)
    fixed.qty[amend] = np.where(by_qty, np.clip(qty + step, 1, MAX_QUANTITY), qty)
    discount = fixed.discount[amend]
    other = (discount + rng.integers(1, 4, len(amend))) % 7  # another step, at most 30%
    fixed.discount[amend] = np.where(by_qty, discount, other)
    # A correction is always strictly newer than what it replaces.
    fixed.upd[:] = np.maximum(fixed.upd, orders.upd[c_src] + 1)

    blank = (kinds < 0) & (rng.random(len(orders)) < BLANK_UPDATED_AT_RATE)
    orders.upd[blank] = MISSING
    copies = orders.take(r_src)  # exact re-sends, blanks included

    arrival = np.concatenate([
        orders.ts,
        fixed.upd,
        copies.ts + rng.integers(60, 3 * DAY_S, len(r_src)),
    ])
    order = np.argsort(arrival, kind="stable")  # ties keep originals first
    all_kinds = np.concatenate([kinds, np.full(len(fixed) + len(copies), -1, dtype=kinds.dtype)])
    return Revised(orders.concat(fixed).concat(copies).take(order), all_kinds[order],
                   corrections, resends)
