"""Numeric order columns -> the raw feed's string columns (SPEC 1.1), vectorised with Arrow.

Every field is a string, as a feed delivers it: prices with two decimals, timestamps in
ISO-8601 with `Z`, a UTC offset or no zone (naive = UTC), empty strings for missing values.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from retail_insights.generator.catalogue import CATEGORIES, catalogue
from retail_insights.generator.model import (
    CHANNELS, DAY_S, DISCOUNTS, FORMS, MISSING, SEGMENTS, STATUSES, Orders,
)
from retail_insights.generator.places import places, utc_offset_minutes

FIELDS: tuple[str, ...] = (
    "order_id", "order_ts", "updated_at", "status", "ship_date", "channel", "customer_id",
    "segment", "product_id", "product_name", "category", "sub_category", "city", "state",
    "quantity", "unit_price", "discount", "unit_cost",
)
SCHEMA = pa.schema([(name, pa.string()) for name in FIELDS])
_Z, _OFFSET, _NAIVE = (FORMS.index(f) for f in ("Z", "offset", "naive"))
# Suffix table: "Z", "" and then every whole-hour offset from UTC-12:00 to UTC+14:00.
_OFFSET_HOURS = range(-12, 15)
_SUFFIXES = ["Z", ""] + [f"{'-' if h < 0 else '+'}{abs(h):02d}:00" for h in _OFFSET_HOURS]


@lru_cache(maxsize=1)
def _lookups() -> dict[str, pa.Array]:
    cat, geo = catalogue(), places()
    return {
        "status": pa.array(STATUSES), "channel": pa.array(CHANNELS), "segment": pa.array(SEGMENTS),
        "discount": pa.array(DISCOUNTS), "product_id": pa.array(cat.product_id.tolist()),
        "product_name": pa.array(cat.product_name.tolist()),
        "category": pa.array([CATEGORIES[c] for c in cat.category]),
        "sub_category": pa.array(cat.sub_category.tolist()),
        "city": pa.array(geo.city_name.tolist()), "state": pa.array(geo.state_code.tolist()),
        "suffix": pa.array(_SUFFIXES),
    }


def render(orders: Orders) -> pa.Table:
    """One Arrow table of strings, columns in FIELDS order."""
    look = _lookups()
    state = orders.state

    def pick(name: str, index: np.ndarray) -> pa.Array:
        return look[name].take(pa.array(index))

    columns = {
        "order_id": _join("ORD-", _padded(orders.seq + 1, 9)),
        "order_ts": _timestamp(orders.ts, orders.form, state),
        "updated_at": _blank(_timestamp(orders.upd, orders.form, state), orders.upd == MISSING),
        "status": pick("status", orders.status),
        "ship_date": _blank(_date(orders.ship), orders.ship == MISSING),
        "channel": pick("channel", orders.channel),
        "customer_id": _join("C-", _padded(orders.customer + 1, 7)),
        "segment": pick("segment", orders.segment),
        "product_id": pick("product_id", orders.product),
        "product_name": pick("product_name", orders.product),
        "category": pick("category", orders.product),
        "sub_category": pick("sub_category", orders.product),
        "city": pick("city", orders.city),
        "state": pick("state", state),
        "quantity": _int(orders.qty),
        "unit_price": _money(orders.price),
        "discount": pick("discount", orders.discount),
        "unit_cost": _money(orders.cost),
    }
    return pa.Table.from_arrays([columns[name] for name in FIELDS], schema=SCHEMA)


def _int(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def _padded(values: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(_int(values), width=width, padding="0")


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _money(cents: np.ndarray) -> pa.Array:
    return _join(_int(cents // 100), ".", _padded(cents % 100, 2))


def _blank(values: pa.Array, empty: np.ndarray) -> pa.Array:
    return pc.if_else(pa.array(empty), "", values) if empty.any() else values


@lru_cache(maxsize=1)
def _clock_faces() -> pa.Array:
    """"HH:MM:SS" for every second of a day, so formatting a time is a lookup."""
    seconds = np.arange(DAY_S)
    text = [f"{h:02d}:{m:02d}:{s:02d}" for h, m, s in zip(seconds // 3600, seconds // 60 % 60,
                                                          seconds % 60)]
    return pa.array(text, pa.string())


def _day_text(days: np.ndarray) -> pa.Array:
    """"YYYY-MM-DD" per day number; a block spans few distinct days, so format each once."""
    distinct, index = np.unique(days, return_inverse=True)
    text = np.datetime_as_string(distinct.astype("datetime64[D]")).tolist()
    return pa.array(text, pa.string()).take(pa.array(index))


def _date(days: np.ndarray) -> pa.Array:
    return _day_text(np.where(days == MISSING, 0, days))


def _timestamp(ts: np.ndarray, form: np.ndarray, state: np.ndarray) -> pa.Array:
    """ISO-8601 in the row's form; offset rows show local time with the offset then in force."""
    safe = np.where(ts == MISSING, 0, ts)
    std = safe + 60 * places().std_offset_min[state]
    offset_min = utc_offset_minutes(state, std)
    local = np.where(form == _OFFSET, safe + 60 * offset_min, safe)
    suffix = np.select([form == _Z, form == _NAIVE],
                       [0, 1], default=2 + offset_min // 60 - _OFFSET_HOURS.start)
    return _join(_day_text(local // DAY_S), "T", _clock_faces().take(pa.array(local % DAY_S)),
                 _lookups()["suffix"].take(pa.array(suffix)))
