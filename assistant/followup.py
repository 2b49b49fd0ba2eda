"""Follow-up questions: "and for 2022?", "what about units?", "just Books", "split it by segment".

A follow-up is read as an edit of the conversation's last answered intent. Its markers ("and",
"what about", "same thing", "instead", "it"...) are taken out, the rest goes through the router like
any question, and what the rest names replaces the same part of the last intent:

- a metric replaces the metrics; a member replaces the filter on its dimension ("also"/"too" add it);
- a period replaces the period (a comparison keeps its shape: "vs the year before" moves along);
  "the year before"/"same period last year" are relative to the last period;
- "by X" replaces the split ("split it by X", "also by X" add a second one); "by month" shows a trend;
- "top 3" ranks, "smallest first" sorts, "as a share" shares, "growth" compares with the period before.

Everything it does not name carries over, and the answer's interpretation lists both. A question that
names nothing the last intent has a place for, or uses a word the router does not know, clarifies.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
import re

from assistant.intent import Condition, Filter, Intent, TimeWindow
from assistant.measures import PER, measure, ratio_name
from assistant.periods import next_period, period_holding, periods_in, previous_period, shift_months
from assistant.rebind import derived_shift
from assistant.router import Route
from assistant.vocabulary import closed_vocabulary
from warehouse.spec import load_dataset

_LEAD = re.compile(r"^\s*(?:(?:and|also|ok(?:ay)?|so|then|now|but|plus|alright|cool|great|thanks|right|fine|never\s*mind|"
                   r"nvm|forget\s+(?:it|that)|no\s+worries|got\s+it|sure|understood)\b[\s,.;:!-]*)+", re.I)
_MARKERS = re.compile(
    r"\b(?:what|how)\s+about\b|\b(?:the\s+)?same\b(?!\s+(?:period|time|month|quarter|week|days?|half|year)\b)(?:\s+(?:thing|question|query|numbers?|breakdown|list|table|chart|one|"
    r"again|please|but|comparison|view|split|analysis|ranking|figures?|report|look|calculation|metric))*|\bmake\s+(?:it|that|this)\b|\bchange\s+(?:it|that|this)\s+to\b|\bswitch\s+to\b"
    r"|\binstead\b|\b(?:too|as\s+well)\b|\bagain\b|\bwhat\s+if\s+we\s+look\s+at\b|^\s*add(?:ing)?\b"
    r"|\bline\s+(?:them|those|these|the\s+two|both)(?:\s+two)?\s+up\b|\blined\s+up\b"
    r"|\b(?:them|those|these)\s+(?:two\s+)?both\b|\bboth\s+of\s+(?:them|those|these)\b|\bboth(?=\s+(?:side\s+by\s+side|together|combined|added\s+up|in\s+total)\b)"
    r"|\b(?:split|break|broke|divide|show|make|do|give|run|put|redo|sort|rank|order)\s+(?:it|that|this|them|those|these)"
    r"(?:\s+(?:down|up|out))?\b|\b(?:it|that|this|them|those|these)(?=\s+(?:but|for|in|by)\b)"
    r"|\b(?:of|from|among)\s+(?:those|them|these)(?:\s+(?:two|three|four|five))?\b"
    r"|\b(?:those|them|these|all)\s+(?:two|three|four|five)\b(?!\s+(?:years|months|quarters|weeks|days))"
    r"|\b(?:those|them|these)\b"
    r"|\b(?:swap|switch|change)\s+(?:the\s+)?(?:metric|measure|number)\s+(?:to|for|with)\b"
    r"|\b(?:that|this)\s+one\b|\bthe\s+(?:former|latter)\b|\bthe\s+other(?:\s+one)?\b|\bon\s+(?:them|him|her|it)\b|\bthat\s+year\b"
    r"|\b(?:was|is|were|are)\s+(?:that|it|this|those|these)\W*$|\bon\s+(?:that|this|the\s+same)\s+basis\b", re.I)
# "the second one", "the runner-up": a member of the last answer by its place in it
_ORDINAL = re.compile(r"\bthe\s+(?P<nth>first|second|third|fourth|fifth|1st|2nd|3rd|4th|5th|last)\s+one\b"
                      r"|\b(?:the\s+)?(?P<runner>runner[\s-]?up)\b", re.I)
_NTH = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3, "fifth": 4, "5th": 4,
        "last": -1}
# "those two together": the members the last answer named, added up
_TOGETHER = re.compile(r"\b(?:together|combined|added\s+up|in\s+total|summed|altogether)\b", re.I)
# "flip it to ascending", "reverse the order"
_REVERSE = re.compile(r"\b(?:flip|reverse|invert|switch)\s+(?:it|that|this|them|the\s+(?:order|sort(?:ing)?|list|"
                      r"ranking))(?:\s+(?:to|into|around)(?:\s+(?P<dir>ascending|descending))?)?\b", re.I)
# "exclude the biggest one", "drop the smallest": the last answer's first or last member, left out
_LEAVE_OUT = re.compile(r"\b(?:exclude|excluding|drop|remove|without|leave\s+out|leaving\s+out|minus|except)\s+"
                        r"(?:the\s+)?(?P<end>biggest|largest|top|highest|smallest|lowest|bottom)(?:\s+one)?\b", re.I)
# "and all the other states combined?", "the rest together": the members the last answer did not name, as one total
_OTHERS = re.compile(r"\b(?:(?:all\s+)?the\s+rest(?:\s+of\s+(?:the\s+)?(?P<what2>[a-z]+))?|(?:all\s+)?(?:the\s+)?"
                     r"(?:other|remaining)(?:\s+(?:two|three|four|five|\d+))?\s+(?P<what>[a-z]+(?:\s+[a-z]+)?))"
                     r"\s*(?:combined|together|in\s+total|summed|added\s+up|altogether)\b", re.I)
# a growth ranking by its rate or by its amount: "in percentage terms instead", "in dollars"
_BY_RATE = re.compile(r"\b(?:in|by)\s+(?:percentage|percent|%|relative)\s+terms\b|\bas\s+a\s+(?:percentage|percent|rate)\b"
                      r"|\bpercent(?:age)?[\s-]wise\b", re.I)
_BY_AMOUNT = re.compile(r"\bin\s+(?:dollars?|dollar\s+terms|absolute\s+(?:terms|numbers|dollars)|raw\s+numbers)\b", re.I)
_MONEY = {"money", "dollars", "dollar", "usd", "bucks"}
_HOW_MUCH = re.compile(r"\bby\s+how\s+much\b", re.I)
# "just the total", "no breakdown": the last answer as one number
_TOTAL_ONLY = re.compile(r"\b(?:just|only)\s+(?:the\s+)?(?:grand\s+|overall\s+)?total\b|\btotal\s+only\b"
                         r"|\b(?:no|without\s+the|drop\s+the)\s+(?:split|breakdown)\b|\bone\s+number\b", re.I)
# "that one", "them", "it": the one member the last answer named
_ONE_REF = re.compile(r"\b(?:that|this)\s+one\b|\b(?:it|its|them|they|him|her|he|she)\b", re.I)
# "those two", "all three": a count of members the last answer must hold
_COUNTED = re.compile(r"\b(?:those|these|them|the|all|both\s+of\s+those)\s+(two|three|four|five)\b"
                      r"(?!\s+(?:years|months|quarters|weeks|days|metrics|numbers|figures|values|periods))", re.I)
_COUNT = {"two": 2, "three": 3, "four": 4, "five": 5}
# "the former", "the latter": one of two members named together
_PAIR_REF = re.compile(r"\bthe\s+(?:former|latter)\b", re.I)
# "the other one": of two members compared, the one the last answer did not name
_OTHER_REF = re.compile(r"\bthe\s+other(?:\s+one)?\b", re.I)
_INSTEAD_OF = re.compile(r"\b(?:rather\s+than|instead\s+of|in\s+place\s+of|not)\s+(?:the\s+|by\s+)?[^,;?.!]*$", re.I)
_REFERS = re.compile(r"\b(?:those|these|them|they|their)\b", re.I)
_ADD = re.compile(r"\b(?:also|too|as\s+well|add|adding|plus|in\s+addition|further|split|break|broke|divide)\b", re.I)
_REPLACE = re.compile(r"\b(?:instead|only|just|now)\b", re.I)
_HIGH_END = frozenset({"biggest", "largest", "top", "highest", "best"})   # the first end of a list sorted high to low
# "only the biggest one", "just the top one", "top one only", "just the no 1": the first (or last) of the last
# ranking alone
_JUST_ONE = re.compile(r"\b(?:(?:only|just)\s+)?the\s+(?P<end>biggest|largest|top|highest|best|smallest|lowest|worst|bottom)"
                       r"\s+one(?:\s+only)?\b|\b(?:(?:only|just)\s+)?(?:the\s+)?(?P<end2>top|bottom)\s+one\s+only\b"
                       r"|\b(?:only|just)\s+the\s+(?P<end3>top|biggest|largest|highest|best|smallest|lowest|worst|bottom)(?=\W*$)",
                       re.I)
# "how did the west do in that same period", "online, same quarter": the last answer's period, carried over
_SAME_PERIOD = re.compile(r"(?:\b(?:in|for|during|over)\s+)?\b(?:that|this|the)\s+same\s+(?:period|time(?:\s*frame)?|quarter|month"
                          r"|year|week|half)\b(?!\s+(?:last|a|one|the|of|in|before|prior)\b)"
                          r"|(?:,\s*|\s)(?:the\s+)?same\s+(?:period|quarter|month|year|week|half)\s*(?=[?.!]*$)", re.I)
# "that number for the whole quarter": the quarter (month, year) the last period lies in
_WHOLE = re.compile(r"\b(?:for\s+|in\s+|over\s+)?(?:the\s+)?(?:whole|entire|full)\s+(?P<unit>quarter|year|month)\b", re.I)
# "and what were they worth": their money value, the dataset's default (money) metric
_WORTH = re.compile(r"\b(?:worth|how\s+much\s+money)\b", re.I)
# "the margin in that quarter", "revenue that day": the period the last answer picked out
_THAT_PERIOD = re.compile(r"(?:\b(?:in|on|for|during)\s+)?\bthat\s+(?P<unit>day|week|month|quarter|year)\b", re.I)
# "the change in %", "as a percentage change": the comparison again (its change is in the answer)
_PCT_CHANGE = re.compile(r"\b(?:the\s+)?(?:%|percent(?:age)?|pct)\s+change\b|\bchange\s+in\s+(?:%|percent(?:age)?|pct)",
                         re.I)
# "how does that compare to last year": the year before the last answer's period
_YEAR_BACK = re.compile(r"\b(?:last|previous|prior)\s+year\b|\ba\s+year\s+(?:ago|earlier|before)\b|\bthe\s+year\s+before\b",
                        re.I)
# "what about the other two" with nothing picked out of the last answer: which two?
_OTHER_COUNT = re.compile(r"\bthe\s+other\s+(?:two|three|four|five|\d+)\b(?!\s*(?:combined|together|in\s+total|summed))",
                          re.I)
# "rank them by profit": the ranking's measure changes; every member is ranked again
_RERANK = re.compile(r"\b(?:re-?rank|rank|sort|order)\s+(?:it|that|this|them|those|these|the\s+list)\s+by\b", re.I)


# "drop the year filter", "remove the segment restriction", "get rid of the region filter", "all years"
_REMOVE = re.compile(r"\b(?:drop|remove|clear|lose|undo|ditch|scrap|take\s+(?:off|out|away)|get\s+rid\s+of|"
                     r"ignore|forget(?:\s+about)?|without)\s+(?:the\s+|that\s+|any\s+)?(?P<what>[a-z][a-z -]*?)\s*"
                     r"(?:filters?|restrictions?|conditions?|limits?|constraints?|cut)\b"
                     r"|\b(?:for|over|across|in)\s+(?P<what2>all)\s+(?:the\s+)?(?:years|time|dates)\b"
                     r"|\b(?:go\s+)?back\s+to\s+(?:all|every)\s+(?:the\s+)?(?P<what5>[a-z][a-z -]*?)(?=\s*(?:[?.!,]|$))"
                     r"|\b(?P<what3>all)[-\s]time\b"
                     r"|\b(?:for|over|across|in)\s+all\s+(?:the\s+)?(?P<what6>[a-z]+(?:[\s-][a-z]+)?)(?=\s*(?:[?.!,]|$))"
                     r"|^\W*(?:(?:and|now|ok(?:ay)?|so)\s+)?(?:all|every)\s+(?:the\s+)?(?P<what7>[a-z]+(?:[\s-][a-z]+)?)\s+again\b"
                     r"|^\W*(?:(?:ok(?:ay)?|and|now|so)\s+)?(?:forget(?:\s+about)?\s+(?:the\s+)?|(?:drop|remove|lose|ditch)\s+the\s+)"
                     r"(?P<what8>[a-z][a-z ]*?)(?=\s*(?:[?.!,]|$))"
                     r"|(?:^|,)\s*(?:and\s+)?all\s+(?:the\s+)?(?!(?:time|years?|dates?|data)\b)(?P<what9>[a-z]+(?:[\s-][a-z]+)?)"
                     r"(?=\s*(?:[?.!]|$)|\s+(?:for|of)\s+"
                     r"(?:those|these|them)\b)", re.I)
_TIME_WORDS = re.compile(r"\b(?:year|years|date|dates|time|period|month|quarter|week|day|all)\b", re.I)
_FRAGMENT = re.compile(r"^\s*(?:for|in|with|within|only|just|among|excluding|except|without|from)\b", re.I)


@dataclass(frozen=True)
class Markers:
    text: str              # the question without its follow-up markers
    found: bool            # it had at least one: it reads as an edit even if complete on its own
    add: bool              # "also", "too", "split it by": add to the filter or split, don't replace
    fragment: bool = False  # it opens like a qualifier ("for Marketplace orders only")
    dropped: str = ""       # what "instead of ..." / ", not ..." replaces ("by channel")
    removed: tuple[str, ...] = ()   # what "drop the year filter", "remove the segment filter" takes away
    instead: bool = False   # "instead" / "rather than": the new part replaces the old one
    question: str = ""      # as asked, markers included


def markers(question: str) -> Markers:
    """The question without follow-up markers; "profit rather than sales" drops what it replaces."""
    lead = _LEAD.match(question)
    text = question[lead.end():] if lead else question
    dropped = ""
    if re.search(r"\b(?:rather\s+than|instead\s+of|in\s+place\s+of)\b", text, re.I):
        found = _INSTEAD_OF.search(text)
        dropped = found.group(0) if found else ""
        text, instead = _INSTEAD_OF.subn(" ", text)
    else:
        instead = 0
    if not instead:                         # "by ship mode, not segment"
        found = re.search(r",\s*not\s+(?:by\s+)?[^,;?.!]*$", text, flags=re.I)
        dropped = found.group(0) if found else ""
        text, instead = re.subn(r",\s*not\s+(?:by\s+)?[^,;?.!]*$", " ", text, flags=re.I)
    found_removals = list(_REMOVE.finditer(text))
    removed = tuple((m.group("what") or m.group("what2") or m.group("what3") or m.group("what5")
                     or m.group("what6") or m.group("what7") or m.group("what8") or m.group("what9")).strip()
                    for m in found_removals)
    said_drop = any(m.group("what") or m.group("what5") or m.group("what6") or m.group("what7") or m.group("what8")
                    or m.group("what9") for m in found_removals)   # "all time" alone is no sign
    text = _REMOVE.sub(" ", text)
    text, totals = _TOTAL_ONLY.subn(" ", text)
    placed = 0
    for pattern in (_ORDINAL, _REVERSE, _LEAVE_OUT, _OTHERS, _JUST_ONE, _THAT_PERIOD, _SAME_PERIOD):
        text, more = pattern.subn(" ", text)
        placed += more
    quiet = 0                               # "in dollars": read by the edit, no sign of a follow-up alone
    for pattern in (_BY_RATE, _BY_AMOUNT, _HOW_MUCH, _PCT_CHANGE, _WHOLE, _WORTH):
        text, more = pattern.subn(" ", text)
        quiet += more
    text, count = _MARKERS.subn(" ", text)
    count += totals + placed
    add = bool(_ADD.search(question)) and not _REPLACE.search(question) and not instead
    placed += len(_OTHER_REF.findall(question)) + len(_PAIR_REF.findall(question))
    return Markers(" ".join(text.split()) or ("" if removed or placed or quiet else question), bool(lead) or count + instead > 0 or said_drop, add,
                   bool(_FRAGMENT.match(text)), dropped, removed,
                   bool(instead) or bool(re.search(r"\binstead\b", question, re.I)), question)


def reads_as_follow_up(route: Route, marked: Markers) -> bool:
    """An edit when it says so ("and", "what about", "it"), when it lacks a metric of its own, or when
    it is a qualifier whose only metric word says whose rows ("for Marketplace orders only")."""
    if route.unknown_words:
        return False
    return marked.found or not route.complete or route.defaulted_metric or _qualifier(route, marked) \
        or metric_only(route, marked) or _terse(route, marked)


def metric_only(route: Route, marked: Markers) -> bool:
    """"profit", "in units": a metric alone, in a conversation, swaps the last answer's metric."""
    it = route.intent
    return it is not None and len(marked.text.split()) <= 3 and not (
        it.dimensions or it.filters or it.time or it.grain or it.conditions or it.top_n)


