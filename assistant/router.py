"""Metadata routing: slots + the lexicon's constructions + a few rules -> an ``Intent``, or "not understood".

The router never guesses. It corrects typos it is sure of, takes out the slots (metrics, members,
dates, amounts), the lexicon's constructions ("largest first", "how did X do", "together", "year over
year", "grew fastest") and the ignorable words; any other word left makes the question clarify, and
every cue word ("top", "vs", "share", "average", "per"...) must be explained by the intent it builds
(``assistant.wording``). So "average sales per order" is a ratio or a clarification, never a total.

Operation rules, first match wins:
distribution (buckets named in the question, or "distribution of <bucketed measure>") > two windows
(compare_periods, or growth; "which X grew fastest" ranks members by the change) > growth words with
one window (the previous period of the same kind, or YoY/QoQ/MoM) > period over period ("year to
year": the series with each step's change) > compare_values (two members of one dimension with
"vs"/"more than") > share > top_n (top/bottom/best/least/"which X ... most"; a period "which month")
> trend (a grain or "trend") > breakdown (by/per/each a dimension; "largest first" sorts it) > total.

Choices where SPEC is silent (also in docs/semantics.md):
- compare and growth put the later window in ``time`` and the earlier in ``compare_time``;
- several members of one dimension without compare words are one combined filter;
- top/bottom without a number is 5 for a plural ("top states") and 1 for a singular ("best state");
- a trend without a grain uses days up to 45 days, months up to 2 years, else quarters;
- no metric named: the dataset's default metric, and the answer says so;
- "who" opening a question asks about the model's person dimension (customers);
- "average <sum>" is that sum per the dataset's row entity (Superstore: per order line), and
  "<sum> per <entity>" ("revenue per customer") divides by the entity's count;
- "which X grew fastest" with no period compares the last complete year with the one before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
import re
from typing import Any

from assistant.amounts import Amount
from assistant.conditions import ConditionReader, Problem, Read, bucket_starts, entity_of
from assistant.intent import Condition, Filter, Intent, TimeWindow
from assistant.lexicon import lexicon
from assistant.measures import measure, ratio_name
from assistant.normalize import _century, normalize
from assistant.periods import label_for, month_end, next_period, periods_in, previous_period, shift_days, shift_months, year_bounds
from assistant.slots import Extraction, Slot, beside_its_dimension, extract, is_verb, mask
from assistant.spelling import Correction
from assistant.timewindow import TimeMatch
from assistant.vocabulary import Vocabulary, closed_vocabulary
from assistant.wording import Words, sort_words, unexplained
from warehouse.geo import CITY_SHORTHANDS
from warehouse.spec import load_dataset


@dataclass(frozen=True)
class Understood:
    """What the router did read, complete or not: shown with a clarification, used by the LLM tier."""

    metrics: tuple[str, ...] = ()
    dimensions: tuple[str, ...] = ()
    filters: tuple[Filter, ...] = ()
    time: tuple[TimeWindow, ...] = ()
    grain: str | None = None
    numbers: tuple[int, ...] = ()
    order: str | None = None            # a presentation order the question asked for ("smallest first")
    cues: tuple[str, ...] = ()          # cue classes the question used ("share", "growth", "rank_asc"...)
    conditions: tuple[Condition, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"metrics": list(self.metrics), "dimensions": list(self.dimensions),
                "filters": [{"dimension": f.dimension, "values": list(f.values), "negate": f.negate}
                            for f in self.filters],
                "time": [{"start": w.start.isoformat(), "end": w.end.isoformat(), "label": w.label} for w in self.time],
                "grain": self.grain}

    def summary(self) -> str:
        parts = {k: v for k, v in self.to_dict().items() if v}
        return "; ".join(f"{k}: {v}" for k, v in parts.items()) or "nothing I can measure"


@dataclass(frozen=True)
class Route:
    """The router's verdict: a complete intent, or what was understood and what is missing."""

    question: str                       # normalized (and spelling-corrected) text the slots index
    complete: bool
    intent: Intent | None
    extraction: Extraction
    understood: Understood = field(default_factory=Understood)
    missing: tuple[str, ...] = ()       # "metric", "time", "dimension", "unknown words", ...
    unknown_words: tuple[str, ...] = ()
    reason: str = ""
    ignored: tuple[str, ...] = ()       # words dropped because they cannot change the numbers
    corrections: tuple[Correction, ...] = ()
    notes: tuple[str, ...] = ()         # assumptions the answer states ("no metric named: revenue")
    defaulted_metric: bool = False      # no metric was named: the intent uses the default one
    loose_words: tuple[str, ...] = ()   # cue words the intent could not account for ("average" on a sum)

    @property
    def blocking_words(self) -> tuple[str, ...]:
        """Words that stopped the rules: unknown ones and unexplained cues."""
        return (*self.unknown_words, *self.loose_words)

    @property
    def slots(self) -> tuple[Slot, ...]:
        return self.extraction.slots

    def interpretation(self) -> dict[str, Any]:
        """The reading shown with an answer, beyond the intent itself."""
        out: dict[str, Any] = {}
        if self.ignored:
            out["ignored"] = list(self.ignored)
        if self.corrections:
            out["corrected"] = {c.typed: c.read_as for c in self.corrections}
        if self.notes:
            out["assumed"] = list(self.notes)
        return out


_GRAINS = {"year": "year", "quarter": "quarter", "month": "month", "week": "week",
           "yoy": "year", "y/y": "year", "qoq": "quarter", "q/q": "quarter", "mom": "month", "m/m": "month"}
_SHIFT = {"year": 12, "quarter": 3, "month": 1}
_SHIFTS = (("yoy|year[- ]over[- ]year|vs\\s+last\\s+year|annual\\s+growth", 12), ("qoq|quarter[- ]over[- ]quarter", 3),
           ("mom|month[- ]over[- ]month", 1))
_WOW = re.compile(r"\b(?:wow|week[- ]over[- ]week)\b", re.I)
_TOP_GRAIN = re.compile(r"\b(?:which|what|best|worst|top|peak|strongest|weakest|busiest|slowest|quietest|biggest|"
                        r"highest|lowest|record|greatest|largest|smallest|most\s+<metric>|least\s+<metric>)"
                        r"\s+(?:single\s+|calendar\s+|fiscal\s+)?(?:<metric>\s+)?(?P<g>hour|day|week|month|quarter|year|weekday|"
                        r"day\s+of\s+the\s+week)s?\b", re.I)
_GRAIN_WITH_MOST = re.compile(r"(?:^|\b(?:the|a|which|what)\s+)(?:single\s+)?(?P<g>hour|day|week|month|quarter|year|weekday)"
                              r"\s+(?:with|that|where|when|in\s+which|having)\b(?:\s+\S+){0,4}?\s+(?:the\s+)?(?:most|highest|"
                              r"greatest|biggest|largest|best|lowest|least|fewest|worst|smallest|max|min|maximum|minimum)\b"
                              r"|\b(?:of|among|out\s+of)\s+(?:all\s+)?(?:the\s+)?(?P<g2>hour|day|week|month|quarter|year)s\b", re.I)
_LEAD_WHO = re.compile(r"^(?P<lead>(?:\s*(?:<[^>]+>|[A-Za-z']+)[,;:]?\s+)*?)\s*(?P<who>who|whoever|whom)\b", re.I)


class Router:
    """Turns a question into an ``Intent`` with rules over the semantic model; about a millisecond."""

    def parse(self, question: str, *, dataset: str, as_of: date, vocabulary: Vocabulary | None = None,
              ranges: bool | None = None) -> Route:
        """``ranges=False`` keeps "from X to Y" as two periods (a follow-up of a growth question)."""
        normalized = normalize(question)
        if load_dataset(dataset).semantic.time_dimension.fiscal_year_start_month == 1:
            normalized = _calendar_fiscal_years(normalized)
        vocab = vocabulary or closed_vocabulary(dataset)
        # a metric's own pattern keeps its words ("margin in dollars" is the profit, not a presentation)
        kept = [m.span() for p, _ in vocab.metric_patterns for m in p.finditer(normalized)]
        text, shown = _without_presentation(normalized, kept)
        text, fixes = vocab.speller.correct(text)
        if fixes:                      # "the busness" is "the business", read as the wording rules read it
            text = normalize(text)
        text, contrasted = _without_contrast(text, vocab)
        shown = (*shown, *contrasted)
        ex = extract(text, dataset=dataset, as_of=as_of, vocabulary=vocab, ranges=ranges)
        parse = _Parse(text, dataset, ex, vocab, as_of, fixes)
        # "grew the most in dollars": read before "in dollars" goes as a presentation word
        parse.absolute = any(p.search(normalized) for p in lexicon().phrases["absolute"])
        # "X and Y, one row each": each member's own figure (read before the presentation words go)
        parse.separately = bool(_ONE_ROW_EACH.search(normalized))
        route = parse.route()
        return replace(route, ignored=(*shown, *route.ignored)) if shown else route


