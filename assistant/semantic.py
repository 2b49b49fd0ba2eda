"""The semantic tier: answer a paraphrase by re-binding a verified neighbour's intent template.

``remember`` stores, per answered question, the *masked* question (slot spans replaced by
placeholders such as ``<filter_value:state>``), the question's intent as a template and the
template's slots. ``match`` masks a new question, finds the most similar remembered question
with the same multiset of slot kinds, and re-binds the template to the new question's slot
values with ``assistant.slots.rebind``. So "revenue in Texas in March 2024" answers "What were
sales in Ohio for April 2023?" as Ohio / April 2023 (never Texas / March), and "revenue growth
in Texas in 2024" answers "how has revenue grown in Ohio in 2023", which the rules reject.

Safety rules:
- a neighbour whose slots cannot be re-bound one to one is never used;
- only ``verified`` templates answer (proposed ones, e.g. from an LLM, are stored but filtered);
- the index stores no numbers, and ``match`` returns an ``Intent``, never an answer: the numbers
  always come from executing the re-bound intent (or the exact cache keyed by it);
- a neighbour must carry the same operation cues ("top" vs "bottom", "share", "yoy"...), and a
  compare period it derived must carry over to the new question's kind of period;
- any failure of the index or the embedding model skips the tier (``None`` and a warning).
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
import hashlib
import json
import logging
import re
import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.intent import Filter, Intent, TimeWindow
from assistant.periods import previous_period
from assistant.rebind import rebind
from assistant.slots import Slot, mask
from assistant.timewindow import find_windows

if TYPE_CHECKING:
    from assistant.embeddings import Embedder
    from assistant.vector_index import VectorIndex
    from retail_insights.settings import Settings

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1  # bump when the stored template format changes; old entries are then ignored


@dataclass(frozen=True)
class SemanticMatch:
    intent: Intent          # the neighbour's template re-bound to this question's slot values
    neighbour: str          # the remembered question that matched, as it was asked
    similarity: float       # cosine similarity of the two masked questions


class SemanticMatcher:
    """Finds a verified, re-bindable neighbour for a question the rules could not parse."""

    def __init__(
        self,
        *,
        index_for: Callable[[str], VectorIndex],
        embedder: Embedder,
        min_similarity: float = 0.80,
        k: int = 5,
    ) -> None:
        self._index_for = index_for
        self._indexes: dict[str, VectorIndex] = {}
        self._embedder = embedder
        self.min_similarity = min_similarity
        self.k = k
        self._lock = threading.Lock()
        # match() then remember() embed the same masked question; keep recent vectors.
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        # Entry ids this matcher has stored: the first template of a phrasing is as good as any
        # later one (same masked text, same slot kinds), so later ones are not rewritten.
        self._stored: set[str] = set()

    @classmethod
    def from_settings(cls, settings: Settings, *, embedder: Embedder | None = None) -> SemanticMatcher:
        from assistant.embeddings import get_embedder
        from assistant.vector_index import build_index

        return cls(
            index_for=lambda dataset: build_index(settings, dataset),
            embedder=embedder or get_embedder(),
            min_similarity=settings.vector.min_similarity,
        )

    def warm(self, dataset: str) -> None:
        """Load the embedding model and open the dataset's index now, not on a user's question."""
        self._index(dataset)
        self._vector("how much revenue")

    def match(self, question: str, slots: tuple[Slot, ...], *, dataset: str,
              words: tuple[str, ...] = ()) -> SemanticMatch | None:
        """The best verified neighbour re-bound to ``slots``; None when none is close enough.

        ``question`` is the normalized text the slot offsets refer to. ``words`` are the words the
        rules could not account for ("median", "net", "blossomed"): a neighbour is used only when it
        was verified with every one of them, so a word that could change the numbers is never
        papered over by a similar-looking question without it.
        """
        masked = mask(question, slots)
        try:
            neighbours = self._index(dataset).query(
                self._vector(masked), k=self.k, filter=_filter(dataset, masked, slots, verified=True))
        except Exception as exc:  # the tier is optional: any backend or model failure skips it
            log.warning("Semantic tier skipped for %r: %s: %s", question, type(exc).__name__, exc)
            return None
        for neighbour in neighbours:
            if neighbour.score < self.min_similarity:
                break  # best first: the rest are further away
            template = _template(neighbour.metadata)
            if template is None or not _says_all(str(neighbour.metadata.get("question", "")), words):
                continue
            intent, template_slots = template
            rebound = rebind(intent, template_slots, slots)
            if rebound is not None and _same_comparison(intent, template_slots, slots, rebound):
                return SemanticMatch(rebound, str(neighbour.metadata.get("question", "")),
                                     neighbour.score)
        return None

    def remember(self, question: str, slots: tuple[Slot, ...], intent: Intent, *, dataset: str,
                 verified: bool = True) -> None:
        """Store ``intent`` as the template for ``question``'s masked form (best effort)."""
        masked = mask(question, slots)
        # One entry per (masked question, slot kinds, verified): paraphrases that differ only
        # in slot values share it, so the index grows with phrasings, not with questions.
        keys = _filter(dataset, masked, slots, verified=verified)
        digest = hashlib.sha256(json.dumps([masked, keys], sort_keys=True).encode()).hexdigest()[:32]
        if digest in self._stored:
            return
        metadata = {
            **keys,
            "question": question,
            "masked": masked,
            "intent": json.dumps(intent.to_dict(), sort_keys=True),
            "slots": json.dumps([slot_to_dict(s) for s in slots], sort_keys=True),
        }
        try:
            self._index(dataset).upsert(digest, self._vector(masked), metadata)
            self._stored.add(digest)
        except Exception as exc:  # remembering must never fail an answer already computed
            log.warning("Semantic tier could not remember %r: %s: %s",
                        question, type(exc).__name__, exc)

    def _index(self, dataset: str) -> VectorIndex:
        with self._lock:
            if dataset not in self._indexes:
                self._indexes[dataset] = self._index_for(dataset)
            return self._indexes[dataset]

    def _vector(self, masked: str) -> np.ndarray:
        with self._lock:
            if masked in self._vectors:
                self._vectors.move_to_end(masked)
                return self._vectors[masked]
        vector = self._embedder.embed([masked])[0]
        with self._lock:
            self._vectors[masked] = vector
            while len(self._vectors) > 256:
                self._vectors.popitem(last=False)
        return vector