def _terse(route: Route, marked: Markers) -> bool:
    """"units in the west": a metric and a member, no verb, no period, no split, in a conversation, edits the
    last answer (its period and split carry over); a full question says what it wants ("how many units did
    the west sell")."""
    it = route.intent
    words = re.findall(r"[a-z0-9']+", marked.text.lower())
    return it is not None and bool(it.filters) and len(words) <= 4 and not (
        it.time or it.grain or it.dimensions or it.conditions or it.top_n or it.compare_time) \
        and not re.search(r"\b(?:what|how|which|who|when|where|show|give|list|tell|did|does|do|is|are|was|were)\b",
                          marked.text, re.I)


_RANKS = re.compile(r"\b(?:which|what)\b.*\b(?:most|least|highest|lowest|best|worst|top|bottom|fewest)\b", re.I)


def _qualifier(route: Route, marked: Markers) -> bool:
    if not marked.fragment or route.intent is None:
        return False
    counts = {e.count for e in load_dataset(route.intent.dataset).semantic.language.entities.values()}
    # "for Marketplace orders only" says whose rows; "same for orders" names the metric, and so does "for the
    # orders, which quarter has the most" (no member to say whose rows, a ranking of its own)
    ranks_alone = not any(s.kind == "filter_value" for s in route.slots) and _RANKS.search(marked.question)
    if set(route.intent.metrics) <= counts and not ranks_alone \
            and not re.match(r"\W*(?:the\s+)?same\s+for\b", marked.question, re.I):
        return True
    # "only online sales": the metric word right after the member, ending the fragment, says whose rows too
    slots = route.slots
    return re.match(r"\W*(?:only|just)\b", marked.text, re.I) is not None and len(slots) == 2 \
        and slots[0].kind == "filter_value" and slots[1].kind == "metric" \
        and not route.question[slots[0].end:slots[1].start].strip() and not route.question[slots[1].end:].strip(" ?!.")


