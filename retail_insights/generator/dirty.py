"""Dirty rows: one kind per row, covering every SPEC 1.2 critical rule, every warning and every
auto-fix.

Kinds that need consistent numbers (a bulk order, a wrong clock, a ship date before the order)
are applied to the numeric columns by `distort`; kinds that are bad text are applied to the
rendered strings by `corrupt`. Values never contain a comma, quote or newline, so CSV needs no
quoting. Bad values avoid pandas' default NA tokens ("n/a", "NULL", ...) where empty would be
valid (discount, cost), so a reader's NA handling cannot turn a bad row into a good one.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa

from retail_insights.generator.catalogue import catalogue, expensive_products
from retail_insights.generator.model import (
    DAY_S, DELIVERED, MISSING, PENDING, SHIPPED, Orders, price_on, year_of,
)
from warehouse.geo import STATES

CRITICAL: tuple[str, ...] = (
    "MISSING_ORDER_ID", "BAD_ORDER_TS", "BAD_QUANTITY", "BAD_PRICE", "BAD_DISCOUNT", "BAD_COST",
    "BAD_STATE", "BAD_STATUS", "SHIP_BEFORE_ORDER",
)
WARNINGS: tuple[str, ...] = ("HIGH_REVENUE", "OLD_ORDER", "FUTURE_ORDER")
FIXABLE: tuple[str, ...] = ("PADDED", "EMPTY_CATEGORY", "STATE_NAME", "STATE_LOWER", "STATUS_CASE")
MULTIPLE = "MULTIPLE_CRITICAL"  # MISSING_ORDER_ID + BAD_QUANTITY + BAD_STATE in one row
KINDS: tuple[str, ...] = (*CRITICAL, MULTIPLE, *WARNINGS, *FIXABLE)
QUARANTINED: tuple[str, ...] = (*CRITICAL, MULTIPLE)

# Relative frequency: fixable noise is the most common, a warning the rarest.
_WEIGHT = {**dict.fromkeys(CRITICAL, 2), MULTIPLE: 1, **dict.fromkeys(WARNINGS, 2),
           "PADDED": 6, "EMPTY_CATEGORY": 4, "STATE_NAME": 5, "STATE_LOWER": 4, "STATUS_CASE": 5}
_PATTERN = np.repeat(np.arange(len(KINDS)), [_WEIGHT[k] for k in KINDS]).astype(np.int8)
_K = {name: i for i, name in enumerate(KINDS)}

_BAD_TEXT: dict[str, tuple[str, list[str]]] = {
    "BAD_ORDER_TS": ("order_ts", ["", "not a date", "2023-02-30T10:15:00Z", "31/12/2023 25:61",
                                  "2024-13-01T09:00:00", "TBD"]),
    "BAD_QUANTITY": ("quantity", ["", "0", "-1", "2.5", "two", "-3"]),
    "BAD_PRICE": ("unit_price", ["", "0", "0.00", "-12.99", "free", "$19.99"]),
    "BAD_DISCOUNT": ("discount", ["1.5", "-0.1", "0.95", "15%", "half"]),
    "BAD_COST": ("unit_cost", ["-4.20", "-0.01", "unknown", "tbd"]),
    "BAD_STATE": ("state", ["XX", "PR", "Ontario", "", "Calif.", "ZZ", "Puerto Rico"]),
    "BAD_STATUS": ("status", ["Returned", "Processing", "", "Lost", "On Hold"]),
}
_PADS = (" {} ", "  {}", "{}   ", " {}", "{} ")
_PADDED_FIELDS = ("customer_id", "product_name", "city", "state", "status", "category", "channel")


def assign_kinds(rng: np.random.Generator, *, rows: int, dirty: int) -> np.ndarray:
    """A kind index for `dirty` random rows out of `rows`; -1 elsewhere.

    Kinds are dealt from a repeating pattern, so any block with at least len(_PATTERN) dirty
    rows holds every kind.
    """
    kinds = np.full(rows, -1, dtype=np.int8)
    where = rng.choice(rows, size=dirty, replace=False)
    kinds[where] = rng.permutation(np.resize(rng.permutation(_PATTERN), dirty))
    return kinds


def distort(orders: Orders, kinds: np.ndarray, rng: np.random.Generator, *, as_of_s: int) -> Orders:
    """Apply the kinds that change numbers: ship-before-order, bulk orders, wrong clocks."""
    o = orders.copy()
    rows = np.flatnonzero(kinds == _K["SHIP_BEFORE_ORDER"])
    o.ship[rows] = o.ts[rows] // DAY_S - rng.integers(1, 21, len(rows))
    o.status[rows] = np.where(rng.random(len(rows)) < 0.5, SHIPPED, DELIVERED)

    rows = np.flatnonzero(kinds == _K["HIGH_REVENUE"])  # a bulk order of something dear
    cat = catalogue()
    o.product[rows] = rng.choice(expensive_products(), size=len(rows))
    o.price[rows] = price_on(cat.price_cents[o.product[rows]], year_of(o.ts[rows] // DAY_S))
    o.cost[rows] = np.rint(o.price[rows] * cat.cost_ratio[o.product[rows]])
    o.discount[rows] = rng.integers(0, 2, len(rows))  # 0 or 5%
    at_least = np.ceil(110_000 * 100 / (o.price[rows] * 0.95)).astype(np.int64)
    o.qty[rows] = at_least + rng.integers(0, 40, len(rows))

    rows = np.flatnonzero(kinds == _K["OLD_ORDER"])  # a till whose clock reset, years back
    o.ts[rows] = as_of_s - rng.integers(11 * 366, 20 * 365, len(rows)) * DAY_S \
        + rng.integers(0, DAY_S, len(rows))
    o.ship[rows] = o.ts[rows] // DAY_S + 2
    o.status[rows] = DELIVERED
    o.upd[rows] = o.ts[rows] + 4 * DAY_S

    # Far enough ahead to stay in the future for any run this decade, whatever `today` was.
    rows = np.flatnonzero(kinds == _K["FUTURE_ORDER"])
    o.ts[rows] = as_of_s + rng.integers(5 * 366, 15 * 365, len(rows)) * DAY_S \
        + rng.integers(0, DAY_S, len(rows))
    o.ship[rows] = MISSING
    o.status[rows] = PENDING
    o.upd[rows] = o.ts[rows]
    return o


def corrupt(table: pa.Table, kinds: np.ndarray, rng: np.random.Generator) -> pa.Table:
    """Apply the kinds that are bad or untidy text, row by row (they are few)."""
    rows = np.flatnonzero(kinds >= 0)
    if not len(rows):
        return table
    records = table.take(pa.array(rows)).to_pylist()
    picks = rng.integers(0, 1 << 30, size=(len(rows), len(_PADDED_FIELDS)))
    for record, kind, pick in zip(records, kinds[rows], picks):
        _EDITS.get(KINDS[kind], _untouched)(record, pick)
    # Append the edited rows and take them in place of the originals (cheaper than masking).
    index = np.arange(len(table))
    index[rows] = len(table) + np.arange(len(rows))
    edited = pa.Table.from_pylist(records, schema=table.schema)
    return pa.concat_tables([table, edited]).take(pa.array(index)).combine_chunks()


def _untouched(record: dict[str, str], pick: np.ndarray) -> None:
    return None


def _bad_text(kind: str) -> Callable[[dict[str, str], np.ndarray], None]:
    field, values = _BAD_TEXT[kind]

    def edit(record: dict[str, str], pick: np.ndarray) -> None:
        record[field] = values[pick[0] % len(values)]
    return edit


def _missing_order_id(record: dict[str, str], pick: np.ndarray) -> None:
    record["order_id"] = ""


def _multiple(record: dict[str, str], pick: np.ndarray) -> None:
    record.update(order_id="", quantity="0", state="XX")


def _padded(record: dict[str, str], pick: np.ndarray) -> None:
    for field, p in zip(_PADDED_FIELDS, pick):
        record[field] = _PADS[p % len(_PADS)].format(record[field])


def _empty_category(record: dict[str, str], pick: np.ndarray) -> None:
    record["category"] = ""


def _state_name(record: dict[str, str], pick: np.ndarray) -> None:
    name = STATES[record["state"]].name
    record["state"] = (name, name.lower(), name.upper())[pick[0] % 3]


def _state_lower(record: dict[str, str], pick: np.ndarray) -> None:
    code = record["state"]
    record["state"] = (code.lower(), code.capitalize())[pick[0] % 2]


def _status_case(record: dict[str, str], pick: np.ndarray) -> None:
    s = record["status"]
    zigzag = "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(s))
    record["status"] = (s.upper(), s.lower(), zigzag)[pick[0] % 3]


_EDITS: dict[str, Callable[[dict[str, str], np.ndarray], None]] = {
    **{kind: _bad_text(kind) for kind in _BAD_TEXT},
    "MISSING_ORDER_ID": _missing_order_id,
    MULTIPLE: _multiple,
    "PADDED": _padded,
    "EMPTY_CATEGORY": _empty_category,
    "STATE_NAME": _state_name,
    "STATE_LOWER": _state_lower,
    "STATUS_CASE": _status_case,
}
