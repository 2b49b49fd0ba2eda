"""Cities and time zones cover every state of warehouse.geo; offsets follow US daylight time."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from retail_insights.generator.catalogue import CATEGORIES, catalogue
from retail_insights.generator.places import places, utc_offset_minutes
from warehouse.geo import STATES


def test_every_state_has_cities_and_a_time_zone() -> None:
    p = places()
    assert list(p.state_code) == list(STATES)
    assert set(p.city_state) == set(range(len(STATES)))


@pytest.mark.parametrize(
    ("state", "local_standard_time", "offset"),
    [
        ("CA", "2024-07-01T12:00", -7 * 60),
        ("CA", "2024-01-15T12:00", -8 * 60),
        ("NY", "2024-03-10T01:59", -5 * 60),  # daylight time starts at 02:00
        ("NY", "2024-03-10T02:00", -4 * 60),
        ("NY", "2024-11-03T00:59", -4 * 60),  # and ends at 02:00 daylight = 01:00 standard
        ("NY", "2024-11-03T01:00", -5 * 60),
        ("AZ", "2024-07-01T12:00", -7 * 60),  # Arizona keeps standard time
        ("HI", "2024-07-01T12:00", -10 * 60),
    ],
)
def test_utc_offset_follows_daylight_time(
    state: str, local_standard_time: str, offset: int
) -> None:
    index = np.array([list(STATES).index(state)])
    seconds = int(datetime.fromisoformat(local_standard_time + "+00:00").timestamp())
    assert utc_offset_minutes(index, np.array([seconds])).tolist() == [offset]


def test_catalogue_has_unique_stable_products_in_every_category() -> None:
    cat = catalogue()
    assert len(set(cat.product_id)) == len(set(cat.product_name)) == len(cat)
    assert {CATEGORIES[c] for c in cat.category} == set(CATEGORIES) and len(CATEGORIES) == 8
    assert cat.product_id[0] == "ELE-0001"
    assert ((cat.price_cents >= 99) & (cat.cost_ratio > 0) & (cat.cost_ratio < 1)).all()
