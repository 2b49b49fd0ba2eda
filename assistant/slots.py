"""Slots: the spans of a question that carry meaning (metrics, dimensions, values, times, numbers).

``extract_slots`` finds every candidate span, keeps the longest where they overlap ("cancelled
orders" is a metric, not the status Cancelled plus orders; "West Coast" is three states, not the
region West) and returns them in reading order. ``mask`` turns a question into a template for the
semantic tier; ``rebind`` moves a remembered intent onto a new question's slot values.

Slot values: metric -> metric name; dimension -> dimension name; filter_value -> ``Filter``;
time -> ``TimeWindow`` for a window, or the grain name (``str``) for "monthly", "by week"...;
number -> ``int`` (the N of top/bottom N); condition -> the model's condition name ("unprofitable");
amount -> ``Amount`` ("over $250", "$50-250"); noun -> the dimension a relative clause is said of
("customers who ...", "the categories that ..."): read, but not a group-by.

Choices where SPEC is silent (also in the project docs):
- a word that is both a metric and a dimension ("customers") is a dimension after by/per/each/top N/
  which, and a metric elsewhere;
- everyday verbs for a metric (the model's ``verbs``: "sold", "made", "bring in") count only when no
  other metric is named;
- a condition word that is also a metric word ("profitable") is the metric after a ranking or
  comparing word ("most profitable"), and the condition elsewhere ("which states are profitable");
- "excluding X", "except X", "other than X", "not in X", "outside X", "without X" negate the filter,
  and so does the next value joined by "and"/"or"/",";
- a dimension word right next to one of its values ("the state of Texas", "Electronics category")
  only describes the value and is not a group-by.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
import re
from typing import Literal

from assistant.amounts import Amount, find_amounts
from assistant.intent import Filter
from assistant.lexicon import lexicon
from assistant.normalize import normalize
from assistant.timewindow import SHIPPED_IN, TimeMatch, find_windows
from assistant.vocabulary import AMBIGUOUS_CODES, ValueEntry, Vocabulary, closed_vocabulary

SlotKind = Literal["metric", "dimension", "filter_value", "time", "number", "condition", "amount", "noun"]


@dataclass(frozen=True)
class Slot:
    kind: SlotKind
    text: str              # the matched text span
    start: int
    end: int               # offsets in the normalized question
    value: object          # metric / dimension / condition name, Filter, TimeWindow, grain, int, Amount


@dataclass(frozen=True)
class Extraction:
    """Slots plus what the router needs beyond them (the time phrases with their anchors)."""

    question: str
    slots: tuple[Slot, ...]
    times: tuple[TimeMatch, ...]


def _growth_re() -> re.Pattern[str]:
    """Growth words (the lexicon's), which keep "from Q1 to Q2" as two periods instead of one range."""

    lex = lexicon()
    words = [w for w, kind in lex.cues.items() if kind == "growth"]
    phrases = [p.pattern for p, kind in lex.cue_phrases if kind == "growth"]
    # "which category added the most from Q3 to Q4", "expanded most": the ranking-by-growth phrases too,
    # read on the unmasked text (a metric name stands where the lexicon writes <metric>)
    phrases += [p.pattern.replace("<metric>", r"[a-z]+(?:\s[a-z]+)?") for name in ("fastest", "slowest")
                for p in lex.phrases[name]]
    return re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")\b|" + "|".join(phrases), re.I)