class _Incomplete(Exception):
    def __init__(self, missing: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.missing = missing


class _Parse:
    def __init__(self, text: str, dataset: str, ex: Extraction, vocab: Vocabulary, as_of: date,
                 corrections: tuple[Correction, ...]) -> None:
        self.text, self.dataset, self.ex, self.vocab, self.as_of = text, dataset, ex, vocab, as_of
        self.corrections = corrections
        self.absolute = False              # growth ranked by the change, not its rate
        self.separately = False            # "one row each": members side by side
        self.model = load_dataset(dataset).semantic
        self.lang = self.model.language
        self.slots = list(ex.slots)
        self.masked = mask(text, ex.slots)
        self.found, self.residual = _constructions(self.masked)
        if "loss_rank" in self.found and len(ex.times) >= 2:   # "lost the most ... between Q2 2023 and Q2 2024": a change
            self.found, self.residual = _constructions(self.masked, skip=("loss_rank",))
        self.loss_span: set[int] = set()
        self.loss_metric = self.losses(ex.slots, "loss_rank") if "loss_rank" in self.found \
            else self.losses(ex.slots, "loss_total") if "loss_total" in self.found else None
        verbs = frozenset(i for i, s in enumerate(self.slots) if s.kind == "metric" and is_verb(s, vocab))
        self.residual, self.remarks, dropped, spans = _without_remarks(self.masked, self.residual, self.slots, verbs)
        if dropped:                                # values a remark repeated ("i think ohio is big")
            self.slots = [s for i, s in enumerate(self.slots) if i not in dropped]
            for a, b in spans:                     # placeholders count slots: the remark's go too
                self.masked = self.masked[:a] + " " * (b - a) + self.masked[b:]
        named = [i for i, s in enumerate(self.slots) if s.kind == "metric" and s.start not in self.loss_span]
        strong = [i for i in named if not is_verb(self.slots[i], vocab)]
        self.metric_slots = strong or named        # a verb ("sold") counts only when nothing else is named
        self.verb_slots = [i for i in named if i not in strong]
        if named and not strong and re.search(r"\b(?:how\s+many(?!\s+(?:percent|percentage|pct|%|dollars|bucks|euros|pounds|usd)\b)|number\s+of|count\s+of"
                                              r"|quantity\s+of)\b", text, re.I):
            # "how many chairs did we sell": the quantity sold, not the money
            for i in named:
                self.slots[i] = replace(self.slots[i], value=self.lang.quantity_metric)
        self.ambiguous_money: tuple[str, str] | None = None
        for i in strong:
            self.check_money_or_count(self.slots[i])
            if self.counts_money(self.slots[i]):
                # "how many sales did we make", "number of sales": a count of sales, not their money
                self.slots[i] = replace(self.slots[i], value=self.lang.count_metric)
        self.dim_slots = [s for s in self.slots if s.kind == "dimension" and not self.qualifies_total(s)
                          and not self.under_its_parent(s)]
        self.together_words: set[str] = set()
        declined = self.declined_splits()
        self.dim_slots = [s for s in self.dim_slots if not self.all_of_them_together(s) and s.start not in declined]
        self.dims = list(dict.fromkeys(str(s.value) for s in self.dim_slots))
        self.grain_slot = next((s for s in self.slots if s.kind == "time" and isinstance(s.value, str)
                                and s.start not in declined), None)
        self.grain = str(self.grain_slot.value) if self.grain_slot is not None else None
        self.numbers = [int(s.value) for s in self.slots if s.kind == "number"]  # type: ignore[call-overload]
        self.value_slots = [s for s in self.slots if s.kind == "filter_value"]
        self.filters = _merge_filters(self.value_slots)
        self.notes: list[str] = []
        self.defaulted = False
        self.read: Read | None = None
        self.words = Words((), (), ())

    def under_its_parent(self, slot: Slot) -> bool:
        """"which city's stores sold the most": the stores are the city's; the city is what is ranked."""
        before = next((s for s in reversed(self.slots) if s.end <= slot.start), None)
        if before is None or before.kind != "dimension" or not re.fullmatch(r"(?:'s?)?\s*", self.text[before.end: slot.start]):
            return False
        return any(str(before.value) in levels and str(slot.value) in levels
                   and levels.index(str(before.value)) < levels.index(str(slot.value))
                   for levels in self.model.hierarchies.values())

    def declined_splits(self) -> set[int]:
        """Where the slots a question declines to split by start ("no need to split it by store")."""
        starts: set[int] = set()
        if "declined_split" not in self.found:
            return starts
        for pattern in lexicon().phrases["declined_split"]:
            for m in pattern.finditer(self.masked):
                starts |= {s.start for s in _slots_in(m, self.masked, self.slots)}
        return starts

    def all_of_them_together(self, slot: Slot) -> bool:
        """"sales of all stores combined", "total sales for all stores", "summed across stores", "all-store
        sales": every member of the dimension added up, one number, no split. "sales for every store" and
        "top 5 of all stores" still split; the words that would otherwise group are recorded as explained."""
        before, after = self.text[: slot.start], self.text[slot.end:]
        if re.search(r"\beach\b|\b(?:top|bottom)\s+\d", self.text, re.I) \
                or any(s.kind == "dimension" and s.value == slot.value and s is not slot for s in self.slots):
            return False
        listed = re.match(r"\s*(?:,|[.?!]*\s*$)", after) and re.search(r",\s*all\s+(?:the\s+|our\s+)?$", before, re.I)
        next_slot = next((s for s in self.slots if s.start >= slot.end), None)
        all_store_sales = next_slot is not None and next_slot.kind == "metric" and not after[: next_slot.start - slot.end].strip() \
            and not slot.text.lower().endswith("s") and re.search(r"\ball[-\s]$", before, re.I)
        # "did the company's stores sell": the company's, all of them
        owned = re.search(r"\b(?:the\s+)?(?:company|chain|business|firm|group|organi[sz]ation)(?:'?s)?\s+$", before, re.I) \
            if slot.text.lower().endswith("s") and not _RANK_WORDS.search(self.text) else None
        across = re.search(r"\b(?:across|over)\s+all\s+(?:(?:of\s+)?(?:the|our)\s+)?$", before, re.I) \
            if re.match(r"\s*,", after) and not _RANK_WORDS.search(self.text) else None
        span = (_ALL_BEFORE.search(before) if _TOGETHER_AFTER.match(after) else None) or listed or all_store_sales or across or owned \
            or _TOTAL_OVER_ALL.search(before) or _SUMMED_ACROSS.search(before)
        if span is None:
            return False
        self.together_words |= {w.lower() for w in re.findall(r"[a-z]+", span.group(0), re.I)}
        return True

    def qualifies_total(self, slot: Slot) -> bool:
        """"our total store revenue": a singular dimension word between "total" and the measure says
        which sales these are (the store's), it splits nothing."""
        after = next((s for s in self.slots if s.start >= slot.end), None)
        return after is not None and after.kind == "metric" and not self.text[slot.end: after.start].strip() \
            and not slot.text.lower().endswith("s") and bool(re.search(r"\btotal\s+$", self.text[: slot.start], re.I))

    def check_money_or_count(self, slot: Slot) -> None:
        """"total receipts for 2001", "how much did we take in receipts": the money, or the number of receipts?
        A count's word that is also money (``Metric.also_money``), asked as an amount, clarifies."""
        metric = self.model.metrics.get(str(slot.value))
        said = slot.text.lower()
        word = next((w for w in metric.also_money if said == w or said.endswith(" " + w)), None) if metric else None
        if word is None:
            return
        before = self.text[: slot.start] + slot.text[: len(slot.text) - len(word)]
        if re.search(r"\b(?:how\s+many|number\s+of|count\s+of|#\s*of)\s+(?:\w+\s+){0,2}$", before, re.I):
            return
        if re.search(r"\b(?:per|each|every|a|an|one|average|avg|mean)\s+(?:\w+\s+)?$", before, re.I):
            return                          # "average value per receipt": the count divides
        if re.search(r"\b(?:total|gross|net|how\s+much|worth|value\s+of|dollars?\s+of|\$)\s+(?:\w+\s+){0,4}$", before, re.I) \
                or re.match(r"\s+(?:worth|in\s+dollars|totall?ed|came\s+to|amounted)\b", self.text[slot.end:], re.I):
            self.ambiguous_money = (word, self.model.label(str(slot.value)))

    def counts_money(self, slot: Slot) -> bool:
        """A money measure counted: "how many sales", "number of sales", "sales count"."""
        metric = self.model.metrics.get(str(slot.value))
        if metric is None or metric.format != "currency":
            return False
        return bool(re.search(r"\b(?:how\s+many|number\s+of|count\s+of|#\s*of)\s+(?:the\s+|our\s+|total\s+)?$",
                              self.text[: slot.start], re.I) or re.match(r"\s+counts?\b", self.text[slot.end:], re.I))

    def losses(self, slots: tuple[Slot, ...], phrase: str) -> str | None:
        """"which class lost the most money", "the biggest loss by category" (``loss_rank``): the lowest of the
        measure the model's loss condition ("unprofitable": profit < 0) reads; "how much did we lose" (``loss_total``):
        that measure. The money word inside the phrase is no metric of its own."""
        metric = next((c.metric for c in self.lang.conditions.values() if c.op == "<" and c.value == 0), None)
        m = next(m for p in lexicon().phrases[phrase] if (m := p.search(self.masked)) is not None)
        self.loss_span = {s.start for s in _slots_in(m, self.masked, slots)}
        return metric

    # --- the verdict ----------------------------------------------------------------------------------
    def understood(self) -> Understood:
        metrics = tuple(dict.fromkeys(str(self.slots[i].value) for i in self.metric_slots if self.slots[i].text))
        counted = [_COUNT_WORDS[w.lower()] for k, w in self.words.cues if k == "count_word" and w.lower() in _COUNT_WORDS]
        return Understood(metrics, tuple(self.dims), tuple(self.filters), tuple(m.window for m in self.ex.times),
                          self.grain, tuple(self.numbers) or tuple(counted[:1]), self.found.get("order"),
                          tuple(dict.fromkeys(k for k, _ in self.words.cues)),
                          self.read.conditions if self.read is not None else ())

    def incomplete(self, missing: tuple[str, ...], reason: str, unknown: tuple[str, ...] = (),
                   loose: tuple[str, ...] = ()) -> Route:
        return Route(self.text, False, None, self.ex, self.understood(), missing, unknown, reason,
                     self.words.ignored, self.corrections, loose_words=loose)

    def route(self) -> Route:
        self.words = sort_words(self.person_residual())
        counts = {e.count for e in self.lang.entities.values()}
        if self.metric_slots and all(str(self.slots[i].value) in counts for i in self.metric_slots):
            # "unique Virginia-based shoppers", "different Electronics customers": a distinct count already
            self.words = replace(self.words, unknown=tuple(w for w in self.words.unknown if w.lower() not in _DISTINCT))
        if self.words.unknown:
            unknown = self.words.unknown
            return self.incomplete(("unknown words",), "I do not know what " + ", ".join(repr(w) for w in unknown)
                                   + " means for this dataset.", unknown)
        try:
            if self.ambiguous_money is not None:
                word, count = self.ambiguous_money
                raise Problem(f"{word!r} can be the money taken or the number of {word}; ask for "
                              f"'{self.model.label(self.lang.default_metric)}' or the 'number of {count}'.")
            self.apply_rewrites()
            self.read = ConditionReader(self.text, self.slots, self.vocab, self.model).read()
            intent = self.decide(self.read)
        except (_Incomplete, Problem) as exc:
            return self.incomplete(getattr(exc, "missing", ("shape",)), str(exc))
        cues = self.words.cues
        if "single_total" in self.found:           # "by region ..., as one number": the split is declined
            cues = tuple(c for c in cues if c[0] != "group")
        cues = tuple(c for c in cues if not (c[0] == "group" and c[1].lower() in self.together_words))
        loose = unexplained(cues, intent)
        if loose:
            return self.incomplete(("shape",), "I am not sure how " + ", ".join(repr(w) for w in loose)
                                   + " applies to this question.", loose=loose)
        return Route(self.text, True, intent, self.ex, self.understood(), ignored=(*self.words.ignored, *self.remarks),
                     corrections=self.corrections, notes=tuple(self.notes), defaulted_metric=self.defaulted)

    def entity_asked_for(self) -> None:
        """"which 3 customers spent the most": the customers are what is ranked (a dimension), and
        the verb says by what; not a count of customers."""
        if self.dims or not self.verb_slots or not (self.cue("rank_desc") or self.cue("rank_asc")):
            return
        counted = {e.count: n for n, e in self.lang.entities.items()}
        for i in [i for i in self.metric_slots if i not in self.verb_slots]:
            slot = self.slots[i]
            entity = counted.get(str(slot.value))
            if entity in self.model.dimensions and re.search(
                    r"\b(?:which|what)\s+(?:(?:\d+|two|three|four|five|ten)\s+)?$", self.text[: slot.start], re.I):
                self.dims, self.dim_slots = [entity], [replace(slot, kind="dimension", value=entity)]
                self.metric_slots = [j for j in self.metric_slots if j != i] or list(self.verb_slots)
                return

    def person_residual(self) -> str:
        """The residual text, with a question-opening "who" read as the person dimension."""
        m = _LEAD_WHO.match(self.residual)
        person = self.lang.person_dimension
        lead = m is not None and all(w.lower().strip(",;:") in lexicon().ignorable for w in m.group("lead").split())
        if lead and person is not None and m is not None:
            if person not in self.dims:
                self.dims.insert(0, person)
                self.dim_slots.insert(0, Slot("dimension", m.group("who"), m.start("who"), m.end("who"), person))
            rest = self.residual[: m.start("who")] + " " * len(m.group("who")) + self.residual[m.end("who"):]
            return re.sub(r"\b(?:who|whom|whoever)\b", " ", rest, flags=re.I)
        return re.sub(r"\b(?:who|whom)\b", " ", self.residual, flags=re.I)

    # --- pieces ---------------------------------------------------------------------------------------
    def decide(self, read: Read) -> Intent:
        if self.grain is not None and self.grain not in self.model.time_dimension.grains:
            # "sales by hour" where the dates are days: a daily series labelled by hour would be a guess
            raise Problem(f"{self.dataset} has no {self.grain.replace('_', ' ')} in its dates; it has "
                          f"{', '.join(g.replace('_', ' ') for g in self.model.time_dimension.grains)}.")
        for i in read.subjects:     # "states that lost money": the states are listed
            subject = self.slots[i]
            if subject.kind == "noun" and any(c.level == "group" for c in read.conditions) \
                    and str(subject.value) not in self.dims:
                self.dims.append(str(subject.value))
                self.dim_slots.append(subject)
        nouns = [s for s in self.slots if s.kind == "noun" and not entity_of(s, self.model, self.vocab) in
                 {c.level for c in read.conditions}]
        if not self.dims and nouns and (self.cue("rank_desc") or self.cue("rank_asc") or "loss_rank" in self.found):
            self.dims, self.dim_slots = [str(nouns[0].value)], [nouns[0]]   # "the customer who spent the most"
        self.entity_asked_for()
        for slot in self.value_slots:
            if isinstance(slot.value, Filter) and not slot.value.negate \
                    and not re.match(r"(?:only|just|solely|exclusively|strictly)\b", slot.text, re.I) \
                    and re.search(r"\bbut\s+(?:the\s+)?$", self.text[: slot.start], re.I):
                raise Problem(f"'but {slot.text}' can mean 'except {slot.text}' or 'only {slot.text}'; say "
                              f"'excluding {slot.text}' or 'only {slot.text}'.")
        for slot in self.value_slots:       # "the Washington region": Washington is a state, not a region
            after = next((d for d in self.dim_slots if d.start >= slot.end and not self.text[slot.end: d.start].strip()),
                         None)
            if after is not None and isinstance(slot.value, Filter) and str(after.value) != slot.value.dimension \
                    and not self.vocab.narrower(slot.value.dimension, str(after.value)) \
                    and re.search(r"\b(?:the|a|our)\s+$", self.text[: slot.start], re.I):
                raise Problem(f"{slot.text!r} is a {slot.value.dimension.replace('_', ' ')}, not a "
                              f"{str(after.value).replace('_', ' ')}; name a {str(after.value).replace('_', ' ')} "
                              f"or ask about the {slot.value.dimension.replace('_', ' ')}.")
        for slot in self.value_slots:       # "LA": Louisiana or Los Angeles?
            city = CITY_SHORTHANDS.get(slot.text.strip())
            if city and isinstance(slot.value, Filter) and any(
                    e.phrase == city.lower() for e in self.vocab.values if e.dimension != slot.value.dimension):
                raise Problem(f"{slot.text!r} could be the state {slot.value.values[0]} or the city {city}; "
                              f"name it in full.")
        for slot in self.value_slots:       # "ese": a store and a promotion, and no word says which
            if not isinstance(slot.value, Filter):
                continue
            dim = slot.value.dimension
            others = sorted(d for d in self.vocab.phrase_dimensions.get(slot.text.lower(), frozenset())
                            if not self.vocab.related(d, dim))
            if others and not beside_its_dimension(self.text.lower(), slot.start, slot.end, dim, self.vocab):
                names = [d.replace("_", " ") for d in (dim, *others)]
                raise Problem(f"{slot.text!r} is a {' and a '.join(names)}; say which, e.g. "
                              f"'the {slot.text} {names[-1]}'.")
        for slot in self.value_slots:       # "revenue per store": per a member is no unit to divide by
            if re.search(r"\bper\s+(?:the\s+|a\s+|each\s+)?$", self.text[: slot.start], re.I):
                raise Problem(f"'per {slot.text}' is not something I can divide by; ask per order or per "
                              f"customer, or for {slot.text} alone.")
        per_word = re.search(r"\bper\s+(?:the\s+|a\s+|each\s+)?([A-Za-z]+)\b"
                             r"(?!\s+(?!(?:in|for|during|on|at|over|last|this|from|between|since|across)\b)[A-Za-z])",
                             self.residual)
        if per_word and per_word.group(1).lower() in lexicon().ignorable:
            raise Problem(f"I do not know how to divide per {per_word.group(1)!r} in this dataset.")
        if "single_total" in self.found and not (self.cue("rank_desc") or self.cue("rank_asc") or self.numbers):
            self.dims, self.dim_slots = [], []      # "every region except the South, one number is fine"
        amounts = [s for s in self.slots if s.kind == "amount"]
        metrics = self.metrics(read)
        self.check_included(metrics)
        windows = self.windows()
        base = dict(dataset=self.dataset, filters=tuple(self.filters), conditions=read.conditions)
        time = windows[0][1] if windows else None
        if len(amounts) >= 2 or (self.cue("distribution") and self.bucket_name(metrics) is not None):
            return self.distribution(metrics, amounts, time)
        metrics = self.with_default(metrics)
        fastest = "fastest" in self.found or "slowest" in self.found
        span = self.series_span(windows)
        if span is not None:              # "how have sales changed year over year from 2014 to 2017"
            return self.period_series(metrics, span[1], base, grain=span[0])
        if len(windows) == 2:
            (first, _), (second, _) = windows
            if re.fullmatch(r"\s*(?:through|thru|until|till)\s*", self.text[first.end: second.start], re.I):
                later, earlier = sorted((w for _, w in windows), key=lambda w: w.start, reverse=True)
                if self.grain is not None and earlier.start <= later.end:    # "... by quarter": each of them
                    span = TimeWindow(earlier.start, later.end, label_for(earlier.start, later.end), later.column)
                    return Intent(metrics=metrics, operation="trend", dimensions=self.group_dims(1), time=span,
                                  grain=self.grain, **base)
                # "Q1 thru Q4 2002 net profit": the total over the range, or each quarter of it?
                raise Problem(f"'{first.text} {self.text[first.end: second.start].strip()} {second.text}' can mean the "
                              f"total over that range or each period in it; ask 'from {first.text} to {second.text}' "
                              f"for the total, or name the grain ('by quarter').")
            summed = self.periods_added(windows)
            if summed is None:
                later, earlier = sorted((w for _, w in windows), key=lambda w: w.start, reverse=True)
                return self.two_periods(metrics, later, earlier, base, fastest)
            windows, time = [(windows[0][0], summed)], summed     # "2001 and 2002 combined": one total
        if self.cue("growth") or fastest or ("period_over_period" in self.found and windows):
            if time is None and not fastest:
                return self.period_series(metrics, None, base, grain=self.found.get("period_over_period"))
            if time is None:
                time = TimeWindow(*year_bounds(self.as_of.year - 1), label=str(self.as_of.year - 1))
                self.notes.append(f"No period was named: {time.label} against the year before.")
                return self.two_periods(metrics, time, shift_months(time, 12), base, fastest)
            pop = self.found.get("period_over_period") or self.grain
            if pop is not None and pop in _GRAIN_DAYS and time.days > 1.5 * _GRAIN_DAYS[pop]:
                return self.period_series(metrics, time, base, grain=pop)   # "how sales moved each month of 2014"
            return self.two_periods(metrics, time, self.growth_base(windows[0]), base, fastest, growth=True)
        if "period_over_period" in self.found:
            return self.period_series(metrics, time, base, grain=self.found["period_over_period"])
        compared = self.compared_dimension()
        if compared is not None:
            return Intent(metrics=metrics, operation="compare_values", dimensions=(compared,), time=time, **base)
        if self.cue("share") and measure(self.dataset, metrics[0]).format in ("currency", "integer"):
            dims = self.group_dims(1) or tuple(f.dimension for f in self.filters if not f.negate)[:1]
            if not dims:
                raise _Incomplete(("dimension",), "A share needs what to split by, e.g. 'share of revenue by category'.")
            return Intent(metrics=metrics[:1], operation="share", dimensions=dims, time=time, **base)
        ranked = self.ranking()
        if ranked is not None:
            n, order, grain = ranked
            return Intent(metrics=metrics, operation="top_n", dimensions=self.group_dims(1), time=time,
                          top_n=n, order=order, grain=grain, **base)
        if self.grain is not None and (self.cue("average") or re.search(r"\bhow\s+(?:many|much)\b", self.text, re.I)
                                       and re.match(r"(?:a|per)\b", self.grain_slot.text, re.I)
                                       and self.grain in ("hour", "day", "week")):
            # "how many orders a day did we get": a daily rate; "how many orders per quarter in 2016": the quarters
            return self.average_per_period(metrics, time, base)
        if self.grain is not None or self.cue("trend"):
            self.check_rate_reading(time)
            evolves = any(k == "trend" and re.match(r"evol|develop", w, re.I) for k, w in self.words.cues)
            grain = self.grain
            if grain is None and evolves and time is not None and (time.start.month, time.start.day) == (1, 1) \
                    and (time.end.month, time.end.day) == (12, 31) and time.end.year > time.start.year:
                grain = "year"          # "how did sales evolve from 1998 to 2002": year by year, with each change
            return Intent(metrics=metrics, operation="trend", dimensions=self.group_dims(1), time=time,
                          grain=grain or _default_grain(time), change=evolves and grain is not None, **base)
        dims = self.collective_subject(self.group_dims(2))
        if any(c.level == "group" for c in read.conditions) and not dims:
            raise _Incomplete(("dimension",), "Which members should the condition keep? e.g. 'which states are unprofitable'.")
        if dims:
            return Intent(metrics=metrics, operation="breakdown", dimensions=dims, time=time,
                          order=self.found.get("order", "desc"), **base)
        if "member_versus" in self.found:        # "higher than last year" with nothing to set against it
            raise Problem(f"{self.found['member_versus']!r} compares, but only one side is named; name both, e.g. "
                          f"'{self.model.label(metrics[0])} this year vs last year'.")
        return Intent(metrics=metrics, operation="total", time=time, **base)

    def average_per_period(self, metrics: tuple[str, ...], time: TimeWindow | None, base: dict[str, Any]) -> Intent:
        """"average daily sales in June", "how many orders a day did we get": the total over the
        window divided by its number of days (weeks, months...)."""
        grain = str(self.grain)
        if time is None or periods_in(time, grain) is None:
            raise Problem(f"An average per {grain} needs a period made of whole {grain}s, e.g. "
                          f"'average daily {self.model.label(metrics[0])} in March 2024'.")
        if self.dims or not all(self.summable(m) or m in self.model.metrics and self.model.metrics[m].divisible
                                for m in metrics):
            raise Problem(f"I can average a total per {grain} over one period, not split it.")
        self.words = replace(self.words, cues=tuple(c for c in self.words.cues if c[0] != "average"))
        return Intent(metrics=metrics, operation="total", time=time, average_over=grain, **base)

    def collective_subject(self, dims: tuple[str, ...]) -> tuple[str, ...]:
        """"how much did the stores ring up": the stores together, or each store? Neither reading is safe,
        unless the question says "together" ("what did the stores sell all together": one total)."""
        for slot in self.dim_slots:
            if str(slot.value) not in dims or not _COLLECTIVE_BEFORE.search(self.text[: slot.start]):
                continue
            follows = next((s for s in self.slots if s.start >= slot.end), None)
            verb_next = follows is not None and is_verb(follows, self.vocab) and not self.text[slot.end: follows.start].strip()
            # "what did our stores clear in net profit": the stores are the subject, and nothing says "each"
            subject = slot.text.lower().endswith("s") and not self.cue("rank_desc") and not self.cue("rank_asc")
            if (verb_next or subject) and not self.cue("group") and not self.cue("sort") and "order" not in self.found:
                if _TOGETHER.search(self.text):
                    self.dim_slots = [s for s in self.dim_slots if s is not slot]
                    return tuple(d for d in dims if d != str(slot.value))
                raise Problem(f"'the {slot.text}' can mean all of them together or each one; ask for the total, "
                              f"or '... by {self.model.label(str(slot.value))}'.")
        return dims

    def check_rate_reading(self, time: TimeWindow | None) -> None:
        """"orders per day last quarter" is a daily rate as often as a 91-point series: ask."""
        slot = self.grain_slot
        if slot is None or not re.match(r"(?:a|per)\b", slot.text, re.I) or self.grain == "day_of_week":
            return
        if time is None and self.grain not in ("day", "hour"):
            return
        limit = 31 if self.grain in ("day", "hour") else 100
        if time is not None and time.days / _GRAIN_DAYS.get(str(self.grain), 1) <= limit:
            return
        raise Problem(f"{slot.text!r} can mean a series or an average per {self.grain}; ask for "
                      f"'average ... {slot.text}' or '... by {self.grain}'.")

    def cue(self, kind: str) -> bool:
        return any(k == kind for k, _ in self.words.cues)

    def metrics(self, read: Read) -> tuple[str, ...]:
        """The metrics to report, after conditions took their measures and subjects."""
        kept = [i for i in self.metric_slots if i not in read.used and i not in read.subjects]
        self.check_metric_of_metric(kept)
        describing = [i for i in kept if self.describes(i)]
        if describing and len(describing) < len(kept):
            kept = [i for i in kept if i not in describing]     # "sales from Texas customers who ..."
        elif describing and self.verb_slots and all(self.after_member(i) for i in describing) \
                and not re.search(r"\bhow\s+many\b|\bnumber\s+of\b|\bcount\b|\btotal\b", self.text, re.I):
            kept = list(self.verb_slots)          # "spend by texas customers": the customers say whose, the verb what
        kept, divisor, said = self.divisor(kept)
        counted = {e.count: n for n, e in self.lang.entities.items()}
        ranked_rows = [i for i in kept if counted.get(str(self.slots[i].value)) in self.dims]
        if ranked_rows and (self.verb_slots or len(ranked_rows) < len(kept)):
            # "which 3 customers spent the most, biggest spender first": the customers are the rows
            # ranked, not a count of customers per customer
            kept = [i for i in kept if i not in ranked_rows] or list(self.verb_slots)
        subjects = self.spending_subjects(kept, counted) if divisor is None else []
        if subjects:
            # "how much did customers from Texas spend", "which state's shoppers bought the fewest units": the
            # customers say whose rows, the verb (or the other metric) says what is measured
            kept = [i for i in kept if i not in subjects] or list(self.verb_slots)
        names = list(dict.fromkeys(str(self.slots[i].value) for i in kept))
        if divisor is not None and not names and self.verb_slots:
            # "the average amount spent per order": the verb's metric, the other word was the divisor
            names = list(dict.fromkeys(str(self.slots[i].value) for i in self.verb_slots))
        entity_levels = [c.level for c in read.conditions if c.level != "group"]
        if not names and entity_levels:
            names = [self.lang.entities[entity_levels[0]].count]
        if not names and read.conditions:
            names = [read.conditions[0].metric]
        money_words = re.search(r"\b(?:how\s+much|worth|come\s+to|comes\s+to|value|amount|size|spend|spent)\b",
                                self.text, re.I)
        if divisor is not None and not names and not said and money_words:
            names = [self.lang.default_metric]      # "what was an order worth on average"
        if self.cue("average") and divisor is None and names and all(n in counted for n in names) \
                and re.search(r"\b(?:how\s+much|worth|come\s+to|comes\s+to|value|amount|size|spend|spent)\b",
                              self.text, re.I):
            # "how much does the average order come to": money per order, not a count of orders
            names, divisor = [self.lang.default_metric], counted[names[0]]
        if divisor is not None and not said and not all(n in self.model.metrics and self.model.metrics[n].divisible
                                                        for n in names):
            divisor = None             # "how long does it take to ship an order on average": no division
        other = self.per_non_entity()
        if divisor is None and other is not None and (
                other.kind == "metric" or self.cue("average") and any(self.summable(n) for n in names)):
            # "sales per unit" (a measure by a measure), "average revenue per state" (spread over the states,
            # or each state's average per order?): neither is one reading
            label = self.model.label(names[0] if names else self.lang.default_metric)
            per = ", ".join(dict.fromkeys(e for e in (self.lang.row_entity, *self.lang.entities)))
            if other.kind == "metric":
                raise Problem(f"'per {other.text}' divides one measure by another, which I do not do; ask for each "
                              f"on its own, or {label} per {per}.")
            raise Problem(f"'average {label} per {other.text}' can mean the total spread over each {other.text} or "
                          f"each {other.text}'s average; ask '{label} by {other.text}' or '{label} per {per} by "
                          f"{other.text}'.")
        if divisor is None and self.cue("average") and self.grain is None and any(self.summable(n) for n in names):
            divisor = self.lang.row_entity          # "average sales": per order line on Superstore
        if divisor is None:
            return tuple(names)
        if not names or not all(n in self.model.metrics and self.model.metrics[n].divisible for n in names):
            raise Problem(f"I can divide sums and counts per {divisor}, not "
                          f"{', '.join(self.model.label(n) for n in names) or 'nothing'}; name one, e.g. "
                          f"'{self.model.label(self.lang.default_metric)} per {divisor}'.")
        return tuple(ratio_name(n, divisor) for n in names)

    def check_metric_of_metric(self, kept: list[int]) -> None:
        """"revenue of cancelled orders": a metric said of other rows; clear only when those rows are
        an entity's ("revenue from orders"), else ask."""
        for a, b in zip(kept, kept[1:]):
            if self.describes(a):
                continue                    # "Texas customers on sales": the customers say whose sales
            gap = self.text[self.slots[a].end: self.slots[b].start]
            if re.fullmatch(r"\s*(?:of|from|on|for|in|among|across)\s+(?:the\s+|our\s+|all\s+)?", gap, re.I) \
                    and entity_of(self.slots[b], self.model, self.vocab) is None:
                raise Problem(f"{self.slots[a].text!r} of {self.slots[b].text!r} mixes two metrics; ask for one "
                              f"of them, filtered as you need.")

    def after_member(self, i: int) -> bool:
        """The slot follows a member with nothing between ("Texas customers"), or a dimension
        ("which state's customers")."""
        if i == 0:
            return False
        before, gap = self.slots[i - 1], self.text[self.slots[i - 1].end: self.slots[i].start]
        if before.kind == "filter_value":
            return not gap.strip()
        # the question's text has lost the possessive's "'s" ("which state customers")
        return before.kind in ("dimension", "noun") and bool(re.fullmatch(r"(?:'s?)?\s+", gap))

    def describes(self, i: int) -> bool:
        """An entity's count word that only says whose rows these are: "Consumer customers",
        "customers who ...", "orders that ..."."""
        slot = self.slots[i]
        if entity_of(slot, self.model, self.vocab) is None:
            return False
        after = re.match(r"\s+(?:who|that|which|whose|where)\b", self.text[slot.end:], re.I)
        return bool(after or self.after_member(i) or self.of_which(i))

    def of_which(self, i: int) -> bool:
        """"customers of which state buy the fewest units": the customers say whose rows; the state is ranked."""
        nxt = self.slots[i + 1] if i + 1 < len(self.slots) else None
        return nxt is not None and nxt.kind == "dimension" and bool(re.fullmatch(
            r"\s+(?:of|from|in)\s+(?:which|what|each|every)\s+", self.text[self.slots[i].end: nxt.start], re.I))

    def summable(self, name: str) -> bool:
        return name in self.model.metrics and self.model.metrics[name].summable

    def check_included(self, metrics: tuple[str, ...]) -> None:
        """"revenue including cancelled orders": the metric's own definition leaves those rows out
        (a named row filter); asking to count them in is another measure, so ask."""
        filtered = [m for m in metrics if m in self.model.metrics and self.model.metrics[m].filter]
        for rewrite in self.lang.rewrites if filtered else ():
            for member in rewrite.filter.values():
                said = re.search(r"\b(?:including|incl\.?|inclusive\s+of|counting|plus)\s+(?:the\s+|all\s+|any\s+)?"
                                 + re.escape(member.lower()[:6]) + r"\w*", self.text, re.I)
                if said:
                    raise Problem(f"{self.model.label(filtered[0])} leaves out {member.lower()} rows by definition; "
                                  f"'{said.group(0)}' asks for another measure. Ask for "
                                  f"{self.model.label(filtered[0])} and {self.model.label(rewrite.becomes)} apart.")

    def spending_subjects(self, kept: list[int], counted: dict[str, str]) -> list[int]:
        """Entity words that are the subject of a verb ("customers ... spent"), not what is counted: before
        the first verb, not after "most"/"number of", not "customers who ...", and no "how many" asked."""
        if not self.verb_slots or re.search(r"\bhow\s+many\b|\bnumber\s+of\b|\bcount\b", self.text, re.I):
            return []
        verb_at = min(self.slots[i].start for i in self.verb_slots)
        return [i for i in kept if str(self.slots[i].value) in counted and self.slots[i].end <= verb_at
                and not re.search(r"\b(?:most|fewest|least|more|fewer|less|many|unique|distinct|new)\s+$",
                                  self.text[: self.slots[i].start], re.I)
                and not re.match(r"(?:distinct|unique|different|number|count|total|#)\b", self.slots[i].text, re.I)
                and not re.match(r"\s+(?:who|that|which)\b", self.text[self.slots[i].end:], re.I)]

    def per_non_entity(self) -> Slot | None:
        """The word after "per" when it names no entity: a dimension ("per state") or a measure ("per unit")."""
        for found in re.finditer(r"\bper\s+(?:the\s+|an?\s+|each\s+|single\s+|one\s+)?<(?:metric|dimension)>",
                                 self.masked):
            slot = self.slots[self.masked[: found.end()].count("<") - 1]
            if entity_of(slot, self.model, self.vocab) is None:
                return slot
        return None

    def divisor(self, kept: list[int]) -> tuple[list[int], str | None, bool]:
        """"<metric> per <entity>": the entity, the metric slots without the entity's word, and
        whether "per" (or "/") said so, rather than "an order" or "customer spend" next to "average"."""
        lead = r"per|/|an?|each|every" if self.cue("average") else r"per|/"
        found = list(re.finditer(r"(?:\b|(?=/))(?:" + lead + r")\s*(?:count\s+(?:distinct\s+|unique\s+)?|sum\s+|"
                                 r"number\s+of\s+|the\s+)?(?:single\s+|one\s+)?<(?:metric|dimension)>", self.masked))
        if not found and self.cue("average"):
            # "average customer spend", "avg order revenue": the entity word right before the measure
            found = list(re.finditer(r"<(?:metric|dimension)>(?=\s+<metric>)", self.masked))
        # "for each store, the average sale per transaction": the first of them that names an entity
        per, index, entity = None, -1, None
        for match in found:
            index = self.masked[: match.end()].count("<") - 1
            entity = entity_of(self.slots[index], self.model, self.vocab)
            if entity is not None:
                per = match
                break
        if per is None or entity is None:
            return kept, None, False
        slot = self.slots[index]
        if slot.kind == "dimension" and str(slot.value) in self.dims:
            self.dims.remove(str(slot.value))
            self.dim_slots = [s for s in self.dim_slots if s is not slot]
        said = bool(re.match(r"(?:per|/)", per.group(0).strip(), re.I))
        count = self.lang.entities[entity].count      # "revenue per customer ... revenue / customers"
        return [i for i in kept if i != index and str(self.slots[i].value) != count], entity, said

    def with_default(self, metrics: tuple[str, ...]) -> tuple[str, ...]:
        if metrics:
            return metrics
        if self.loss_metric is not None:
            return (self.loss_metric,)
        if self.cue("popular") or re.search(r"\bhow\s+many\b", self.text, re.I):
            counted = self.lang.count_metric       # "the most used ship mode", "how many in Texas": orders
            self.defaulted = True
            self.notes.append(f"Counted as {self.model.label(counted)}.")
            return (counted,)
        said = self.dims or self.filters or self.ex.times or self.grain or "performance" in self.found \
            or self.cue("rank_desc") or self.cue("rank_asc")
        if not said:
            raise _Incomplete(("metric",), "The question names no metric this dataset holds.")
        default = self.lang.default_metric
        self.defaulted = True
        self.notes.append(f"No metric was named, so this is {self.model.label(default)}, the default.")
        return (default,)

    def apply_rewrites(self) -> None:
        """A metric read with a filter that means another metric ("cancelled orders", "cancel rate"); a
        counted subset as a share of the whole is its rate ("cancelled orders as a percentage of all orders")."""
        for rewrite in self.lang.rewrites:
            if not rewrite.as_rate or rewrite.becomes not in [str(self.slots[i].value) for i in self.metric_slots]:
                continue
            # the whole is what the rewrite counts a subset of, in any of the model's words for it
            said = sorted((p for p, m in self.vocab.metric_phrases.items() if m == rewrite.metric), key=len, reverse=True)
            whole = re.search(_OF_ALL + r"(?:" + "|".join(map(re.escape, said)) + r")\b", self.text, re.I) if said else None
            if whole is None:
                continue
            self.metric_slots = [i for i in self.metric_slots if not whole.start() <= self.slots[i].start < whole.end()]
            for i in self.metric_slots:
                if self.slots[i].value == rewrite.becomes:
                    self.slots[i] = replace(self.slots[i], value=rewrite.as_rate)
            self.words = replace(self.words, cues=tuple(c for c in self.words.cues if c[0] != "share"))
        for rewrite in self.lang.rewrites:
            match = [f for f in self.filters if not f.negate and f.dimension in rewrite.filter
                     and f.values == (rewrite.filter[f.dimension],)]
            if not match:
                continue
            names = [str(self.slots[i].value) for i in self.metric_slots]
            if rewrite.metric not in names and names:
                continue
            rate = re.search(r"\b(?:rate|percent|percentage|share|proportion|ratio)\b|%", self.masked, re.I)
            target = rewrite.as_rate if rate and rewrite.as_rate else rewrite.becomes
            self.filters = [f for f in self.filters if f not in match]
            if not names:
                self.slots.append(Slot("metric", "", 0, 0, target))
                self.metric_slots.append(len(self.slots) - 1)
            for i in self.metric_slots:
                if self.slots[i].value == rewrite.metric:
                    self.slots[i] = replace(self.slots[i], value=target)
            if rate:
                self.words = replace(self.words, cues=tuple(c for c in self.words.cues if c[0] != "share"))

    def windows(self) -> list[tuple[TimeMatch, TimeWindow]]:
        out: list[tuple[TimeMatch, TimeWindow]] = []
        for m in self.ex.times:
            window = m.window
            if m.anchor == "next":
                if not out:
                    raise _Incomplete(("time",), f"{m.text!r} needs another period to be relative to.")
                window = next_period(out[-1][1], period=m.period)
            elif m.anchor == "prior":
                others = [t for t in self.ex.times if t is not m]
                wide = self.grain is not None and others and all(t.anchor == "as_of" for t in others) and (
                    (len(others) == 1 and (periods_in(others[0].window, self.grain) or 0) > 1)   # "yearly, vs the prior year, 2014-2017"
                    or (len(others) == 2 and all(periods_in(t.window, self.grain) == 1 for t in others)))  # "1998 to 2002"
                if self.grain is not None and m.period in (self.grain, None) and (len(self.ex.times) == 1 or wide):
                    self.found["period_over_period"] = self.grain   # "by quarter, vs the previous quarter"
                    continue
                if out:
                    window = previous_period(out[-1][1], period=m.period or out[-1][0].period)
                elif m.period is None:
                    raise _Incomplete(("time",), f"{m.text!r} needs another period to be relative to.")
            elif m.anchor == "data_start":
                if self.vocab.date_range is None:
                    raise _Incomplete(("time",), f"I do not know when the data starts, so not {m.text!r}; name the year.")
                first = self.vocab.date_range[0].year
                window = TimeWindow(*year_bounds(first), label=str(first), column=window.column)
            elif m.anchor in ("last_year", "same_in"):
                if not out:
                    raise _Incomplete(("time",), f"{m.text!r} needs another period to be relative to.")
                years = 1 if m.anchor == "last_year" else out[-1][1].start.year - m.window.start.year
                window = shift_months(out[-1][1], 12 * years)
            out.append((m, window))
        out = _with_years(out)
        for _, window in out:
            if window.start > self.as_of:
                raise _Incomplete(("time",), f"{window.label or window.start.isoformat()} has not happened yet "
                                  f"(as of {self.as_of.isoformat()}); there are no numbers for it.")
        covered = self.vocab.date_range
        for _, window in out:
            if covered is not None and window.column == "order_date" and (window.end < covered[0] or window.start > covered[1]):
                raise _Incomplete(("time",), f"There is no data for {window.label or window.start.isoformat()}: "
                                  f"the orders run from {covered[0].isoformat()} to {covered[1].isoformat()}.")
        if len(out) == 2 and "data_start" in (out[0][0].anchor, out[1][0].anchor):
            first, other = sorted(out, key=lambda o: o[0].anchor != "data_start")
            if first[1] == other[1]:
                out = [other]                   # "2014, the first year in the data"
            elif not (self.cue("compare") or self.cue("growth")):
                raise _Incomplete(("time",), f"The first year in the data is {first[1].label}, not {other[1].label}; "
                                  f"ask for one of them, or compare them ('{other[1].label} vs {first[1].label}').")
        if len(out) == 2 and out[0][1] == out[1][1]:
            raise _Incomplete(("time",), f"Both periods are {out[0][1].label}; name two different ones.")
        if len(out) > 2:
            raise _Incomplete(("time",), "The question names more than two periods; ask about one or compare two.")
        return out

    def periods_added(self, windows: list[tuple[TimeMatch, TimeWindow]]) -> TimeWindow | None:
        """"sales in 2001 plus 2002", "2001 and 2002 combined", "both years together": the two periods added
        up, one window over both when they meet; two periods with a gap between are no window to add over."""
        (first, one), (second, other) = windows
        joined = self.text[first.end: second.start]
        if self.cue("compare") or self.cue("growth") or "member_versus" in self.found \
                or not re.fullmatch(r"\s*(?:,\s*)?(?:and|plus|\+|&)\s*(?:in\s+|for\s+)?", joined, re.I):
            return None
        after = self.text[second.end:]
        if not (re.match(r"\s*(?:plus|\+)", joined, re.I)
                or re.match(r"\s*,?\s*(?:combined|together|altogether|in\s+total|summed|added\s+(?:up|together)|"
                            r"put\s+together|taken\s+together|as\s+one)\b", after, re.I)
                or re.search(r"\b(?:both|the\s+two)\s+(?:years|quarters|months|periods)\s+(?:combined|together|"
                             r"added\s+up|summed)\b", self.text, re.I)):
            return None
        earlier, later = sorted((one, other), key=lambda w: w.start)
        if (later.start - earlier.end).days > 1:
            raise Problem(f"{earlier.label} and {later.label} have a gap between them, and I add up one unbroken "
                          f"range; ask for each ('{earlier.label} vs {later.label}') or for the range "
                          f"('from {earlier.label} to {later.label}').")
        end = max(earlier.end, later.end)
        return TimeWindow(earlier.start, end, label_for(earlier.start, end), earlier.column)

    def two_periods(self, metrics: tuple[str, ...], later: TimeWindow, earlier: TimeWindow, base: dict[str, Any],
                    fastest: bool, growth: bool = False) -> Intent:
        if (fastest or growth or self.cue("growth")) and later.start < earlier.start:
            later, earlier = earlier, later     # "Q2 vs Q1" or "Q1 vs Q2": growth runs forward in time
        if fastest:
            dims = self.group_dims(1)
            if not dims:
                raise _Incomplete(("dimension",), "Fastest growth among what? e.g. 'which region grew fastest'.")
            one = re.search(r"\b(?:gainer|grower|winner|loser)\b", self.found.get("fastest", "") + " "
                            + self.found.get("slowest", ""), re.I)       # "the top gainer": one
            n = self.numbers[0] if self.numbers else 1 if one else self.counted() or self.default_n()
            order = "asc" if "slowest" in self.found else "desc"
            return Intent(metrics=metrics[:1], operation="top_n", dimensions=dims, time=later, compare_time=earlier,
                          top_n=n, order=order, rank_by="change" if self.absolute else "pct_change", **base)
        if self.grain is not None and all(_one_unit(w, self.grain) for w in (earlier, later)):
            self.grain = None                  # "2002 with 2000, units in each year": the two years' own values
        if self.grain is not None and self.grain != "day_of_week" and not (growth or self.cue("growth")):
            # "sales per month in 2016 and 2017": one series over both, not two totals
            first, second = self.ex.times[0], self.ex.times[-1]
            if not re.fullmatch(r"\s*(?:and|to|through|thru|till|until|-|–|&)\s*(?:in\s+)?",
                                self.text[first.end: second.start], re.I):
                raise _Incomplete(("shape",), f"Per-{self.grain} values of two periods side by side are not "
                                  f"something I can lay out; ask for one series, e.g. '{self.model.label(metrics[0])} "
                                  f"by {self.grain} from {earlier.label} to {later.label}'.")
            span = TimeWindow(min(earlier.start, later.start), max(earlier.end, later.end),
                              f"{earlier.label} to {later.label}", later.column)
            return Intent(metrics=metrics, operation="trend", dimensions=self.group_dims(1), time=span,
                          grain=self.grain, **base)
        op = "growth" if growth or self.cue("growth") else "compare_periods"
        return Intent(metrics=metrics, operation=op, dimensions=self.group_dims(2), time=later,
                      compare_time=earlier, **base)

    def series_span(self, windows: list[tuple[TimeMatch, TimeWindow]]) -> tuple[str, TimeWindow] | None:
        """Two named periods read as the ends of a series: a period-over-period (or growth with a grain)
        from one whole period to another at least two periods later ("year over year from 2014 to 2017")."""
        pop = self.found.get("period_over_period") or (self.grain if self.cue("growth") else None)
        if len(windows) != 2 or pop not in ("month", "quarter", "year") or "fastest" in self.found \
                or "slowest" in self.found:
            return None
        later, earlier = sorted((w for _, w in windows), key=lambda w: w.start, reverse=True)
        if periods_in(later, pop) != 1 or periods_in(earlier, pop) != 1:
            return None
        span = TimeWindow(earlier.start, later.end, label=f"{earlier.label} to {later.label}", column=later.column)
        return (pop, span) if (periods_in(span, pop) or 0) > 2 else None

    def period_series(self, metrics: tuple[str, ...], time: TimeWindow | None, base: dict[str, Any],
                      grain: str | None = None) -> Intent:
        grain = grain or self.grain
        if grain is None:
            raise _Incomplete(("time",), "Growth needs a period, e.g. 'revenue growth in Q1 2024' or 'year over year'.")
        return Intent(metrics=metrics, operation="trend", dimensions=self.group_dims(1), time=time, grain=grain,
                      change=True, **base)

    def growth_base(self, match: tuple[TimeMatch, TimeWindow]) -> TimeWindow:
        m, window = match
        pop = self.found.get("period_over_period")
        if pop in _SHIFT:
            return shift_months(window, _SHIFT[pop])
        if pop == "week":
            return shift_days(window, 7)
        for pattern, months in _SHIFTS:
            if re.search(r"\b(?:" + pattern + r")\b", self.masked, re.I):
                return shift_months(window, months)
        if _WOW.search(self.masked):
            return shift_days(window, 7)
        return previous_period(window, period=m.period)

    def compared_dimension(self) -> str | None:
        # "X and Y each / respectively", "separately", "one row each", "margin for each": each member's own figure
        each = self.separately or re.search(r"\b(?:separately|individually)\b", self.text, re.I) \
            or re.search(r"<filter_value:\w+>\s+(?:each|respectively)\b", self.masked, re.I) \
            or re.search(r"(?:<metric>\s+each|\beach\s+(?:one|of\s+them|of\s+the\s+two)|,\s*each)\b(?!\s+(?:of\s+)?<(?:dimension|grain|noun))",
                         self.masked, re.I) \
            or re.search(r"\bfor\s+each\b(?!\s+(?:of\s+(?:the|our)\s+)?<(?:dimension|grain|noun))", self.masked, re.I) \
            or re.search(r"\bwhich\b[^?]*<filter_value:\w+>[^?]*\band\s+which\b(?:\s+\w+)?\s+<filter_value", self.masked, re.I)
        # "which margin have the Midway stores and which the Fairview stores": each its own; "how did Jewelry and Music do": each member's own figure
        if not (self.cue("compare") or self.cue("more") or self.cue("side_by_side") or "member_versus" in self.found
                or "performance" in self.found or each) or "combine" in self.found:
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

    def group_dims(self, most: int) -> tuple[str, ...]:
        if len(self.dims) > most:
            raise _Incomplete(("dimension",), f"I can split by at most {most} dimension(s) here; "
                              f"the question names {', '.join(self.dims)}.")
        return tuple(self.dims)

    def ranking(self) -> tuple[int, str, str | None] | None:
        top, bottom = self.cue("rank_desc"), self.cue("rank_asc")
        if "loss_rank" in self.found:
            top, bottom = False, True      # the biggest loss is the lowest profit
        if not (top or bottom or self.numbers):
            return None
        if not self.numbers:
            counted = self.counted()
            if counted is not None:
                self.numbers = [counted]
            elif self.cue("sort") or "order" in self.found:
                return None            # "sorted from most to ...": the whole list, sorted
        first = "rank_asc" if "loss_rank" in self.found else \
            next((k for k, _ in self.words.cues if k in ("rank_desc", "rank_asc")), None)
        if first is None and "order" in self.found:   # "the 3 categories, worst one first"
            first = "rank_asc" if self.found["order"] == "asc" else "rank_desc"
        order = "asc" if first == "rank_asc" else "desc"
        grain = None
        if not self.dims:
            g = _TOP_GRAIN.search(self.masked) or _GRAIN_WITH_MOST.search(self.masked)
            if g is None:
                if self.numbers:
                    raise _Incomplete(("dimension",), "Top N of what? e.g. 'top 5 states by revenue'.")
                return None
            word = " ".join((g.group("g") or g.group("g2")).lower().split())
            grain = {"weekday": "day_of_week", "day of the week": "day_of_week"}.get(word, word)
        n = self.numbers[0] if self.numbers else self.default_n()
        if n < 1:
            raise _Incomplete(("number",), "Top N needs N of at least 1.")
        return n, order, grain

    def counted(self) -> int | None:
        """How many members a ranking asks for in words: "the ten products that...", "which three states"."""
        counted = re.search(r"(?<!of\s)(?<!among\s)\b(?:the|our|my|which|what|list)\s+(\d{1,3}|"
                            + "|".join(_COUNT_WORDS) + r")\s+(?:<metric>\s+)?<dimension", self.masked, re.I)
        if re.search(r"\bwhich\s+one\b|\bwho\b", self.text, re.I):
            counted = None             # "of the three segments, which one grew quickest": one
        if counted is not None:
            word = counted.group(1).lower()
            return int(word) if word.isdigit() else _COUNT_WORDS[word]
        words = [w.lower() for k, w in self.words.cues if k == "count_word"]
        if words and words[0] in _COUNT_WORDS and not re.search(r"\b(?:of|among)\s+(?:the\s+|all\s+)?"
                                                                + words[0] + r"\b", self.text, re.I):
            return _COUNT_WORDS[words[0]]
        return None

    def default_n(self) -> int:
        """Top/bottom without a number: 5 for a plural ("top states"), 1 for a singular ("best state",
        "of the three segments, which one")."""
        word = self.dim_slots[0].text.lower() if self.dim_slots else ""
        plural = word.endswith("s") and not word.endswith(("ss", "us", "is"))   # "states"; not "class", "status"
        if plural and self.dim_slots:           # "which states customers bought": "state's" with its apostrophe lost
            slot = self.dim_slots[0]
            after = next((s for s in self.slots if s.start >= slot.end), None)
            plural = not (after is not None and not self.text[slot.end: after.start].strip()
                          and entity_of(after, self.model, self.vocab) is not None)
        # "which one", "who", "which of our stores": one member
        singular_ask = re.search(r"\b(?:which|what)\s+one\b|^\s*who\b|\bwhich\s+of\s+(?:our|the|all|all\s+the|all\s+our|these|those)\s",
                                 self.text, re.I)
        return 5 if plural and not singular_ask else 1

    def bucket_name(self, metrics: tuple[str, ...]) -> str | None:
        """The bucketed measure the question names ("order values", "discounts", "quantity")."""
        lower = self.text.lower()
        named = [name for phrase, name in sorted(self.vocab.bucket_phrases.items(), key=lambda p: -len(p[0]))
                 if re.search(r"(?<![\w-])" + re.escape(phrase) + r"(?![\w-])", lower)]
        if named:
            return named[0]
        subjects = {entity_of(self.slots[i], self.model, self.vocab) for i in self.metric_slots} - {None}
        for name, bucketing in self.lang.buckets.items():
            if bucketing.entity in subjects and bucketing.format == "currency":
                return name
        return None

    def distribution(self, metrics: tuple[str, ...], amounts: list[Slot], time: TimeWindow | None) -> Intent:
        name = self.bucket_name(metrics)
        if name is None:
            raise Problem("Buckets of what? e.g. 'orders by order value: under $50, $50-250 and over $250'.")
        bucketing = self.lang.buckets[name]
        starts = None
        if amounts:
            values = [s.value for s in amounts if isinstance(s.value, Amount)]
            if any(a.unit not in (None, {"currency": "money", "percent": "percent"}.get(bucketing.format, "count"))
                   for a in values):
                raise Problem("The bucket amounts do not match what is bucketed.")
            starts = bucket_starts(values)
        # "distribution" is explained now; the bucket measure's words are part of it.
        return Intent(dataset=self.dataset, metrics=(bucketing.count,), operation="distribution", dimensions=(name,),
                      filters=tuple(self.filters), time=time, buckets=starts)


_COUNT_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
                "twelve": 12, "fifteen": 15, "twenty": 20}