def slot_signature(slots: Sequence[Slot]) -> str:
    """The multiset of slot kinds as one comparable string, e.g. ``"filter_value:state|metric|time"``.

    Kinds are split the way ``rebind`` pairs slots: a filter value by its dimension (a state only
    re-binds to a state) and a time by window vs grain (``time:grain`` for "monthly").
    """
    kinds: Counter[str] = Counter()
    for slot in slots:
        if slot.kind == "filter_value" and isinstance(slot.value, Filter):
            kinds[f"filter_value:{slot.value.dimension}"] += 1
        elif slot.kind == "time" and isinstance(slot.value, str):
            kinds["time:grain"] += 1
        else:
            kinds[slot.kind] += 1
    return "|".join(sorted(kinds.elements()))


# Words outside the slots that flip the operation or its direction. The embedding of a short
# masked question barely moves between "top <number> <dimension> by <metric>" and "bottom ...",
# or between "<metric> by <dimension>" and "share of <metric> by <dimension>" (cosine ~0.9), yet
# re-binding one to the other would give a wrong answer. So a neighbour must carry the same cues.
_CUES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(r"(?<![\w<])(?:" + pattern + r")(?![\w>])", re.I)) for name, pattern in (
        ("asc", r"bottom|worst|lowest|least|smallest|fewest|weakest|poorest|slowest|min(?:imum)?"),
        ("desc", r"top|best|highest|most|largest|biggest|greatest|leading|strongest|max(?:imum)?"),
        ("share", r"share|shares|percent|percentage|proportion|fraction|contribution|mix"),
        ("change", r"growth|grow|grew|grown|growing|increase[ds]?|decrease[ds]?|declined?|declines"
                   r"|change[ds]?|drop(?:ped)?|rise|rose|yoy|mom|year[- ]over[- ]year"),
        # An explicit shift decides the other period of a growth question, so it must match too.
        ("yoy", r"yoy|year[- ]over[- ]year|vs\s+last\s+year|annual\s+growth"),
        ("qoq", r"qoq|quarter[- ]over[- ]quarter"),
        ("mom", r"mom|month[- ]over[- ]month"),
        ("wow", r"wow|week[- ]over[- ]week"),
        ("compare", r"compare[ds]?|comparison|comparing|vs|versus|against|relative\s+to"),
        ("trend", r"trends?|trending|over\s+time|evolution|evolved?"),
        ("distribution", r"distribution|distributed|histogram|spread|buckets?"),
        ("average", r"average|avg|mean|typical"),
        ("negation", r"not|excluding|exclude|except|without|other\s+than|outside|besides"),
    ))