GROWTH_RE = _growth_re()
GRAIN_PATTERNS: tuple[tuple[str, str], ...] = (
    ("day_of_week", r"(?:by|per|for each|each)\s+(?:the\s+)?(?:day\s+of\s+(?:the\s+)?week|weekday|day-of-week)"
                    r"|days?\s+of\s+(?:the\s+)?week|weekdays?|(?:by\s+)?(?:iso)?dow(?:\s+date)?"),
    ("hour", r"hourly|(?:by|per|each|every)\s+(?:the\s+)?hour|hour\s+by\s+hour"),
    ("day", r"daily|(?:by|per|each|every|a)\s+(?:the\s+)?(?:calendar\s+)?(?:day|date)(?!\s+shipped)"
            r"|day\s+by\s+day|day-by-day"),
    ("week", r"weekly|(?:by|per|each|every|a)\s+(?:the\s+)?(?:iso\s+)?week|week\s+by\s+week|week-by-week"),
    ("month", r"monthly|(?:by|per|each|every|a)\s+(?:the\s+)?month|month\s+by\s+month|month-by-month"
              r"|(?:across|over|through|for|in)\s+(?:each\s+of\s+|all\s+of\s+|all\s+)?the\s+(?:12\s+|twelve\s+)?months(?=\s+(?:of|in)\b)"),
    ("quarter", r"quarterly|(?:by|per|each|every)\s+(?:the\s+)?quarter|quarter\s+by\s+quarter"
                r"|(?:across|over|through|for|in)\s+(?:each\s+of\s+|all\s+of\s+|all\s+)?the\s+(?:four\s+|4\s+)?quarters(?=\s+(?:of|in)\b)"),
    ("year", r"yearly|annually|annual|(?:by|per|each|every)\s+(?:the\s+)?year|year\s+by\s+year"),
)
_GRAIN_RES = tuple((grain, re.compile(r"(?<![\w-])(?:" + p + r")(?![\w-])", re.I)) for grain, p in GRAIN_PATTERNS)
_NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "fifteen": 15, "twenty": 20}
_RANKED = r"(?:top|bottom|best|worst|highest|lowest|largest|smallest|biggest|leading|first)(?:-\w+)?"
_NUMBER_RE = re.compile(r"(?<![\w-])(?:(?:" + _RANKED + r")\s+(?P<a>\d{1,3}|" + "|".join(_NUMBER_WORDS)
                        + r")|(?P<b>\d{1,3}|" + "|".join(_NUMBER_WORDS) + r")\s+(?:" + _RANKED + r"|most|least)"
                        r"|(?:which|what|list|name|show|give|the|our|my)\s+(?:the\s+|me\s+(?:the\s+)?)?(?P<c>\d{1,3})(?=\s+[a-z])"
                        # "5 classes with the most units": a count opening the question
                        r"|^\s*(?P<d>\d{1,3})(?=\s+(?!(?:days?|weeks?|months?|quarters?|years?|hours?|yrs?|mos?)\b)[a-z]))"
                        r"(?![\w-])", re.I)
_GROUP_BY_BEFORE = re.compile(r"(?:\bby|\bper|\beach|\bevery|\bacross|\bwhich|\bwhat|\btop(?:\s+\w+)?|\bbottom(?:\s+\w+)?"
                              r"|\b(?:list|show|name|display|find|identify|give)(?:\s+me)?(?:\s+(?:a\s+list\s+of|all|the|our))?"
                              r"|\blist\s+of(?:\s+(?:all|the|our))?"
                              r"|\bbest(?:\s+\w+)?|\bworst(?:\s+\w+)?|\bamong|\bbetween|\bof\s+all|\bsplit)\s*$", re.I)
_NEGATION_BEFORE = re.compile(r"(?:\bexcluding|\bexclude|\bexcept(?:\s+for)?|\bother\s+than|\bnot\s+in|\bnot\s+counting"
                              r"|\bnot\s+including|\bnot|\boutside(?:\s+of)?|\bwithout(?:\s+counting)?|\bapart\s+from"
                              r"|\baside\s+from|\bbesides|\b(?:everything|all|anything|everyone|every\s+\w+)\s+(?:but|except)"
                              r"|\b(?:if\s+(?:you|we)\s+)?(?:leave|leaving|take|taking|strip|stripping|cut|cutting)\s+out"
                              r"|\bleaving\s+out|\bleave\s+out|\b(?:drop|dropping|remove|removing)|\bminus|\bexcl\.?|\bexcl(?:uding)?\.|\bignoring|\bomitting|\bnon"
                              r"|\bsans|\bsave\s+for|\bbar|\bbarring|\bex|\bnot\s+count|\bexclusive\s+of|\bnet\s+of(?:\s+(?:anything|everything|whatever))?"
                              r"|\b(?:leaving|leave|setting|set|putting|put)\s+aside|\bwith\s+the\s+exception\s+of)\s+"
                              r"(?:(?:placed|made|sold|bought|ordered|shipped|ship|sent|delivered|from|in|through|thru|via"
                              r"|come|came|go|went|arrive|arrived"
                              r"|at|on|by|with|to|into|within|part\s+of)\s+){0,2}(?:the\s+|a\s+|an\s+)?"
                              r"(?:(?:region|category|segment|channel|state|city|sub[\s-]?category|ship\s+mode)\s+)?$", re.I)