# "... as a percentage of all orders": the whole a counted subset is a share of
_OF_ALL = r"\b(?:rate|percent(?:age)?|share|proportion|fraction|ratio|%)\s+of\s+(?:all\s+)?(?:the\s+)?"
_GRAIN_DAYS = {"year": 365, "quarter": 91, "month": 30, "week": 7, "day": 1, "hour": 1 / 24}


_DISTINCT = frozenset({"unique", "distinct", "different", "individual", "separate"})
_ONE_ROW_EACH = re.compile(r"\b(?:one|a|1)\s+(?:row|line|entry)\s+(?:each|apiece|for\s+each\s+(?:one|of\s+them))\b", re.I)
_TOGETHER_WORDS = r"(?:all\s+|taken\s+|put\s+)?together|altogether|combined|in\s+total|as\s+a\s+whole|in\s+all"
_TOGETHER = re.compile(r"\b(?:" + _TOGETHER_WORDS + r"|overall)\b", re.I)
# Every member of a dimension added up (Router.all_of_them_together); matched at the end of the text before it
_ALL_BEFORE = re.compile(r"(?:\b(?:across|over|for|of|from|at|in)\s+)?\b(?:all|every)\s+(?:single\s+)?(?:(?:of\s+)?(?:the|our)\s+)?$", re.I)
_TOGETHER_AFTER = re.compile(r"\s*,?\s*(?:" + _TOGETHER_WORDS + r"|added\s+up|summed(?:\s+up)?)\b", re.I)
_TOTAL_OVER_ALL = re.compile(r"(?:\b(?:total|sum)\b[^,;.?!]*?\b(?:for|of|from|at|in|across|over)\s+all|\b(?:summed|combined|aggregate)\b"
                             r"[^,;.?!]*?\b(?:for|of|from|at|in|across|over)\s+(?:all|every))\s+(?:(?:of\s+)?(?:the|our)\s+)?$", re.I)
