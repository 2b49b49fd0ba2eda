"""spark_jobs.parse: text -> typed values, with null for anything that is not a clean value."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest

from spark_jobs.parse import (
    canonical_spelling,
    parse_date,
    parse_decimal,
    parse_int,
    parse_timestamp,
    rejected,
    text_array,
    trim,
)


def text(*values: str) -> pa.Array:
    return pa.array(values, pa.string())


@pytest.mark.parametrize(("given", "value"), [
    ("3", 3), ("+3", 3), ("-2", -2), ("3.0", 3), ("3.00", 3), ("0", 0), ("9" * 18, int("9" * 18)),
    ("3.5", None), ("", None), ("three", None), ("1,000", None), ("1e3", None), ("٣", None), ("9" * 19, None),
])
def test_integers_are_plain_digits(given, value):
    assert parse_int(text(given)).to_pylist() == [value]


def test_one_odd_integer_does_not_change_how_the_others_parse():
    assert parse_int(text("7", "+8", "9.0", "x")).to_pylist() == [7, 8, 9, None]


@pytest.mark.parametrize(("given", "value"), [
    ("19.99", "19.9900"), (".5", "0.5000"), ("-.5", "-0.5000"), ("5.", "5.0000"), ("+3", "3.0000"),
    ("19.99995", "20.0000"), ("-19.99995", "-20.0000"), ("0.00004", "0.0000"), ("1.23456789", "1.2346"),
    ("99999999999999.9999", "99999999999999.9999"),
])
def test_decimals_round_half_away_from_zero_to_their_scale(given, value):
    assert parse_decimal(text(given, "1"), precision=18, scale=4).to_pylist()[0] == Decimal(value)


@pytest.mark.parametrize("given", ["", "abc", "1e3", "$5", "1 000", "--1", ".", "99999999999999.99995", "9" * 40,
                                   "١٢", "NaN", "inf"])
def test_non_numbers_and_values_too_large_for_the_type_are_null(given):
    assert parse_decimal(text(given, "1"), precision=18, scale=4).to_pylist()[0] is None


@pytest.mark.parametrize(("given", "value"), [
    ("2026-03-01T10:00:00Z", datetime(2026, 3, 1, 10, tzinfo=UTC)),
    ("2026-03-01T10:00:00+02:00", datetime(2026, 3, 1, 8, tzinfo=UTC)),
    ("2026-03-01T10:00:00-0530", datetime(2026, 3, 1, 15, 30, tzinfo=UTC)),
    ("2026-03-01 10:00", datetime(2026, 3, 1, 10, tzinfo=UTC)),
    ("2026-03-01", datetime(2026, 3, 1, tzinfo=UTC)),
    ("2026-03-01T10:00:00.123456789Z", datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)),
])
def test_iso_timestamps_with_or_without_offset_are_utc(given, value):
    assert parse_timestamp(text(given)).to_pylist() == [value]


@pytest.mark.parametrize("given", ["", "now", "today", "20260301", "2026-3-1", "2026-02-30T00:00:00Z",
                                   "2026-03-01T24:00:00Z", "03/01/2026 10:00", "9999-12-31T23:00:00-05:00",
                                   "0000-01-01T00:00:00Z"])
def test_anything_else_is_not_a_timestamp(given):
    assert parse_timestamp(text(given, "2026-03-01T00:00:00Z")).to_pylist()[0] is None


@pytest.mark.parametrize(("given", "value"), [
    ("2016-11-08", date(2016, 11, 8)), ("11/8/2016", date(2016, 11, 8)), ("11-08-16", date(2016, 11, 8)),
    ("2/29/2016", date(2016, 2, 29)), ("01-01-69", date(1969, 1, 1)), ("01-01-68", date(2068, 1, 1)),
])
def test_dates_come_in_three_formats(given, value):
    assert parse_date(text(given, "x")).to_pylist()[0] == value
    assert parse_date(text(given)).to_pylist() == [value]


@pytest.mark.parametrize("given", ["", "2016-02-30", "2/30/2016", "13/1/2016", "31/12/2016", "11-8-2016",
                                   "0000-01-01", "2016/11/08", "Nov 8, 2016"])
def test_impossible_or_unknown_dates_are_null(given):
    assert parse_date(text(given, "2016-11-08")).to_pylist()[0] is None


def test_rejected_holds_the_text_of_given_values_that_did_not_parse():
    given = text("", "x", "1")
    assert rejected(given, parse_int(given)).to_pylist() == [None, "x", None]


def test_trim_removes_unicode_whitespace_at_both_ends():
    assert trim(text(" \ta b\u00a0\u3000", "")).to_pylist() == ["a b", ""]


def test_canonical_spelling_matches_in_any_case_and_spacing():
    fixed = canonical_spelling(text("pending", "HOME  OFFICE", "Lost", ""), ("Pending", "Home Office"))
    assert fixed.to_pylist() == ["Pending", "Home Office", "Lost", ""]


def test_raw_columns_of_any_dtype_become_text_with_empty_for_missing():
    assert text_array(pd.Series(["a", None, 3, float("nan")], dtype=object)).to_pylist() == ["a", "", "3", ""]
    assert text_array(pd.Series(["a", None], dtype="str")).to_pylist() == ["a", ""]
