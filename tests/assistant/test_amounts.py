"""Amounts: thresholds and ranges, in money, counts or percent; years are never amounts."""

from __future__ import annotations

import pytest

from assistant.amounts import Amount, find_amounts


def amounts(text: str) -> list[Amount]:
    return [a for _, _, a in find_amounts(text)]


@pytest.mark.parametrize(("text", "expected"), [
    ("orders above $250", Amount(250, None, low_strict=True, unit="money")),
    ("at least 5 units", Amount(5, None, low_strict=False, unit="count")),
    ("under $50", Amount(None, 50, high_strict=True, unit="money")),
    ("$1,000 or more", Amount(1000, None, low_strict=False, unit="money")),
    ("over 100k", Amount(100_000, None, low_strict=True, unit="money")),
    ("below zero", Amount(None, 0, high_strict=True, unit=None)),
    ("discount above 20%", Amount(0.2, None, low_strict=True, unit="percent")),
    (">$200", Amount(200, None, low_strict=True, unit="money")),
    ("$50-250", Amount(50, 250, unit="money")),
    ("between 50 and 250 dollars", Amount(50, 250, unit="money")),
])
def test_amount_phrases(text: str, expected: Amount) -> None:
    assert amounts(text) == [expected]


def test_named_buckets_are_several_amounts() -> None:
    found = amounts("order values under $50, $50-250 and over $250")
    assert [(a.low, a.high) for a in found] == [(None, 50), (50, 250), (250, None)]


@pytest.mark.parametrize("text", ["sales from 2016 to 2017", "between 2016 and 2017", "top 5 states", "2014-2017"])
def test_years_and_rank_numbers_are_not_amounts(text: str) -> None:
    assert amounts(text) == []
