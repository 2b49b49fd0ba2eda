"""Slots: the spans of a question that carry meaning (metrics, dimensions, values, times, numbers).

``extract_slots`` finds every candidate span, keeps the longest where they overlap ("cancelled
orders" is a metric, not the status Cancelled plus orders; "West Coast" is three states, not the
region West) and returns them in reading order. ``mask`` turns a question into a template for the
semantic tier; ``rebind`` moves a remembered intent onto a new question's slot values.

Slot values: metric -> metric name; dimension -> dimension name; filter_value -> ``Filter``;
time -> ``TimeWindow`` for a window, or the grain name (``str``) for "monthly", "by week"...;
number -> ``int`` (the N of top/bottom N).

Choices where SPEC is silent (also in the project docs):
- a word that is both a metric and a dimension ("customers") is a dimension after by/per/each/top N/
  which, and a metric elsewhere;
- weak revenue words ("made", "sold") count only when no other metric is named;
- "excluding X", "except X", "other than X", "not in X", "outside X", "without X" negate the filter,
  and so does the next value joined by "and"/"or"/",";
- a dimension word right next to one of its values ("the state of Texas", "Electronics category")
  only describes the value and is not a group-by.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
import re
from typing import Literal

from assistant.intent import Filter, Intent, TimeWindow
from assistant.normalize import normalize
from assistant.periods import previous_period, shift_days, shift_months
from assistant.timewindow import TimeMatch, find_windows
from assistant.vocabulary import AMBIGUOUS_CODES, ValueEntry, Vocabulary, closed_vocabulary

SlotKind = Literal["metric", "dimension", "filter_value", "time", "number"]


@dataclass(frozen=True)
class Slot:
    kind: SlotKind
    text: str              # the matched text span
    start: int
    end: int               # offsets in the normalized question
    value: object          # metric name / dimension name / Filter / TimeWindow / int


@dataclass(frozen=True)
class Extraction:
    """Slots plus what the router needs beyond them (the time phrases with their anchors)."""

    question: str
    slots: tuple[Slot, ...]
    times: tuple[TimeMatch, ...]


GROWTH_RE = re.compile(r"\b(?:growth|grow|grew|growing|yoy|year[- ]over[- ]year|qoq|quarter[- ]over[- ]quarter|mom"
                       r"|month[- ]over[- ]month|wow|week[- ]over[- ]week|increase[ds]?|decrease[ds]?|declined?"
                       r"|change[ds]?|rise|rose|fell|drop(?:ped)?)\b", re.I)
WEAK_METRIC_PHRASES = frozenset({"made", "sold"})
GRAIN_PATTERNS: tuple[tuple[str, str], ...] = (
    ("day_of_week", r"(?:by|per|for each|each)\s+(?:the\s+)?(?:day\s+of\s+(?:the\s+)?week|weekday|day-of-week)"
                    r"|days?\s+of\s+(?:the\s+)?week|weekdays?"),
    ("hour", r"hourly|(?:by|per|each|every)\s+(?:the\s+)?hour|hour\s+by\s+hour"),
    ("day", r"daily|(?:by|per|each|every)\s+(?:the\s+)?(?:day|date)|day\s+by\s+day|day-by-day"),
    ("week", r"weekly|(?:by|per|each|every)\s+(?:the\s+)?week|week\s+by\s+week|week-by-week"),
    ("month", r"monthly|(?:by|per|each|every)\s+(?:the\s+)?month|month\s+by\s+month|month-by-month"),
    ("quarter", r"quarterly|(?:by|per|each|every)\s+(?:the\s+)?quarter|quarter\s+by\s+quarter"),
    ("year", r"yearly|annually|annual|(?:by|per|each|every)\s+(?:the\s+)?year|year\s+by\s+year"),
)
_GRAIN_RES = tuple((grain, re.compile(r"(?<![\w-])(?:" + p + r")(?![\w-])", re.I)) for grain, p in GRAIN_PATTERNS)
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20}
_RANKED = r"top|bottom|best|worst|highest|lowest|largest|smallest|biggest|leading|first"
_NUMBER_RE = re.compile(r"(?<![\w-])(?:(?:" + _RANKED + r")\s+(?P<a>\d{1,3}|" + "|".join(_NUMBER_WORDS)
                        + r")|(?P<b>\d{1,3}|" + "|".join(_NUMBER_WORDS) + r")\s+(?:" + _RANKED + r"|most|least))"
                        r"(?![\w-])", re.I)
_GROUP_BY_BEFORE = re.compile(r"(?:\bby|\bper|\beach|\bevery|\bacross|\bwhich|\bwhat|\btop(?:\s+\w+)?|\bbottom(?:\s+\w+)?"
                              r"|\bbest(?:\s+\w+)?|\bworst(?:\s+\w+)?|\bamong|\bbetween|\bof\s+all|\bsplit)\s*$", re.I)
_NEGATION_BEFORE = re.compile(r"(?:\bexcluding|\bexclude|\bexcept(?:\s+for)?|\bother\s+than|\bnot\s+in|\bnot"
                              r"|\boutside(?:\s+of)?|\bwithout|\bapart\s+from|\bbesides)\s+(?:the\s+)?$", re.I)
_LIST_JOIN = re.compile(r"^\s*(?:,|and|or|nor|,\s*and|,\s*or)\s*(?:the\s+)?$", re.I)
_DESCRIBES = re.compile(r"^\s*(?:of|=|:|is|called|named)?\s*(?:the\s+)?$", re.I)
_STATE_WORD_BEFORE = re.compile(r"\bstate\s+of\s+$", re.I)
_CODE_RE = re.compile(r"(?<![\w-])([A-Za-z]{2})(?![\w-])")
_PRIORITY = {"time": 0, "filter_value": 1, "metric": 2, "dimension": 3, "number": 4}


def extract_slots(question: str, *, dataset: str, as_of: date,
                  vocabulary: Vocabulary | None = None) -> tuple[Slot, ...]:
    """Slots of a normalized question, in reading order (``vocabulary`` adds looked-up values)."""
    return extract(normalize(question), dataset=dataset, as_of=as_of, vocabulary=vocabulary).slots


def extract(question: str, *, dataset: str, as_of: date, vocabulary: Vocabulary | None = None,
            ranges: bool | None = None) -> Extraction:
    """Slots plus time phrases; ``ranges=None`` merges "from X to Y" unless the question asks for growth."""
    vocab = vocabulary or closed_vocabulary(dataset)
    lower = question.lower()
    if ranges is None:
        ranges = not GROWTH_RE.search(question)
    times = find_windows(question, as_of=as_of, ranges=ranges)
    cands: list[Slot] = [Slot("time", m.text, m.start, m.end, m.window) for m in times]
    for grain, pattern in _GRAIN_RES:
        cands += [Slot("time", m.group(0), m.start(), m.end(), grain) for m in pattern.finditer(question)]
    cands += _phrase_slots(question, lower, vocab.metric_phrases, "metric")
    cands += _phrase_slots(question, lower, vocab.dimension_phrases, "dimension")
    cands += _value_slots(question, lower, vocab)
    for m in _NUMBER_RE.finditer(question):
        raw = (m.group("a") or m.group("b")).lower()
        start = m.start("a") if m.group("a") else m.start("b")
        cands.append(Slot("number", raw, start, start + len(raw), _NUMBER_WORDS.get(raw) or int(raw)))
    cands = _metric_or_dimension(question, cands)
    chosen: list[Slot] = []
    for cand in sorted(cands, key=lambda s: (-(s.end - s.start), _PRIORITY[s.kind], s.start)):
        if all(cand.end <= c.start or cand.start >= c.end for c in chosen):
            chosen.append(cand)
    chosen.sort(key=lambda s: s.start)
    chosen = _drop_weak_metrics(chosen)
    chosen = _negate(question, chosen)
    chosen = _drop_describing_dimensions(question, chosen)
    kept_times = tuple(m for m in times if any(s.kind == "time" and s.start == m.start and s.end == m.end
                                               for s in chosen))
    return Extraction(question=question, slots=tuple(chosen), times=kept_times)


def _bounded(lower: str, start: int, end: int) -> bool:
    before = lower[start - 1] if start > 0 else " "
    after = lower[end] if end < len(lower) else " "
    return not (before.isalnum() or before in "_-") and not (after.isalnum() or after in "_")


def _find_all(lower: str, phrase: str) -> list[int]:
    found, at = [], lower.find(phrase)
    while at >= 0:
        if _bounded(lower, at, at + len(phrase)):
            found.append(at)
        at = lower.find(phrase, at + 1)
    return found


def _phrase_slots(question: str, lower: str, phrases: dict[str, str] | object, kind: SlotKind) -> list[Slot]:
    out = []
    for phrase, name in phrases.items():  # type: ignore[attr-defined]
        for at in _find_all(lower, phrase):
            out.append(Slot(kind, question[at: at + len(phrase)], at, at + len(phrase), name))
    return out


def _value_slots(question: str, lower: str, vocab: Vocabulary) -> list[Slot]:
    index = vocab.value_index
    found: list[tuple[int, int, ValueEntry]] = []   # (position in vocab.values, offset, entry)
    for at in range(len(lower)):
        if at > 0 and (lower[at - 1].isalnum() or lower[at - 1] in "_-"):
            continue   # not a word start: _bounded would refuse any phrase here
        for position, entry in index.candidates(lower, at):
            if lower.startswith(entry.phrase, at) and _bounded(lower, at, at + len(entry.phrase)):
                found.append((position, at, entry))
    found.sort(key=lambda item: (item[0], item[1]))   # the order a scan of every value gave: ties keep it
    out = []
    for _, at, entry in found:
        if entry.case_sensitive and not question[at].isupper():
            continue
        text = question[at: at + len(entry.phrase)]
        out.append(Slot("filter_value", text, at, at + len(entry.phrase), Filter(entry.dimension, entry.values)))
    state_dim = index.state_dimension
    if state_dim is None:
        return out
    shouting = question.isupper()
    for m in _CODE_RE.finditer(question):
        code = m.group(1)
        if code.upper() not in vocab.state_codes:
            continue
        after_state_word = bool(_STATE_WORD_BEFORE.search(question[: m.start()]))
        typed_upper = code.isupper() and not shouting
        if typed_upper or after_state_word or code.lower() not in AMBIGUOUS_CODES:
            value = vocab.state_codes[code.upper()]
            out.append(Slot("filter_value", code, m.start(), m.end(), Filter(state_dim, (value,))))
    return out


def _metric_or_dimension(question: str, cands: list[Slot]) -> list[Slot]:
    """Where a metric and a dimension cover the same span, context picks one."""
    spans: dict[tuple[int, int], set[str]] = {}
    for c in cands:
        spans.setdefault((c.start, c.end), set()).add(c.kind)
    out = []
    for c in cands:
        kinds = spans[(c.start, c.end)]
        if {"metric", "dimension"} <= kinds and c.kind in ("metric", "dimension"):
            grouping = bool(_GROUP_BY_BEFORE.search(question[: c.start]))
            if (c.kind == "metric") == grouping:
                continue
        out.append(c)
    return out


def _drop_weak_metrics(slots: list[Slot]) -> list[Slot]:
    strong = [s for s in slots if s.kind == "metric" and s.text.lower() not in WEAK_METRIC_PHRASES]
    if not strong:
        return slots
    return [s for s in slots if not (s.kind == "metric" and s.text.lower() in WEAK_METRIC_PHRASES)]


def _negate(question: str, slots: list[Slot]) -> list[Slot]:
    out: list[Slot] = []
    for s in slots:
        if s.kind == "filter_value":
            assert isinstance(s.value, Filter)
            negated = bool(_NEGATION_BEFORE.search(question[: s.start]))
            prev = out[-1] if out else None
            if (not negated and prev is not None and prev.kind == "filter_value" and isinstance(prev.value, Filter)
                    and prev.value.negate and prev.value.dimension == s.value.dimension
                    and _LIST_JOIN.match(question[prev.end: s.start])):
                negated = True
            if negated:
                s = replace(s, value=replace(s.value, negate=True))
        out.append(s)
    return out


def _drop_describing_dimensions(question: str, slots: list[Slot]) -> list[Slot]:
    drop: set[int] = set()
    for i, s in enumerate(slots):
        if s.kind != "dimension" or _GROUP_BY_BEFORE.search(question[: s.start]):
            continue
        for j in (i - 1, i + 1):
            if 0 <= j < len(slots) and slots[j].kind == "filter_value":
                other = slots[j]
                assert isinstance(other.value, Filter)
                gap = question[s.end: other.start] if j > i else question[other.end: s.start]
                if other.value.dimension == s.value and _DESCRIBES.match(gap):
                    drop.add(i)
    return [s for i, s in enumerate(slots) if i not in drop]


def mask(question: str, slots: Sequence[Slot]) -> str:
    """The question with each slot span replaced by a placeholder, e.g. "<metric> in <filter_value:state>"."""
    out, at = [], 0
    for s in sorted(slots, key=lambda s: s.start):
        out.append(question[at: s.start])
        if s.kind == "filter_value" and isinstance(s.value, Filter):
            out.append(f"<filter_value:{s.value.dimension}>")
        elif s.kind == "time" and isinstance(s.value, str):
            out.append("<grain>")
        else:
            out.append(f"<{s.kind}>")
        at = s.end
    out.append(question[at:])
    return "".join(out)


def _group(slot: Slot) -> tuple[str, str]:
    if slot.kind == "filter_value" and isinstance(slot.value, Filter):
        return slot.kind, slot.value.dimension + (":not" if slot.value.negate else "")
    if slot.kind == "time":
        return slot.kind, "grain" if isinstance(slot.value, str) else "window"
    return slot.kind, ""


def rebind(template: Intent, template_slots: Sequence[Slot], new_slots: Sequence[Slot]) -> Intent | None:
    """``template`` with its slot values replaced by the new question's, or None if they do not line up.

    Slots pair up in reading order within each group (kind, and the dimension of a filter value, and
    window vs grain for time). A compare window the template derived from its main window (growth:
    the previous period or a year earlier) is derived again from the new window.
    """
    groups: dict[tuple[str, str], list[Slot]] = {}
    for s in template_slots:
        groups.setdefault(_group(s), []).append(s)
    new_groups: dict[tuple[str, str], list[Slot]] = {}
    for s in new_slots:
        new_groups.setdefault(_group(s), []).append(s)
    if {k: len(v) for k, v in groups.items()} != {k: len(v) for k, v in new_groups.items()}:
        return None
    intent = template
    derived_shift = _derived_shift(template, [s.value for s in groups.get(("time", "window"), [])])
    for key, olds in groups.items():
        if key[0] == "filter_value":
            intent = _swap_filter(intent, olds, new_groups[key])
            if intent is None:
                return None
            continue
        for old, new in zip(olds, new_groups[key]):
            intent = _swap(intent, old, new)
    if derived_shift is not None and intent.time is not None:
        intent = replace(intent, compare_time=derived_shift(intent.time))
    if intent.compare_time is not None and intent.time is not None and intent.compare_time.start > intent.time.start:
        intent = replace(intent, time=intent.compare_time, compare_time=intent.time)
    return intent


def _derived_shift(template: Intent, windows: list[object]):
    if template.time is None or template.compare_time is None or template.compare_time in windows:
        return None
    for months in (1, 3, 6, 12):
        if shift_months(template.time, months) == template.compare_time:
            return lambda w, k=months: shift_months(w, k)
    if previous_period(template.time) == template.compare_time:
        return previous_period
    days = (template.time.start - template.compare_time.start).days
    return lambda w: shift_days(w, days)


def _swap(intent: Intent, old: Slot, new: Slot) -> Intent:
    if old.kind == "metric":
        return replace(intent, metrics=tuple(new.value if m == old.value else m for m in intent.metrics))
    if old.kind == "dimension":
        return replace(intent, dimensions=tuple(new.value if d == old.value else d for d in intent.dimensions))
    if old.kind == "number":
        return replace(intent, top_n=int(new.value)) if intent.top_n == old.value else intent  # type: ignore[arg-type]
    if isinstance(old.value, str):   # a grain
        return replace(intent, grain=new.value) if intent.grain == old.value else intent  # type: ignore[arg-type]
    assert isinstance(old.value, TimeWindow) and isinstance(new.value, TimeWindow)
    if intent.time == old.value:
        return replace(intent, time=new.value)
    if intent.compare_time == old.value:
        return replace(intent, compare_time=new.value)
    return intent


def _swap_filter(intent: Intent, olds: list[Slot], news: list[Slot]) -> Intent | None:
    """Swap all values of one (dimension, negate) group at once, so CA,TX -> TX,CA cannot collide."""
    first = olds[0].value
    assert isinstance(first, Filter)
    old_values = [v for s in olds for v in s.value.values]  # type: ignore[attr-defined]
    new_values = tuple(dict.fromkeys(v for s in news for v in s.value.values))  # type: ignore[attr-defined]
    filters, found = [], False
    for f in intent.filters:
        if f.dimension == first.dimension and f.negate == first.negate and set(f.values) == set(old_values):
            f, found = Filter(f.dimension, new_values, f.negate), True
        filters.append(f)
    return replace(intent, filters=tuple(filters)) if found else None
