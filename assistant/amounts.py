"""Amounts in questions: thresholds ("over $250", "at least 5 units") and ranges ("$50-250").

An ``Amount`` is a range with optional ends; a one-sided phrase leaves the other end open. Money is
recognised by "$", "dollars", "bucks", "usd", or a "k"/"m" suffix; counts by a unit word after the
number ("units", "items", "orders"); a bare number has no unit, and the router decides whether the
question says what it measures. Years and the N of "top 5" are never amounts: time phrases and
rank numbers win where they overlap (see ``assistant.slots``).
"""

from __future__ import annotations

from dataclasses import dataclass
import re
from typing import Literal

Unit = Literal["money", "count", "percent"]

_UNITS_WORDS = {"one": 1, "a": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                "nine": 9, "ten": 10, "twenty": 20, "fifty": 50, "a hundred": 100, "one hundred": 100}
_SCALE_WORDS = {"hundred": 100, "thousand": 1000}
# "five hundred", "a thousand", "ten": spelled-out amounts (a scale word is needed after "a"/"one")
_WORDS = (r"(?:(?:a|one|two|three|four|five|six|seven|eight|nine|ten|twenty|fifty)\s+(?:hundred|thousand)"
          r"|two|three|four|five|six|seven|eight|nine|ten|twenty|fifty)")
_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|" + _WORDS
_MONEY_BEFORE = r"(?:\$|usd\s*)"
_SCALE = r"(?:\s?(?:k|m|thousand|million|grand))"
_UNIT_AFTER = r"(?:\s?(?:%|percent|dollars?|bucks|usd|units?|items?|pieces?|orders?|lines?|days?))"
_VALUE = rf"(?P<cur>{_MONEY_BEFORE})?(?P<num>{_NUM}|zero){_SCALE.replace('(?:', '(?P<scale>', 1)}?(?P<unit>{_UNIT_AFTER})?"
_GT = (r"(?:above|over|(?:more|greater|higher|bigger|larger)\s+(?:[a-z]+\s+)?than|exceed(?:ing|ed|s)?|in\s+excess\s+of"
       r"|>)")
_GE = r"(?:at\s+least|minimum\s+of|no\s+less\s+than|>=)"
_LT = r"(?:below|under|(?:less|fewer|lower|smaller)\s+(?:[a-z]+\s+)?than|beneath|<)"
_LE = r"(?:at\s+most|up\s+to|no\s+more\s+than|maximum\s+of|<=)"
_PATTERN = re.compile(
    rf"(?<![\w$.,<>=\[])(?:"
    rf"(?P<between>between|from)\s+{_VALUE.replace('(?P<', '(?P<a_')}\s+(?:and|to|-)\s+{_VALUE.replace('(?P<', '(?P<b_')}"
    rf"|{_VALUE.replace('(?P<', '(?P<r1_')}\s*(?:-|to|–|up\s+to|until|till|through|thru)\s*{_VALUE.replace('(?P<', '(?P<r2_')}"
    rf"|(?P<op>{_GE}|{_LE}|{_GT}|{_LT})(?:\s+|(?<=[<>=])\s*){_VALUE.replace('(?P<', '(?P<o_')}"
    rf"|{_VALUE.replace('(?P<', '(?P<p_')}\s*(?P<post>\+|or\s+more|and\s+(?:up|above|over|more|higher|greater|beyond)|or\s+less|and\s+(?:under|below))"
    rf"|(?P<d_cur>{_MONEY_BEFORE}){_VALUE.replace('(?P<cur>' + _MONEY_BEFORE + ')?', '').replace('(?P<', '(?P<d_')}"
    rf"|(?P<sign>negative|positive|in\s+the\s+negative|below\s+zero|above\s+zero|less\s+than\s+zero)"
    rf"|\[\s*(?P<iv_lo>\d+(?:\.\d+)?)\s*,\s*(?P<iv_hi>\d+(?:\.\d+)?|inf|infinity)\s*\)"
    rf")(?![\w])", re.I)