@dataclass(frozen=True)
class Edit:
    intent: Intent
    changed: tuple[str, ...]
    carried: tuple[str, ...]


class FollowUp:
    """Applies a follow-up's named parts to the last intent; one public method."""

    def edit(self, previous: Intent, route: Route, marked: Markers, *, earlier: Intent | None = None,
             members: tuple[str, ...] = ()) -> Edit | None:
        u = route.understood
        both = _both(previous, earlier, route, marked)
        if both is not None:                # "put the two side by side" after "California?" "and Texas?"
            if route.extraction.times:      # "... side by side in 2017"
                dated = _period(both, previous, route, compare=False)
                if dated.compare_time is not None:
                    return None             # two members over two periods: ask
                return Edit(dated, ("filters", "compare", "time"), tuple(k for k in ("metrics",) if previous.metrics))
            return Edit(both, ("filters", "compare"), tuple(k for k in ("metrics", "time") if getattr(previous, k)))
        versus = _versus(previous, route)
        if versus is not None:              # "how does that compare with Beauty" after Clothing
            if route.extraction.times:
                versus = _period(versus, previous, route, compare=False)
                if versus.compare_time is not None:
                    return None             # two members over two periods: ask
            return Edit(versus, ("filters", "compare", *(("time",) if route.extraction.times else ())),
                        tuple(k for k in ("metrics", "time") if getattr(previous, k)))
        it, changed = previous, []
        counted = _COUNTED.search(marked.question)
        if counted is not None:             # "those two" must be two things the last answer holds
            have = {len(f.values) for f in previous.filters if not f.negate}
            if len(members) != _COUNT[counted.group(1).lower()] and _COUNT[counted.group(1).lower()] not in have:
                return None
        if _OTHER_COUNT.search(marked.question) and not _OTHERS.search(marked.question):
            return None                     # "what about the other two": nothing was picked out to be other than
        if _PCT_CHANGE.search(marked.question) and previous.compare_time is not None and previous.time is not None:
            # "the change in %": the comparison again, its change shown
            op = "growth" if previous.operation == "compare_periods" else previous.operation
            return Edit(replace(previous, operation=op), ("change",),
                        tuple(k for k in ("metrics", "time", "filters", "dimensions") if getattr(previous, k)))
        chosen = _the_one(previous, route, marked, members) or _one_of_pair(previous, earlier, route, marked)
        if chosen is not None:              # "how many orders did that one have": the member the answer named
            it, changed = chosen, ["filters", "dimensions"]
        picked = _that_period(previous, marked, members)
        if picked is not None:              # "and the margin in that quarter"
            it, changed = picked, ["time"]
        whole = _WHOLE.search(marked.question)
        if whole is not None and previous.time is not None and previous.compare_time is None:
            unit = whole.group("unit").lower()
            start, end = period_holding(previous.time.start, unit)
            if (start, end) != (previous.time.start, previous.time.end):
                it, changed = replace(it, time=TimeWindow(start, end, f"the whole {unit}", previous.time.column)), \
                    changed + ["time"]
        one = _JUST_ONE.search(marked.question) if not _LEAVE_OUT.search(marked.question) else None
        if one is not None and chosen is None and picked is None:
            high = (one.group("end") or one.group("end2") or one.group("end3")).lower() in _HIGH_END
            if previous.operation == "trend" and not previous.dimensions and previous.grain is not None \
                    and not previous.change:  # "which month was the best one" after a monthly series
                return Edit(replace(previous, operation="top_n", top_n=1, order="desc" if high else "asc"), ("top_n",),
                            tuple(k for k in ("metrics", "time", "filters") if getattr(previous, k)))
            if not previous.dimensions or previous.operation not in ("top_n", "breakdown", "share") or (
                    previous.operation == "top_n" and (previous.order == "desc") != high):
                return None                 # the last answer does not hold that end
            it, changed = replace(it, operation="top_n", top_n=1, order="desc" if high else "asc"), ["top_n"]
        listed = _listed(previous, members)
        placed = any(p.search(marked.question) for p in (_ORDINAL, _LEAVE_OUT, _REVERSE)) or (
            _TOGETHER.search(marked.question) is not None and listed is not None
            and re.search(r"\b(?:those|these|them|they|both)\b", marked.question, re.I) is not None)
        flip = _REVERSE.search(marked.question)
        if placed and chosen is None:
            before = len(changed)
            if flip is not None and it.operation in ("breakdown", "top_n", "share"):
                way = (flip.group("dir") or "").lower()
                order = "asc" if way == "ascending" else "desc" if way == "descending" else \
                    ("asc" if (it.order or "desc") == "desc" else "desc")
                it, changed = replace(it, order=order), changed + ["order"]
            elif listed is not None:
                it, changed = _by_members(it, listed, route, marked, changed)
            else:
                it, changed = _next_ranked(it, members, marked, changed)
            if len(changed) == before:
                return None                 # "the second one" with no second one: ask rather than drop the words
        if _TOTAL_ONLY.search(marked.question) and (it.dimensions or it.grain is not None):
            total = "total" if it.operation in ("trend", "breakdown", "top_n", "share") else it.operation
            it = replace(it, dimensions=(), top_n=None, grain=None, operation=total)
            changed += ["dimensions"]
        others = _OTHERS.search(marked.question)
        if others is not None:              # "and all the other states combined?"
            rest = _the_rest(it, others.group("what") or others.group("what2") or "")
            return Edit(rest, ("filters",), tuple(k for k in ("metrics", "time") if getattr(previous, k))) \
                if rest is not None else None
        said, per = _per(previous, it, route, marked)
        if said:                            # "per order instead", "how much is that per month on average"
            return per if per is not None and per.intent != previous else None
        named = route.intent if route.intent is not None and not route.defaulted_metric \
            and not _qualifier(route, marked) else None
        metrics = named.metrics if named is not None else (() if _qualifier(route, marked) else u.metrics)
        dimensions = named.dimensions if named is not None else u.dimensions
        for what in marked.removed:        # "drop the year filter", "remove the segment filter"
            if what.lower() in ("the", "that", "this", "any", "those", "these") and len(it.filters) == 1:
                it, changed = replace(it, filters=()), changed + ["filters"]     # "without the filter": the one there is
                continue
            if _TIME_WORDS.search(what) and it.time is not None:
                it, changed = replace(it, time=None, compare_time=None, change=False), changed + ["time"]
            kept = tuple(f for f in it.filters if not _names_dimension(what, it.dataset, f.dimension)
                         and not any(re.search(rf"(?<!\w){re.escape(v)}(?!\w)", what, re.I) for v in f.values))
            if kept != it.filters:
                it, changed = replace(it, filters=kept), changed + ["filters"]
        if metrics and chosen is None and previous.operation == "top_n" and _REFERS.search(marked.question) \
                and not set(metrics) & set(previous.metrics) and not _RERANK.search(marked.question):
            # "and the sales for those?": the same members (fixed, so a later period keeps them), ranked as
            # before, with the new metric beside
            metrics = (*previous.metrics[:1], *metrics)
            if listed is not None and it.operation == "top_n":
                dim, names = listed
                kept = tuple(f for f in it.filters if f.dimension != dim)
                it = replace(it, filters=(*kept, Filter(dim, names)), operation="breakdown", top_n=None,
                             order=it.order or "desc")
                changed.append("filters")
        if listed is not None and chosen is None and it.operation == "top_n" and previous.operation == "top_n" \
                and (counted is not None or _REFERS.search(marked.question)) and not u.numbers \
                and not {"rank_asc", "rank_desc"} & set(u.cues) and not _RERANK.search(marked.question):
            # "those five, but in 2017": the members the last answer listed, not a new ranking
            dim, names = listed
            kept = tuple(f for f in it.filters if f.dimension != dim)
            it = replace(it, filters=(*kept, Filter(dim, names)), operation="breakdown", top_n=None)
            changed.append("filters")
        if not metrics and _WORTH.search(marked.question):
            default = load_dataset(it.dataset).semantic.language.default_metric
            if default not in it.metrics:   # "and what were they worth" after a count
                metrics = (default,)
        rate = _as_rate(previous, u.cues)
        if rate is not None:                # "as a share of all orders" after the cancelled orders: their rate
            metrics, u = (rate,), replace(u, cues=tuple(c for c in u.cues if c != "share"))
        said = [s.text.lower() for s in route.extraction.slots if s.kind == "metric"]
        if metrics and said and set(said) <= _MONEY and all(measure(it.dataset, m).format == "currency" for m in it.metrics):
            metrics = ()                    # "(dollars is fine)" after a money metric: the unit, not a new metric
        if metrics and marked.add and not marked.instead and re.search(r"\badd(?:ing)?\b|\btoo\b|\bas\s+well\b|\balso\b",
                                                                        marked.question, re.I):
            metrics = tuple(dict.fromkeys((*it.metrics, *metrics)))     # "add orders", "profit too": both
        if metrics:
            it, changed = replace(it, metrics=metrics), changed + ["metrics"]
        if u.filters:
            filters = _filters(it.filters, u.filters, add=marked.add, dataset=it.dataset)
            it, changed = replace(it, filters=filters), changed + ["filters"]
        if u.conditions:
            it, changed = replace(it, conditions=_conditions(previous.conditions, u.conditions)), changed + ["conditions"]
        times = route.extraction.times
        if times:
            it = _period(it, previous, route)
            changed.append("time")
        if dimensions:
            it = _split(it, dimensions, add=marked.add)
            changed.append("dimensions")
        asked = route.intent
        if u.grain is None and asked is not None and asked.operation == "top_n" and asked.grain is not None \
                and not asked.dimensions and it.operation == "top_n" and not it.dimensions \
                and it.grain not in (None, asked.grain):
            it, changed = replace(it, grain=asked.grain), changed + ["grain"]     # "and the best quarter?"
        if u.grain is not None and it.operation == "top_n" and not it.dimensions and it.grain is not None:
            it, changed = replace(it, grain=u.grain), changed + ["grain"]   # "best month" -> "by quarter instead"
            u = replace(u, grain=None)
        if u.grain is not None and it.operation == "top_n" and (it.top_n or 1) == 1 and len(members) == 1 \
                and len(it.dimensions) == 1 and it.compare_time is None:
            it = _narrowed(it, it.dimensions[0], members)      # "by quarter" after the top one: that one's series
            changed.append("filters")
        if u.grain is not None and it.operation == "top_n":
            return None        # "show its monthly trend": a series of only the ranked members is not expressible
        if u.grain is not None:
            kept = tuple(d for d in it.dimensions if not _names_dimension(marked.dropped, it.dataset, d))
            if marked.instead and not marked.dropped and previous.grain is None and not dimensions:
                kept = ()                   # "revenue by channel" -> "monthly instead": a series replaces the split
            if kept != it.dimensions:
                changed.append("dimensions")
            it = replace(it, operation="trend", grain=u.grain, dimensions=kept[:1], top_n=None,
                         compare_time=None, change=False)
            changed.append("grain")
        ranks = bool(u.numbers) or bool({"rank_asc", "rank_desc"} & set(u.cues))
        if ranks and members and not _REFERS.search(marked.question) and it.dimensions:
            # "and their profit" pinned the listed members; "bottom 3 instead" ranks all of them again
            it = replace(it, filters=tuple(f for f in it.filters if not (
                f.dimension == it.dimensions[0] and not f.negate and set(f.values) == set(members))))
        it, shaped = _shape(it, u.numbers, u.order, u.cues, marked.question)
        changed += shaped
        if it.operation == "top_n" and it.compare_time is not None:
            if _BY_RATE.search(marked.question):          # "in percentage terms instead"
                it, changed = replace(it, rank_by="pct_change"), changed + ["rank_by"]
            elif _BY_AMOUNT.search(marked.question) and not _HOW_MUCH.search(marked.question):
                it, changed = replace(it, rank_by="change"), changed + ["rank_by"]
        if not changed and _HOW_MUCH.search(marked.question) and previous.compare_time is not None:
            # "and by how much in dollars?": the change is in the answer already; the same answer again
            return Edit(previous, ("change",), tuple(k for k in ("metrics", "time", "filters", "dimensions")
                                                     if getattr(previous, k)))
        if previous.operation == "compare_values" and re.search(r"\bwhich\b", marked.question, re.I) \
                and {"more", "rank_desc", "rank_asc"} & set(u.cues):
            # "which of them had more orders": the one of the compared members that leads
            low = re.search(r"\b(?:less|fewer|lower|smaller|worse|least|lowest|fewest)\b", marked.question, re.I)
            it = replace(it, operation="top_n", top_n=1, order="asc" if low else "desc")
            changed.append("top_n")
        if not changed:
            return None
        it = _settle(it)
        if it == previous and not {"order", "top_n"} & set(changed):
            # "as a share of all lines" read as nothing new: ask, never repeat the last answer ("sort it
            # highest first" on a list sorted so already is the one edit that may change nothing)
            return None
        carried = [name for name, value in (("metrics", previous.metrics), ("time", previous.time),
                                            ("filters", previous.filters), ("dimensions", previous.dimensions))
                   if value and name not in changed]
        return Edit(it, tuple(changed), tuple(carried))