_SUMMED_ACROSS = re.compile(r"\b(?:summed|added\s+up|totall?ed|aggregated|rolled\s+up)\s+(?:across|over)\s+(?:all\s+)?"
                            r"(?:(?:of\s+)?(?:the|our)\s+)?$", re.I)
_RANK_WORDS = re.compile(r"\b(?:top|bottom|best|worst|most|least|highest|lowest|biggest|smallest|largest|fewest|rank\w*|sort\w*"
                         r"|order(?:ed)?\s+by|which\s+one)\b", re.I)
_COLLECTIVE_BEFORE = re.compile(r"\b(?:did|do|does|have|has|had|will|would)\s+(?:all\s+)?(?:the|our)\s+$", re.I)
_REMARK_WORDS = frozenset("""i i'm im me my we our us you your thanks thank please sorry lol haha hope hopefully guess
think suppose believe maybe just ok okay cheers appreciate appreciated hi hello hey morning afternoon evening team
everyone folks guys ta thx tomorrow tonight review meeting call pack deck board retrospective retro planning due
holiday readout read report reporting presentation slides update prep prepping boss manager recap memo email
busy quick question""".split())
# Words that change a number: a sentence holding one is never dropped as a remark ("net, not gross.")
_NEVER_REMARK = frozenset("""not no only net gross excluding exclude excludes except without include includes including
incl median cumulative running rolling unless but per""".split())
# An opening clause that only says when or what for ("before our planning call,", "for my notes:"), when it
# names nothing the question could read; the question follows it.
_PREAMBLE = re.compile(r"^\s*(?:(?:quick\s+one|one\s+more|quick\s+q(?:uestion)?)\s+)?(?:before\s+(?:i|we|our|my|the|a|standup|"
                       r"lunch)\b|for\s+(?:my|our|the|a)\b)[^,;!?]*?(?:,|:(?![^<>]*>)|\s[-–—]{1,2}\s)", re.I)
