"""Time phrases -> date windows resolved against ``as_of`` (SPEC section 2, exactly).

Relative periods are whole calendar periods: ``yesterday``; ``last week/month/quarter/year`` = the
previous complete one; ``this week/month/quarter/year`` and ``MTD/QTD/YTD`` = its start through as_of;
``last N days`` = the N days ending with as_of; ``last N months`` = the N complete months before the
current one. Years, "March 2024", "Q1 2024", "H1 2024", "week 12 of 2024" and ISO dates are absolute;
a month, quarter or half without a year is the latest one that has ended by as_of.

Choices where SPEC is silent (also in the project docs):
- ``last N weeks/quarters/years`` follow ``last N months``: N complete periods before the current one.
- ``today`` is as_of itself; ``past``/``previous``/``prior`` read like ``last``.
- "previous/prior <period>" and "the <period> before" right after another window mean the period
  before that window (``anchor="prior"``); "same period/month/quarter last year" means the first
  window one year earlier (``anchor="last_year"``), and "the same quarter of 2023" the first window
  moved to 2023 (``anchor="same_in"``). The router resolves all three.
- ``from X to Y`` / ``between X and Y`` span the start of X to the end of Y; a month without a year
  in X takes Y's year. ``since X`` runs from the start of X through as_of.
- Time means the order date unless the question names the ship date ("ship date", "shipping date").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
import re
from typing import Literal

from assistant.intent import TimeWindow
from assistant.periods import (add_months, half_bounds, iso_week_bounds, label_for, month_bounds, month_end,
                               quarter_bounds, quarter_of, year_bounds)

Period = Literal["year", "half", "quarter", "month", "week", "day"]
Anchor = Literal["as_of", "prior", "next", "last_year", "same_in", "data_start"]


@dataclass(frozen=True)
class TimeMatch:
    """One time phrase found in the question and the window it means."""

    start: int
    end: int
    text: str
    window: TimeWindow
    period: Period | None = None      # the calendar period the phrase named, used to shift for growth
    anchor: Anchor = "as_of"
    month_only: int | None = None     # "March" without a year: may take the year of a range's end
    yearless: tuple[str, int] | None = None   # ("quarter", 2) for "Q2" alone, ("months", 103) for "Jan-Mar":
                                              # another window's year may apply


_MONTHS = {name: i + 1 for i, names in enumerate((
    "january jan", "february feb", "march mar", "april apr", "may", "june jun", "july jul",
    "august aug", "september sept sep", "october oct", "november nov", "december dec"))
    for name in names.split()}
_MONTH = r"(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_NUM_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
              "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "thirty": 30, "ninety": 90}
_N = r"(?P<n>\d{1,4}|" + "|".join(_NUM_WORDS) + r")"
_ORDINAL = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4}
_LAST = r"(?:the\s+)?(?:last|past|previous|prior|trailing)"
_LAST_ONE = r"(?:the\s+)?(?:last|past)"
# "orders shipped in May": when they shipped (the ship date), not orders whose status is Shipped
SHIPPED_IN = r"\bshipped\s+(?:out\s+)?(?=(?:in|during|on|between|within|last|this|since|before|after|from)\b)"
_SHIP_DATE = re.compile(r"\b(?:ship(?:ping|ped)?\s+date|date\s+shipped|by\s+ship\s+date)\b|" + SHIPPED_IN, re.I)

Resolver = Callable[[re.Match[str], date], "tuple[date, date, Period | None] | None"]
_RULES: list[tuple[re.Pattern[str], Resolver, Anchor]] = []


def _rule(pattern: str, anchor: Anchor = "as_of") -> Callable[[Resolver], Resolver]:
    def register(fn: Resolver) -> Resolver:
        _RULES.append((re.compile(r"(?<![\w-])(?:" + pattern + r")(?![\w-])", re.I), fn, anchor))
        return fn
    return register


def _n(m: re.Match[str]) -> int:
    raw = m.group("n").lower()
    return _NUM_WORDS[raw] if raw in _NUM_WORDS else int(raw)


def _latest_ended(as_of: date, bounds: Callable[[int], tuple[date, date]]) -> tuple[date, date]:
    """The latest period (given by year -> bounds) whose last day is on or before as_of."""
    start, end = bounds(as_of.year)
    return bounds(as_of.year - 1) if end > as_of else (start, end)


def _week_start(day: date) -> date:
    return day - timedelta(days=day.isoweekday() - 1)


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * (quarter_of(day) - 1) + 1, 1)


@_rule(r"yesterday")
def _yesterday(m: re.Match[str], as_of: date):
    day = as_of - timedelta(days=1)
    return day, day, "day"


@_rule(r"today")
def _today(m: re.Match[str], as_of: date):
    return as_of, as_of, "day"


@_rule(_LAST_ONE + r"\s+(?:(?:complete|completed|full|whole|finished|calendar|entire)\s+)?(?P<unit>week|month|quarter|year)")
def _last_period(m: re.Match[str], as_of: date):
    return _previous_complete(m.group("unit").lower(), as_of)


def _previous_complete(unit: str, as_of: date) -> tuple[date, date, Period]:
    if unit == "week":
        start = _week_start(as_of) - timedelta(days=7)
        return start, start + timedelta(days=6), "week"
    if unit == "month":
        end = as_of.replace(day=1) - timedelta(days=1)
        return end.replace(day=1), end, "month"
    if unit == "quarter":
        end = _quarter_start(as_of) - timedelta(days=1)
        return _quarter_start(end), end, "quarter"
    return (*year_bounds(as_of.year - 1), "year")


@_rule(_YEAR + r"\s+(?:ytd|year[\s-]+to[\s-]+date)|(?:ytd|year[\s-]+to[\s-]+date)\s+(?:(?:of|in|for)\s+)?"
       + _YEAR.replace("year", "year2"))
def _year_to_date(m: re.Match[str], as_of: date):
    """"2024 ytd": the year's start through as_of; another year's to the same day ("2023 ytd")."""
    year = int(m.group("year") or m.group("year2"))
    if year == as_of.year:
        return date(year, 1, 1), as_of, "year"
    if year > as_of.year:
        return None
    return date(year, 1, 1), (as_of - timedelta(days=1) if as_of.month == 2 and as_of.day == 29 else as_of).replace(year=year), "year"


@_rule(r"(?:this|current|the\s+current)\s+(?P<unit>week|month|quarter|year)"
       r"|(?P<todate>month|quarter|year|week)[\s-]+to[\s-]+date|(?P<abbr>[wmqy]td)|so\s+far\s+this\s+(?P<sofar>year|month|quarter|week)"
       r"|since\s+the\s+(?:start|beginning)\s+of\s+the\s+(?P<since>year|month|quarter|week)")
def _to_date(m: re.Match[str], as_of: date):
    abbr = (m.group("abbr") or "").lower()
    unit = (m.group("unit") or m.group("todate") or m.group("sofar") or m.group("since")
            or {"wtd": "week", "mtd": "month", "qtd": "quarter", "ytd": "year"}.get(abbr, "")).lower()
    start = {"week": _week_start(as_of), "month": as_of.replace(day=1), "quarter": _quarter_start(as_of),
             "year": date(as_of.year, 1, 1)}[unit]
    return start, as_of, unit


@_rule(_LAST + r"\s+" + _N + r"\s+(?:(?:complete|completed|full|whole|calendar|finished|entire)\s+)?"
       r"(?P<unit>days?|weeks?|months?|quarters?|years?)")
def _last_n(m: re.Match[str], as_of: date):
    n, unit = _n(m), m.group("unit").lower().rstrip("s")
    if n < 1:
        return None
    if unit == "day":
        return as_of - timedelta(days=n - 1), as_of, None
    if unit == "week":
        end = _week_start(as_of) - timedelta(days=1)
        return end - timedelta(days=7 * n - 1), end, None
    months = {"month": 1, "quarter": 3, "year": 12}[unit]
    current = {"month": as_of.replace(day=1), "quarter": _quarter_start(as_of),
               "year": date(as_of.year, 1, 1)}[unit]
    return add_months(current, -months * n), current - timedelta(days=1), None


@_rule(r"(?P<y>\d{4})-(?P<m>\d\d)-(?P<d>\d\d)")
def _iso_date(m: re.Match[str], as_of: date):
    try:
        day = date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
    except ValueError:
        return None
    return day, day, "day"


@_rule(_MONTH + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+" + _YEAR + r"|(?P<d2>\d{1,2})(?:st|nd|rd|th)?\s+"
       + _MONTH.replace("mon", "mon2") + r",?\s+" + _YEAR.replace("year", "year2"))
def _written_date(m: re.Match[str], as_of: date):
    month = _MONTHS[(m.group("mon") or m.group("mon2")).lower()]
    year = int(m.group("year") or m.group("year2"))
    try:
        day = date(year, month, int(m.group("d") or m.group("d2")))
    except ValueError:
        return None
    return day, day, "day"


@_rule(_MONTH + r"(?:\s*(?:-|–|through|thru)\s*|\s+)" + _MONTH.replace("mon", "mon2") + r"(?:,?\s+(?:of\s+)?" + _YEAR + r")?")
def _month_range(m: re.Match[str], as_of: date):
    """"Jan-Mar 2017", "april through june": one window (the latest that has ended, without a year)."""
    first, last = _MONTHS[m.group("mon").lower()], _MONTHS[m.group("mon2").lower()]
    if last < first:
        return None
    if m.group("year"):
        year = int(m.group("year"))
    else:
        year = as_of.year if month_end(as_of.year, last) <= as_of else as_of.year - 1
    return date(year, first, 1), month_end(year, last), None


@_rule(r"(?:the\s+)?(?P<which>last|final|closing|first|opening)\s+(?P<unit>month|quarter|week|half)\s+(?:of|in)\s+(?:the\s+year\s+)?"
       + _YEAR)
def _edge_of_year(m: re.Match[str], as_of: date):
    """"the last month of 2015" is December 2015; "the first quarter of 2016" is Q1 2016."""
    year, unit = int(m.group("year")), m.group("unit").lower()
    last = m.group("which").lower() in ("last", "final", "closing")
    if unit == "month":
        return (*month_bounds(year, 12 if last else 1), "month")
    if unit == "quarter":
        return (*quarter_bounds(year, 4 if last else 1), "quarter")
    if unit == "half":
        return (*half_bounds(year, 2 if last else 1), "half")
    start = date.fromisocalendar(year, date(year, 12, 28).isocalendar().week if last else 1, 1)
    return start, start + timedelta(days=6), "week"


@_rule(r"(?:the\s+)?(?P<which>first|last|final)\s+" + _N + r"\s+months\s+(?:of|in)\s+" + _YEAR)
def _months_of_year(m: re.Match[str], as_of: date):
    """"the first six months of 2023": January to June 2023."""
    n, year = _n(m), int(m.group("year"))
    if not 1 <= n <= 12:
        return None
    if m.group("which").lower() == "first":
        return date(year, 1, 1), month_end(year, n), None
    return date(year, 13 - n, 1), date(year, 12, 31), None


@_rule(r"(?P<y>(?:19|20)\d\d)-(?P<m>0[1-9]|1[0-2])(?!-\d)")
def _iso_month(m: re.Match[str], as_of: date):
    return (*month_bounds(int(m.group("y")), int(m.group("m"))), "month")


@_rule(r"(?P<m>0?[1-9]|1[0-2])/(?P<y>(?:19|20)\d\d)(?![/\d])")
def _slash_month(m: re.Match[str], as_of: date):
    """ "02/2015": a month written as on a form."""
    return (*month_bounds(int(m.group("y")), int(m.group("m"))), "month")


@_rule(r"(?:the\s+)?(?:year|12\s+months|twelve\s+months)\s+(?:ending|ended|to)\s+(?:(?:the\s+)?end\s+of\s+)?" + _MONTH
       + r",?\s+(?:of\s+)?" + _YEAR)
def _year_ending(m: re.Match[str], as_of: date):
    """"the year ending June 2017": the twelve months through that month (July 2016 - June 2017)."""
    end = month_bounds(int(m.group("year")), _MONTHS[m.group("mon").lower()])[1]
    start = date(end.year - 1, end.month, 1) + timedelta(days=31)
    return start.replace(day=1), end, None


@_rule(_MONTH + r"(?:,?\s+(?:of\s+)?|-)" + _YEAR + r"|" + _MONTH.replace("mon", "mon2") + r"-(?P<yy>\d\d)(?![\d-])")
def _month_year(m: re.Match[str], as_of: date):
    """"March 2017", "Nov-2017", "Mar-17" (a two-digit year after a month name and a dash)."""
    year = int(m.group("year")) if m.group("year") else 2000 + int(m.group("yy"))
    return (*month_bounds(year, _MONTHS[(m.group("mon") or m.group("mon2")).lower()]), "month")


@_rule(r"q(?P<q>[1-4])(?:\s+of|,)?[\s-]*" + _YEAR + r"|" + _YEAR.replace("year", "year2") + r"[\s-]*q(?P<q2>[1-4])"
       r"|(?P<ord>first|1st|second|2nd|third|3rd|fourth|4th)\s+quarter\s+(?:of\s+)?" + _YEAR.replace("year", "year3"))
def _quarter_year(m: re.Match[str], as_of: date):
    quarter = int(m.group("q") or m.group("q2") or _ORDINAL[(m.group("ord") or "first").lower()])
    return (*quarter_bounds(int(m.group("year") or m.group("year2") or m.group("year3")), quarter), "quarter")


@_rule(r"(?P<kind>q|h)(?P<n>[1-4])\s*(?:'|’)?(?P<yy>\d\d)(?!\d)|(?P<kind2>q|h)(?P<n2>[1-4])\s+(?:fy|of)\s*(?P<yy2>\d\d)(?!\d)")
def _period_short_year(m: re.Match[str], as_of: date):
    """"Q2 24", "H1 '23": a quarter or half of 20YY."""
    kind = (m.group("kind") or m.group("kind2")).lower()
    number, year = int(m.group("n") or m.group("n2")), 2000 + int(m.group("yy") or m.group("yy2"))
    if kind == "h":
        return (*half_bounds(year, number), "half") if number <= 2 else None
    return (*quarter_bounds(year, number), "quarter")


@_rule(r"h(?P<h>[12])(?:\s+of|,)?\s*" + _YEAR + r"|(?P<ord>first|1st|second|2nd)\s+half\s+(?:of\s+)?"
       + _YEAR.replace("year", "year2"))
def _half_year(m: re.Match[str], as_of: date):
    half = int(m.group("h") or _ORDINAL[(m.group("ord") or "first").lower()])
    return (*half_bounds(int(m.group("year") or m.group("year2")), half), "half")


@_rule(r"(?:iso\s+)?week\s+(?P<w>\d{1,2})\s+(?:of\s+)?" + _YEAR + r"|" + _YEAR.replace("year", "year2")
       + r"-?w(?P<w2>\d{1,2})")
def _iso_week(m: re.Match[str], as_of: date):
    try:
        return (*iso_week_bounds(int(m.group("year") or m.group("year2")), int(m.group("w") or m.group("w2"))),
                "week")
    except ValueError:
        return None


@_rule(_YEAR + r"\s*(?:-|–|through|thru|until|till)\s*" + _YEAR.replace("year", "year2"))
def _year_range(m: re.Match[str], as_of: date):
    first, last = int(m.group("year")), int(m.group("year2"))
    if last <= first:
        return None
    return date(first, 1, 1), date(last, 12, 31), None


@_rule(_YEAR)      # "fy2017" is not read: a fiscal year is not the calendar year unless the data says so
def _year(m: re.Match[str], as_of: date):
    return (*year_bounds(int(m.group("year"))), "year")


@_rule(r"(?:(?:last|the)\s+)?q(?P<q>[1-4])|(?:(?:last|the)\s+)?(?P<ord>first|1st|second|2nd|third|3rd|fourth|4th)"
       r"\s+quarter")
def _quarter_alone(m: re.Match[str], as_of: date):
    quarter = int(m.group("q") or _ORDINAL[(m.group("ord") or "first").lower()])
    return (*_latest_ended(as_of, lambda y: quarter_bounds(y, quarter)), "quarter")


@_rule(r"(?:(?:last|the)\s+)?h(?P<h>[12])|(?:(?:last|the)\s+)?(?P<ord>first|1st|second|2nd)\s+half(?:\s+of\s+the\s+year)?")
def _half_alone(m: re.Match[str], as_of: date):
    half = int(m.group("h") or _ORDINAL[(m.group("ord") or "first").lower()])
    return (*_latest_ended(as_of, lambda y: half_bounds(y, half)), "half")


# "may" and "march" are also words: a month alone needs a preposition or a capital letter.
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))


@_rule(r"(?:(?<=in\s)|(?<=for\s)|(?<=during\s)|(?<=of\s)|(?<=since\s)|(?<=from\s)|(?<=to\s)|(?<=and\s)"
       r"|(?<=through\s)|(?<=last\s)|(?<=vs\s)|(?<=versus\s)|(?<=between\s)|(?<=compare\s)|(?<=with\s)"
       r"|(?<=against\s)|(?<=about\s)|^)" + _MONTH
       + r"|" + _MONTH.replace("mon", "mon3") + r"(?=\s+(?:vs\.?|versus|to|and|through|thru|-|or|compared\s+(?:to|with))\s+(?:"
       + _MONTH_NAMES + r")\b)"
       r"|(?-i:(?P<cap>January|February|March|April|May|June|July"
       r"|August|September|October|November|December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec))\.?"
       # Only "may" and "march" are everyday words; the other month names are months in any case.
       r"|(?P<plain>january|february|april|june|july|august|september|october|november|december|sept)")
def _month_alone(m: re.Match[str], as_of: date):
    month = _MONTHS[(m.group("mon") or m.group("mon3") or m.group("cap") or m.group("plain")).lower()]
    return (*_latest_ended(as_of, lambda y: month_bounds(y, month)), "month")


@_rule(r"(?:the\s+)?(?:next|following|subsequent)\s+(?P<unit>week|month|quarter|year|half)"
       r"|(?:the\s+)?(?P<unit2>week|month|quarter|year|half)\s+(?:after|following)(?:\s+(?:it|that|this))?", anchor="next")
def _next(m: re.Match[str], as_of: date):
    # Only after another window: the router moves it to the period after that one.
    return as_of, as_of, (m.group("unit") or m.group("unit2")).lower()


@_rule(r"(?:the\s+)?(?:previous|prior|preceding)\s+(?P<unit>week|month|quarter|year|period|half)"
       r"|(?:the\s+)?(?P<unit2>week|month|quarter|year|period)\s+before", anchor="prior")
def _prior(m: re.Match[str], as_of: date):
    # Alone, "previous month" is last month; after another window the router moves it before that one.
    unit = (m.group("unit") or m.group("unit2")).lower()
    if unit in ("period", "half"):
        return as_of, as_of, None
    return _previous_complete(unit, as_of)


_BACK = {"two": 2, "three": 3, "four": 4, "five": 5}


@_rule(r"(?:the\s+)?(?P<unit>week|month|quarter|year)\s+(?:before|prior\s+to)\s+(?:the\s+)?last(?:\s+(?P=unit))?"
       r"(?!\s+(?:week|month|quarter|year)s?\b)"
       r"|(?P<n>[2-9]|two|three|four|five)\s+(?P<unit2>week|month|quarter|year)s\s+(?:ago|back)")
def _periods_back(m: re.Match[str], as_of: date):
    """"the year before last" (two years back), "3 months ago": the complete period that many before the current one."""
    unit = (m.group("unit") or m.group("unit2")).lower()
    steps = 2 if m.group("unit") else int(_BACK.get(m.group("n").lower(), m.group("n")))
    start, end, period = _previous_complete(unit, as_of)
    for _ in range(steps - 1):
        start, end, period = _previous_complete(unit, start)
    return start, end, period


@_rule(r"(?:the\s+)?same\s+(?:period|time|month|quarter|week|days|half|year\s+to\s+date)\s+(?:of\s+)?"
       r"(?:last|the\s+previous|the\s+prior|a|one)\s+year(?:\s+before|\s+earlier)?|(?:a|one)\s+year\s+(?:earlier|before|ago)",
       anchor="last_year")
def _last_year(m: re.Match[str], as_of: date):
    return as_of, as_of, None


@_rule(r"(?:the\s+)?same\s+(?:period|time|month|quarter|week|days|half)\s+(?:(?:of|in)\s+)?" + _YEAR, anchor="same_in")
def _same_in(m: re.Match[str], as_of: date):
    # The other window moved to this year (the router does it); the window holds the year for it.
    return (*year_bounds(int(m.group("year"))), None)


@_rule(r"(?:the|our)\s+(?:very\s+)?(?:first|earliest|oldest)\s+(?:(?:full|calendar|whole)\s+)?year"
       r"(?:\s+(?:(?:that\s+)?we\s+have\s+(?:any\s+)?(?:data|numbers|records?|figures|sales)(?:\s+(?:for|on))?"
       r"|on\s+record|in\s+the\s+(?:data|records?|warehouse)|of\s+(?:the\s+)?(?:data|records?)))?", anchor="data_start")
def _first_year(m: re.Match[str], as_of: date):
    # "the first year we have data for": the router knows when the data starts; "2014? I think that's
    # the first year in the data" says something about another period, it names none
    if re.search(r"\b(?:that|it|this|which)(?:'s|\s+is|\s+was)?\s+$", m.string[: m.start()], re.I):
        return None
    return as_of, as_of, "year"


def find_windows(question: str, *, as_of: date, ranges: bool = True) -> tuple[TimeMatch, ...]:
    """Every time phrase in ``question`` (normalized text) with its window, in reading order.

    Overlapping candidates resolve to the longest; with ``ranges``, adjacent "from X to Y" / "between
    X and Y" / "since X" phrases merge into one window (a growth question keeps X and Y apart).
    """
    column = "ship_date" if _SHIP_DATE.search(question) else "order_date"
    candidates: list[TimeMatch] = []
    for pattern, resolve, anchor in _RULES:
        for m in pattern.finditer(question):
            got = resolve(m, as_of)
            if got is None:
                continue
            start, end, period = got
            month_only = None
            if resolve is _month_alone:
                month_only = _MONTHS[(m.group("mon") or m.group("mon3") or m.group("cap") or m.group("plain")).lower()]
            yearless = None
            if month_only is not None:
                yearless = ("month", month_only)
            elif resolve in (_quarter_alone, _half_alone) and period is not None:
                yearless = (period, quarter_of(start) if period == "quarter" else (1 if start.month == 1 else 2))
            elif resolve is _month_range and not m.group("year"):
                yearless = ("months", start.month * 100 + end.month)
            candidates.append(TimeMatch(m.start(), m.end(), m.group(0),
                                        TimeWindow(start, end, _label(m.group(0), start, end), column),
                                        period, anchor, month_only, yearless))
    chosen: list[TimeMatch] = []
    for cand in sorted(candidates, key=lambda c: (-(c.end - c.start), c.start)):
        if all(cand.end <= c.start or cand.start >= c.end for c in chosen):
            chosen.append(cand)
    chosen.sort(key=lambda c: c.start)
    return tuple(_merge_ranges(question, chosen, as_of)) if ranges else tuple(chosen)


def _label(text: str, start: date, end: date) -> str:
    if re.search(r"\d{4}", text):
        return label_for(start, end)
    return " ".join(text.split()).lower()


_RANGE_JOIN = re.compile(r"^\s*(?:to|through|thru|until|till|and|-)\s*$", re.I)
_RANGE_OPEN = re.compile(r"(?:\bfrom|\bbetween)\s*$", re.I)
_RANGE_TO = re.compile(r"^\s*(?:to|through|thru|until|-)\s*$", re.I)
_COMPARED = re.compile(r"\b(?:compare|compared|comparing|vs|versus|against|growth|grow|grew|change|changed)\b", re.I)
_SINCE = re.compile(r"\b(?:since|starting|after)\s*$", re.I)


def _merge_ranges(question: str, matches: list[TimeMatch], as_of: date) -> list[TimeMatch]:
    out: list[TimeMatch] = []
    i = 0
    while i < len(matches):
        first = matches[i]
        opener = _RANGE_OPEN.search(question[: first.start])
        opened_at = opener.start() if opener else first.start
        # "april to june 2002": one span, unless the months are compared
        bare = opener is None and first.month_only is not None and i + 1 < len(matches) \
            and bool(_RANGE_TO.match(question[first.end: matches[i + 1].start])) \
            and not _COMPARED.search(question[: first.start])
        if (opener or bare) and i + 1 < len(matches) and first.anchor == "as_of" \
                and _RANGE_JOIN.match(question[first.end: matches[i + 1].start]):
            second = matches[i + 1]
            start = first.window.start
            if first.month_only is not None and second.month_only is None:
                start = date(second.window.end.year, first.month_only, 1)
            end = second.window.end
            if start <= end:
                span = (opened_at, second.end)
                window = TimeWindow(start, end, label_for(start, end), first.window.column)
                both_bare = first.month_only is not None and second.month_only is not None
                yearless = ("months", first.month_only * 100 + second.month_only) if both_bare else None
                out.append(TimeMatch(span[0], span[1], question[span[0]:span[1]], window, yearless=yearless))
                i += 2
                continue
        since = _SINCE.search(question[: first.start])
        if since and first.anchor == "as_of" and first.window.start <= as_of:
            window = replace(first.window, end=as_of, label=label_for(first.window.start, as_of))
            out.append(TimeMatch(since.start(), first.end, question[since.start(): first.end], window))
        else:
            out.append(first)
        i += 1
    return out


def month_end_of(day: date) -> date:
    return month_end(day.year, day.month)
