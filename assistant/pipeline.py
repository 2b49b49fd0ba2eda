"""The question pipeline: ``Assistant.answer(question, dataset=, as_of=, conversation_id=) -> Answer``.

Order of tiers (cheapest first, numbers always from the warehouse or from a cache keyed by the
exact intent and data version):

1. normalize and check the question (empty or too long: refused);
2. with a ``conversation_id`` whose last answer is known, a follow-up ("and for 2022?") is read as an
   edit of that answer's intent (``assistant.followup``); otherwise ``Router.parse``: rules over the
   semantic model, about a millisecond;
3. a complete intent -> exact cache (L1 in-process, L2 Redis) by ``dataset:data_version:intent``;
4. otherwise the semantic tier re-binds a verified neighbour's intent -> the cache by that intent;
5. otherwise the LLM tier, if one is configured (``llm``: ``assistant.llm.stage.LLMStage``), which writes,
   guards and runs its own SQL and returns its answer (answered, clarify or refused) directly;
6. otherwise ``clarify`` with what was understood and rephrasings: never a guessed number;
7. compile to SQL over the smallest view that answers, execute, write the sentence and the chart;
8. put the answer in the cache, remember a rules-answered question for the semantic tier, and keep
   the intent as the conversation's last answer.

The cache is keyed by the routed intent, so the rules run before the cache: a paraphrase of a cached
question is a cache hit, and a cached answer is never served for words the rules would read
differently. Every stage is injected (see ``assistant.factory.build_assistant``); the cache, the
semantic matcher, the LLM and the conversation store may be None.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
import logging
import re
import time
from typing import TYPE_CHECKING, Any, Protocol
import uuid

from assistant.answer import Answer, Status, Tier, jsonable
from assistant.charts import chart_for
from assistant.compiler import CompiledQuery, Compiler
from assistant.execute import QueryRunner
from assistant.conversation import ConversationStore, MemoryConversations, Turn, new_conversation_id
from assistant.followup import FollowUp, markers, metric_only, reads_as_follow_up
from assistant.intent import Filter, Intent
from assistant.normalize import normalize
from assistant.readings import ReadingMemo
from assistant.refresh import WARM_INTENTS, HotIntents, VersionSwitch
from assistant.router import Route, Router
from assistant.sentence import sentence
from assistant.slots import Slot
from assistant.suggestions import clarification, suggestions_for
from assistant.vocabulary import Vocabulary, closed_vocabulary
from retail_insights.errors import RetailError, UsageError
from warehouse.spec import load_dataset

if TYPE_CHECKING:
    from assistant.cache import CacheHit
    from assistant.semantic import SemanticMatch

log = logging.getLogger(__name__)
MAX_QUESTION_CHARS = 500
LOST_KEPT = 5   # unanswered messages a conversation remembers after its last answer
_POINTS_BACK = re.compile(r"\b(?:is|was|are|were|did|does|has|had)\s+(?:that|it|this)\b", re.I)   # "is that up?"
# "ok, the west then", "never mind, bottom 3": the user read a clarification and moves on from it
_MOVES_ON = re.compile(r"^\W*(?:ok(?:ay)?|fine|alright|all\s+right|never\s*mind|nvm|forget\s+(?:it|that)|no\s+worries|"
                       r"got\s+it|sure|understood)\b|\bthen\W*$", re.I)
# "undo that", "scratch that": the answer before the last one, again
_UNDO = re.compile(r"\W*(?:(?:no|oops|sorry|ok(?:ay)?)[\s,!.]+)?(?:undo(?:\s+(?:that|it|this|taht|tht|the\s+last\s+(?:one|change)))?"
                   r"|scratch\s+that|revert(?:\s+(?:that|it))?|go\s+back(?:\s+to\s+(?:the\s+)?(?:previous|last|one)\s+"
                   r"(?:one|answer|version))?|take\s+that\s+back)\W*", re.I)
# "go back to the first one", "the original question again": the conversation's first answer
_FIRST_AGAIN = re.compile(
    r"\W*(?:(?:ok(?:ay)?|now|and|so|pls|please|hmm+)[\s,!.]+)*(?:(?:(?:let'?s|can\s+we|could\s+we|can\s+you)\s+)?"
    r"(?:go\s+back|back|return|revert|switch\s+back|get\s+back)\s+to\s+(?:the\s+|my\s+)?(?:very\s+)?(?:first|original|initial"
    r"|opening)(?:\s+(?:one|question|answer|query|view|table|breakdown|list|numbers?|ask))?"
    r"|(?:the\s+|my\s+)?(?:very\s+)?(?:first|original|initial)\s+(?:question|query|answer|view|ask)\s+again"
    r"|(?:the\s+)?original(?:\s+one)?\s+again)(?:\s+(?:again|please|pls))*\W*", re.I)
# "what was their total", "how many of them": words that lean on an earlier answer
_REFERS_BACK = re.compile(r"\b(?:their|them|those|these|they|its|it|that|the\s+same)\b", re.I)


class LLMTier(Protocol):
    """The LLM tier's slot (``assistant.llm.stage.LLMStage``): its result has ``to_answer`` and ``answer_id``."""

    def answer(self, question: str, *, dataset: str, as_of: date, route: Route) -> Any: ...


