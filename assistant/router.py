"""Metadata routing: slots + a few keyword rules -> an ``Intent``, or an honest "not understood".

The router never guesses: a question with no metric, with words it does not know ("per employee",
"weather in Paris") or with a shape it cannot answer comes back ``complete=False`` with what it did
understand, so the pipeline can try the semantic tier or ask the user to rephrase.

Operation rules, first match wins:
distribution ("distribution of order values", "orders by discount bucket") > compare_periods (two
windows) > growth (growth words + one window; YoY/QoQ/MoM/WoW pick the shift, else the previous
period of the same kind) > compare_values (two values of one dimension + vs/compare) > share > top_n
(top/bottom/best/worst/highest/lowest, "which X ... most") > trend (a grain or "trend") > breakdown
(by/per/each a dimension) > total.

Choices where SPEC is silent (also in the project docs):
- compare and growth put the later window in ``time`` and the earlier in ``compare_time``;
- several values of one dimension without compare words are one combined filter ("CA, OR and WA");
- top/bottom without a number is 5 for a plural ("top states") and 1 for a singular ("best state");
- a trend without a grain uses days up to 45 days, months up to 2 years, else quarters (months
  when there is no window);
- "orders" with the status Cancelled means cancelled_orders (orders leave cancelled ones out), and
  a percent/rate/share of cancelled orders means cancellation_rate;
- a distribution counts orders (superstore: order lines, except order values which are per order).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
import re
from typing import Any

from assistant.intent import BUCKETED, DISTINCT_PREFIX, Filter, Intent, TimeWindow
from assistant.normalize import normalize
from assistant.periods import previous_period, shift_days, shift_months
from assistant.slots import GROWTH_RE, Extraction, Slot, extract, mask
from assistant.timewindow import TimeMatch
from assistant.vocabulary import Vocabulary, closed_vocabulary
from warehouse.spec import load_dataset


@dataclass(frozen=True)
class Route:
    """The router's verdict: a complete intent, or what was understood and what is missing."""

    question: str                       # normalized
    complete: bool
    intent: Intent | None
    extraction: Extraction
    understood: Mapping[str, Any] = field(default_factory=dict)
    missing: tuple[str, ...] = ()       # "metric", "time", "dimension", "unknown words", ...
    unknown_words: tuple[str, ...] = ()
    reason: str = ""

    @property
    def slots(self) -> tuple[Slot, ...]:
        return self.extraction.slots


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)


DISTRIBUTION_RE = _re(r"\b(?:distribution|distributed|histogram|buckets?|bucketed|bands?|banded|spread|ranges?)\b")
BUCKET_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("order_value", _re(r"\b(?:order|basket|ticket)\s+(?:values?|sizes?|amounts?|totals?)\b")),
    ("discount", _re(r"\bdiscounts?\b")),
    ("quantity", _re(r"\b(?:quantity|quantities|units\s+per\s+(?:order|line))\b")),
    ("days_to_ship", _re(r"\b(?:days\s+to\s+ship|shipping\s+times?|delivery\s+days|time\s+to\s+ship)\b")),
)
COMPARE_RE = _re(r"\b(?:vs|versus|compare[ds]?|comparing|comparison|against|relative\s+to|than)\b")
SHARE_RE = _re(r"\b(?:share|percent|percentage|proportion|contribution|contributed|contribute|fraction|mix)\b|%")
TOP_RE = _re(r"\b(?:top|best|highest|most|largest|biggest|leading|greatest|maximum|max)\b")
BOTTOM_RE = _re(r"\b(?:bottom|worst|lowest|least|smallest|fewest|minimum|min)\b")
TREND_RE = _re(r"\b(?:trend|trends|trending|over\s+time|time\s+series|evolution|evolved?)\b")
RATE_RE = _re(r"\b(?:rate|percent|percentage|share|proportion|ratio)\b|%")
TOP_GRAIN_RE = _re(r"\b(?:which|what|best|worst|top|peak)\s+(?P<g>hour|day|week|month|quarter|year|weekday)s?\b")
_SHIFTS = (("yoy|year[- ]over[- ]year|vs\\s+last\\s+year|annual\\s+growth", 12), ("qoq|quarter[- ]over[- ]quarter", 3),
           ("mom|month[- ]over[- ]month", 1))
_WOW = _re(r"\b(?:wow|week[- ]over[- ]week)\b")

