"""The product catalogue: stable product ids, names, categories, list prices and cost ratios.

The catalogue is built from a fixed internal seed, not the run's seed, so `ELE-0001` is the same
product in every generated dataset and tests or docs can name products.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from retail_insights.generator.sampling import table

CATALOGUE_SEED = 20_240_101
PRODUCTS_PER_SUB_CATEGORY = 18


class _Spec(NamedTuple):
    share: float  # share of orders in an average month
    qty_p: float  # geometric p of the quantity: grocery baskets are bigger than laptops
    cost_ratio: tuple[float, float]
    brands: tuple[str, ...]
    # sub_category -> (price range in dollars, nouns from cheapest to dearest)
    subs: dict[str, tuple[tuple[float, float], tuple[str, ...]]]


_CATEGORIES: dict[str, _Spec] = {
    "Electronics": _Spec(
        0.12, 0.85, (0.70, 0.85),
        ("Voltix", "Nordtek", "Lumen", "Aurion", "Kestrel"),
        {
            "Phones": ((149, 1299), ("Flip Phone", "Phone", "Smartphone")),
            "Computers": ((299, 2499), ("Chromebook", "Tablet", "Laptop", "Desktop", "Ultrabook")),
            "Audio": ((19, 449), ("Earbuds", "Speaker", "Headphones", "Soundbar")),
            "Accessories": ((9, 89), ("USB-C Cable", "Charger", "Mouse", "Power Bank")),
        },
    ),
    "Clothing": _Spec(
        0.17, 0.55, (0.35, 0.55),
        ("Northline", "Urbanic", "Fieldhouse", "Soleil", "Harbor"),
        {
            "Tops": ((12, 79), ("T-Shirt", "Polo", "Blouse", "Hoodie", "Sweater")),
            "Bottoms": ((19, 119), ("Shorts", "Leggings", "Skirt", "Chinos", "Jeans")),
            "Outerwear": ((49, 299), ("Fleece", "Puffer Vest", "Rain Jacket", "Parka")),
            "Footwear": ((29, 189), ("Sandals", "Sneakers", "Loafers", "Boots")),
        },
    ),
    "Home": _Spec(
        0.13, 0.70, (0.45, 0.65),
        ("Hearth", "Casa Nova", "Linden", "Oakridge", "Domus"),
        {
            "Kitchen": ((9, 249), ("Skillet", "Blender", "Knife Set", "Coffee Maker")),
            "Furniture": ((79, 1199), ("Bookshelf", "Desk", "Armchair", "Bed Frame")),
            "Bedding": ((19, 219), ("Pillow Set", "Throw Blanket", "Sheet Set", "Duvet")),
            "Decor": ((9, 149), ("Candle", "Picture Frame", "Vase", "Table Lamp", "Wall Mirror")),
        },
    ),
    "Grocery": _Spec(
        0.22, 0.35, (0.60, 0.80),
        ("Green Acre", "Daily Harvest", "Pantry Co", "Brookside"),
        {
            "Beverages": ((1, 19), ("Sparkling Water", "Green Tea", "Orange Juice", "Cold Brew")),
            "Snacks": ((2, 12), ("Potato Chips", "Granola Bars", "Dark Chocolate", "Trail Mix")),
            "Pantry": ((2, 24), ("Pasta", "Basmati Rice", "Peanut Butter", "Honey", "Olive Oil")),
            "Fresh": ((1, 29), ("Sourdough Loaf", "Avocados", "Strawberries", "Cheddar")),
        },
    ),
    "Sports": _Spec(
        0.09, 0.70, (0.50, 0.65),
        ("Apex", "Trailhead", "Velocity", "Summit", "Ironside"),
        {
            "Fitness": ((12, 899), ("Yoga Mat", "Kettlebell", "Dumbbell Set", "Treadmill")),
            "Outdoor": ((19, 499), ("Camp Stove", "Sleeping Bag", "Backpack", "Tent")),
            "Team Sports": ((9, 149), ("Soccer Ball", "Basketball", "Baseball Glove")),
            "Cycling": ((15, 1299), ("Cycling Gloves", "Bike Lights", "Bike Helmet", "Road Bike")),
        },
    ),
    "Beauty": _Spec(
        0.11, 0.50, (0.30, 0.50),
        ("Lustre", "Botanica", "Velvet", "Pure Glow", "Maison"),
        {
            "Skincare": ((8, 89), ("Cleanser", "Sunscreen", "Moisturizer", "Serum")),
            "Makeup": ((6, 59), ("Eyeliner", "Mascara", "Lipstick", "Foundation")),
            "Hair Care": ((5, 49), ("Styling Gel", "Shampoo", "Conditioner", "Hair Oil")),
            "Fragrance": ((25, 149), ("Body Mist", "Cologne", "Eau de Parfum")),
        },
    ),
    "Toys": _Spec(
        0.08, 0.60, (0.45, 0.60),
        ("Playwise", "Tiny Titans", "Brickworks", "Wonderbox"),
        {
            "Games": ((9, 59), ("Card Game", "Puzzle", "Trivia Game", "Board Game")),
            "Building Sets": ((14, 199), ("Race Car Set", "Robot Kit", "Castle Set")),
            "Dolls and Figures": ((7, 79), ("Dino Figure", "Action Figure", "Plush Bear")),
            "Outdoor Play": ((12, 249), ("Kite", "Water Blaster", "Scooter", "Swing Set")),
        },
    ),
    "Books": _Spec(
        0.08, 0.60, (0.55, 0.70),
        ("Penfold", "Lantern Press", "Quayside", "Blue Owl"),
        {
            "Fiction": ((8, 32), ("Novel", "Mystery", "Thriller", "Fantasy Saga")),
            "Non-Fiction": ((12, 45), ("Travel Guide", "History", "Biography", "Cookbook")),
            "Children": ((5, 24), ("Activity Book", "Bedtime Stories", "Picture Book")),
            "Comics": ((6, 29), ("Comic Anthology", "Manga Volume", "Graphic Novel")),
        },
    ),
}

CATEGORIES: tuple[str, ...] = tuple(_CATEGORIES)

# Month multipliers of each category's share (Jan..Dec): toys and electronics carry Q4.
_SEASONAL_SHARE: dict[str, tuple[float, ...]] = {
    "Electronics": (0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 1.05, 1.0, 1.0, 1.5, 1.35),
    "Toys": (0.7, 0.7, 0.8, 0.8, 0.9, 1.0, 1.0, 0.9, 0.9, 1.1, 1.6, 2.2),
    "Sports": (1.0, 1.0, 1.1, 1.2, 1.25, 1.25, 1.2, 1.0, 0.9, 0.9, 0.9, 0.9),
    "Clothing": (0.9, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0, 1.15, 1.15, 1.05, 1.05, 1.1),
}

_ADJECTIVES = (
    "Classic", "Pro", "Essential", "Premium", "Compact",
    "Deluxe", "Everyday", "Eco", "Ultra", "Signature",
)


@dataclass(frozen=True)
class Catalogue:
    """One row per product; arrays are aligned and grouped by category in CATEGORIES order."""

    product_id: np.ndarray  # str
    product_name: np.ndarray  # str
    category: np.ndarray  # int8 index into CATEGORIES
    sub_category: np.ndarray  # str
    price_cents: np.ndarray  # int64 list price
    cost_ratio: np.ndarray  # float64, unit_cost / unit_price
    qty_p: np.ndarray  # float64 per category: geometric p of the quantity
    product_table: np.ndarray  # (categories, RESOLUTION): a product of the category, by popularity
    month_table: np.ndarray  # (12, RESOLUTION): a category, by that month's shares

    def __len__(self) -> int:
        return len(self.product_id)


def _list_price_cents(q: float, low: float, high: float) -> int:
    dollars = float(np.exp(np.log(low) + q * (np.log(high) - np.log(low))))
    # Shelf prices end in .99 (or .49 for cheap items), as shoppers see them.
    if dollars < 10:
        return max(99, int(round(dollars * 2)) * 50 - 1)
    return int(round(dollars)) * 100 - 1


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The product catalogue (built once per process; identical in every run)."""
    rng = np.random.default_rng(CATALOGUE_SEED)
    ids, names, cats, subs, prices, ratios, popular, starts = [], [], [], [], [], [], [], []
    for c, (name, spec) in enumerate(_CATEGORIES.items()):
        (r_lo, r_hi), brands, subcats = spec.cost_ratio, spec.brands, spec.subs
        starts.append(len(ids))
        n_cat = len(subcats) * PRODUCTS_PER_SUB_CATEGORY
        # Zipf-like popularity inside the category, ranks shuffled so best sellers spread out.
        weights = 1.0 / np.arange(1, n_cat + 1) ** 0.8
        popular.append(len(ids) + table(rng.permutation(weights)))
        seen: set[str] = set()
        for sub, ((lo, hi), nouns) in subcats.items():
            for _ in range(PRODUCTS_PER_SUB_CATEGORY):
                # The price's place in the range picks the noun: no $30 treadmills.
                q = float(rng.random())
                noun = nouns[int(q * len(nouns))]
                base = f"{rng.choice(brands)} {rng.choice(_ADJECTIVES)} {noun}"
                label = base
                while label in seen:  # model numbers keep names unique
                    label = f"{base} {int(rng.integers(100, 1000))}"
                seen.add(label)
                ids.append(f"{name[:3].upper()}-{len(ids) - starts[-1] + 1:04d}")
                names.append(label)
                cats.append(c)
                subs.append(sub)
                prices.append(_list_price_cents(q, lo, hi))
                ratios.append(round(float(rng.uniform(r_lo, r_hi)), 3))
    shares = np.array([
        [spec.share * _SEASONAL_SHARE.get(cat, (1.0,) * 12)[m] for cat, spec in _CATEGORIES.items()]
        for m in range(12)
    ])
    return Catalogue(
        product_id=np.array(ids), product_name=np.array(names),
        category=np.array(cats, dtype=np.int8),
        sub_category=np.array(subs), price_cents=np.array(prices, dtype=np.int64),
        cost_ratio=np.array(ratios), qty_p=np.array([spec.qty_p for spec in _CATEGORIES.values()]),
        product_table=np.stack(popular), month_table=np.stack([table(row) for row in shares]),
    )


def expensive_products(min_price_cents: int = 50_000) -> np.ndarray:
    """Indices of products with a list price of at least min_price_cents (bulk-order candidates)."""
    return np.flatnonzero(catalogue().price_cents >= min_price_cents)