@dataclass(frozen=True)
class Amount:
    low: float | None           # lower end, None = open
    high: float | None          # upper end, None = open
    low_strict: bool = False    # "over 250" excludes 250; "at least 250" keeps it
    high_strict: bool = True    # "under 50" excludes 50; "at most 50" keeps it
    unit: Unit | None = None

    @property
    def is_range(self) -> bool:
        return self.low is not None and self.high is not None


def _number(raw: str, scale: str | None) -> float:
    words = raw.lower().split()
    if words[0] in _UNITS_WORDS or words[0] in ("a", "zero"):
        value = 0.0 if words[0] == "zero" else float(_UNITS_WORDS[words[0]])
        for word in words[1:]:
            value *= _SCALE_WORDS[word]
    else:
        value = float(raw.replace(",", ""))
    factor = {"k": 1e3, "thousand": 1e3, "grand": 1e3, "m": 1e6, "million": 1e6}
    return value * factor.get((scale or "").strip().lower(), 1.0)


def _unit(cur: str | None, scale: str | None, unit: str | None) -> Unit | None:
    word = (unit or "").strip().lower()
    if cur or word in ("dollar", "dollars", "bucks", "usd") or (scale or "").strip().lower() in ("k", "m", "grand"):
        return "money"
    if word in ("%", "percent"):
        return "percent"
    if word:
        return "count"
    return None


def _value(m: re.Match[str], prefix: str) -> tuple[float, Unit | None]:
    g = m.groupdict()
    value = _number(g[f"{prefix}num"], g.get(f"{prefix}scale"))
    unit = _unit(g.get(f"{prefix}cur"), g.get(f"{prefix}scale"), g.get(f"{prefix}unit"))
    if unit == "percent":
        value /= 100
    return value, unit


def find_amounts(text: str) -> list[tuple[int, int, Amount]]:
    """Every amount phrase in ``text`` as (start, end, Amount), in reading order."""
    out = []
    for m in _PATTERN.finditer(text):
        amount = _amount(m)
        if amount is not None and not _years(amount):
            out.append((m.start(), m.end(), amount))
    return out


def _years(amount: Amount) -> bool:
    """"from 2016 to 2017" is two years, not an amount."""
    ends = [v for v in (amount.low, amount.high) if v is not None]
    return amount.unit is None and all(v.is_integer() and 1900 <= v <= 2100 for v in ends)


def _amount(m: re.Match[str]) -> Amount | None:
    g = m.groupdict()
    if g.get("between"):
        (a, ua), (b, ub) = _value(m, "a_"), _value(m, "b_")
        return Amount(a, b, unit=ua or ub) if a < b else None
    if g.get("r1_num"):
        (a, ua), (b, ub) = _value(m, "r1_"), _value(m, "r2_")
        return Amount(a, b, unit=ua or ub) if a < b else None
    if g.get("op"):
        value, unit = _value(m, "o_")
        op = " ".join(g["op"].lower().split())
        if re.fullmatch(_GE, op):
            return Amount(value, None, low_strict=False, unit=unit)
        if re.fullmatch(_LE, op):
            return Amount(None, value, high_strict=False, unit=unit)
        if re.fullmatch(_GT, op):
            return Amount(value, None, low_strict=True, unit=unit)
        return Amount(None, value, high_strict=True, unit=unit)
    if g.get("p_num"):
        value, unit = _value(m, "p_")
        post = " ".join(g["post"].lower().split())
        if post in ("or less", "and under", "and below"):
            return Amount(None, value, high_strict=False, unit=unit)
        return Amount(value, None, low_strict=False, unit=unit)
    if g.get("iv_lo"):                      # "[100,1000)": a half-open interval
        low = _number(g["iv_lo"], None)
        high = None if g["iv_hi"].lower().startswith("inf") else _number(g["iv_hi"], None)
        return Amount(low, high)
    if g.get("sign"):
        sign = " ".join(g["sign"].lower().split())
        below = sign in ("negative", "in the negative", "below zero", "less than zero")
        return Amount(None, 0.0, high_strict=True) if below else Amount(0.0, None, low_strict=True)
    if g.get("d_cur"):
        value, _ = _value(m, "d_")
        return Amount(value, value, low_strict=False, high_strict=False, unit="money")
    return None
