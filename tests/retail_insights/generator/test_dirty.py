"""The default feed breaks every SPEC 1.2 rule somewhere; dirty_rate=0 breaks none.

Rows are judged by a small checker written here from the SPEC text, independent of the
generator and of the pipeline's validator.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation

import pytest

from retail_insights.generator import QUARANTINED, GenerateResult
from warehouse.geo import resolve_state

CRITICAL_CODES = ("MISSING_ORDER_ID", "BAD_ORDER_TS", "BAD_QUANTITY", "BAD_PRICE", "BAD_DISCOUNT",
                  "BAD_COST", "BAD_STATE", "BAD_STATUS", "SHIP_BEFORE_ORDER")
WARNING_CODES = ("HIGH_REVENUE", "OLD_ORDER", "FUTURE_ORDER")
STATUSES = ("Pending", "Shipped", "Delivered", "Cancelled")


def _timestamp(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return parsed.replace(tzinfo=timezone.utc) if parsed.tzinfo is None else parsed


def _number(text: str, *, empty: Decimal | None = None) -> Decimal | None:
    if not text.strip():
        return empty
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _ten_years_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 10)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 10, day=28)


def spec_codes(row: dict[str, str], now: datetime) -> set[str]:
    """Every SPEC 1.2 critical and warning code that applies to one raw row."""
    codes = set()
    if not row["order_id"].strip():
        codes.add("MISSING_ORDER_ID")
    ts = _timestamp(row["order_ts"])
    if ts is None:
        codes.add("BAD_ORDER_TS")
    quantity = row["quantity"].strip()
    qty = int(quantity) if re.fullmatch(r"[+-]?\d+", quantity) else None
    if qty is None or qty < 1:
        codes.add("BAD_QUANTITY")
    price = _number(row["unit_price"])
    if price is None or price <= 0:
        codes.add("BAD_PRICE")
    discount = _number(row["discount"], empty=Decimal(0))
    if discount is None or not 0 <= discount <= Decimal("0.9"):
        codes.add("BAD_DISCOUNT")
    cost = _number(row["unit_cost"], empty=Decimal(0))
    if cost is None or cost < 0:
        codes.add("BAD_COST")
    if resolve_state(row["state"]) is None:
        codes.add("BAD_STATE")
    if row["status"].strip().title() not in STATUSES:
        codes.add("BAD_STATUS")
    if ts is not None and row["ship_date"].strip():
        if date.fromisoformat(row["ship_date"].strip()) < ts.astimezone(timezone.utc).date():
            codes.add("SHIP_BEFORE_ORDER")
    if not codes & {"BAD_QUANTITY", "BAD_PRICE", "BAD_DISCOUNT"}:
        if qty * price * (1 - discount) > 100_000:
            codes.add("HIGH_REVENUE")
    if ts is not None:
        if ts.astimezone(timezone.utc).date() < _ten_years_before(now.date()):
            codes.add("OLD_ORDER")
        if ts > now:
            codes.add("FUTURE_ORDER")
    return codes


def fixable_forms(row: dict[str, str]) -> set[str]:
    """Which SPEC 1.2 auto-fixes a row needs."""
    forms = set()
    if any(value != value.strip() for value in row.values()):
        forms.add("whitespace")
    if row["category"] == "":
        forms.add("empty category")
    state = row["state"].strip()
    if len(state) > 2 and resolve_state(state):
        forms.add("state name")
    if len(state) == 2 and state != state.upper() and resolve_state(state):
        forms.add("lower-case state code")
    status = row["status"].strip()
    if status != status.title() and status.title() in STATUSES:
        forms.add("odd-cased status")
    return forms


FIXABLE_FORMS = ("whitespace", "empty category", "state name", "lower-case state code",
                 "odd-cased status")


Rows = list[dict[str, str]]


Judged = list[set[str]]


def _judged(rows: Rows) -> Judged:
    now = datetime.now(timezone.utc)
    return [spec_codes(row, now) for row in rows]


@pytest.fixture(scope="module")
def default_codes(default_rows: Rows) -> Judged:
    """The codes of each row of the default feed, in row order."""
    return _judged(default_rows)


@pytest.fixture(scope="module")
def clean_codes(clean_rows: Rows) -> Judged:
    return _judged(clean_rows)


@pytest.mark.parametrize("code", CRITICAL_CODES + WARNING_CODES)
def test_default_feed_has_a_row_breaking_each_rule(default_codes: Judged, code: str) -> None:
    assert any(code in codes for codes in default_codes)


@pytest.mark.parametrize("code", CRITICAL_CODES + WARNING_CODES)
def test_clean_feed_has_no_row_breaking_any_rule(clean_codes: Judged, code: str) -> None:
    assert not any(code in codes for codes in clean_codes)


@pytest.mark.parametrize("form", FIXABLE_FORMS)
def test_default_feed_has_rows_needing_each_auto_fix(default_rows: Rows, form: str) -> None:
    assert any(form in fixable_forms(row) for row in default_rows)


@pytest.mark.parametrize("form", FIXABLE_FORMS)
def test_clean_feed_needs_no_auto_fix(clean_rows: Rows, form: str) -> None:
    assert not any(form in fixable_forms(row) for row in clean_rows)


def test_default_feed_has_a_row_breaking_several_critical_rules(default_codes: Judged) -> None:
    assert max(len(codes & set(CRITICAL_CODES)) for codes in default_codes) >= 3


def test_every_dirty_row_is_detectable_and_no_other_row_is(
    default_rows: Rows, default_codes: Judged, default_result: GenerateResult
) -> None:
    flagged = sum(1 for row, codes in zip(default_rows, default_codes)
                  if codes or fixable_forms(row))
    assert flagged == default_result.dirty_rows == round(20_000 * 0.02)


def test_quarantine_count_matches_the_critical_kinds_reported(
    default_codes: Judged, default_result: GenerateResult
) -> None:
    critical = sum(1 for codes in default_codes if codes & set(CRITICAL_CODES))
    by_kind = default_result.by_kind
    assert critical == sum(by_kind.get(kind, 0) for kind in QUARANTINED) > 0


def test_critical_kinds_are_spread_evenly(default_codes: Judged) -> None:
    counts = Counter(code for codes in default_codes for code in codes)
    assert min(counts[code] for code in CRITICAL_CODES) >= 10
