"""The words a dataset understands, all read from its semantic model: metric and dimension names,
synonyms, everyday verbs and patterns, entity, bucket and condition words, and dimension values.

Closed values come from the semantic model (``values``/``values_from``, ``aliases``), US geography and
the coasts (SPEC 3). Open dimensions (``open: true``: city, product, customer...) have no list in the
model; their values come from a distinct-values lookup run once per data version (``open_values``).

Matching choices (also in the project docs):
- closed values and multi-word open values match in any case; a one-word open value that is also a
  common English word (a city such as "Normal" or "Orange") matches only when typed with a capital
  first letter ("houston" needs none); ``any_case: true`` lifts that (sub-categories);
- two-letter state codes match when typed in upper case ("OR", "IN"), or in any case when they are
  not an English word ("ca", "tx"), or right after "state of"/"state"; "or", "in", "me", "oh", "ok",
  "hi", "de", "pa", "co"... in lower case are words;
- a value ending in "s" also matches without it ("Chair" for "Chairs"), for values longer than 4.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import cached_property, lru_cache
import re

from assistant.lexicon import lexicon
from assistant.measures import DISTINCT_PREFIX
from assistant.spelling import Speller, is_english
from warehouse import geo
from warehouse.spec import SemanticModel, load_dataset

# Two-letter codes that are also common words (or abbreviations) in lower case.
AMBIGUOUS_CODES = frozenset({"in", "or", "me", "oh", "ok", "hi", "de", "pa", "co", "la", "al", "id", "ma",
                             "mo", "ne", "mi", "ms", "mt", "il", "ar", "ga", "va", "nd", "sd", "wa", "ct"})

# Words of the question language a value (or its singular) must never take over, besides the
# dataset's own metric and dimension words and the lexicon's cue words.
RESERVED_WORDS = frozenset({"total", "rate", "by", "per", "each"})
SPELLED_VALUES_MAX = 1000   # looked-up values of a dimension corrected towards, at most
COMMON_WORD = 2000      # an English word this frequent (pyspellchecker's list) needs a capital to be a city


def open_dimensions(model: SemanticModel) -> tuple[str, ...]:
    """Dimensions whose values are looked up from the data (``open: true`` in the model)."""
    return tuple(name for name, dim in model.dimensions.items() if dim.open)


@dataclass(frozen=True)
class ValueEntry:
    dimension: str
    values: tuple[str, ...]     # stored values; a coast is several states
    phrase: str                 # lower-case text to find
    case_sensitive: bool        # one-word open values need a capital first letter
    label: str                  # how an answer names it ("West Coast", "California")
    listed_only: bool = False   # an everyday word ("history"): a member only listed with another member
    everyday: bool = False      # a common English word in any case ("country", "reference"): a member only
                                # where the question says so (slots.said_as_member)


@dataclass(frozen=True)
class Vocabulary:
    """Everything the slot extractor matches for one dataset (and one data version of open values)."""

    dataset: str
    metric_phrases: Mapping[str, str]          # phrase -> metric
    dimension_phrases: Mapping[str, str]       # phrase -> dimension
    values: tuple[ValueEntry, ...]
    state_codes: Mapping[str, str] = field(default_factory=dict)   # USPS code -> stored state value
    states_stored_as: str = "code"             # "code" or "name"
    verb_phrases: Mapping[str, str] = field(default_factory=dict)  # everyday verb -> metric (yields)
    metric_patterns: tuple[tuple[re.Pattern[str], str], ...] = ()  # longer wordings -> metric
    condition_phrases: Mapping[str, str] = field(default_factory=dict)  # "unprofitable" -> condition
    entity_words: Mapping[str, str] = field(default_factory=dict)   # "orders" -> entity
    bucket_phrases: Mapping[str, str] = field(default_factory=dict)  # "order values" -> bucketing
    open_dimensions: frozenset[str] = frozenset()                      # their values are looked up
    date_range: tuple[date, date] | None = None                        # first and last day with data
    hierarchies: tuple[tuple[str, ...], ...] = ()                      # coarse to fine, e.g. category > product

    def narrower(self, coarse: str, fine: str) -> bool:
        """``fine`` is a finer level than ``coarse`` in one of the model's hierarchies."""
        return any(coarse in h and fine in h and h.index(fine) > h.index(coarse) for h in self.hierarchies)

    @cached_property
    def dimension_words(self) -> dict[str, tuple[str, ...]]:
        """Each dimension's own words ("store", "stores", "location"), longest first."""
        out: dict[str, list[str]] = {}
        for phrase, dim in self.dimension_phrases.items():
            out.setdefault(dim, []).append(phrase)
        return {dim: tuple(sorted(words, key=len, reverse=True)) for dim, words in out.items()}

    @cached_property
    def phrase_dimensions(self) -> dict[str, frozenset[str]]:
        """Each value phrase and the dimensions it is a value of (usually one)."""
        out: dict[str, set[str]] = {}
        for entry in self.values:
            out.setdefault(entry.phrase, set()).add(entry.dimension)
        return {phrase: frozenset(dims) for phrase, dims in out.items()}

    def related(self, a: str, b: str) -> bool:
        """``a`` and ``b`` are levels of one hierarchy (a state and a city), or the same dimension."""
        return a == b or any(a in h and b in h for h in self.hierarchies)

    def metric_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(self.metric_phrases.values()))

    @cached_property
    def words(self) -> frozenset[str]:
        """Every single word of the dataset's phrases and closed values: the spelling corrector's
        first targets."""
        phrases = [*self.metric_phrases, *self.dimension_phrases, *self.verb_phrases, *self.condition_phrases,
                   *self.entity_words, *self.bucket_phrases,
                   *(e.phrase for e in self.values if e.dimension not in self.open_dimensions)]
        return _words(phrases)

    @cached_property
    def value_words(self) -> frozenset[str]:
        """The words of looked-up values ("jacksonvile" is Jacksonville): the corrector's last resort,
        after the lexicon, and only for dimensions with at most ``SPELLED_VALUES_MAX`` values
        (product names are too many and too odd to correct towards)."""
        counts = Counter(e.dimension for e in self.values)
        return _words(e.phrase for e in self.values
                      if e.dimension in self.open_dimensions and counts[e.dimension] <= SPELLED_VALUES_MAX) - self.words

    @cached_property
    def speller(self) -> Speller:
        """The spelling corrector towards this vocabulary's words: one per set of words, so a data version
        that only moves the last day (a new vocabulary, ``assistant.values``) reuses it (building one
        holds the GIL for about a second)."""
        return _speller(self.words, self.value_words)

    @cached_property
    def measure_words(self) -> re.Pattern[str]:
        """Any metric phrase or metric verb of the dataset, as one pattern ("sales", "sold", "bring in")."""
        phrases = sorted({*self.metric_phrases, *self.verb_phrases}, key=len, reverse=True)
        return re.compile(r"(?:" + "|".join(re.escape(p) for p in phrases) + r")\b", re.I)

    @cached_property
    def value_index(self) -> ValueIndex:
        """``values`` indexed by first word, built on first use (once per vocabulary)."""
        return ValueIndex(self.values)