# Words that carry no meaning of their own here; anything else unmatched means "not understood".
FILLER = frozenset("""
a about across actual actually after against all also amount an and any are as at average avg be been best
between biggest bottom break breakdown bring brought bucket buckets but by came can change changed compare
compared comparing comparison contribute contributed contribution could count data date dates day did
display distribution do does down during each every far fewest figure figures find for from generate
generated get give go going got greatest grew grow growth had has have highest histogram how i in
increase into is it its largest last leading least list look lowest made make many max maximum me mean
min minimum mix month most much my number of on or our over overall pct percent percentage period
place placed please proportion quarter range ranges rank ranked ranking rate ratio relative see
share show sold split so spread sum than that the their there these this those through time to top total
totals trend trends up us value values versus vs was we week were what when where which who whole with
within worst year you your yoy qoq mom wow value per each between among ones one single versus
excluding exclude except other not outside without apart besides only just ship shipping shipped
come comes coming sell sells selling sale buy bought spend spent earn earned generates generating
""".split())


class Router:
    """Turns a question into an ``Intent`` with rules over the semantic model; sub-millisecond."""

    def parse(self, question: str, *, dataset: str, as_of: date, vocabulary: Vocabulary | None = None) -> Route:
        text = normalize(question)
        vocab = vocabulary or closed_vocabulary(dataset)
        ex = extract(text, dataset=dataset, as_of=as_of, vocabulary=vocab)
        return _Parse(text, dataset, ex, vocab).route()


