"""SPEC section 2, phrase by phrase: every relative and absolute time phrase against a fixed as_of."""

from __future__ import annotations

from datetime import date

import pytest

from assistant.intent import TimeWindow
from assistant.periods import previous_period, shift_months
from assistant.timewindow import find_windows

AS_OF = date(2024, 5, 15)   # a Wednesday in Q2


def d(text: str) -> date:
    return date.fromisoformat(text)


CASES = [
    ("revenue yesterday", "2024-05-14", "2024-05-14"),
    ("revenue today", "2024-05-15", "2024-05-15"),
    ("orders last week", "2024-05-06", "2024-05-12"),          # previous complete ISO week, Mon-Sun
    ("orders last month", "2024-04-01", "2024-04-30"),
    ("orders last quarter", "2024-01-01", "2024-03-31"),
    ("orders last year", "2023-01-01", "2023-12-31"),
    ("orders this week", "2024-05-13", "2024-05-15"),          # Monday through as_of
    ("orders this month", "2024-05-01", "2024-05-15"),
    ("orders this quarter", "2024-04-01", "2024-05-15"),
    ("orders this year", "2024-01-01", "2024-05-15"),
    ("revenue MTD", "2024-05-01", "2024-05-15"),
    ("revenue QTD", "2024-04-01", "2024-05-15"),
    ("revenue YTD", "2024-01-01", "2024-05-15"),
    ("revenue year to date", "2024-01-01", "2024-05-15"),
    ("revenue 2024 ytd", "2024-01-01", "2024-05-15"),           # the year named is this one: one window
    ("revenue ytd 2023", "2023-01-01", "2023-05-15"),           # another year: to the same day
    ("revenue since the start of the year", "2024-01-01", "2024-05-15"),
    ("revenue Nov-2023", "2023-11-01", "2023-11-30"),
    ("revenue Mar-23", "2023-03-01", "2023-03-31"),
    ("revenue for the year ending June 2023", "2022-07-01", "2023-06-30"),
    ("revenue last 7 days", "2024-05-09", "2024-05-15"),       # N days ending with as_of
    ("revenue in the last 30 days", "2024-04-16", "2024-05-15"),
    ("revenue last 3 months", "2024-02-01", "2024-04-30"),     # N complete months before the current
    ("revenue last 12 months", "2023-05-01", "2024-04-30"),
    ("revenue last 2 weeks", "2024-04-29", "2024-05-12"),
    ("revenue last 2 quarters", "2023-10-01", "2024-03-31"),
    ("revenue in 2023", "2023-01-01", "2023-12-31"),
    ("revenue in March 2024", "2024-03-01", "2024-03-31"),
    ("revenue in Mar 2023", "2023-03-01", "2023-03-31"),
    ("revenue in 2024-02", "2024-02-01", "2024-02-29"),
    ("revenue in Q1 2024", "2024-01-01", "2024-03-31"),
    ("revenue in 2023 Q4", "2023-10-01", "2023-12-31"),
    ("revenue in the third quarter of 2023", "2023-07-01", "2023-09-30"),
    ("revenue in H1 2023", "2023-01-01", "2023-06-30"),
    ("revenue in the first half of 2024", "2024-01-01", "2024-06-30"),
    ("revenue in the second half of 2023", "2023-07-01", "2023-12-31"),
    ("revenue in March", "2024-03-01", "2024-03-31"),          # latest March ended by as_of
    ("revenue in May", "2023-05-01", "2023-05-31"),            # May 2024 has not ended yet
    ("revenue in Q1", "2024-01-01", "2024-03-31"),
    ("revenue in Q2", "2023-04-01", "2023-06-30"),
    ("revenue in H1", "2023-01-01", "2023-06-30"),
    ("revenue in H2", "2023-07-01", "2023-12-31"),
    ("revenue in week 12 of 2024", "2024-03-18", "2024-03-24"),
    ("revenue in 2024-W01", "2024-01-01", "2024-01-07"),
    ("revenue on 2024-03-05", "2024-03-05", "2024-03-05"),
    ("revenue on March 5, 2024", "2024-03-05", "2024-03-05"),
    ("revenue from January to March 2024", "2024-01-01", "2024-03-31"),
    ("revenue between 2024-01-10 and 2024-02-15", "2024-01-10", "2024-02-15"),
    ("revenue since March 2024", "2024-03-01", "2024-05-15"),
]


@pytest.mark.parametrize(("question", "start", "end"), CASES, ids=[c[0] for c in CASES])
def test_resolves_time_phrase_against_as_of(question: str, start: str, end: str) -> None:
    (match,) = find_windows(question, as_of=AS_OF)
    assert (match.window.start, match.window.end) == (d(start), d(end))


def test_last_month_in_january_is_december_of_the_previous_year() -> None:
    (match,) = find_windows("revenue last month", as_of=date(2024, 1, 10))
    assert (match.window.start, match.window.end) == (date(2023, 12, 1), date(2023, 12, 31))


def test_a_month_ending_on_as_of_counts_as_ended() -> None:
    (match,) = find_windows("revenue in March", as_of=date(2024, 3, 31))
    assert match.window.start == date(2024, 3, 1)


def test_may_as_a_verb_is_not_a_month() -> None:
    assert find_windows("revenue may be lower", as_of=AS_OF) == ()


def test_ship_date_question_filters_on_ship_date() -> None:
    (match,) = find_windows("orders by ship date in March 2024", as_of=AS_OF)
    assert match.window.column == "ship_date"


def test_order_date_is_the_default_time_column() -> None:
    (match,) = find_windows("orders in March 2024", as_of=AS_OF)
    assert match.window.column == "order_date"


def test_two_periods_stay_two_windows_in_reading_order() -> None:
    first, second = find_windows("revenue in 2023 vs 2022", as_of=AS_OF)
    assert (first.window.start.year, second.window.start.year) == (2023, 2022)


def test_growth_keeps_from_and_to_apart_when_ranges_are_off() -> None:
    windows = find_windows("change from Q1 2023 to Q1 2024", as_of=AS_OF, ranges=False)
    assert [w.window.start for w in windows] == [date(2023, 1, 1), date(2024, 1, 1)]


def test_previous_period_of_a_month_to_date_is_the_same_days_a_month_earlier() -> None:
    window = TimeWindow(date(2024, 3, 1), date(2024, 3, 31), "March 2024")
    assert previous_period(window) == TimeWindow(date(2024, 2, 1), date(2024, 2, 29), "February 2024")
    mtd = TimeWindow(date(2024, 5, 1), date(2024, 5, 15), "this month")
    assert (previous_period(mtd).start, previous_period(mtd).end) == (date(2024, 4, 1), date(2024, 4, 15))


def test_a_year_earlier_clips_the_leap_day() -> None:
    window = TimeWindow(date(2024, 2, 1), date(2024, 2, 29), "February 2024")
    assert shift_months(window, 12).end == date(2023, 2, 28)