def operation_cues(masked: str) -> str:
    """The cue classes present outside the slots, e.g. ``"desc"`` for "top <number> ..."."""
    text = masked.replace("%", " percent ")
    return "|".join(name for name, pattern in _CUES if pattern.search(text))


def _filter(dataset: str, masked: str, slots: Sequence[Slot], *, verified: bool) -> dict[str, Any]:
    return {"dataset": dataset, "slot_kinds": slot_signature(slots), "cues": operation_cues(masked),
            "verified": verified, "schema": SCHEMA_VERSION}


def _same_comparison(template: Intent, template_slots: Sequence[Slot], new_slots: Sequence[Slot],
                     rebound: Intent) -> bool:
    """False when a compare period the template derived may not carry over to the new question.

    "Growth this month" compares with the same days of last month, "growth this year" with the
    same days of last year: on January 15th both main windows are January 1-15, so only the kind
    of period the phrase named tells which shift is right. A derived compare window therefore
    re-binds only between phrases naming the same kind of period (month to month, quarter to
    quarter), and a "previous period" must still be the previous period afterwards. Such a
    neighbour is skipped rather than trusted.
    """
    t, c = template.time, template.compare_time
    if t is None or c is None or rebound.time is None or rebound.compare_time is None:
        return True
    named = {_span(s.value) for s in template_slots if isinstance(s.value, TimeWindow)}
    if _span(c) in named:
        return True  # both periods were named in the question: nothing was derived
    if _period_kinds(template_slots) != _period_kinds(new_slots):
        return False
    if _span(previous_period(t)) != _span(c):
        return True  # a fixed shift (year over year) re-applies as is
    return _span(previous_period(rebound.time)) == _span(rebound.compare_time)


def _period_kinds(slots: Sequence[Slot]) -> list[str | None]:
    """The calendar period each time window phrase names ("March 2024" -> month), in order."""
    kinds = []
    for slot in slots:
        if isinstance(slot.value, TimeWindow):
            found = find_windows(slot.text, as_of=slot.value.end, ranges=False)
            kinds.append(found[0].period if len(found) == 1 else None)
    return kinds


def _span(window: TimeWindow) -> tuple[date, date]:
    return window.start, window.end


def _template(metadata: dict[str, Any]) -> tuple[Intent, tuple[Slot, ...]] | None:
    try:
        intent = Intent.from_dict(json.loads(metadata["intent"]))
        slots = tuple(slot_from_dict(s) for s in json.loads(metadata["slots"]))
    except (KeyError, TypeError, ValueError) as exc:
        log.warning("Ignoring an unreadable semantic template: %s: %s", type(exc).__name__, exc)
        return None
    return intent, slots


def _says_all(question: str, words: tuple[str, ...]) -> bool:
    said = set(re.findall(r"[a-z0-9%'-]+", question.lower()))
    return all(w.lower() in said for w in words)


def slot_to_dict(slot: Slot) -> dict[str, Any]:
    """A slot as JSON-able data (the stored template's slots); inverse of ``slot_from_dict``."""
    value = slot.value
    if isinstance(value, Filter):
        encoded: dict[str, Any] = {"filter": {"dimension": value.dimension,
                                              "values": list(value.values), "negate": value.negate}}
    elif isinstance(value, TimeWindow):
        encoded = {"time": {"start": value.start.isoformat(), "end": value.end.isoformat(),
                            "label": value.label, "column": value.column}}
    else:
        encoded = {"plain": value}  # a metric or dimension name, or a number
    return {"kind": slot.kind, "text": slot.text, "start": slot.start, "end": slot.end, **encoded}


def slot_from_dict(data: dict[str, Any]) -> Slot:
    if "filter" in data:
        raw = data["filter"]
        value: object = Filter(raw["dimension"], tuple(raw["values"]), bool(raw["negate"]))
    elif "time" in data:
        raw = data["time"]
        value = TimeWindow(date.fromisoformat(raw["start"]), date.fromisoformat(raw["end"]),
                           raw["label"], raw["column"])
    else:
        value = data["plain"]
    return Slot(kind=data["kind"], text=data["text"], start=data["start"], end=data["end"],
                value=value)
