"""The shape of the synthetic business: when people order, who, what, where and how much.

`World` holds what is shared by every block of one run (calendar weights, the customer pool);
`draw_orders` draws one block of clean orders as aligned numpy columns (`Orders`), sorted by
order time. Everything is vectorised; nothing here formats strings (see render.py).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date

import numpy as np

from retail_insights.generator.catalogue import catalogue
from retail_insights.generator.places import places, utc_offset_minutes
from retail_insights.generator.sampling import cdf, draw, draw_large, draw_rows, table

MISSING = np.iinfo(np.int64).min  # an empty timestamp or date
DAY_S = 86_400
EPOCH = date(1970, 1, 1)

STATUSES = ("Pending", "Shipped", "Delivered", "Cancelled")
PENDING, SHIPPED, DELIVERED, CANCELLED = range(4)
CHANNELS = ("Online", "Store", "Marketplace")
STORE = 1
SEGMENTS = ("Consumer", "Corporate", "Home Office")
CORPORATE, HOME_OFFICE = 1, 2
DISCOUNTS = ("0", "0.05", "0.1", "0.15", "0.2", "0.25", "0.3", "0.4", "0.5")
FORMS = ("Z", "offset", "naive")  # how a source system writes its timestamps
CANCEL_RATE = 0.06

_CHANNEL_P = (0.55, 0.30, 0.15)
_SEGMENT_P = (0.55, 0.30, 0.15)
# Web shops write UTC, tills write local time with an offset, marketplaces often drop the zone.
_FORM_P = ((0.65, 0.10, 0.25), (0.20, 0.80, 0.00), (0.40, 0.00, 0.60))
_DISCOUNT_P = (0.52, 0.10, 0.12, 0.07, 0.07, 0.04, 0.04, 0.02, 0.02)
_HOLIDAY_DISCOUNT_P = (0.34, 0.10, 0.14, 0.10, 0.10, 0.07, 0.07, 0.05, 0.03)
_SHIP_DAYS_P = (0.35, 0.30, 0.18, 0.10, 0.07)  # 1..5 days after the order
_MONTH_W = (0.82, 0.80, 0.92, 0.94, 0.98, 0.96, 0.97, 1.00, 0.95, 1.00, 1.25, 1.50)
_WEEKDAY_W = (0.95, 0.93, 0.95, 0.98, 1.05, 1.20, 1.12)  # Monday..Sunday: weekend bump
_GROWTH_PER_YEAR = 0.08
_PRICE_RISE_PER_YEAR, _PRICE_BASE_YEAR = 0.03, 2020
# Local hour-of-day profiles: web orders peak in the evening, tills follow opening hours.
_ONLINE_HOURS = (1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.0, 1.8, 2.6, 3.3, 3.8, 4.2,
                 4.6, 4.4, 4.1, 4.0, 4.1, 4.5, 5.0, 5.6, 5.9, 5.4, 4.0, 2.2)
_STORE_HOURS = (0, 0, 0, 0, 0, 0, 0, 0, 1.0, 2.5, 4.0, 5.0,
                6.0, 5.8, 5.0, 4.8, 5.2, 6.0, 6.2, 5.0, 3.5, 1.8, 0, 0)
MAX_QUANTITY = 20


_CHANNEL_T, _SEGMENT_T, _SHIP_DAYS_T = table(_CHANNEL_P), table(_SEGMENT_P), table(_SHIP_DAYS_P)
_FORM_T = np.stack([table(p) for p in _FORM_P])  # by channel
_HOUR_T = np.stack([table(_ONLINE_HOURS), table(_STORE_HOURS)])  # by "is a store"
_DISCOUNT_T = np.stack([table(_DISCOUNT_P), table(_HOLIDAY_DISCOUNT_P)])  # by "is Nov/Dec"


def day_number(d: date) -> int:
    return (d - EPOCH).days


def month_index(days: np.ndarray) -> np.ndarray:
    """0..11 for each day number."""
    return days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12


def year_of(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def day_weights(days: np.ndarray) -> np.ndarray:
    """Relative order volume per day: growth, month seasonality, weekends, Black Friday week."""
    month = month_index(days)
    weekday = (days + 3) % 7
    years = year_of(days)
    w = np.asarray(_MONTH_W)[month] * np.asarray(_WEEKDAY_W)[weekday]
    w *= 1.0 + _GROWTH_PER_YEAR * (years - years.min())
    thanksgiving = _thanksgiving(years)
    w[days == thanksgiving + 1] *= 2.4  # Black Friday
    w[days == thanksgiving + 4] *= 1.8  # Cyber Monday
    return w


def _thanksgiving(years: np.ndarray) -> np.ndarray:
    nov1 = (years - 1970).astype("datetime64[Y]").astype("datetime64[M]") + 10
    first = nov1.astype("datetime64[D]").astype(np.int64)
    return first + (3 - (first + 3) % 7) % 7 + 21  # fourth Thursday


@dataclass(frozen=True)
class Orders:
    """Aligned columns of one block; timestamps in UTC seconds, dates in day numbers."""

    seq: np.ndarray  # order number, 0-based over the whole run
    ts: np.ndarray
    upd: np.ndarray  # MISSING = empty updated_at
    status: np.ndarray
    ship: np.ndarray  # MISSING = empty ship_date
    channel: np.ndarray
    form: np.ndarray
    customer: np.ndarray
    segment: np.ndarray
    product: np.ndarray
    state: np.ndarray
    city: np.ndarray
    qty: np.ndarray
    price: np.ndarray  # cents
    discount: np.ndarray  # index into DISCOUNTS
    cost: np.ndarray  # cents

    def __len__(self) -> int:
        return len(self.seq)

    def take(self, index: np.ndarray) -> Orders:
        return Orders(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def concat(self, other: Orders) -> Orders:
        return Orders(**{f.name: np.concatenate([getattr(self, f.name), getattr(other, f.name)])
                         for f in fields(self)})

    def copy(self) -> Orders:
        return replace(self, **{f.name: getattr(self, f.name).copy() for f in fields(self)})


@dataclass(frozen=True)
class World:
    """What every block of a run shares; built once from (seed, rows, dates)."""

    order_cutoff_s: int  # clean orders are strictly earlier: the start of the day after `last`
    as_of_s: int  # start of `today` (UTC): statuses and updates are as of this instant
    days: np.ndarray
    day_cdf: np.ndarray  # cumulative order volume over `days`
    customer_cdf: np.ndarray  # cumulative order share over the customer pool
    customer_state: np.ndarray
    customer_city: np.ndarray
    customer_segment: np.ndarray


def build_world(*, seed: int, rows: int, first: date, last: date, today: date) -> World:
    days = np.arange(day_number(first), day_number(last) + 1, dtype=np.int64)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
    # About four orders per customer on average, with a long tail of loyal repeat buyers.
    pool = max(20, rows // 4)
    p = places()
    state = draw(rng, p.state_table, pool)
    return World(
        order_cutoff_s=(day_number(last) + 1) * DAY_S,
        as_of_s=day_number(today) * DAY_S,
        days=days,
        day_cdf=cdf(day_weights(days)),
        customer_cdf=cdf(rng.lognormal(0.0, 1.0, pool)),
        customer_state=state,
        customer_city=draw_rows(rng, p.city_table, state),
        customer_segment=draw(rng, _SEGMENT_T, pool).astype(np.int8),
    )


def draw_orders(world: World, rng: np.random.Generator, *, n: int, lo: float, hi: float,
                seq_start: int) -> Orders:
    """n clean orders whose days fall in the [lo, hi) quantile slice of the run's calendar."""
    quantiles = lo + (hi - lo) * np.sort(rng.random(n))
    # Sorted quantiles: the block's days in order, and a cache-friendly searchsorted.
    at = np.searchsorted(world.day_cdf, quantiles, side="right")
    day = world.days[at.clip(max=len(world.days) - 1)]
    customer = draw_large(rng, world.customer_cdf, n)
    state = world.customer_state[customer]
    channel = draw(rng, _CHANNEL_T, n).astype(np.int8)
    hour = draw_rows(rng, _HOUR_T, (channel == STORE).astype(np.int64))
    wall = day * DAY_S + hour * 3600 + rng.integers(0, 3600, n)
    # The wall clock stands in for standard time; they differ only in the hour around a DST switch.
    ts = wall - 60 * utc_offset_minutes(state, wall)
    ts = np.where(ts >= world.order_cutoff_s, ts - DAY_S, ts)  # late-evening west-coast orders
    order = np.argsort(ts, kind="stable")
    ts, customer, state, channel = ts[order], customer[order], state[order], channel[order]

    cat = catalogue()
    month = month_index(ts // DAY_S)
    category = draw_rows(rng, cat.month_table, month)
    product = draw_rows(rng, cat.product_table, category).astype(np.int64)

    segment = world.customer_segment[customer]
    qty = rng.geometric(cat.qty_p[category])
    qty = np.where(segment == CORPORATE, qty * rng.integers(1, 4, n), qty)
    qty = np.where(segment == HOME_OFFICE, qty * rng.integers(1, 3, n), qty).clip(1, MAX_QUANTITY)
    price = price_on(cat.price_cents[product], year_of(ts // DAY_S))
    discount = draw_rows(rng, _DISCOUNT_T, (month >= 10).astype(np.int64))

    status, ship, upd = _lifecycle(world, rng, ts)
    return Orders(
        seq=np.arange(seq_start, seq_start + n, dtype=np.int64), ts=ts, upd=upd, status=status,
        ship=ship, channel=channel,
        form=draw_rows(rng, _FORM_T, channel).astype(np.int8),
        customer=customer, segment=segment, product=product, state=state,
        city=world.customer_city[customer], qty=qty.astype(np.int64), price=price,
        discount=discount.astype(np.int8),
        cost=np.rint(price * cat.cost_ratio[product]).astype(np.int64),
    )


def price_on(list_cents: np.ndarray, year: np.ndarray) -> np.ndarray:
    """Shelf price in a given year: list prices rise a little each year, keeping the .99 ending."""
    factor = (1 + _PRICE_RISE_PER_YEAR) ** np.clip(year - _PRICE_BASE_YEAR, 0, 8)
    raised = np.rint(list_cents * factor / 100).astype(np.int64) * 100 - 1
    return np.where(list_cents >= 1000, raised, list_cents)


def _lifecycle(
    world: World, rng: np.random.Generator, ts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Status, ship date and updated_at as of `world.as_of_s`, consistent with each other."""
    n = len(ts)
    order_day = ts // DAY_S
    as_of_day = world.as_of_s // DAY_S
    ship = order_day + 1 + draw(rng, _SHIP_DAYS_T, n)
    delivered = ship + rng.integers(1, 7, n)
    status = np.where(ship >= as_of_day, PENDING,
                      np.where(delivered < as_of_day, DELIVERED, SHIPPED))
    status[rng.random(n) < CANCEL_RATE] = CANCELLED
    clock = rng.integers(13 * 3600, 25 * 3600, n)  # 8am-8pm on the east coast
    upd = np.select(
        [status == SHIPPED, status == DELIVERED, status == CANCELLED],
        [ship * DAY_S + clock, delivered * DAY_S + clock, ts + rng.integers(600, 2 * DAY_S, n)],
        default=ts,
    )
    upd = np.maximum(np.minimum(upd, world.as_of_s - 1), ts)
    ship = np.where((status == SHIPPED) | (status == DELIVERED), ship, MISSING)
    return status.astype(np.int8), ship, upd