def _words(phrases: Iterable[str]) -> frozenset[str]:
    return frozenset(w for p in phrases for w in re.findall(r"[a-z][a-z'-]*", p.lower()))


def lead_word(text: str, start: int = 0) -> str:
    """The run of letters and digits at ``start`` (empty when a sign or space starts there)."""
    end = start
    while end < len(text) and text[end].isalnum():
        end += 1
    return text[start:end]


class ValueIndex:
    """Value phrases by their first word, so matching a question costs its words, not the values.

    A phrase found on word boundaries starts with the same run of letters and digits as the
    question at that spot, so only phrases filed under the question's words can match there.
    Open dimensions bring tens of thousands of values (customers, products), which a scan of every
    phrase per question would pay for each time.
    """

    def __init__(self, values: Sequence[ValueEntry]) -> None:
        self.by_word: dict[str, list[tuple[int, ValueEntry]]] = {}
        for position, entry in enumerate(values):
            self.by_word.setdefault(lead_word(entry.phrase), []).append((position, entry))
        # The dimension the two-letter state codes filter: the one holding the three West Coast states.
        self.state_dimension = next((e.dimension for e in values if len(e.values) == 3 and e.phrase == "west coast"),
                                    None)

    def candidates(self, lower: str, start: int) -> list[tuple[int, ValueEntry]]:
        """(position in ``values``, entry) of the phrases that may start at ``start`` of ``lower``."""
        return self.by_word.get(lead_word(lower, start), [])


def state_value(code: str, *, stored_as: str) -> str:
    return geo.STATES[code].name if stored_as == "name" else code