_ONLY_BEFORE = re.compile(r"\b(?:only|just|solely|exclusively|purely|strictly)\s+(?:(?:in|for|from|during|within)\s+)?"
                          r"(?:the\s+)?(?:(?:year|month|quarter)\s+(?:of\s+)?)?$", re.I)
_BUT_AFTER_ALL = re.compile(r"\s(?:but|save|bar)\s+(?:for\s+)?(?:the\s+)?$", re.I)
_NEGATION_AFTER = re.compile(r"^\s*,?\s*(?:(?:is|are|being)\s+)?(?:excluded|left\s+out|removed|taken\s+out|"
                             r"set\s+aside|not\s+counted|not\s+included|aside)\b", re.I)
_ONLY_AFTER = re.compile(r"^\s+(?:only|alone|solely|exclusively)\b", re.I)
_RELATIVE_AFTER = re.compile(r"^\s+(?:who|that|which|whose|where)\b", re.I)
_SAID_BEFORE = re.compile(r"\b(?:both|the\s+two|these|those)\s+$", re.I)
_EXCEPT_AFTER = re.compile(r"^\s+(?:except|excluding|but|other\s+than|apart\s+from|besides|minus|bar|save\s+for)\b", re.I)
_RANK_AFTER = re.compile(r"^\s+\w+(?:\s+for)?\s+(?:the\s+)?(?:top|bottom|biggest|largest|smallest|best|worst|highest|lowest"
                         r"|first|last)\b", re.I)
_EVERY_BEFORE = re.compile(r"\b(?:for\s+|of\s+|in\s+)?(?:every|all(?:\s+(?:of\s+)?the)?)\s+$", re.I)
_LIST_JOIN = re.compile(r"^\s*(?:,|and|or|nor|,\s*and|,\s*or)\s*(?:the\s+)?$", re.I)
_DESCRIBES = re.compile(r"^\s*(?:of|=|==|:|is|in|called|named)?\s*\(?\s*(?:the\s+)?$", re.I)
_STATE_WORD_BEFORE = re.compile(r"\bstate\s+of\s+$", re.I)
_CODE_RE = re.compile(r"(?<![\w-])([A-Za-z]{2})(?![\w-])")
_PRIORITY = {"time": 0, "amount": 1, "filter_value": 2, "condition": 3, "metric": 4, "dimension": 5, "number": 6}
_RANKED_BEFORE = re.compile(r"\b(?:most|least|more|less|highest|lowest|top|bottom|best|worst|very|how)\s+$", re.I)


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
    cands += _phrase_slots(question, lower, vocab.verb_phrases, "metric")
    cands += _phrase_slots(question, lower, vocab.condition_phrases, "condition")
    cands += [Slot("amount", question[a:b], a, b, amount) for a, b, amount in find_amounts(question)]
    cands += _phrase_slots(question, lower, vocab.dimension_phrases, "dimension")
    cands += _value_slots(question, lower, vocab)
    for m in _NUMBER_RE.finditer(question):
        group = next(g for g in "abcd" if m.group(g))
        raw = m.group(group).lower()
        start = m.start(group)
        cands.append(Slot("number", raw, start, start + len(raw), _NUMBER_WORDS.get(raw) or int(raw)))
    cands = _metric_or_dimension(question, cands)
    cands = _metric_or_condition(question, cands)
    chosen: list[Slot] = []
    for cand in sorted(cands, key=lambda s: (-(s.end - s.start), _PRIORITY[s.kind], s.start)):
        if all(cand.end <= c.start or cand.start >= c.end for c in chosen):
            chosen.append(cand)
    chosen.sort(key=lambda s: s.start)
    # "orders shipped in May": the verb dates the orders (ship date); it is not the status Shipped
    chosen = [s for s in chosen if not (s.kind == "filter_value" and re.match(SHIPPED_IN, question[s.start:], re.I)
                                        and any(t.kind == "time" and t.start > s.start for t in chosen))]
    chosen = _pattern_slots(question, chosen, vocab)
    chosen = _negate(question, chosen)
    chosen = _drop_describing_dimensions(question, chosen, vocab)
    chosen = _emphasis(question, chosen)
    kept_times = tuple(m for m in times if any(s.kind == "time" and s.start <= m.start and m.end <= s.end
                                               and isinstance(s.value, type(m.window)) for s in chosen))
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