class _Parse:
    def __init__(self, text: str, dataset: str, ex: Extraction, vocab: Vocabulary) -> None:
        self.text, self.dataset, self.ex, self.vocab = text, dataset, ex, vocab
        self.model = load_dataset(dataset).semantic
        self.masked = mask(text, ex.slots)
        self.metrics = list(dict.fromkeys(s.value for s in ex.slots if s.kind == "metric"))
        self.dims = list(dict.fromkeys(s.value for s in ex.slots if s.kind == "dimension"))
        self.dim_slots = [s for s in ex.slots if s.kind == "dimension"]
        self.grain = next((s.value for s in ex.slots if s.kind == "time" and isinstance(s.value, str)), None)
        self.numbers = [int(s.value) for s in ex.slots if s.kind == "number"]  # type: ignore[call-overload]
        self.value_slots = [s for s in ex.slots if s.kind == "filter_value"]
        self.filters = _merge_filters(self.value_slots)

    def understood(self) -> dict[str, Any]:
        return {"metrics": list(self.metrics), "dimensions": list(self.dims),
                "filters": [{"dimension": f.dimension, "values": list(f.values), "negate": f.negate}
                            for f in self.filters],
                "time": [{"start": m.window.start.isoformat(), "end": m.window.end.isoformat(),
                          "label": m.window.label} for m in self.ex.times],
                "grain": self.grain}

    def incomplete(self, missing: tuple[str, ...], reason: str, unknown: tuple[str, ...] = ()) -> Route:
        return Route(self.text, False, None, self.ex, self.understood(), missing, unknown, reason)

    def route(self) -> Route:
        unknown = self.unknown_words()
        if unknown:
            return self.incomplete(("unknown words",), "I do not know what " + ", ".join(repr(w) for w in unknown)
                                   + " means for this dataset.", unknown)
        bucket = self.bucket()
        if bucket is None and not self.metrics:
            return self.incomplete(("metric",), "The question names no metric this dataset holds.")
        self.fix_cancelled()
        if bucket is None and any(not self.known_metric(m) for m in self.metrics):
            return self.incomplete(("metric",), "That metric cannot be computed here.")
        windows, problem = self.windows()
        if problem:
            return self.incomplete(("time",), problem)
        try:
            intent = self.decide(bucket, windows)
        except _Incomplete as exc:
            return self.incomplete(exc.missing, str(exc))
        return Route(self.text, True, intent, self.ex, self.understood())

    # --- pieces -------------------------------------------------------------------------------------
    def unknown_words(self) -> tuple[str, ...]:
        rest = re.sub(r"<[^>]+>", " ", self.masked)
        words = re.findall(r"[A-Za-z][A-Za-z'-]*", rest)
        unknown = []
        known = _vocabulary_words(self.vocab)
        for word in words:
            w = word.lower().strip("'-")
            if w in FILLER or w.rstrip("s") in FILLER or len(w) < 2 or w in known:
                continue
            if any(p.search(word) for _, p in BUCKET_WORDS) or DISTRIBUTION_RE.fullmatch(w) or GROWTH_RE.fullmatch(w):
                continue
            if TREND_RE.fullmatch(w) or SHARE_RE.fullmatch(w) or COMPARE_RE.fullmatch(w) or TOP_RE.fullmatch(w) \
                    or BOTTOM_RE.fullmatch(w) or w in ("order", "orders", "units", "quantity", "weekday", "hour"):
                continue
            if any(w == d or w == d.rstrip("s") for d in ("day", "week", "month", "quarter", "year", "hour")):
                continue
            unknown.append(word)
        return tuple(dict.fromkeys(unknown))

    def bucket(self) -> str | None:
        if not DISTRIBUTION_RE.search(self.text):
            return None
        for name, pattern in BUCKET_WORDS:
            if pattern.search(self.text):
                if name == "days_to_ship" and "days_to_ship" not in self.model.metrics:
                    return None
                return name
        return None

    def known_metric(self, name: str) -> bool:
        if name.startswith(DISTINCT_PREFIX):
            return name[len(DISTINCT_PREFIX):] in self.model.dimensions
        return name in self.model.metrics

    def fix_cancelled(self) -> None:
        status = next((f for f in self.filters if f.dimension == "status" and not f.negate), None)
        if status is None or status.values != ("Cancelled",) or "cancelled_orders" not in self.model.metrics:
            return
        if "orders" in self.metrics or not self.metrics:
            name = "cancellation_rate" if RATE_RE.search(self.masked) else "cancelled_orders"
            self.metrics = [name if m == "orders" else m for m in self.metrics] or [name]
            self.filters = [f for f in self.filters if f is not status]

    def windows(self) -> tuple[list[tuple[TimeMatch, TimeWindow]], str]:
        out: list[tuple[TimeMatch, TimeWindow]] = []
        for m in self.ex.times:
            window = m.window
            if m.anchor == "prior":
                if out:
                    window = previous_period(out[-1][1], period=m.period or out[-1][0].period)
                elif m.period is None:
                    return [], f"{m.text!r} needs another period to be relative to."
            elif m.anchor == "last_year":
                if not out:
                    return [], f"{m.text!r} needs another period to be relative to."
                window = shift_months(out[-1][1], 12)
            out.append((m, window))
        if len(out) > 2:
            return [], "The question names more than two periods; ask about one or compare two."
        return out, ""

    def decide(self, bucket: str | None, windows: list[tuple[TimeMatch, TimeWindow]]) -> Intent:
        masked = self.masked
        base = dict(dataset=self.dataset, filters=tuple(self.filters))
        time = windows[0][1] if windows else None
        if bucket is not None:
            return Intent(metrics=(self.bucket_metric(bucket),), operation="distribution", dimensions=(bucket,),
                          time=time, **base)
        metrics = tuple(self.metrics)
        if len(windows) == 2:
            later, earlier = sorted((w for _, w in windows), key=lambda w: w.start, reverse=True)
            op = "growth" if GROWTH_RE.search(masked) else "compare_periods"
            return Intent(metrics=metrics, operation=op, dimensions=self.group_dims(2), time=later,
                          compare_time=earlier, **base)
        if GROWTH_RE.search(masked) and not TREND_RE.search(masked):
            if time is None:
                raise _Incomplete(("time",), "Growth needs a period, e.g. 'revenue growth in Q1 2024'.")
            return Intent(metrics=metrics, operation="growth", dimensions=self.group_dims(2), time=time,
                          compare_time=self.growth_base(windows[0]), **base)
        compared = self.compared_dimension()
        if compared is not None:
            return Intent(metrics=metrics, operation="compare_values", dimensions=(compared,), time=time, **base)
        if SHARE_RE.search(masked) and self.format_of(metrics[0]) in ("currency", "integer"):
            dims = self.group_dims(1) or tuple(f.dimension for f in self.filters if not f.negate)[:1]
            if not dims:
                raise _Incomplete(("dimension",), "A share needs what to split by, e.g. 'share of revenue by category'.")
            return Intent(metrics=metrics[:1], operation="share", dimensions=dims, time=time, **base)
        ranked = self.ranking()
        if ranked is not None:
            n, order, grain = ranked
            return Intent(metrics=metrics, operation="top_n", dimensions=self.group_dims(1), time=time,
                          top_n=n, order=order, grain=grain, **base)
        if self.grain is not None or TREND_RE.search(masked):
            return Intent(metrics=metrics, operation="trend", dimensions=self.group_dims(1), time=time,
                          grain=self.grain or _default_grain(time), **base)
        dims = self.group_dims(2)
        if dims:
            return Intent(metrics=metrics, operation="breakdown", dimensions=dims, time=time, **base)
        return Intent(metrics=metrics, operation="total", time=time, **base)

    def format_of(self, metric: str) -> str:
        return self.model.metrics[metric].format if metric in self.model.metrics else "integer"

    def group_dims(self, most: int) -> tuple[str, ...]:
        if len(self.dims) > most:
            raise _Incomplete(("dimension",), f"I can split by at most {most} dimension(s) here; "
                              f"the question names {', '.join(self.dims)}.")
        return tuple(self.dims)

    def bucket_metric(self, bucket: str) -> str:
        counts = [m for m in self.metrics if m in ("orders", "order_lines")]
        if counts:
            return counts[0]
        if "order_lines" in self.model.metrics and bucket != "order_value":
            return "order_lines"
        return "orders"

    def growth_base(self, match: tuple[TimeMatch, TimeWindow]) -> TimeWindow:
        m, window = match
        for pattern, months in _SHIFTS:
            if re.search(r"\b(?:" + pattern + r")\b", self.masked, re.I):
                return shift_months(window, months)
        if _WOW.search(self.masked):
            return shift_days(window, 7)
        return previous_period(window, period=m.period)

    def compared_dimension(self) -> str | None:
        if not COMPARE_RE.search(self.masked):
            return None
        for f in self.filters:
            if not f.negate and len(f.values) >= 2 and self.separate_slots(f.dimension) >= 2:
                if self.dims and self.dims != [f.dimension]:
                    raise _Incomplete(("dimension",), "Compare two values of one dimension at a time.")
                return f.dimension
        return None

    def separate_slots(self, dimension: str) -> int:
        return sum(1 for s in self.value_slots if isinstance(s.value, Filter) and s.value.dimension == dimension
                   and not s.value.negate)

    def ranking(self) -> tuple[int, str, str | None] | None:
        top, bottom = TOP_RE.search(self.masked), BOTTOM_RE.search(self.masked)
        if not (top or bottom or self.numbers):
            return None
        order = "asc" if bottom and not (top and top.start() < bottom.start()) else "desc"
        grain = None
        if not self.dims:
            g = TOP_GRAIN_RE.search(self.masked)
            if g is None:
                if self.numbers:
                    raise _Incomplete(("dimension",), "Top N of what? e.g. 'top 5 states by revenue'.")
                return None
            grain = {"weekday": "day_of_week"}.get(g.group("g").lower(), g.group("g").lower())
        if self.numbers:
            n = self.numbers[0]
        else:
            plural = self.dim_slots[0].text.lower().endswith("s") if self.dim_slots else False
            n = 5 if plural else 1
        if n < 1:
            raise _Incomplete(("number",), "Top N needs N of at least 1.")
        return n, order, grain


class _Incomplete(Exception):
    def __init__(self, missing: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.missing = missing


_WORDS_CACHE: dict[int, frozenset[str]] = {}


def _vocabulary_words(vocab: Vocabulary) -> frozenset[str]:
    """Single words of metric and dimension phrases: a dimension word that only describes a value
    ("the Consumer segment") is known even though it is not a slot."""
    key = id(vocab)
    if key not in _WORDS_CACHE:
        words = {w for phrase in (*vocab.metric_phrases, *vocab.dimension_phrases) for w in phrase.split()}
        _WORDS_CACHE[key] = frozenset(words - {"made", "sold"})
    return _WORDS_CACHE[key]


def _merge_filters(slots: list[Slot]) -> list[Filter]:
    merged: dict[tuple[str, bool], list[str]] = {}
    for s in slots:
        assert isinstance(s.value, Filter)
        values = merged.setdefault((s.value.dimension, s.value.negate), [])
        values += [v for v in s.value.values if v not in values]
    return [Filter(dim, tuple(values), negate) for (dim, negate), values in merged.items()]


def _default_grain(window: TimeWindow | None) -> str:
    if window is None:
        return "month"
    if window.days <= 45:
        return "day"
    return "month" if window.days <= 731 else "quarter"