def build_vocabulary(dataset: str, *, open_values: Mapping[str, Sequence[str]] | None = None,
                     date_range: tuple[date, date] | None = None) -> Vocabulary:
    """Vocabulary of ``dataset`` from its semantic model plus looked-up values of open dimensions
    and the days its data covers."""
    model = load_dataset(dataset).semantic
    vocab = _build(dataset, model, {k: tuple(v) for k, v in (open_values or {}).items()})
    return replace(vocab, date_range=date_range) if date_range is not None else vocab


@lru_cache(maxsize=8)
def _speller(words: frozenset[str], value_words: frozenset[str]) -> Speller:
    lex = lexicon()
    return Speller([*lex.ignorable, *lex.cues, *lex.spelling], dataset_words=words, value_words=value_words,
                   misspellings=lex.misspellings)


@lru_cache(maxsize=8)
def closed_vocabulary(dataset: str) -> Vocabulary:
    """Vocabulary without looked-up values (used when no warehouse is at hand)."""
    return build_vocabulary(dataset)


def _build(dataset: str, model: SemanticModel, open_values: dict[str, tuple[str, ...]]) -> Vocabulary:
    metrics = _metric_phrases(model)
    dims: dict[str, str] = {}
    for name, dim in model.dimensions.items():
        spoken = name.replace("_", " ")
        for phrase in (spoken, *dim.synonyms):
            for variant in _spellings(phrase.lower()):
                dims.setdefault(variant, name)
    for name, dim in model.dimensions.items():       # "i_brand", "s_city", "ca_state": the column's own name
        for phrase in _column_phrases(dim.column):
            dims.setdefault(phrase, name)
    # "how many distinct cities" -> distinct_city; a dimension counted by a metric of its own
    # (customers) keeps that metric.
    counted = {e.key for e in model.language.entities.values()}
    for name, dim in model.dimensions.items():
        if dim.column in counted:
            continue
        for phrase in [p for p, d in dims.items() if d == name]:
            for lead in ("number of", "distinct", "unique", "different", "how many", "count of"):
                metrics.setdefault(f"{lead} {phrase}", DISTINCT_PREFIX + name)
    entity_words = {w.lower() for e in model.language.entities.values() for w in e.words}
    reserved = set(metrics) | set(dims) | RESERVED_WORDS | lexicon().cue_words() | entity_words
    stored_as = "code"
    entries: list[ValueEntry] = []
    for name, dim in model.dimensions.items():
        if dim.values_from in ("geo.states", "geo.state_names"):
            stored_as = "name" if dim.values_from == "geo.state_names" else "code"
            entries += _state_entries(name, stored_as)
            entries += [ValueEntry(name, (value,), word.lower(), False, value) for word, value in dim.aliases.items()]
            continue
        values = dim.values or open_values.get(name, ())
        any_case = dim.values is not None or dim.any_case
        for value in values:
            if not value:
                continue
            for i, phrase in enumerate(_phrases(value)):
                if phrase in reserved or (i and phrase in lexicon().ignorable):
                    # "Bottoms" must not turn "bottom 3 states" into a filter, nor "Tables" turn "as a table"
                    # into one; named with its dimension ("the history class") it is the member
                    entries += [ValueEntry(name, (value,), f"{phrase} {word}", False, value)
                                for word, d in dims.items() if d == name and phrase in reserved and not i]
                    if phrase in reserved and not i:     # "fiction and history": listed with a member, it is one
                        entries.append(ValueEntry(name, (value,), phrase, False, value, listed_only=True))
                    continue
                one_word = " " not in phrase.strip()
                common = one_word and is_english(phrase, min_frequency=COMMON_WORD)
                entries.append(ValueEntry(name, (value,), phrase, common and not any_case, value,
                                          everyday=common and dim.any_case and dim.values is None))
        for word, value in dim.aliases.items():
            if value in values:
                entries.append(ValueEntry(name, (value,), word.lower(), False, value))
    codes = {code: state_value(code, stored_as=stored_as) for code in geo.STATES}
    lang = model.language
    verbs = {v.lower(): name for name, m in model.metrics.items() for v in m.verbs}
    patterns = tuple((re.compile(r"(?<![\w-])(?:" + p + r")(?![\w-])", re.I), name)
                     for name, m in model.metrics.items() for p in m.patterns)
    conditions = {w.lower(): name for name, c in lang.conditions.items() for w in c.words}
    entities = {w.lower(): name for name, e in lang.entities.items() for w in e.words}
    buckets = {w.lower(): name for name, b in lang.buckets.items() for w in b.words}
    return Vocabulary(dataset=dataset, metric_phrases=metrics, dimension_phrases=dims, values=tuple(entries),
                      state_codes=codes, states_stored_as=stored_as, verb_phrases=verbs, metric_patterns=patterns,
                      condition_phrases=conditions, entity_words=entities, bucket_phrases=buckets,
                      open_dimensions=frozenset(open_dimensions(model)),
                      hierarchies=tuple(tuple(levels) for levels in model.hierarchies.values()))