def beside_its_dimension(lower: str, start: int, end: int, dimension: str, vocab: Vocabulary) -> bool:
    """"the bar store", "store bar": a value that is also an everyday word, said next to its
    dimension's own word, is that value even in lower case."""
    words = vocab.dimension_words.get(dimension)
    if not words:
        return False
    said = "|".join(map(re.escape, words))
    # "the ought and bar locations", "eing and n st campaigns", "ese vs ation shops"
    listed = r"(?:\s*(?:,|and|&|or|\+|vs|versus)\s*[\w'#/-]+(?:\s+[\w'#/-]+)?){0,3}"
    return bool(re.match(listed + r"\s+(?:" + said + r")\b", lower[end:])
                or re.search(r"\b(?:" + said + r")\s+(?:called\s+|named\s+)?$", lower[:start]))


def _said_dimension_first(found: list[tuple[int, int, ValueEntry]], lower: str,
                          vocab: Vocabulary) -> list[tuple[int, int, ValueEntry]]:
    """Where one phrase is a value of several dimensions ("ese": a store and a promotion), the one whose
    dimension word stands beside it ("the ese promotion") takes the phrase."""
    spans: dict[tuple[int, int], list[tuple[int, int, ValueEntry]]] = {}
    for item in found:
        spans.setdefault((item[1], item[1] + len(item[2].phrase)), []).append(item)
    keep = []
    for (start, end), items in spans.items():
        named = [i for i in items if beside_its_dimension(lower, start, end, i[2].dimension, vocab)]
        keep += named if named and len({i[2].dimension for i in items}) > 1 else items
    return sorted(keep, key=lambda item: (item[0], item[1]))


_LISTED = re.compile(r"\s*(?:,|,?\s*and|,?\s*or|&|\+)\s*(?:the\s+)?")
# "pop and country", "rock line vs pop line", "dresses ... more than pants": two members of one dimension
_JOINED = re.compile(r"(?:\s+[a-z]+)?\s*(?:,|,?\s*and|,?\s*or|&|\+|plus|vs|versus|against|compared\s+(?:to|with))\s*"
                     r"(?:the\s+)?|.*\bthan\s+(?:the\s+)?")


def _joined_to_a_member(at: int, entry: ValueEntry, others: Iterable[tuple[int, int, ValueEntry]], lower: str,
                        joined: re.Pattern[str]) -> bool:
    """Whether the phrase at ``at`` and a member of the same dimension among ``others`` stand on either side
    of words that ``joined`` matches whole."""
    end = at + len(entry.phrase)
    for _, other_at, other in others:
        if other.dimension != entry.dimension:
            continue
        other_end = other_at + len(other.phrase)
        between = lower[other_end: at] if other_end <= at else lower[end: other_at] if end <= other_at else None
        if between is not None and joined.fullmatch(between):
            return True
    return False


def _listed_with_a_member(item: tuple[int, int, ValueEntry], found: list[tuple[int, int, ValueEntry]], lower: str) -> bool:
    """"fiction and history", "history or fiction": an everyday word next to a member of the same dimension,
    joined by and / or / a comma, is a member too."""
    return _joined_to_a_member(item[1], item[2], (f for f in found if not f[2].listed_only), lower, _LISTED)


