"""Conditions and named buckets read from a question's slots.

- An adjective from the model ("unprofitable", "discounted") or one amount ("over $250", "below zero")
  keeps groups or entities by a metric. What it measures: the metric named right before the amount
  ("states with sales over 100k", "spent" before "more than $1,000"), else the unit's metric ("more
  than 5 units"), else the dataset's default money metric for a money amount. What it keeps: the
  dimension or entity it is said of ("unprofitable states": each state; "orders above $250": each
  order, "customers who spent ...": each customer).
- Two or more amounts that tile the line from zero ("under $50, $50-250 and over $250") are buckets
  of the measure they name ("order values") or of the entity's money total ("orders ...").
Anything that does not line up (an amount with nothing to measure, buckets with gaps) is a
``Problem`` with its reason, so the router clarifies instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
import re

from assistant.amounts import Amount
from assistant.intent import Condition
from assistant.lexicon import lexicon
from assistant.measures import measure
from assistant.slots import Slot, is_verb
from assistant.vocabulary import Vocabulary
from warehouse.spec import SemanticModel

_GAP_WORDS = re.compile(r"^(?:\s|,|with|that|who|whose|which|where|having|had|have|has|were|was|are|is|a|an|the|of|"
                        r"did|do|does|their|its|total|overall|an?\s+order|per)*$", re.I)


class Problem(ValueError):
    """A condition or bucket the question names but does not pin down."""


@dataclass(frozen=True)
class Read:
    conditions: tuple[Condition, ...]
    used: frozenset[int]            # indexes of slots the conditions consumed (measures, subjects' counts)
    subjects: frozenset[int]        # indexes of entity-word metric slots a condition is said of


def entity_of(slot: Slot, model: SemanticModel, vocab: Vocabulary) -> str | None:
    """The entity a slot names: a metric that counts one ("orders", "how many customers"), or a
    dimension keyed like one or worded like one ("customers")."""
    entities = model.language.entities
    if slot.kind == "metric":
        return next((name for name, e in entities.items() if e.count == slot.value), None)
    if slot.kind in ("dimension", "noun"):
        column = model.dimensions[str(slot.value)].column
        keyed = next((name for name, e in entities.items() if e.key == column), None)
        return keyed or vocab.entity_words.get(slot.text.lower())
    return None


# "inclusive of orders sold at <full price>", "including the <undiscounted> ones": kept in, not picked out
_INCLUDED = re.compile(r"\b(?:inclusive\s+of|including|counting|even)\s+(?:the\s+)?(?:orders?|lines?|sales|items|ones|those"
                       r"|purchases)?\s*(?:(?:that|which)\s+(?:were|are)\s+)?(?:sold\s+|bought\s+|made\s+)?(?:at\s+)?$", re.I)


class ConditionReader:
    def __init__(self, question: str, slots: list[Slot], vocab: Vocabulary, model: SemanticModel) -> None:
        self.question, self.slots, self.vocab, self.model = question, slots, vocab, model

    def linked(self, i: int, j: int, skip: int | None = None) -> bool:
        """Only linking words, verbs ("spent") and ``skip`` between slots ``i`` and ``j``."""
        a, b = sorted((i, j))
        between = range(a + 1, b)
        if any(k != skip and not is_verb(self.slots[k], self.vocab) and self.slots[k].kind != "time" for k in between):
            return False
        return all(_linking(self.question[self.slots[k].end: self.slots[k + 1].start]) for k in range(a, b))

    def read(self) -> Read:
        conditions, used, subjects = [], set(), set()
        amounts = [i for i, s in enumerate(self.slots) if s.kind == "amount"]
        for i, slot in enumerate(self.slots):
            if slot.kind == "condition":
                if _INCLUDED.search(self.question[:slot.start]):
                    continue            # "inclusive of orders sold at full price": all of them, no condition
                declared = self.model.language.conditions[str(slot.value)]
                level, subject = self.level(i, steps=(1, -1))
                conditions.append(Condition(declared.metric, declared.op, declared.value, level))
            elif slot.kind == "amount" and len(amounts) == 1:
                assert isinstance(slot.value, Amount)
                metric, measured = self.measure(i, slot.value)
                level, subject = self.level(i, steps=(-1,), skip=measured)
                conditions += _comparisons(metric, slot.value, level)
                if measured is not None:
                    used.add(measured)
            else:
                continue
            if subject is not None:
                subjects.add(subject)
        return Read(tuple(conditions), frozenset(used), frozenset(subjects))

    def measure(self, i: int, amount: Amount) -> tuple[str, int | None]:
        """The metric an amount measures, and the index of the slot that named it (if one did)."""
        j = i - 1
        if j >= 0 and self.linked(i, j) and self.slots[j].kind == "metric" and amount.unit != "count" \
                and entity_of(self.slots[j], self.model, self.vocab) is None:
            return str(self.slots[j].value), j
        k = i + 1                           # "exceeded $1,000 in revenue", "over 100 units of ..."
        if k < len(self.slots) and self.slots[k].kind == "metric" \
                and re.fullmatch(r"\s*(?:in|of|worth\s+of)\s+", self.question[self.slots[i].end: self.slots[k].start]) \
                and entity_of(self.slots[k], self.model, self.vocab) is None:
            return str(self.slots[k].value), k
        if amount.unit == "count":
            word = self.slots[i].text.split()[-1].lower()
            metric = self.vocab.metric_phrases.get(word)
            if metric is not None:
                return metric, None
        default = self.model.language.default_metric
        if amount.unit == "money" and measure(self.vocab.dataset, default).format == "currency":
            return default, None
        raise Problem(f"I cannot tell what {self.slots[i].text!r} measures; name it, e.g. "
                      f"'with {self.model.label(default)} {self.slots[i].text}'.")

    def level(self, i: int, *, steps: tuple[int, ...], skip: int | None = None) -> tuple[str, int | None]:
        """("group" or an entity name, the subject slot's index) for the condition at slot ``i``."""
        for step in steps:
            j = i + step
            while 0 <= j < len(self.slots) and (j == skip or is_verb(self.slots[j], self.vocab)
                                                or self.slots[j].kind == "time"):
                j += step
            if not 0 <= j < len(self.slots) or not self.linked(i, j, skip):
                continue
            s = self.slots[j]
            entity = entity_of(s, self.model, self.vocab)
            if entity is not None and (s.kind in ("metric", "noun") or _counts(self.question, s)):
                return entity, j
            if s.kind in ("dimension", "noun"):
                return "group", j
        return "group", None


def _linking(gap: str) -> bool:
    """Only linking words ("with", "that had") or words that cannot change a number ("came in")."""
    if _GAP_WORDS.match(gap):
        return True
    ignorable = lexicon().ignorable
    return all(w.lower() in ignorable for w in re.findall(r"[A-Za-z']+", gap))


def _counts(question: str, slot: Slot) -> bool:
    """"how many customers spent over $1,000" counts customers; "which customers" lists them."""
    return bool(re.search(r"\b(?:how\s+many|number\s+of|count\s+of)\s+$", question[: slot.start], re.I))


def _comparisons(metric: str, amount: Amount, level: str) -> list[Condition]:
    out = []
    if amount.low is not None:
        out.append(Condition(metric, ">" if amount.low_strict else ">=", amount.low, level))
    if amount.high is not None:
        out.append(Condition(metric, "<" if amount.high_strict else "<=", amount.high, level))
    return out


def bucket_starts(amounts: list[Amount]) -> tuple[float, ...]:
    """The bucket starts of amounts that tile [0, open end): "under 50, 50-250, over 250" -> (0, 50, 250)."""
    pieces = sorted(amounts, key=lambda a: (a.low if a.low is not None else float("-inf")))
    first, last = pieces[0], pieces[-1]
    if first.low not in (None, 0) or last.high is not None:
        raise Problem("The buckets must start at zero and end open ('... and over $250'); say every range.")
    starts = [0.0]
    for before, after in zip(pieces, pieces[1:]):
        if before.high is None or after.low is None or before.high != after.low:
            raise Problem("The buckets leave a gap or overlap; name ranges that meet, e.g. "
                          "'under $50, $50-250 and over $250'.")
        starts.append(float(after.low))
    if any(b <= a for a, b in zip(starts, starts[1:])):
        raise Problem("The buckets must grow from one to the next.")
    return tuple(starts)
