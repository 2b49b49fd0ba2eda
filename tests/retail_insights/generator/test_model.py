"""The clean feed looks like a retail business: seasons, hours, mixes, repeat buyers, revisions."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from retail_insights.generator import generate
from warehouse.geo import STATES

Rows = list[dict[str, str]]
CATEGORIES = {"Electronics", "Clothing", "Home", "Grocery", "Sports", "Beauty", "Toys", "Books"}
OFFSET = re.compile(r"[+-]\d\d:\d\d$")


def _utc(text: str) -> datetime:
    parsed = datetime.fromisoformat(text)
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed.astimezone(
        timezone.utc)


def _updated(row: dict[str, str]) -> datetime:
    return _utc(row["updated_at"] or row["order_ts"])


def test_categories_are_the_eight_of_spec_1_1(clean_rows: Rows) -> None:
    assert {row["category"] for row in clean_rows} == CATEGORIES


def test_each_product_keeps_its_name_category_and_cost_ratio(clean_rows: Rows) -> None:
    facts, ratios = defaultdict(set), defaultdict(list)
    for row in clean_rows:
        facts[row["product_id"]].add((row["product_name"], row["category"], row["sub_category"]))
        ratios[row["product_id"]].append(float(row["unit_cost"]) / float(row["unit_price"]))
    assert len(facts) > 400
    assert all(len(names) == 1 for names in facts.values())
    assert max(max(r) - min(r) for r in ratios.values()) < 0.01


def test_product_catalogue_is_the_same_for_every_seed(clean_rows: Rows, default_rows: Rows) -> None:
    clean = {row["product_id"]: row["product_name"] for row in clean_rows}
    other = {row["product_id"]: row["product_name"].strip() for row in default_rows}
    shared = clean.keys() & other.keys()
    assert len(shared) > 400
    assert all(clean[p] == other[p] for p in shared)


def test_november_and_december_outsell_january_and_february(clean_rows: Rows) -> None:
    months = Counter(_utc(row["order_ts"]).month for row in clean_rows)
    assert (months[11] + months[12]) / (months[1] + months[2]) > 1.4


def test_weekends_outsell_midweek(clean_rows: Rows) -> None:
    weekdays = Counter(_utc(row["order_ts"]).weekday() for row in clean_rows)
    assert (weekdays[5] + weekdays[6]) / (weekdays[1] + weekdays[2]) > 1.1


def test_store_orders_follow_opening_hours_and_web_orders_run_all_night(clean_rows: Rows) -> None:
    local = [(row["channel"], int(row["order_ts"][11:13]))
             for row in clean_rows if OFFSET.search(row["order_ts"])]
    store_hours = {hour for channel, hour in local if channel == "Store"}
    assert store_hours == set(range(8, 22))
    assert any(hour < 6 for channel, hour in local if channel == "Online")


def test_states_are_weighted_by_population(clean_rows: Rows) -> None:
    states = Counter(row["state"] for row in clean_rows)
    assert set(states) == set(STATES)
    assert states.most_common(1)[0][0] == "CA"
    assert states["CA"] > 20 * states["WY"]


def test_each_state_has_a_few_cities(clean_rows: Rows) -> None:
    cities = defaultdict(set)
    for row in clean_rows:
        cities[row["state"]].add(row["city"])
    assert 1 <= min(len(c) for c in cities.values()) <= max(len(c) for c in cities.values()) <= 5
    assert sum(len(c) for c in cities.values()) > 150


def test_channel_and_segment_mixes(clean_rows: Rows) -> None:
    channels = [name for name, _ in Counter(r["channel"] for r in clean_rows).most_common()]
    segments = [name for name, _ in Counter(r["segment"] for r in clean_rows).most_common()]
    assert channels == ["Online", "Store", "Marketplace"]
    assert segments == ["Consumer", "Corporate", "Home Office"]


def test_five_to_eight_percent_of_orders_are_cancelled(clean_rows: Rows) -> None:
    latest = {row["order_id"]: row["status"] for row in clean_rows}
    share = Counter(latest.values())["Cancelled"] / len(latest)
    assert 0.05 <= share <= 0.08


def test_status_agrees_with_ship_date(clean_rows: Rows) -> None:
    for row in clean_rows:
        if row["status"] in ("Pending", "Cancelled"):
            assert row["ship_date"] == "", row
        else:
            assert date.fromisoformat(row["ship_date"]) >= _utc(row["order_ts"]).date(), row


def test_every_status_occurs(clean_rows: Rows) -> None:
    assert {row["status"] for row in clean_rows} == {"Pending", "Shipped", "Delivered", "Cancelled"}


def test_discounts_come_in_realistic_steps(clean_rows: Rows) -> None:
    discounts = Counter(row["discount"] for row in clean_rows)
    assert set(discounts) <= {"0", "0.05", "0.1", "0.15", "0.2", "0.25", "0.3", "0.4", "0.5"}
    assert discounts.most_common(1)[0][0] == "0"


def test_numbers_are_well_formed(clean_rows: Rows) -> None:
    for row in clean_rows:
        assert re.fullmatch(r"[1-9]\d*", row["quantity"]), row
        assert re.fullmatch(r"\d+\.\d\d", row["unit_price"]), row
        assert re.fullmatch(r"\d+\.\d\d", row["unit_cost"]), row


def test_customers_come_back(clean_rows: Rows) -> None:
    orders = Counter(row["customer_id"] for row in clean_rows)
    assert len(orders) < len(clean_rows) / 3
    assert sum(1 for n in orders.values() if n >= 5) > 500


def test_timestamps_mix_z_offset_and_naive_forms(clean_rows: Rows) -> None:
    forms = Counter("Z" if t.endswith("Z") else "offset" if OFFSET.search(t) else "naive"
                    for t in (row["order_ts"] for row in clean_rows))
    assert min(forms["Z"], forms["offset"], forms["naive"]) > 0.1 * len(clean_rows)


def test_orders_fall_inside_the_window_and_updates_follow_orders(clean_rows: Rows) -> None:
    days = [_utc(row["order_ts"]).date() for row in clean_rows]
    assert min(days) == date(2023, 1, 1)
    assert max(days) == date(2024, 12, 31)
    assert all(_updated(row) >= _utc(row["order_ts"]) for row in clean_rows)


def test_later_versions_come_later_and_are_newer_or_identical(clean_rows: Rows) -> None:
    versions = defaultdict(list)
    for row in clean_rows:
        versions[row["order_id"]].append(row)
    changes: Counter[str] = Counter()
    for rows in (v for v in versions.values() if len(v) > 1):
        first, *later = rows
        for row in later:
            if row == first:
                changes["re-send"] += 1
                continue
            assert _updated(row) > _updated(first), (first, row)
            changed = {k for k in row if row[k] != first[k]} - {"updated_at"}
            changes.update(changed)
    assert changes["re-send"] > 50
    assert min(changes["status"], changes["quantity"], changes["discount"]) > 20


def test_default_window_runs_from_january_two_years_back_to_yesterday(
    tmp_path: Path, today: date
) -> None:
    result = generate(rows=3_000, seed=5, out=tmp_path, dirty_rate=0.0, today=today,
                      progress=False)
    lines = result.files[0].read_text().splitlines()[1:]
    days = sorted(_utc(line.split(",")[1]).date() for line in lines)
    assert date(today.year - 2, 1, 1) <= days[0] < date(today.year - 2, 2, 1)
    assert today - timedelta(days=7) <= days[-1] < today


@pytest.mark.parametrize("seed", [1, 2])
def test_tiny_runs_still_work(tmp_path: Path, today: date, seed: int) -> None:
    result = generate(rows=1, seed=seed, out=tmp_path, today=today, progress=False)
    assert len(result.files[0].read_text().splitlines()) == 2