_AFTER_MEASURE = re.compile(r"(?:\s+[\w'-]+){0,2}\s+(?:for|in|of|from|on|within|inside)\s+(?:the\s+)?$", re.I)
# "how many dresses", "something from golf", "everything but tables", "sub category=phones"
_CUED = re.compile(r"(?:\bhow\s+(?:many|much)\s+(?:of\s+)?(?:the\s+|our\s+)?"
                   r"|\b(?:something|anything|items?|products?|goods)\s+(?:from|in|of)\s+(?:the\s+)?"
                   r"|\b(?:number|count|amount|quantity)\s+of\s+(?:the\s+)?"
                   r"|\bhow\s+(?:did|do|does|is|are|was|were|has|have)\s+(?:the\s+)?"
                   r"|\b(?:but|except|excluding|exclude|without|not|other\s+than|apart\s+from|besides|minus|leaving\s+out"
                   r"|including|included)\s+(?:the\s+|for\s+)?|=\s*)$", re.I)
# "phones not included", "phones only", "phones aside"
_CUED_AFTER = re.compile(r"\s+(?:(?:not\s+)?(?:included|excluded)|only|aside|left\s+out|removed|excepted)\b", re.I)
# "phones - units sold in 2017", "chairs in 2017: mean sales ...", "chairs how many pieces ..."
_TOPIC = re.compile(r"(?:\s+(?:in|for|during)\s+[\w ]{1,20}?)?\s*(?:[-:,\u2013]|$)|\s+(?:how|what|which|when)\b", re.I)
_ALONE = re.compile(r"\W*(?:(?:and|just|only|what|how|about|for|the|now|then|ok|okay|so|but|instead|please|pls)\W+)*", re.I)


def said_as_member(question: str, lower: str, at: int, end: int, entry: ValueEntry,
                   found: list[tuple[int, int, ValueEntry]], vocab: Vocabulary) -> bool:
    """"country" is a class and a word. It is the member beside its dimension's word ("the country
    class"), listed with another member ("pop vs country"), before a measure ("country sales"), after a
    measure and a preposition ("units of country"), counted ("how many dresses"), capitalised inside a
    sentence, or alone ("just golf"); "across the country", "for reference," and "personal curiosity"
    are words."""
    before, after = lower[:at], lower[end:]
    if beside_its_dimension(lower, at, end, entry.dimension, vocab) or _CUED.search(before) \
            or _CUED_AFTER.match(after) or entry.phrase in lexicon().ignorable:   # a word that would vanish unread
        return True
    if not before.strip() and _TOPIC.match(after):      # "phones - units sold in 2017"
        return True
    if question[at].isupper() and before.strip() and before.rstrip()[-1] not in ".!?:;-":
        return True
    if _joined_to_a_member(at, entry, found, lower, _JOINED):
        return True
    for _, other_at, other in found:       # "country music": the class within its category
        if other.dimension != entry.dimension and vocab.related(entry.dimension, other.dimension) \
                and other_at >= end and not lower[end: other_at].strip():
            return True
    measure = re.match(r"(?:'s)?\s+", after)
    if measure and vocab.measure_words.match(after, measure.end()):
        return True
    for m in vocab.measure_words.finditer(before):      # "units sold in fishing", "people who bought pop"
        if _AFTER_MEASURE.fullmatch(before, m.end()) or re.fullmatch(r"\s+(?:the\s+|some\s+|any\s+)?", before[m.end():]):
            return True
    return _ALONE.fullmatch(lower[:at]) is not None and _ALONE.fullmatch(after.replace("?", " ") + " ") is not None


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
    found = _said_dimension_first(found, lower, vocab)
    found = [f for f in found if not f[2].listed_only or _listed_with_a_member(f, found, lower)]
    out = []
    for _, at, entry in found:
        if entry.case_sensitive and not question[at].isupper() \
                and not beside_its_dimension(lower, at, at + len(entry.phrase), entry.dimension, vocab):
            continue
        if entry.everyday and not said_as_member(question, lower, at, at + len(entry.phrase), entry, found, vocab):
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