class AnswerCache(Protocol):
    """The exact cache's slot (``assistant.cache.ExactCache``)."""

    def get(self, key: str) -> CacheHit | None: ...

    def put(self, key: str, answer: dict[str, Any]) -> None: ...

    def claim(self, key: str) -> bool: ...


class SemanticTier(Protocol):
    """The semantic tier's slot (``assistant.semantic.SemanticMatcher``)."""

    def match(self, question: str, slots: tuple[Slot, ...], *, dataset: str,
              words: tuple[str, ...] = ()) -> SemanticMatch | None: ...

    def remember(self, question: str, slots: tuple[Slot, ...], intent: Intent, *, dataset: str,
                 verified: bool = True) -> None: ...


@dataclass(frozen=True)
class _Reading:
    """How a question was read: the route, and the intent from the rules, a follow-up or a neighbour."""

    route: Route
    intent: Intent | None
    tier: Tier = "metadata"
    neighbour: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)     # ignored words, follow-up, assumptions


@dataclass(frozen=True)
class Prepared:
    """A question checked, read and looked up; ``answer`` is set when nothing more is needed."""

    base: dict[str, Any]                # question, dataset, as_of, conversation_id of the answer
    started: float
    as_of: date
    version: int | None
    reading: _Reading | None
    previous: Turn | None               # the conversation's last answer, when it is a follow-up
    text: str                           # the normalized question
    key: str | None                     # the cache key (``dataset:version:intent``) when an intent was read
    answer: Answer | None = None

    @property
    def done(self) -> bool:
        return self.answer is not None


def too_long(question: str, *, max_chars: int) -> str | None:
    """Why ``question`` is too long, or None: the one length rule (the HTTP API answers it with 422)."""
    if len(question) <= max_chars:
        return None
    return (f"The question has {len(question)} characters; the limit is {max_chars} (llm.max_question_chars). "
            "Shorten it.")


def check_question(question: str, *, max_chars: int) -> str:
    """The normalized question, or ``UsageError`` naming what is wrong (the one place this is checked)."""
    text = normalize(question or "")
    if not text:
        raise UsageError("The question is empty.", hint="Fix: ask about a metric, e.g. 'revenue last month'.")
    problem = too_long(text, max_chars=max_chars)
    if problem is not None:
        raise UsageError(problem, hint="Fix: ask one thing at a time.")
    return text