_YEAR_ON_YEAR = re.compile(r"\b(?:yoy|y/y|year[-\s](?:over|on)[-\s]year|(?:vs\.?|versus|against|compared\s+(?:to|with))\s+"
                           r"(?:the\s+)?(?:same\s+\w+\s+)?(?:last|previous|prior)\s+year)\b", re.I)
_PER_PERIOD = re.compile(r"\b(?:per|a|an)\s+(?P<grain>day|week|month|quarter|year)\b(?!\s+(?:before|after|earlier|later|"
                         r"ago|prior|on\s+(?:day|week|month|quarter|year)))", re.I)
_AVERAGE = re.compile(r"\b(?:on\s+)?(?:average|avg|mean)\b", re.I)


def _per(previous: Intent, it: Intent, route: Route, marked: Markers) -> tuple[bool, Edit | None]:
    """Whether the follow-up divides ("per order", "per month"), and the edit it makes: the last metrics
    per an entity ("per order instead"), or the last total averaged over the months of its period
    ("how much is that per month on average"). A bare "per day?" (a series, or a daily average?) is
    said but makes no edit, so the caller asks."""
    if route.intent is not None and not route.defaulted_metric and any(PER in m for m in route.intent.metrics):
        return False, None                  # "what about revenue per customer": its own metric, read as one
    model = load_dataset(it.dataset).semantic
    words = {w.lower(): name for name, e in model.language.entities.items() for w in e.words}
    found = re.search(r"\b(?:per|each)\s+(?:single\s+|one\s+)?(?P<word>" + "|".join(
        re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")\b", marked.question, re.I) if words else None
    if found is not None:
        entity = words[found.group("word").lower()]
        base = tuple(m.split(PER)[0] for m in it.metrics)
        if not all(m in model.metrics and model.metrics[m].divisible for m in base):
            return True, None
        metrics = tuple(ratio_name(m, entity) for m in base)
        kept = ("time", "filters", "dimensions")
        return True, Edit(replace(it, metrics=metrics, average_over=None), ("metrics",),
                          tuple(k for k in kept if getattr(previous, k)))
    period = _PER_PERIOD.search(marked.question)
    if period is None:
        return False, None
    grain = period.group("grain").lower()
    bare = re.fullmatch(r"\W*(?:and\s+|so\s+|what\s+about\s+|how\s+much\s+)?(?:per|a)\s+\w+\W*", marked.question, re.I)
    # "per month on average"; or a bare "per day?" after one number (a series would be "by day")
    if not (_AVERAGE.search(marked.question) or bare and previous.operation == "total") \
            or it.operation != "total" or it.time is None or periods_in(it.time, grain) is None:
        return True, None
    return True, Edit(replace(it, average_over=grain), ("average_over",),
                      tuple(k for k in ("metrics", "time", "filters") if getattr(previous, k)))


def _the_rest(it: Intent, what: str) -> Intent | None:
    """The last intent over the members its filter left out, as one total: the named members' filter
    (on the dimension ``what`` names, or the only one there is) turned into an exclusion."""
    shown = [f for f in it.filters if not f.negate and (not what or _names_dimension(what, it.dataset, f.dimension))]
    if len(shown) != 1:
        return None
    kept = tuple(Filter(f.dimension, f.values, negate=True) if f is shown[0] else f for f in it.filters)
    dims = tuple(d for d in it.dimensions if d != shown[0].dimension)
    return _settle(replace(it, filters=kept, dimensions=dims, top_n=None,
                           operation="total" if not dims and it.grain is None else it.operation))


def _both(previous: Intent, earlier: Intent | None, route: Route, marked: Markers) -> Intent | None:
    """The last two answers side by side (or added together), when they differ only in one member of one
    dimension."""
    if earlier is None or not re.search(r"\b(?:the\s+two|both(?:\s+of\s+them)?|them\s+both|those\s+two|each\s+other|them|those|these)\b",
                                        route.question + " " + marked.question, re.I):
        return None
    together = re.search(r"\b(?:together|combined|added\s+up|in\s+total|summed|altogether)\b", marked.question, re.I)
    if not ({"compare", "side_by_side", "more"} & set(route.understood.cues) or together) or route.understood.filters:
        return None
    mine = {f.dimension: f for f in previous.filters}
    theirs = {f.dimension: f for f in earlier.filters}
    differ = [d for d in mine if d in theirs and mine[d] != theirs[d]]
    if len(differ) != 1 or replace(earlier, filters=previous.filters) != previous:
        return None
    dim = differ[0]
    values = tuple(dict.fromkeys((*theirs[dim].values, *mine[dim].values)))
    kept = tuple(f for f in previous.filters if f.dimension != dim)
    if together:                     # "both together": one total over the two members
        return replace(previous, filters=(*kept, Filter(dim, values)))
    return replace(previous, filters=(*kept, Filter(dim, values)), operation="compare_values", dimensions=(dim,))


def _versus(previous: Intent, route: Route) -> Intent | None:
    """"How does that compare with Beauty" after one number for Clothing: the two members side by side."""
    u = route.understood
    if "compare" not in u.cues or len(u.filters) != 1 or u.filters[0].negate or previous.operation != "total" \
            or previous.dimensions or u.metrics or u.dimensions:
        return None
    new = u.filters[0]
    old = next((f for f in previous.filters if f.dimension == new.dimension and not f.negate), None)
    if old is None or set(new.values) & set(old.values):
        return None
    kept = tuple(f for f in previous.filters if f is not old)
    return replace(previous, filters=(*kept, Filter(new.dimension, (*old.values, *new.values))),
                   operation="compare_values", dimensions=(new.dimension,))


def _filters(old: tuple[Filter, ...], new: tuple[Filter, ...], *, add: bool, dataset: str) -> tuple[Filter, ...]:
    out = list(old)
    for f in new:
        same = [g for g in out if g.dimension == f.dimension]
        kept = next((g for g in same if not g.negate), None)
        if f.negate and kept is not None and set(kept.values) - set(f.values):
            # "w/o New York" after the East Coast states: those states but New York
            out[out.index(kept)] = Filter(f.dimension, tuple(v for v in kept.values if v not in f.values))
            continue
        if add and not f.negate:
            kept = next((g for g in same if not g.negate), None)
            if kept is not None:
                out[out.index(kept)] = Filter(f.dimension, tuple(dict.fromkeys((*kept.values, *f.values))))
                continue
        # a member replaces its dimension's filter, and one of another level of its hierarchy ("the whole South
        # region" after Texas)
        vocab = closed_vocabulary(dataset)
        out = [g for g in out if g.dimension != f.dimension
               and (f.negate or g.negate or not vocab.related(f.dimension, g.dimension))]
        out.append(f)
    return tuple(out)


def _conditions(old: tuple[Condition, ...], new: tuple[Condition, ...]) -> tuple[Condition, ...]:
    """"and over $500?" after "orders above $1,000": the new bound on the same measure and level."""
    if old and all(c.level == "group" for c in new) and any(c.level != "group" for c in old):
        first = old[0]
        return tuple(replace(c, metric=first.metric, level=first.level) for c in new)
    return new


def _period(it: Intent, previous: Intent, route: Route, *, compare: bool = True) -> Intent:
    """The follow-up's period(s), relative ones read against the last period; "compare it with
    February" compares the last period with the one named (unless ``compare`` is off: the members
    are what is compared)."""
    windows: list[TimeWindow] = []
    for m in route.extraction.times:
        window = m.window
        base = windows[-1] if windows else previous.time
        if m.anchor == "prior" and base is not None:
            window = previous_period(base, period=m.period)
        elif m.anchor == "next" and base is not None:     # "and the quarter after"
            window = next_period(base, period=m.period)
        elif m.anchor == "last_year" and base is not None:
            window = shift_months(base, 12)
        elif m.anchor == "same_in" and base is not None and base.start.year == base.end.year:
            window = shift_months(base, 12 * (base.start.year - window.start.year))   # "the same quarter of 2023"
        elif m.yearless is not None and base is not None and base.start.year == base.end.year \
                and window.start.year == window.end.year and window.start.year > base.start.year:
            # "same for q3" after "Q2 2016": the quarter of the year the conversation is in (never a later one:
            # the yearless default is the latest that has ended)
            window = shift_months(window, 12 * (window.start.year - base.start.year))
        windows.append(window)
    compares = {"compare", "more", "growth"} & set(route.understood.cues) if compare else set()
    if len(windows) == 1 and compares and previous.time is not None and previous.compare_time is None:
        said_back = route.extraction.times[0] if route.extraction.times else None
        if said_back is not None and _YEAR_BACK.fullmatch(said_back.text.strip()):
            windows = [previous.time, shift_months(previous.time, 12)]   # "compare to last year": the year before it
        else:
            windows = [previous.time, windows[0]]
    if len(windows) >= 2:
        later, earlier = sorted(windows[:2], key=lambda w: w.start, reverse=True)
        op = it.operation if it.operation in ("growth", "compare_periods", "top_n") and it.compare_time else \
            ("growth" if "growth" in route.understood.cues else "compare_periods")
        return replace(it, time=later, compare_time=earlier, operation=op)
    window = windows[0]
    said = route.extraction.times[0] if route.extraction.times else None
    if said is not None and said.period == "year" and re.fullmatch(r"(?:19|20)\d\d", said.text.strip()) \
            and previous.time is not None and previous.compare_time is not None \
            and previous.time.start.year == previous.time.end.year and previous.time.days < 365:
        # "Q4 vs Q3 2017", then "and for 2016?": the same quarters of 2016
        months = 12 * (previous.time.start.year - window.start.year)
        return replace(it, time=shift_months(previous.time, months),
                       compare_time=shift_months(previous.compare_time, months) if previous.compare_time else None)
    if previous.compare_time is not None and previous.time is not None:
        shift = derived_shift(previous, [])
        return replace(it, time=window, compare_time=shift(window) if shift else None)
    return replace(it, time=window)


def _split(it: Intent, dims: tuple[str, ...], *, add: bool) -> Intent:
    new = tuple(dict.fromkeys((*it.dimensions, *dims))) if add else dims
    op = it.operation
    if op in ("total", "compare_values"):
        op = "breakdown"
    return replace(it, dimensions=new, operation=op)


def _shape(it: Intent, numbers: tuple[int, ...], order: str | None, cues: tuple[str, ...],
           question: str = "") -> tuple[Intent, list[str]]:
    changed = []
    if numbers and it.operation == "share" and "share" not in cues:   # the top 3 of the shares, shares kept
        it = replace(it, top_n=numbers[0], order="asc" if "rank_asc" in cues else "desc")
        changed.append("top_n")
    elif numbers:
        rank_order = "asc" if "rank_asc" in cues else "desc" if "rank_desc" in cues else (it.order or "desc")
        it = replace(it, operation="top_n", top_n=numbers[0], order=rank_order,
                     grain=it.grain if it.operation == "top_n" else None, change=False)
        changed.append("top_n")
    elif "rank_desc" in cues or "rank_asc" in cues:
        it = replace(it, operation="top_n", top_n=it.top_n or 1, order="asc" if "rank_asc" in cues else "desc")
        changed.append("top_n")
    if order is not None:
        it = replace(it, order=order)
        changed.append("order")
    if "share" in cues and it.operation not in ("share",):
        # "what share of total revenue is that" after one member's total: that member's share of its dimension
        picked = [f.dimension for f in it.filters if not f.negate and len(f.values) == 1]
        dims = it.dimensions or tuple(picked[:1])
        it = replace(it, operation="share", metrics=it.metrics[:1], top_n=None, grain=None, dimensions=dims)
        changed.append("share")
    if ("growth" in cues or _YEAR_ON_YEAR.search(question)) and it.compare_time is None and it.time is not None:
        # "yoy chg" after Q2 2017: against Q2 2016; a plain "growth": against the period before
        other = shift_months(it.time, 12) if _YEAR_ON_YEAR.search(question) else previous_period(it.time)
        it = replace(it, operation="growth", compare_time=other, grain=None, top_n=None)
        changed.append("growth")
    if "trend" in cues and it.operation != "trend":
        it = replace(it, operation="trend", grain=it.grain or "month", dimensions=it.dimensions[:1], top_n=None)
        changed.append("trend")
    return it, changed


def _settle(it: Intent) -> Intent:
    """Fix what an edit left inconsistent (a comparison of one member, a total with a split)."""
    if it.operation == "compare_values":
        compared = next((f for f in it.filters if it.dimensions and f.dimension == it.dimensions[0] and not f.negate), None)
        if compared is None or len(compared.values) < 2:
            it = replace(it, operation="breakdown" if it.dimensions else "total")
    if it.operation in ("growth", "compare_periods") and (it.time is None or it.compare_time is None):
        it = replace(it, operation="total", compare_time=None)
    if it.operation == "total" and it.dimensions:
        it = replace(it, operation="breakdown")
    if it.operation in ("top_n", "breakdown", "share") and not it.dimensions and it.grain is None:
        it = replace(it, operation="total", top_n=None)
    return it


def _names_dimension(text: str, dataset: str, dimension: str) -> bool:
    """Whether ``text`` ("by channel") names ``dimension`` (its name or a synonym)."""
    if not text:
        return False
    spec = load_dataset(dataset).semantic.dimensions[dimension]
    words = {dimension.replace("_", " "), *(str(w).lower() for w in spec.synonyms)}
    return any(re.search(r"\b" + re.escape(w) + r"\b", text, re.I) for w in words)


def _listed(previous: Intent, members: tuple[str, ...]) -> tuple[str, tuple[str, ...]] | None:
    """The dimension and members the last answer listed, when it listed a few of one dimension."""
    if len(members) < 2 or len(previous.dimensions) != 1 or previous.grain is not None \
            or previous.operation not in ("top_n", "breakdown", "share", "compare_values"):
        return None
    return previous.dimensions[0], members


def _next_ranked(it: Intent, members: tuple[str, ...], marked: Markers, changed: list[str]) -> tuple[Intent, list[str]]:
    """"and the runner-up?" after a top 1: the best of the rest."""
    place = _ORDINAL.search(marked.question)
    if place is None or it.operation != "top_n" or len(it.dimensions) != 1 or len(members) != (it.top_n or 1):
        return it, changed
    nth = 1 if place.group("runner") else _NTH[place.group("nth").lower()]
    dim = it.dimensions[0]
    ahead = sum(len(f.values) for f in it.filters if f.dimension == dim and f.negate)   # the runners-up before
    if nth == ahead and len(members) == 1:      # "the second one" is the runner-up just shown
        return _narrowed(it, dim, members, growth=False), changed + ["filters", "dimensions"]
    if nth != ahead + len(members):
        return it, changed
    return replace(it, filters=(*it.filters, Filter(dim, members, negate=True)), top_n=1), changed + ["filters"]


def _by_members(it: Intent, listed: tuple[str, tuple[str, ...]], route: Route, marked: Markers,
                changed: list[str]) -> tuple[Intent, list[str]]:
    """Edits that name the last answer's members by their place: "those two together", "the second one",
    "exclude the biggest one", "flip it to ascending"."""
    dim, names = listed
    place = _ORDINAL.search(marked.question)
    leave = _LEAVE_OUT.search(marked.question)
    if place and not route.understood.dimensions:
        nth = 1 if place.group("runner") else _NTH[place.group("nth").lower()]
        if nth < len(names):                # "the second one": that member, named beside its value
            one = _narrowed(it, dim, (names[nth],))
            if one.operation == "total":
                one = replace(one, dimensions=(dim,), operation="breakdown")
            return one, changed + ["filters", "dimensions"]
    if _TOGETHER.search(marked.question) and (_REFERS.search(marked.question) or re.search(r"\bboth\b", marked.question, re.I)):
        return _narrowed(it, dim, names, growth=False), changed + ["filters", "dimensions"]
    if leave and it.operation in ("top_n", "breakdown", "share"):
        high = leave.group("end").lower() in _HIGH_END
        first = (it.order or "desc") == "desc"
        name = names[0] if high == first else names[-1]
        if it.operation == "top_n" and high != first:
            return it, changed                # the ranked list does not hold the other end
        top = max(1, (it.top_n or len(names)) - 1) if it.operation == "top_n" else it.top_n
        return replace(it, filters=(*it.filters, Filter(dim, (name,), negate=True)), top_n=top), changed + ["filters"]
    return it, changed


def _one_of_pair(previous: Intent, earlier: Intent | None, route: Route, marked: Markers) -> Intent | None:
    """"the latter" of two members named together; "the other one" after one of two was picked out."""
    if route.understood.filters:
        return None
    said = _PAIR_REF.search(marked.question)
    other = _OTHER_REF.search(marked.question)
    for f in previous.filters:
        if f.negate:
            continue
        if said and len(f.values) == 2:
            pick = f.values[0] if said.group(0).lower().endswith("former") else f.values[1]
        elif other and len(f.values) == 1 and earlier is not None:
            pair = next((g.values for g in earlier.filters if g.dimension == f.dimension and not g.negate
                         and len(g.values) == 2 and f.values[0] in g.values), None)
            if pair is None:
                continue
            pick = pair[1] if pair[0] == f.values[0] else pair[0]
        else:
            continue
        kept = tuple(g for g in previous.filters if g.dimension != f.dimension)
        op = previous.operation if previous.operation not in ("compare_values", "top_n", "breakdown", "share") else "total"
        return replace(previous, filters=(*kept, Filter(f.dimension, (pick,))), top_n=None,
                       dimensions=tuple(d for d in previous.dimensions if d != f.dimension), operation=op)
    return None


def _the_one(previous: Intent, route: Route, marked: Markers, members: tuple[str, ...]) -> Intent | None:
    """The last answer's single ranked member as a filter, when the follow-up points at it."""
    if not members or previous.operation != "top_n" or (previous.top_n or 1) != 1 or len(previous.dimensions) != 1:
        return None
    dim = previous.dimensions[0]
    if route.understood.dimensions or any(f.dimension == dim for f in route.understood.filters):
        return None
    member = members[0]
    if _OTHER_REF.search(marked.question):
        pair = next((f.values for f in previous.filters if f.dimension == dim and not f.negate), ())
        others = [v for v in pair if v != member]
        if len(pair) != 2 or len(others) != 1:
            return None
        member = others[0]
    elif not _ONE_REF.search(marked.question):
        return None
    return replace(_narrowed(previous, dim, (member,)), rank_by="value")


def _as_rate(previous: Intent, cues: tuple[str, ...]) -> str | None:
    """The rate a counted subset becomes when a share of the whole is asked (the model's rewrites)."""
    if "share" not in cues or len(previous.metrics) != 1:
        return None
    rewrites = load_dataset(previous.dataset).semantic.language.rewrites
    return next((r.as_rate for r in rewrites if r.becomes == previous.metrics[0] and r.as_rate), None)


def _that_period(previous: Intent, marked: Markers, members: tuple[str, ...]) -> Intent | None:
    """"revenue that day" after "which day was busiest": the one period the last answer picked out."""
    that = _THAT_PERIOD.search(marked.question)
    if that is None or previous.operation != "top_n" or previous.dimensions or len(members) != 1 \
            or previous.grain != that.group("unit").lower():
        return None
    try:
        start = date.fromisoformat(members[0][:10])
    except ValueError:
        return None
    grain = previous.grain
    start, end = period_holding(start, grain)
    return replace(previous, time=TimeWindow(start, end, f"that {grain}", previous.time.column if previous.time
                                             else "order_date"), operation="total", grain=None, top_n=None)


def _narrowed(it: Intent, dim: str, values: tuple[str, ...], *, growth: bool = True) -> Intent:
    """The last intent about these members of ``dim`` alone, unsplit and unranked ("that one", "those two
    together"); a comparison over two periods stays one (``growth``) unless the members are added up."""
    kept = tuple(f for f in it.filters if f.dimension != dim)
    return replace(it, filters=(*kept, Filter(dim, values)), dimensions=(), top_n=None, order="desc",
                   operation="growth" if growth and it.compare_time is not None else "total")