_CLAUSE_BREAK = re.compile(r"[?!;]|:(?![^<>]*>)|(?<!\d)\.(?!\d)|\s[-–—]{1,2}\s|[()]")


def _one_unit(window: TimeWindow, grain: str) -> bool:
    """The window is one whole period of the grain (a calendar year, quarter or month)."""
    start, end = window.start, window.end
    if grain == "year":
        return (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year
    if grain in ("quarter", "month"):
        months = 3 if grain == "quarter" else 1
        return start.day == 1 and (start.month - 1) % months == 0 and start.year == end.year \
            and end == month_end(start.year, start.month + months - 1)
    return False


def _without_remarks(masked: str, residual: str, slots: Sequence[Slot], verbs: frozenset[int] = frozenset(),
                     ) -> tuple[str, tuple[str, ...], frozenset[int], tuple[tuple[int, int], ...]]:
    """Sentences around the question that say nothing it could read ("thanks so much!", "i'm not sure
    it went up", "i think ohio is one of our bigger ones"): the text without them, the remarks, the
    slots they held (values the question names elsewhere), to be dropped, and where they were.

    A sentence is a remark when it names nothing new (no number, no value the rest of the question
    does not name or group by) and either opens with a hedge ("i think", "not sure", "if it...") or
    has a remark word and no cue. Only when another sentence holds the question; a question of
    remarks alone is left to clarify."""
    remarks, dropped, spans = [], set(), []
    # each slot's placeholder offset in ``masked`` (placeholders keep the slots' order)
    where = dict(zip(sorted(range(len(slots)), key=lambda i: slots[i].start),
                     (m.start() for m in re.finditer(r"<[a-z_]+(?::[a-z_]+)?>", masked))))
    pre = _PREAMBLE.match(masked)
    if pre is not None and "<" in masked[pre.end():]:
        # "before I present the Texas numbers: ... texas customers": why they ask, not what; a value or
        # dimension in it must be one the question names again
        a, b = pre.span()
        inside = [i for i, at in where.items() if a <= at < b]
        rest = [s for i, s in enumerate(slots) if i not in inside]
        if all(_repeats(slots[i], rest) or _regroups(slots[i], rest) for i in inside):
            remarks.append(" ".join(residual[a:b].split()).strip(" ,:;-–—"))
            dropped.update(inside)
            spans.append((a, b))
            residual = residual[:a] + " " * (b - a) + residual[b:]
    bounds = [0, *(m.start() for m in _CLAUSE_BREAK.finditer(masked)), len(masked)]
    pieces = [(a, b) for a, b in zip(bounds, bounds[1:]) if masked[a:b].strip(" ?!;:.-–—()")]
    if len(pieces) < 2 or not any("<" in masked[a:b] for a, b in pieces):
        return residual, tuple(remarks), frozenset(dropped), tuple(spans)
    lex = lexicon()
    held = {n: [i for i, at in where.items() if a <= at < b] for n, (a, b) in enumerate(pieces)}
    for n, (a, b) in enumerate(pieces):
        seg = residual[a:b]
        words = re.findall(r"[A-Za-z][A-Za-z'-]*", seg)
        if not words or re.search(r"\d", seg):
            continue
        others = [slots[i] for m, idx in held.items() if m != n for i in idx]
        hedged = any(p.search(seg.strip(" ?!;:.,-–—()")) for p in lex.phrases["hedge"])
        if not all(_repeats(slots[i], others) or (hedged and (i in verbs or _regroups(slots[i], others)
                                                              or _measured_again(slots[i], others))) for i in held[n]):
            continue                       # "if that makes sense": a hedge's verb is no metric; "i think Books is our
            #                                weakest department for profit - which department made the least profit"
        if not hedged:
            if held[n] or masked[a:b] != seg:
                continue
            if any(w.lower() in lex.cues for w in words) or any(p.search(seg) for p, _ in lex.cue_phrases):
                continue
            if not any(w.lower() in _REMARK_WORDS for w in words) or any(w.lower() in _NEVER_REMARK for w in words):
                continue                   # "(phones, computers)" is not a remark: its words must be read
            if any(p.search(seg) for p in lex.phrases["unit_word"]):
                continue                   # "euros please:" names a unit: it may change the number
        if not any(held[m] for m in held if m != n):
            continue                       # the question itself must be elsewhere
        remarks.append(" ".join(seg.split()).strip(" ?!;:.-–—()"))
        dropped.update(held[n])
        spans.append((a, b))
        residual = residual[:a] + " " * (b - a) + residual[b:]
    return residual, tuple(r for r in remarks if r), frozenset(dropped), tuple(spans)


def _slots_in(m: re.Match[str], masked: str, slots: Sequence[Slot]) -> list[Slot]:
    """The slots whose placeholders a match over the masked question covers (placeholders keep the slots' order)."""
    first = masked[: m.start()].count("<")
    return sorted(slots, key=lambda s: s.start)[first: first + m.group(0).count("<")]


def _calendar_fiscal_years(text: str) -> str:
    """"FY2001", "FY 01", "fiscal year 2001", "fiscal 2001" where the fiscal year is the calendar year: 2001."""
    text = re.sub(r"\b(?:fy|fiscal(?:\s+year)?)\s*'?((?:19|20)\d\d|\d\d)\b",
                  lambda m: m.group(1) if len(m.group(1)) == 4 else _century(m.group(1)), text, flags=re.I)
    return re.sub(r"\s*[,;(]?\s*\b(?:our|the)\s+(?:fy|fiscal\s+year)\s+(?:is|=|equals)\s+the\s+calendar\s+year\s*\)?", "", text,
                  flags=re.I)


def _regroups(slot: Slot, others: Sequence[Slot]) -> bool:
    """A dimension the rest of the question groups by or picks members of ("the store managers ... by store")."""
    return slot.kind == "dimension" and any(
        (o.kind == "dimension" and o.value == slot.value)
        or (o.kind == "filter_value" and isinstance(o.value, Filter) and o.value.dimension == slot.value) for o in others)


def _measured_again(slot: Slot, others: Sequence[Slot]) -> bool:
    """A measure the rest of the question names too."""
    return slot.kind == "metric" and any(o.kind == "metric" and o.value == slot.value for o in others)


def _repeats(slot: Slot, others: Sequence[Slot]) -> bool:
    """A value the rest of the question already names, or of a dimension it groups by."""
    if slot.kind != "filter_value" or not isinstance(slot.value, Filter):
        return False
    return any((o.kind == "filter_value" and o.value == slot.value)
               or (o.kind == "dimension" and o.value == slot.value.dimension) for o in others)


_CONTRASTS: dict[int, re.Pattern[str]] = {}


def _without_contrast(text: str, vocab: Vocabulary) -> tuple[str, tuple[str, ...]]:
    """The question without a measure said only to set it apart from the one asked ("units, not orders",
    "order lines (not orders) were placed", "lines, as distinct from orders, were"): read, not counted."""
    pattern = _CONTRASTS.get(id(vocab.metric_phrases))
    if pattern is None:
        names = "|".join(re.escape(p) for p in sorted(vocab.metric_phrases, key=len, reverse=True))
        pattern = _CONTRASTS[id(vocab.metric_phrases)] = re.compile(
            r"(?:,|\s[-–—]|\s\(|(?<=\w))\s*(?:not|as\s+distinct\s+from|as\s+opposed\s+to|rather\s+than)\s+(?:the\s+)?"
            r"(?:number\s+of\s+)?(?:" + names + r")\s*\)?(?=\s*(?:[,.;?!)]|$|(?:were|was|are|is|did|placed|sold)\b))", re.I)
    said = [m.group(0).strip(" ,-–—()") for m in pattern.finditer(text)]
    return (" ".join(pattern.sub(" ", text).split()), tuple(said)) if said else (text, ())


def _without_presentation(text: str, kept: Sequence[tuple[int, int]] = ()) -> tuple[str, tuple[str, ...]]:
    """The question without "as a table", "in a chart": they say how to show it, not what to count
    (except inside the ``kept`` spans, which a metric's pattern reads)."""
    shown: list[str] = []
    for pattern in lexicon().phrases["presentation"]:
        found = [m for m in pattern.finditer(text) if not any(a < m.end() and m.start() < b for a, b in kept)]
        for m in reversed(found):
            text = text[:m.start()] + " " * (m.end() - m.start()) + text[m.end():]
        shown += [m.group(0) for m in found]
    return (" ".join(text.split()), tuple(shown)) if shown else (text, ())


def _constructions(masked: str, skip: tuple[str, ...] = ()) -> tuple[dict[str, str], str]:
    """The lexicon's phrases found in ``masked`` (name -> what they set) and the text without them."""
    found: dict[str, str] = {}
    phrases = lexicon().phrases
    residual = masked
    for name in ("order_asc", "order_desc", "period_over_period", "fastest", "slowest", "member_versus",
                 "performance", "combine", "amount_verb", "pronoun_one", "date_column", "bucket_label",
                 "both_metrics", "one_entity", "slash", "agent_by", "used_member", "member_noun", "single_total",
                 "loss_rank", "loss_total", "declined_split"):
        if name in skip:
            continue
        for pattern in phrases[name]:
            for m in list(pattern.finditer(residual)):
                if not m.group(0).strip():
                    continue
                if name.startswith("order_"):
                    found.setdefault("order", name[len("order_"):])
                elif name == "period_over_period":
                    found[name] = _GRAINS[m.group("g").lower()]
                else:
                    found[name] = m.group(0)
                a, b = m.span("noun") if "noun" in pattern.groupindex else m.span()   # only the noun goes
                residual = residual[:a] + " " * (b - a) + residual[b:]
    return found, residual


def _with_years(windows: list[tuple[TimeMatch, TimeWindow]]) -> list[tuple[TimeMatch, TimeWindow]]:
    """Periods named without a year take the year the question gives: "from Q1 to Q2 2016" is Q1 2016
    to Q2 2016, "Q1 vs Q2 in 2015" puts both in 2015 (the year then only qualifies them), and "Q1
    revenue, 2024 vs 2023" is Q1 2024 vs Q1 2023, "Q2 this year vs Q2 last year" pairs each period with
    the year after it."""
    yearless = [i for i, (m, _) in enumerate(windows) if m.yearless is not None]
    if not yearless:
        return windows
    dated = [i for i in range(len(windows)) if i not in yearless and windows[i][0].anchor == "as_of"]
    years = [windows[i][1].start.year for i in dated if windows[i][1].start.year == windows[i][1].end.year]
    whole_years = [i for i in dated if windows[i][0].period == "year"]
    if (len(yearless) == len(whole_years) >= 2 and len(dated) == len(whole_years)
            and all(y == i + 1 for i, y in zip(yearless, whole_years))):
        # "Q2 this year vs Q2 last year": each period takes the year right after it
        return [(windows[i][0], _in_year(windows[i][1], windows[i][0].yearless, windows[y][1].start.year))
                for i, y in zip(yearless, whole_years)]
    if len(yearless) == 1 and len(whole_years) >= 2 and len(dated) == len(whole_years):
        m = windows[yearless[0]][0]
        return [(m, _in_year(windows[yearless[0]][1], m.yearless, windows[i][1].start.year)) for i in whole_years]
    if len(set(years)) != 1:
        return windows
    year = years[0]
    out = []
    for i, (m, window) in enumerate(windows):
        if i in whole_years:
            continue                         # the year only says which year the others are in
        if m.yearless is not None:
            window = _in_year(window, m.yearless, year)
        out.append((m, window))
    return out


def _in_year(window: TimeWindow, yearless: tuple[str, int], year: int) -> TimeWindow:
    from assistant.periods import label_for, month_bounds, quarter_bounds, half_bounds

    kind, number = yearless
    if kind == "months":                 # "Jan-Mar": first month * 100 + last month
        bounds = (month_bounds(year, number // 100)[0], month_bounds(year, number % 100)[1])
    else:
        bounds = {"month": month_bounds, "quarter": quarter_bounds, "half": half_bounds}[kind](year, number)
    return TimeWindow(bounds[0], bounds[1], label_for(*bounds), window.column)


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