class Assistant:
    """Answers questions about one of the datasets; stages are injected, all optional but the runner."""

    def __init__(
        self,
        *,
        runner_for: Callable[[str], QueryRunner],
        data_version: Callable[[str], int | None],
        vocabulary_for: Callable[[str, int | None], Vocabulary] | None = None,
        router: Router | None = None,
        compiler: Compiler | None = None,
        cache: AnswerCache | None = None,
        semantic: SemanticTier | None = None,
        llm: LLMTier | None = None,
        conversations: ConversationStore | None = None,
        max_question_chars: int = MAX_QUESTION_CHARS,
        clock: Callable[[], float] = time.perf_counter,
        refresh_ahead: bool = False,
        scope: Callable[[str, int | None, Intent], int | None] | None = None,
    ) -> None:
        self.runner_for = runner_for
        self.data_version = data_version
        self.vocabulary_for = vocabulary_for or (lambda dataset, version: closed_vocabulary(dataset))
        self.router = router or Router()
        self.compiler = compiler or Compiler()
        self.cache, self.semantic, self.llm = cache, semantic, llm
        self.conversations: ConversationStore = conversations or MemoryConversations()
        self.follow_up = FollowUp()
        self.readings: ReadingMemo[_Reading] = ReadingMemo()   # questions outside a conversation, read once
        self._places: dict[tuple[Any, ...], dict[str, list[str]]] = {}   # (dataset, version, level, above, filter)
        self.max_question_chars = max_question_chars
        self.clock = clock
        # The version an answer is cached under: the table's data version, or (assistant.scope) that of
        # the months the intent reads, so a load of new months keeps the answers about older ones.
        self.scope = scope or (lambda dataset, version, intent: version)
        # The HTTP service warms a new data version in the background and bridges its first second
        # (assistant.refresh); one-shot callers (CLI, tests) compute on demand.
        self.hot = HotIntents() if refresh_ahead else None
        self.switch = VersionSwitch(self._warm_version) if refresh_ahead else None

    def answer(self, question: str, *, dataset: str, as_of: date | None = None,
               conversation_id: str | None = None) -> Answer:
        """The answer to ``question`` (a follow-up of ``conversation_id``'s last answer when given)."""
        return self.complete(self.prepare(question, dataset=dataset, as_of=as_of, conversation_id=conversation_id))

    def prepare(self, question: str, *, dataset: str, as_of: date | None = None,
                conversation_id: str | None = None) -> Prepared:
        """The cheap part: check the question, read it, and look its intent up in the cache.

        A refusal or a cached answer comes back done (``Prepared.answer``); anything else is left for
        ``complete``, which the HTTP service runs in its bounded pool for cold work.
        """
        started = self.clock()
        load_dataset(dataset)      # an unknown dataset is a UsageError naming the known ones
        as_of = as_of or datetime.now(timezone.utc).date()
        conversation = conversation_id or new_conversation_id()
        base = dict(question=question, dataset=dataset, as_of=as_of.isoformat(), conversation_id=conversation)
        try:
            text = check_question(question, max_chars=self.max_question_chars)
        except UsageError as exc:
            refused = self._finish(Answer(status="refused", answer=str(exc.args[0]).split(" Fix:")[0], **base), started)
            return Prepared(base, started, as_of, None, None, None, "", None, refused)
        version = self.data_version(dataset)
        vocabulary = self.vocabulary_for(dataset, version)
        previous = self.conversations.get(conversation) if conversation_id else None
        if previous is not None and previous.dataset != dataset:
            previous = None
        bridge = self.switch.bridge(dataset, version) if self.switch is not None else None
        if previous is None:
            reading = self.readings.read(text, dataset, as_of, vocabulary,
                                         lambda: self._read(text, dataset, as_of, vocabulary, None))
        else:
            reading = self._read(text, dataset, as_of, vocabulary, previous)
        intent_key = reading.intent.canonical_key() if reading.intent is not None else None
        key = self._key(dataset, version, reading.intent, intent_key) if intent_key is not None else None
        prepared = Prepared(base, started, as_of, version, reading, previous, text, key, None)
        if intent_key is not None and self.hot is not None:
            self.hot.note(dataset, intent_key, reading.intent)
        cached = self._cache_get(key, version) if key is not None else None
        if cached is None and bridge is not None and intent_key is not None:
            # the previous version's answer, saying its own data version
            cached = self._cache_get(self._key(dataset, bridge, reading.intent, intent_key), bridge)
        if cached is None:
            return prepared
        cached = cached.with_(**base, neighbour=reading.neighbour, bytes_read=0, rows_read=0)
        return replace(prepared, answer=self._done(prepared, cached))

    def complete(self, prepared: Prepared) -> Answer:
        """The rest: the semantic tier, the LLM, a clarification, or the query; then cache and conversation."""
        if prepared.answer is not None:
            return prepared.answer
        reading, base = prepared.reading, prepared.base
        assert reading is not None
        dataset = base["dataset"]
        if reading.intent is None and self.semantic is not None and "follow_up" not in reading.extras:
            match = self._semantic_match(reading.route, dataset)
            if match is not None:
                reading = replace(reading, intent=match.intent, tier="semantic", neighbour=match.neighbour)
                prepared = replace(prepared, reading=reading,
                                   key=self._key(dataset, prepared.version, match.intent))
                cached = self._cache_get(prepared.key, prepared.version)
                if cached is not None:
                    return self._done(prepared, cached.with_(**base, neighbour=match.neighbour, bytes_read=0,
                                                             rows_read=0))
        if reading.intent is None and self.llm is not None and "follow_up" not in reading.extras:
            reply = self.llm.answer(prepared.text, dataset=dataset, as_of=prepared.as_of, route=reading.route)
            return self._finish(reply.to_answer(**base, data_version=prepared.version), prepared.started,
                                answer_id=reply.answer_id)
        if reading.intent is None or prepared.key is None:
            self._lost(prepared)
            return self._finish(self._clarify(reading, base), prepared.started)
        result = self._run(reading.intent, base, tier=reading.tier, version=prepared.version,
                           neighbour=reading.neighbour)
        if result.status == "answered":
            self._cache_put(prepared.key, result)
            if reading.tier == "metadata" and self.semantic is not None and "follow_up" not in reading.extras:
                self._remember(reading.route, reading.intent, dataset)
        return self._done(prepared, result)

    def flight_key(self, prepared: Prepared) -> str | None:
        """What identical questions in flight may share (``assistant.http.coldpool``): the intent's cache
        key, else the words when no earlier answer shapes their reading; None when nothing may be shared."""
        if prepared.key is not None:
            return prepared.key
        if prepared.previous is None and prepared.reading is not None:
            return f"{prepared.base['dataset']}:{prepared.version}:words:{prepared.text}"
        return None

    def share(self, prepared: Prepared, answer: Answer) -> Answer:
        """This request's answer from an identical request's computation (it read nothing itself)."""
        rebased = answer.with_(**prepared.base, bytes_read=0, rows_read=0)
        if prepared.reading is not None and prepared.reading.intent is not None and answer.status == "answered":
            return self._done(prepared, rebased.with_(neighbour=prepared.reading.neighbour))
        return self._finish(rebased, prepared.started)

    def _done(self, prepared: Prepared, result: Answer) -> Answer:
        """Keep an answered intent as the conversation's last answer; say how the question was read."""
        reading = prepared.reading
        assert reading is not None and reading.intent is not None
        if result.status == "answered":
            previous = prepared.previous
            earlier = previous.intent if previous is not None else None
            first = (previous.first or previous.intent) if previous is not None else None
            self.conversations.put(prepared.base["conversation_id"],
                                   Turn(prepared.base["dataset"], prepared.base["question"], reading.intent, earlier,
                                        _members(reading.intent, result), first=first or reading.intent))
        else:
            self._lost(prepared)
        return self._finish(_with_reading(result, reading), prepared.started)

    def _lost(self, prepared: Prepared) -> None:
        """Remember that this message went unanswered, after the last answer it could have edited."""
        base, previous = prepared.base, prepared.previous
        # Messages lost one after another are all kept ("$ not units", then "by seg"), the last few
        lost = (*(previous.lost if previous is not None else ())[-(LOST_KEPT - 1):], base["question"])
        turn = replace(previous, lost=lost) if previous is not None else \
            Turn(base["dataset"], base["question"], None, lost=lost)
        self.conversations.put(base["conversation_id"], turn)

    def _warm_version(self, dataset: str, version: int | None) -> None:
        """Load a new data version's values and cache its most asked intents (``assistant.refresh``)."""
        assert self.hot is not None
        self.vocabulary_for(dataset, version)
        base = dict(question="", dataset=dataset, as_of=datetime.now(timezone.utc).date().isoformat(),
                    conversation_id="")
        claimed_elsewhere = []
        for intent in self.hot.top(dataset, WARM_INTENTS):
            key = self._key(dataset, version, intent)
            if self._cache_get(key, version) is not None:
                continue
            if self.cache is not None and not self.cache.claim(key):
                claimed_elsewhere.append((key, intent))   # another worker computes it, into L2
                continue
            self._warm_one(key, intent, base, version)
        for key, intent in claimed_elsewhere:             # its answer, or ours if it has not come yet
            if self._cache_get(key, version) is None:
                self._warm_one(key, intent, base, version)

    def _warm_one(self, key: str, intent: Intent, base: dict[str, Any], version: int | None) -> None:
        result = self._run(intent, base, tier="metadata", version=version, neighbour=None)
        if result.status == "answered":
            self._cache_put(key, result)

    # --- stages -------------------------------------------------------------------------------------
    def _read(self, text: str, dataset: str, as_of: date, vocabulary: Vocabulary, previous: Turn | None) -> _Reading:
        if previous is not None and _UNDO.fullmatch(text) and previous.earlier is not None and not previous.lost:
            # "undo that": the answer before the last one, again
            route = self.router.parse(text, dataset=dataset, as_of=as_of, vocabulary=vocabulary)
            return _Reading(route, previous.earlier, extras={"follow_up": {"of": previous.question, "changed": ["undo"],
                                                                           "carried_over": []}})
        if previous is not None and previous.first is not None and _FIRST_AGAIN.fullmatch(text):
            # "go back to the first one": the conversation's first answer, again
            route = self.router.parse(text, dataset=dataset, as_of=as_of, vocabulary=vocabulary)
            return _Reading(route, previous.first, extras={"follow_up": {"of": previous.question,
                                                                         "changed": ["back to the first"],
                                                                         "carried_over": []}})
        if previous is not None and previous.lost:
            return self._after_lost(text, dataset, as_of, vocabulary, previous)
        if previous is not None and previous.intent is not None:
            marked = markers(text)
            two = False if previous.intent.compare_time is not None else None   # "and from 2015 to 2016"
            route = self.router.parse(marked.text, dataset=dataset, as_of=as_of, vocabulary=vocabulary, ranges=two)
            if reads_as_follow_up(route, marked):
                edit = self.follow_up.edit(previous.intent, route, marked, earlier=previous.earlier,
                                           members=previous.members)
                extras = {"follow_up": {"of": previous.question,
                                        "changed": list(edit.changed) if edit else [],
                                        "carried_over": list(edit.carried) if edit else []}}
                if edit is None:
                    route = replace(route, reason="I could not read this as a change to the last question; "
                                    "ask it in full.", complete=False, intent=None)
                    return _Reading(route, None, extras=extras)
                own = {k: v for k, v in route.interpretation().items() if k != "assumed"}   # the metric carries over
                return _Reading(route, _by_speed(edit.intent, text), extras={**own, **extras})
        route = self.router.parse(text, dataset=dataset, as_of=as_of, vocabulary=vocabulary)
        if route.intent is not None and route.defaulted_metric and (markers(text).found or _POINTS_BACK.search(text)):
            # "and for 2017?" with no conversation to follow: say so rather than guess the metric
            route = replace(route, complete=False, intent=None, missing=("conversation",),
                            reason="This reads as a follow-up, but there is no earlier answer to build on; "
                                   "ask the whole question or send the conversation_id of the last answer.")
            return _Reading(route, None, extras=route.interpretation())
        return _Reading(route, _by_speed(route.intent, text), extras=route.interpretation())

    def _after_lost(self, text: str, dataset: str, as_of: date, vocabulary: Vocabulary, previous: Turn) -> _Reading:
        """After an unanswered message, only a question that stands on its own is answered: "and by
        channel" would build on the answer before it and drop what the unanswered message asked."""
        if previous.intent is not None and _MOVES_ON.search(text) and self._named_nothing(previous.lost, dataset, as_of,
                                                                                         vocabulary):
            # "ok, the west then" after "for Atlantis?": the user read the clarification and edits the last
            # answer. Only when the unanswered message named nothing this data has ("in euros?", "for
            # Narnia"): after "$ not units" the user may well think the units were swapped.
            reading = self._read(text, dataset, as_of, vocabulary, replace(previous, lost=()))
            if "follow_up" in reading.extras:
                reading.extras["follow_up"]["not_applied"] = " | ".join(previous.lost)
            return reading
        route = self.router.parse(text, dataset=dataset, as_of=as_of, vocabulary=vocabulary)
        marked = markers(text)
        leans = route.defaulted_metric or marked.found or marked.fragment or _POINTS_BACK.search(text) \
            or _REFERS_BACK.search(text) or metric_only(route, marked)
        if route.intent is None or not leans:
            return _Reading(route, _by_speed(route.intent, text) if route.intent is not None else None,
                            extras=route.interpretation())
        route = replace(route, complete=False, intent=None, missing=("conversation",),
                        reason=f"I did not act on your last message ({previous.lost[-1]!r}), so I cannot tell what this "
                               "one builds on; ask the whole question.")
        return _Reading(route, None, extras={**route.interpretation(), "follow_up": {"of": previous.lost[-1],
                                                                                       "changed": [],
                                                                                       "carried_over": []}})

    def _named_nothing(self, lost: tuple[str, ...], dataset: str, as_of: date, vocabulary: Vocabulary) -> bool:
        """Whether every unanswered message named nothing this data holds (no metric, member, period...)."""
        for text in lost:
            route = self.router.parse(markers(text).text, dataset=dataset, as_of=as_of, vocabulary=vocabulary)
            u = route.understood
            if u.metrics or u.filters or u.time or u.grain or u.numbers or u.conditions:
                return False
            if u.dimensions and not all(_tags_unknown(route, s) for s in route.slots if s.kind == "dimension"):
                return False
        return True

    def _run(self, intent: Intent, base: dict[str, Any], *, tier: Tier, version: int | None,
             neighbour: str | None) -> Answer:
        interpretation = intent.to_dict()
        common = dict(base, tier=tier, interpretation=interpretation, data_version=version, neighbour=neighbour)
        try:
            compiled: CompiledQuery = self.compiler.compile(intent)
        except RetailError as exc:
            return Answer(status="error", answer=f"I could not build a query for this: {exc}", error=str(exc),
                          **common)
        interpretation["source_view"] = compiled.source.table
        interpretation["source_kind"] = compiled.source.kind
        clash = self._members_apart(intent) or self._member_in_several(intent, version)
        if clash is not None:
            return Answer(status="clarify", answer=clash, interpretation=interpretation, **base)
        try:
            result = self.runner_for(intent.dataset).query(compiled.sql, list(compiled.params))
        except RetailError as exc:
            return Answer(status="error", answer=f"The warehouse could not answer: {exc}", error=str(exc),
                          sql=compiled.sql, params=compiled.params, source=compiled.source.table, **common)
        columns = tuple(result.columns)
        rows = tuple(tuple(r) for r in result.rows)
        if intent.operation == "total" and (not rows or all(v is None for v in rows[0])):
            # "sales in Alaska" where no row is Alaska's: an empty sum is no number, so say what matched nothing
            where = "; ".join(f"{f.dimension.replace('_', ' ')} {'not ' if f.negate else ''}{' or '.join(f.values)}"
                              for f in intent.filters)
            when = f" between {intent.time.start} and {intent.time.end}" if intent.time is not None else ""
            return Answer(status="clarify", answer=f"No row of {intent.dataset} matches {where or 'this question'}"
                          f"{when}, so there is no number to give; check the names and the period.",
                          interpretation=interpretation, **base)
        return Answer(
            status="answered", answer=sentence(intent, columns, rows), columns=columns,
            rows=tuple(tuple(jsonable(v) for v in r) for r in rows), sql=compiled.sql, params=compiled.params,
            source=compiled.source.table, bytes_read=int(getattr(result, "bytes_read", 0) or 0),
            rows_read=int(getattr(result, "rows_read", 0) or 0), chart=chart_for(intent, columns, rows), **common)

    def _member_in_several(self, intent: Intent, version: int | None) -> str | None:
        """"Springfield" with no state named, where four states have a Springfield: adding them up would answer
        a question nobody asked; name the places instead (one small breakdown per member and data version)."""
        model = load_dataset(intent.dataset).semantic
        named = {f.dimension for f in intent.filters if not f.negate} | set(intent.dimensions)
        for levels in model.hierarchies.values():
            if not all(level in model.dimensions for level in levels):
                continue                    # a time hierarchy: its levels are grains, not members
            for up, down in zip(levels, levels[1:]):
                asked = next((f for f in intent.filters if f.dimension == down and not f.negate), None)
                if asked is None or named & set(levels[: levels.index(down)]) \
                        or model.dimensions[down].one_member_per_name:
                    continue
                places = self._places_of(intent.dataset, version, down, up, asked)
                for value, ups in places.items():
                    if len(ups) > 1:
                        return (f"{value} is a {down.replace('_', ' ')} in more than one {up.replace('_', ' ')} "
                                f"({', '.join(sorted(ups))}); say which, e.g. '{value}, {sorted(ups)[0]}'.")
        return None

    def _places_of(self, dataset: str, version: int | None, down: str, up: str, asked: Filter) -> dict[str, list[str]]:
        """Each member of ``asked`` with the ``up`` members its rows carry ("Springfield" -> four states), once
        per data version: "sales in Texas" asked again does not probe again."""
        key = (dataset, version, down, up, asked)
        if version is None or key not in self._places:
            model = load_dataset(dataset).semantic
            probe = Intent(dataset=dataset, metrics=(model.language.count_metric,), operation="breakdown",
                           dimensions=(down, up), filters=(asked,))
            compiled = self.compiler.compile(probe)
            result = self.runner_for(dataset).query(compiled.sql, list(compiled.params))
            at, above = list(result.columns).index(down), list(result.columns).index(up)
            places: dict[str, list[str]] = {}
            for row in result.rows:
                if row[above] is not None:  # rows with no parent (an item without a category) name no other place
                    places.setdefault(str(row[at]), []).append(str(row[above]))
            if len(self._places) > 10_000:
                self._places.clear()
            self._places[key] = places
        return self._places[key]

    def _members_apart(self, intent: Intent) -> str | None:
        """"California revenue in the Northeast region": members of one hierarchy that no row holds together
        make an empty answer look like a zero; say so instead (one small count, only for such questions)."""
        levels = load_dataset(intent.dataset).semantic.hierarchies.values()
        kept = [f for f in intent.filters if not f.negate]
        related = [(a, b) for i, a in enumerate(kept) for b in kept[i + 1:]
                   if any(a.dimension in h and b.dimension in h for h in levels)]
        if not related:
            return None
        model = load_dataset(intent.dataset).semantic
        probe = Intent(dataset=intent.dataset, metrics=(model.language.count_metric,), operation="total",
                       filters=tuple(kept))
        compiled = self.compiler.compile(probe)
        rows = self.runner_for(intent.dataset).query(compiled.sql, list(compiled.params)).rows
        if rows and rows[0][0]:
            return None
        a, b = related[0]
        return (f"No row is both {a.dimension.replace('_', ' ')} {' or '.join(a.values)} and "
                f"{b.dimension.replace('_', ' ')} {' or '.join(b.values)}; ask about one of them.")

    def _clarify(self, reading: _Reading, base: dict[str, Any]) -> Answer:
        route = reading.route
        tips = suggestions_for(route, dataset=base["dataset"])
        status: Status = "clarify"
        interpretation = {"understood": route.understood.to_dict(), "missing": list(route.missing),
                          "unknown_words": list(route.unknown_words), **reading.extras}
        return Answer(status=status, answer=clarification(route.reason, route.understood, tips),
                      interpretation=interpretation, suggestions=tuple(tips), **base)

    def _semantic_match(self, route: Route, dataset: str) -> SemanticMatch | None:
        assert self.semantic is not None
        try:
            return self.semantic.match(route.question, route.slots, dataset=dataset, words=route.blocking_words)
        except Exception:  # the tier is an optimisation: its failure must not fail the question
            log.warning("semantic tier failed; skipping it", exc_info=True)
            return None

    def _remember(self, route: Route, intent: Intent, dataset: str) -> None:
        assert self.semantic is not None
        try:
            self.semantic.remember(route.question, route.slots, intent, dataset=dataset, verified=True)
        except Exception:
            log.warning("semantic tier could not remember a question", exc_info=True)

    def _key(self, dataset: str, version: int | None, intent: Intent, intent_key: str | None = None) -> str:
        return f"{dataset}:{self.scope(dataset, version, intent)}:{intent_key or intent.canonical_key()}"

    def _cache_get(self, key: str, version: int | None) -> Answer | None:
        """The cached answer under ``key``, as an answer of data version ``version`` (the key's scope
        may be older: the rows it read did not change since)."""
        if self.cache is None:
            return None
        hit = self.cache.get(key)
        if hit is None:
            return None
        return Answer.from_dict(hit.answer).with_(tier=hit.tier, data_version=version)

    def _cache_put(self, key: str, answer: Answer) -> None:
        if self.cache is not None:
            self.cache.put(key, answer.to_dict())

    def _finish(self, answer: Answer, started: float, *, answer_id: str | None = None) -> Answer:
        # The LLM tier names its own answers: feedback on that id promotes its proposal (assistant.llm.learning).
        return answer.with_(latency_ms=round((self.clock() - started) * 1000, 3),
                            answer_id=answer_id or uuid.uuid4().hex)

    def on_feedback(self, record: Any) -> None:
        """The HTTP feedback hook (``assistant.http.feedback``): a vote may promote an LLM answer's template."""
        learner = getattr(self.llm, "learner", None)
        if learner is not None:
            learner.on_feedback(record.answer_id, record.helpful)


