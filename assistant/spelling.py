"""Typos in questions: "revnue by catagory" reads as "revenue by category", and says so.

A word is corrected only when all of these hold:
- it is not a word the assistant knows (the dataset's phrases, the lexicon, time words);
- it is not a common English word (pyspellchecker's frequency list), so "late" never becomes
  "rate" and "stats" never becomes "state": such a word stays as typed and the word policy judges it;
- one known word is nearest, within one edit (a transposition counts as one) for words of 4 to 8
  letters and two for longer ones (then only towards the dataset's own words); among equally near words the one sharing the longest start and
  end with the typed word wins, and a tie there corrects nothing; the dataset's words and time words
  win over the lexicon's ("montly" is "monthly", not "mostly"); 3-letter words are corrected only for
  a transposition ("teh" -> "the") or towards a dataset word ("sel" -> "sell"); the words of
  looked-up values (cities) come last ("jacksonvile" is Jacksonville, but "wich" is "which").
Common sound-alike misspellings further than that ("compair") are listed in the lexicon
(``misspellings``). Each correction is reported, so the answer's interpretation shows what was read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
import re

from assistant.lexicon import lexicon

ENGLISH_MIN_FREQUENCY = 500
_WORD = re.compile(r"(?<![\w'-])[A-Za-z]{3,}(?![\w'-])")
_TIME_WORDS = frozenset("""january february march april may june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday
yesterday today year years quarter quarters month months week weeks day days hour hours daily weekly monthly
quarterly yearly annual annually last past previous prior trailing this current since first second third
fourth half ytd mtd qtd wtd""".split())


@dataclass(frozen=True)
class Correction:
    typed: str
    read_as: str


def damerau(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance of ``a`` and ``b``, or ``limit + 1`` once it exceeds ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


@lru_cache(maxsize=1)
def _english() -> dict[str, int]:
    from spellchecker import SpellChecker

    return dict(SpellChecker(distance=1).word_frequency.dictionary)


def is_english(word: str, *, min_frequency: int = ENGLISH_MIN_FREQUENCY) -> bool:
    return _english().get(word.lower(), 0) >= min_frequency


class Speller:
    """Corrects a question's typos towards one set of known words (a dataset's plus the lexicon)."""

    def __init__(self, known: Iterable[str], *, dataset_words: Iterable[str] = (),
                 value_words: Iterable[str] = (), misspellings: Mapping[str, str] | None = None) -> None:
        self.misspellings = {k.lower(): v for k, v in (misspellings or {}).items()}
        general = frozenset(w.lower() for w in known)
        # A dataset phrase's everyday words ("with" in "orders with a discount") rank as the lexicon's.
        self.dataset_words = frozenset(w.lower() for w in dataset_words) - general
        self.value_words = frozenset(w.lower() for w in value_words) - self.dataset_words - general
        self.known = general | _TIME_WORDS | self.dataset_words | self.value_words
        # Symmetric deletions (as SymSpell does): two words within two edits share a form with at
        # most two letters deleted from each, so only those few words need a distance computed.
        self._deletions: dict[str, set[str]] = {}
        for word in self.known:
            if len(word) >= 3 and word.isalpha():
                for form in _deletions(word, 2):
                    self._deletions.setdefault(form, set()).add(word)
        self._seen: dict[str, str | None] = {}

    def correct(self, text: str) -> tuple[str, tuple[Correction, ...]]:
        fixes: list[Correction] = []

        def fix(m: re.Match[str]) -> str:
            typed = m.group(0)
            read = self.word(typed)
            if read is None:
                return typed
            fixes.append(Correction(typed, read))
            return read
        corrected = _WORD.sub(fix, text)
        return corrected, tuple(fixes)

    def word(self, typed: str) -> str | None:
        lower = typed.lower()
        if lower not in self._seen:
            self._seen[lower] = self._nearest(lower)
        read = self._seen[lower]
        return _same_case(typed, read) if read is not None else None

    def _nearest(self, lower: str) -> str | None:
        if lower in self.misspellings:
            return self.misspellings[lower]
        if lower in self.known or is_english(lower) or _is_unit(lower):
            return None                     # "in cad" is Canadian dollars, not "cat"
        if lower.endswith("ys") and lower[:-2] + "ies" in self.known:
            return lower[:-2] + "ies"       # "citys", "categorys"
        limit = 1 if len(lower) < 9 else 2
        candidates: set[str] = set()
        for form in _deletions(lower, limit):
            candidates |= self._deletions.get(form, set())
        best, found = limit + 1, []
        for candidate in sorted(candidates):
            distance = damerau(lower, candidate, limit)
            if distance < best:
                best, found = distance, [candidate]
            elif distance == best:
                found.append(candidate)
        if best > limit:
            return None
        # a letter more than a three-letter word is likelier an acronym than a slip ("csat" is not "cat")
        found = [f for f in found if len(f) > 3 or len(f) >= len(lower)]
        if best == 2:                       # two edits: only towards the dataset's own words
            found = [f for f in found if f in self.dataset_words]
        swapped = [f for f in found if sorted(f) == sorted(lower)]
        if swapped:                         # a swapped pair of letters is the likeliest typo: "teh" is "the"
            found = swapped
        elif len(lower) == 3:               # "sel" -> "sell", "wek" -> "week", "evr" -> "ever"
            found = [f for f in found if f in self.dataset_words or _subsequence(lower, f)]
        for tier in (self.dataset_words, _TIME_WORDS):
            preferred = [f for f in found if f in tier]
            if preferred:                   # the dataset's words, then time words, then the lexicon's:
                found = preferred           # "montly" is "monthly", not "mostly"; "mony" is "money", not "many"
                break
        else:
            found = [f for f in found if f not in self.value_words] or [
                # looked-up values last, and only for a slip inside the word: "midlands" is not Midland
                f for f in found if len(lower) >= 6 and f[0] == lower[0] and f[-1] == lower[-1]]
            if not found:
                return None
        if len(found) > 1:
            scores = sorted(((_shared(lower, f), f) for f in found), reverse=True)
            if scores[0][0] == scores[1][0]:
                return None
            found = [scores[0][1]]
        return found[0] if len(found) == 1 else None


def _subsequence(short: str, long: str) -> bool:
    letters = iter(long)
    return all(c in letters for c in short)


def _deletions(word: str, depth: int) -> set[str]:
    """``word`` and every form of it with up to ``depth`` letters deleted."""
    forms, frontier = {word}, {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1:] for w in frontier for i in range(len(w))} - forms
        forms |= frontier
    return forms


_KEYBOARD = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_NEAR_KEYS: dict[str, set[str]] = {
    key: {other for r, line in enumerate(_KEYBOARD) if abs(r - row) <= 1
          for c, other in enumerate(line) if abs(c - col) <= 1 and other != key}
    for row, keys in enumerate(_KEYBOARD) for col, key in enumerate(keys)}


def _plausibility(typed: str, known: str) -> int:
    """How likely the one edit is as a slip: a swapped pair 3, a missed or doubled letter or a
    neighbouring key 2, a far key 1 ("monthy" is "monthly", not "months")."""
    if sorted(typed) == sorted(known):
        return 3
    if len(typed) != len(known):
        return 2
    pairs = [(a, b) for a, b in zip(typed, known) if a != b]
    return 2 if len(pairs) == 1 and pairs[0][1] in _NEAR_KEYS.get(pairs[0][0], set()) else 1


def _shared(typed: str, known: str) -> tuple[int, int, int]:
    """(plausibility of the slip, same first letter, letters shared at both ends): "salse" is nearer
    "sales" than "sale", and "regon" nearer "region" than "oregon"."""
    start = 0
    while start < min(len(typed), len(known)) and typed[start] == known[start]:
        start += 1
    end = 0
    while end < min(len(typed), len(known)) - start and typed[-1 - end] == known[-1 - end]:
        end += 1
    return _plausibility(typed, known), int(typed[:1] == known[:1]), start + end


def _same_case(typed: str, read: str) -> str:
    if typed.isupper() and len(typed) > 1:
        return read.upper()
    if typed[:1].isupper():
        return read[:1].upper() + read[1:]
    return read


def _is_unit(word: str) -> bool:
    """A unit of money or scale the lexicon names ("cad", "gbp", "bn"): asked about, never a slip for a word."""
    return any(p.fullmatch(word) for p in lexicon().phrases["unit_word"])