def _pattern_slots(question: str, chosen: list[Slot], vocab: Vocabulary) -> list[Slot]:
    """Metrics worded by the model's patterns ("how many days does Standard Class take to ship").

    Members and dates inside the wording stay slots of their own (the pattern is matched with them
    blanked out); other slots it covers give way to it, and its own words become metric slots."""
    if not vocab.metric_patterns:
        return chosen
    kept = [s for s in chosen if s.kind in ("filter_value", "time", "amount")]
    blanked = list(question)
    for s in kept:
        blanked[s.start: s.end] = "x" * (s.end - s.start)
    text = "".join(blanked)
    pieces: list[Slot] = []
    for pattern, name in vocab.metric_patterns:
        for m in pattern.finditer(text):
            at = m.start()
            for s in sorted((s for s in kept if m.start() <= s.start and s.end <= m.end()), key=lambda s: s.start):
                pieces += _piece(question, at, s.start, name)
                at = s.end
            pieces += _piece(question, at, m.end(), name)
    if not pieces:
        return chosen
    out = [s for s in chosen if all(s.end <= p.start or s.start >= p.end for p in pieces)]
    return sorted(out + pieces, key=lambda s: s.start)


def _piece(question: str, start: int, end: int, name: str) -> list[Slot]:
    text = question[start:end]
    lead = len(text) - len(text.lstrip())
    text = text.strip()
    return [Slot("metric", text, start + lead, start + lead + len(text), name)] if text else []


def _metric_or_condition(question: str, cands: list[Slot]) -> list[Slot]:
    """"most profitable" ranks by the metric; "profitable" alone keeps members with profit > 0."""
    spans: dict[tuple[int, int], set[str]] = {}
    for c in cands:
        spans.setdefault((c.start, c.end), set()).add(c.kind)
    out = []
    for c in cands:
        if {"metric", "condition"} <= spans[(c.start, c.end)] and c.kind in ("metric", "condition"):
            ranked = bool(_RANKED_BEFORE.search(question[: c.start]))
            if (c.kind == "metric") != ranked:
                continue
        out.append(c)
    return out


def is_verb(slot: Slot, vocab: Vocabulary) -> bool:
    """An everyday verb for a metric ("sold", "made"), as opposed to its name or synonym."""
    return slot.kind == "metric" and slot.text.lower() in vocab.verb_phrases and slot.text.lower() not in vocab.metric_phrases


def _negate(question: str, slots: list[Slot]) -> list[Slot]:
    """Negated members ("excluding Texas", "everything but Furniture") take their negation word into
    the slot, so the word is read (not left over) and the filter keeps the other members."""
    out: list[Slot] = []
    for s in slots:
        if s.kind == "filter_value":
            assert isinstance(s.value, Filter)
            negation = _NEGATION_BEFORE.search(question[: s.start])
            if negation is not None and out and out[-1].start > negation.start() and out[-1].kind in ("dimension", "metric") \
                    and not re.match(r"(?:every|all)\b", negation.group(0), re.I):
                out.pop()   # a dimension or verb inside the phrase belongs to it: "without the sub category Tables",
                #             "net of anything sold in Office Supplies"
            elif negation is not None and out and out[-1].end > negation.start():
                # "every <region> except Central": the negation word alone, after the slot before it
                negation = _NEGATION_BEFORE.search(question, out[-1].end, s.start)
            if negation is None and out and out[-1].kind == "dimension":
                # "all regions but the South": "but" negates only after "all/every <dimension>"
                negation = _BUT_AFTER_ALL.search(question, out[-1].end, s.start) \
                    if re.search(r"\b(?:all|every)\s+(?:the\s+|of\s+the\s+|our\s+)?$", question[: out[-1].start], re.I) \
                    else None
            prev = out[-1] if out else None
            joined = (negation is None and prev is not None and prev.kind == "filter_value"
                      and isinstance(prev.value, Filter) and prev.value.negate
                      and prev.value.dimension == s.value.dimension and _LIST_JOIN.match(question[prev.end: s.start]))
            ceiling = slots[slots.index(s) + 1].start if s is not slots[-1] else len(question)
            after = _NEGATION_AFTER.match(question[s.end: ceiling])
            if negation is not None:
                s = Slot(s.kind, question[negation.start(): s.end], negation.start(), s.end, replace(s.value, negate=True))
            elif after is not None:           # "furniture excluded", "the West left out"
                s = Slot(s.kind, question[s.start: s.end + after.end()], s.start, s.end + after.end(),
                         replace(s.value, negate=True))
                nxt = s                       # "binders and tables are taken out": the whole list
                for j in range(len(out) - 1, -1, -1):
                    earlier = out[j]
                    if not (earlier.kind == "filter_value" and isinstance(earlier.value, Filter)
                            and earlier.value.dimension == s.value.dimension and not earlier.value.negate
                            and _LIST_JOIN.match(question[earlier.end: nxt.start])):
                        break
                    out[j] = nxt = replace(earlier, value=replace(earlier.value, negate=True))
            elif joined:
                s = replace(s, value=replace(s.value, negate=True))
        out.append(s)
    return out