def _with_reading(answer: Answer, reading: _Reading) -> Answer:
    """The answer with how this question was read (ignored words, assumptions, follow-up), which a
    cached answer for the same intent does not know; assumptions are said in the sentence too."""
    if not reading.extras or answer.status != "answered":
        return answer
    interpretation = {**(answer.interpretation or {}), **reading.extras}
    notes = reading.extras.get("assumed") or []
    text = answer.answer + "".join(f" ({note})" for note in notes if note not in answer.answer)
    return answer.with_(interpretation=interpretation, answer=text)


_SPEED = re.compile(r"\b(?P<slow>slow(?:est|er)?|longest|longer)\b|\b(?:fast(?:est|er)?|quick(?:est|er)?|shortest|shorter)\b",
                    re.I)


def _by_speed(intent: Intent | None, text: str) -> Intent | None:
    """"which ship mode is the slowest", "sort slowest first": over a span of time the slowest is the
    largest, not the smallest."""
    said = _SPEED.search(text)
    if intent is None or said is None or intent.operation not in ("top_n", "breakdown") or not intent.metrics \
            or not load_dataset(intent.dataset).semantic.metrics[intent.metrics[0]].duration:
        return intent
    return replace(intent, order="desc" if said.group("slow") else "asc")


def _members(intent: Intent, answer: Answer) -> tuple[str, ...]:
    """The members an answer named, in its order, when it names a few of one dimension ("that one")."""
    if intent.operation == "top_n" and intent.grain is not None and not intent.dimensions and "period" in answer.columns \
            and answer.rows and len(answer.rows) <= 10:     # "which quarter was best": the quarters it named
        at = answer.columns.index("period")
        return tuple(str(row[at]) for row in answer.rows if row[at] is not None)
    if len(intent.dimensions) != 1 or intent.grain is not None or not answer.rows or len(answer.rows) > 10 \
            or intent.dimensions[0] not in answer.columns:
        return ()
    at = answer.columns.index(intent.dimensions[0])
    return tuple(str(row[at]) for row in answer.rows if row[at] is not None)



def _tags_unknown(route: Route, slot: Slot) -> bool:
    """A dimension word right next to a name the data lacks ("the gadgets category") names no dimension of its own."""
    before = re.findall(r"[A-Za-z]+", route.question[:slot.start])[-1:]
    after = re.findall(r"[A-Za-z]+", route.question[slot.end:])[:1]
    unknown = {w.lower() for w in route.unknown_words}
    return any(w.lower() in unknown for w in (*before, *after))