def _metric_phrases(model: SemanticModel) -> dict[str, str]:
    metrics: dict[str, str] = {}
    for name, metric in model.metrics.items():
        for phrase in (name.replace("_", " "), *metric.synonyms):
            for variant in _average_spellings(phrase.lower()):
                metrics.setdefault(variant, name)
    # "buyer count", "number of purchases", "# of orders": an entity's count metric.
    for entity in model.language.entities.values():
        for word in entity.words:
            for phrase in (f"{word} count", f"count of {word}", f"number of {word}", f"how many {word}",
                           f"# of {word}", f"total {word}", f"{word} volume", f"different {word}", f"distinct {word}",
                           f"unique {word}", f"individual {word}", f"separate {word}",
                           f"number of different {word}", f"number of unique {word}",
                           f"number of distinct {word}", f"how many different {word}", f"how many unique {word}"):
                metrics.setdefault(phrase.lower(), entity.count)
    # "sum(ss_ext_sales_price)", "ext_sales_price", "count(distinct ss_ticket_number)": the column a metric adds up or
    # counts, named as the warehouse names it (underscores read as spaces, as normalize writes them)
    dimension_columns = {p for dim in model.dimensions.values() for p in _column_phrases(dim.column)}
    for name, metric in model.metrics.items():
        one = re.fullmatch(r"\s*(?:SUM|COUNT)\s*\(\s*(?:DISTINCT\s+)?([a-z][a-z0-9_]*)\s*\)\s*", metric.base, re.I)
        if one is not None:
            for phrase in set(_column_phrases(one.group(1))) - dimension_columns:   # "customer id": the dimension's
                metrics.setdefault(phrase, name)
    return metrics


def _column_phrases(column: str) -> tuple[str, ...]:
    """A column's name as typed, with and without a short table prefix ("ss_net_profit", "net_profit"); only
    names of two words or more (one word is an everyday word the synonyms already hold, or should not)."""
    spoken = column.split(".")[-1].lower().replace("_", " ")
    bare = re.sub(r"^[a-z]{1,3} (?=\w+ \w)", "", spoken)
    return tuple(dict.fromkeys(p for p in (spoken, bare) if " " in p))


def _average_spellings(phrase: str) -> tuple[str, ...]:
    """"average basket" is also "avg basket" and "mean basket"."""
    for lead in ("average ", "avg ", "mean "):
        if phrase.startswith(lead):
            rest = phrase[len(lead):]
            return (phrase, *(f"{other}{rest}" for other in ("average ", "avg ", "mean ") if other != lead))
    return (phrase,)


def _spellings(phrase: str) -> set[str]:
    """A dimension phrase, its plural, and hyphen/space variants ("sub-categories", "ship-mode")."""
    plural = phrase[:-1] + "ies" if phrase.endswith("y") else phrase if phrase.endswith("s") else phrase + "s"
    out = set()
    for form in (phrase, plural):
        out |= {form, form.replace("-", " "), form.replace(" ", "-")}
    return out


def _phrases(value: str) -> tuple[str, ...]:
    # Questions are read with hyphens between letters as spaces (assistant.normalize), so values are too.
    lower = " ".join(re.sub(r"(?<=[A-Za-z])-(?=[A-Za-z])", " ", value).split()).lower()
    if lower.endswith("s") and len(lower) > 4 and not lower.endswith("ss"):
        return lower, lower[:-1]
    return (lower,)


def _state_entries(dimension: str, stored_as: str) -> list[ValueEntry]:
    entries = []
    for state in geo.STATES.values():
        value = state_value(state.code, stored_as=stored_as)
        entries.append(ValueEntry(dimension, (value,), state.name.lower(), False, state.name))
    dc = state_value("DC", stored_as=stored_as)
    for alias in ("washington dc", "washington d.c", "washington, dc", "washington, d.c"):
        entries.append(ValueEntry(dimension, (dc,), alias, False, "District of Columbia"))
    for phrase, codes, label in (("west coast", geo.WEST_COAST, "West Coast"),
                                 ("east coast", geo.EAST_COAST, "East Coast")):
        entries.append(ValueEntry(dimension, tuple(state_value(c, stored_as=stored_as) for c in codes),
                                  phrase, False, label))
    return entries