def _emphasis(question: str, slots: list[Slot]) -> list[Slot]:
    """"only Texas", "Texas only", "just the West", "2017 only", "top 3 only": the word restates the
    slot's restriction, so it joins the slot."""
    out: list[Slot] = []
    for i, s in enumerate(slots):
        if s.kind in ("filter_value", "time", "number", "metric"):
            floor = out[-1].end if out else 0
            before = _ONLY_BEFORE.search(question[floor: s.start])
            ceiling = slots[i + 1].start if i + 1 < len(slots) else len(question)
            after = _ONLY_AFTER.match(question[s.end: ceiling])
            start = floor + before.start() if before is not None else s.start
            end = s.end + after.end() if after is not None else s.end
            if (start, end) != (s.start, s.end):
                s = Slot(s.kind, question[start:end], start, end, s.value)
        out.append(s)
    return out


def _drop_describing_dimensions(question: str, slots: list[Slot], vocab: Vocabulary) -> list[Slot]:
    """A dimension word that only describes a value ("the state of Texas", "the Consumer segment",
    "Furniture products") joins the value's slot instead of grouping the answer."""
    merged: dict[int, Slot] = {}
    drop: set[int] = set()
    for i, s in enumerate(slots):
        every = _EVERY_BEFORE.search(question[: s.start]) if s.kind == "dimension" else None
        if every is not None and _EXCEPT_AFTER.match(question[s.end:]) and not _RANK_AFTER.match(question[s.end:]):
            # "every region bar Central": the rest together ("sales by region, every region but ..." splits by "by")
            merged[i] = Slot("noun", question[every.start(): s.end], every.start(), s.end, s.value)
            continue
        if s.kind != "dimension" or _GROUP_BY_BEFORE.search(question[: s.start]):
            continue
        if _RELATIVE_AFTER.match(question[s.end:]) or _SAID_BEFORE.search(question[: s.start]) \
                or _EXCEPT_AFTER.match(question[s.end:]):
            merged[i] = Slot("noun", s.text, s.start, s.end, s.value)   # "customers who ...", "both states"
            continue
        for j in (i - 1, i + 1):
            if not (0 <= j < len(slots) and slots[j].kind == "filter_value") or j in drop:
                continue
            other = merged.get(j, slots[j])
            assert isinstance(other.value, Filter)
            gap = question[s.end: other.start] if j > i else question[other.end: s.start]
            same = other.value.dimension == s.value and _DESCRIBES.match(gap)
            narrower = (j == i - 1 and not gap.strip() and vocab.narrower(other.value.dimension, str(s.value))
                        and not _GROUP_BY_BEFORE.search(question[: other.start]))
            if same or narrower:
                start, end = min(s.start, other.start), max(s.end, other.end)
                merged[j] = Slot(other.kind, question[start:end], start, end, other.value)
                drop.add(i)
                break
    return [merged.get(i, s) for i, s in enumerate(slots) if i not in drop]


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
