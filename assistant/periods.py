"""Calendar arithmetic for time windows: period bounds, shifts and labels (SPEC section 2).

Pure functions over ``datetime.date``; weeks are ISO weeks starting Monday, quarters are calendar
quarters. Shifting a window keeps its shape: a whole month moves to a whole month, a month-to-date
window moves to the same days of the other month (clipped to its length, so Mar 31 -> Feb 29).
"""

from __future__ import annotations

from calendar import monthrange
from datetime import date, timedelta

from assistant.intent import TimeWindow

MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")


def month_end(year: int, month: int) -> date:
    return date(year, month, monthrange(year, month)[1])


def add_months(day: date, months: int) -> date:
    """Same day number ``months`` later (negative: earlier), clipped to the target month's length."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), month_end(year, month)


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    first = 3 * (quarter - 1) + 1
    return date(year, first, 1), month_end(year, first + 2)


def half_bounds(year: int, half: int) -> tuple[date, date]:
    return (date(year, 1, 1), date(year, 6, 30)) if half == 1 else (date(year, 7, 1), date(year, 12, 31))


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


def iso_week_bounds(year: int, week: int) -> tuple[date, date]:
    monday = date.fromisocalendar(year, week, 1)
    return monday, monday + timedelta(days=6)


def quarter_of(day: date) -> int:
    return (day.month - 1) // 3 + 1


def is_month_start(day: date) -> bool:
    return day.day == 1


def is_month_end(day: date) -> bool:
    return day == month_end(day.year, day.month)


def months_spanned(start: date, end: date) -> int | None:
    """Number of whole months when ``start..end`` is month-aligned, else None."""
    if not (is_month_start(start) and is_month_end(end)):
        return None
    return (end.year - start.year) * 12 + end.month - start.month + 1


def periods_in(window: TimeWindow, grain: str) -> int | None:
    """How many whole periods of ``grain`` make up ``window`` (None when it is not made of whole ones)."""
    if grain == "day":
        return window.days
    if grain == "week":
        return window.days // 7 if window.start.isoweekday() == 1 and window.days % 7 == 0 else None
    months = months_spanned(window.start, window.end)
    size = {"month": 1, "quarter": 3, "year": 12}.get(grain)
    if months is None or size is None or months % size or (window.start.month - 1) % size:
        return None
    return months // size


def label_for(start: date, end: date) -> str:
    """A human name for a window: "2024", "Q1 2024", "March 2024", "week 12 of 2024", or the dates."""
    months = months_spanned(start, end)
    if months == 12 and start.month == 1:
        return str(start.year)
    if months == 6 and start.month in (1, 7):
        return f"H{1 if start.month == 1 else 2} {start.year}"
    if months == 3 and start.month in (1, 4, 7, 10):
        return f"Q{quarter_of(start)} {start.year}"
    if months == 1:
        return f"{MONTH_NAMES[start.month - 1]} {start.year}"
    if start.isoweekday() == 1 and (end - start).days == 6:
        iso = start.isocalendar()
        return f"week {iso.week} of {iso.year}"
    if start == end:
        return start.isoformat()
    return f"{start.isoformat()} to {end.isoformat()}"


def shift_months(window: TimeWindow, months: int) -> TimeWindow:
    """The window ``months`` earlier (same shape); a whole-month end stays a month end."""
    start = add_months(window.start, -months)
    end = add_months(window.end, -months)
    if is_month_end(window.end):
        end = month_end(end.year, end.month)
    return TimeWindow(start=start, end=end, label=label_for(start, end), column=window.column)


def shift_days(window: TimeWindow, days: int) -> TimeWindow:
    start, end = window.start - timedelta(days=days), window.end - timedelta(days=days)
    return TimeWindow(start=start, end=end, label=label_for(start, end), column=window.column)


def period_holding(day: date, period: str) -> tuple[date, date]:
    """First and last day of the calendar ``period`` (day, ISO week, month, quarter, half, year) holding ``day``."""
    if period == "day":
        return day, day
    if period == "week":
        start = day - timedelta(days=day.isoweekday() - 1)
        return start, start + timedelta(days=6)
    size = {"year": 12, "half": 6, "quarter": 3, "month": 1}[period]
    first = date(day.year, (day.month - 1) // size * size + 1, 1)
    last = add_months(first, size - 1)
    return first, month_end(last.year, last.month)


def next_period(window: TimeWindow, *, period: str | None = None) -> TimeWindow:
    """The period just after ``window``: of the kind named, the one after the calendar period holding
    the window's last day ("Q1", then "the quarter after": Q2; "May", then "the quarter after": Q3;
    2016, then "the year after": 2017); unnamed, a span of the window's own months (or days) later."""
    by_months = {"year": 12, "half": 6, "quarter": 3, "month": 1}
    if period in by_months:
        first, last = period_holding(window.end, period)
        return shift_months(TimeWindow(first, last, "", window.column), -by_months[period])
    if period == "week":
        return shift_days(window, -7)
    months = months_spanned(window.start, window.end)
    return shift_months(window, -months) if months is not None else shift_days(window, -window.days)


def previous_period(window: TimeWindow, *, period: str | None = None) -> TimeWindow:
    """The period just before ``window`` with the same shape.

    ``period`` (year/half/quarter/month/week) is the kind the question named, when known ("this quarter"
    on its 10th day is still a quarter). Otherwise: whole years, quarters, months and ISO weeks move by
    one of themselves; to-date windows (a period's start through a day inside it) move to the same days
    of the previous period; any other span moves back by its own length.
    """
    by_months = {"year": 12, "half": 6, "quarter": 3, "month": 1}
    if period in by_months:
        size, months = by_months[period], months_spanned(window.start, window.end)
        if months is not None and months != size:
            # whole months of another size: "May", then "the previous quarter" is the quarter before May's
            # (Q1); "Q1", then "the month before" is the month before it (December)
            first = date(window.start.year, (window.start.month - 1) // size * size + 1 if months < size
                         else window.start.month, 1)
            last = add_months(first, size - 1)
            end = month_end(last.year, last.month)
            window = TimeWindow(first, end, label_for(first, end), window.column)
        return shift_months(window, size)
    if period == "week":
        return shift_days(window, 7)
    start, end = window.start, window.end
    months = months_spanned(start, end)
    if months is not None:
        return shift_months(window, months)
    same_year = end.year == start.year
    if start.month == 1 and start.day == 1 and same_year and end.month > 3:
        return shift_months(window, 12)        # year to date
    if start.day == 1 and start.month % 3 == 1 and same_year and quarter_of(end) == quarter_of(start) \
            and end.month != start.month:
        return shift_months(window, 3)         # quarter to date
    if start.day == 1 and (end.year, end.month) == (start.year, start.month):
        return shift_months(window, 1)         # month to date
    if start.isoweekday() == 1 and window.days <= 7:
        return shift_days(window, 7)           # an ISO week or week to date
    return shift_days(window, window.days)
