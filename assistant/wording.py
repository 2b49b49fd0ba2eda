"""The word policy: which words of a question may be ignored, and which must be explained.

After the slots (metrics, members, dates...) and the lexicon's constructions are taken out, every
word left is one of:
- ignorable (courtesy, filler, auxiliaries, presentation: "kindly", "could you", "show me",
  "overall"): dropped, and listed in the answer's interpretation as ignored;
- a cue ("top", "vs", "share", "average", "per", a period word...): it must be explained by the
  intent the router builds, or the question clarifies (``unexplained``);
- anything else: unknown, and the question clarifies naming it. So negations, "only", "net",
  "median", units and names the dataset does not hold never vanish silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import re

from assistant.intent import Intent
from assistant.lexicon import lexicon
from assistant.measures import measure

_WORDS = re.compile(r"[A-Za-z][A-Za-z'-]*|%|/|\d+(?:[.,]\d+)*")
_PLACEHOLDER = re.compile(r"<[^>]+>")
_GRAMMAR = frozenset({"function", "auxiliary", "pronoun"})


@dataclass(frozen=True)
class Words:
    ignored: tuple[str, ...]                 # as typed, in reading order (grammar words left out)
    cues: tuple[tuple[str, str], ...]        # (cue class, word as typed)
    unknown: tuple[str, ...]


def sort_words(residual: str) -> Words:
    """Classify the words left in ``residual`` (slots and constructions already blanked out)."""
    lex = lexicon()
    text = _PLACEHOLDER.sub(" ", residual)
    cues: list[tuple[str, str]] = []
    for pattern, kind in lex.cue_phrases:
        for m in pattern.finditer(text):
            cues.append((kind, m.group(0)))
        text = pattern.sub(" ", text)
    ignored, unknown = [], []
    for word in _WORDS.findall(text):
        lower = word.lower().strip("'-")
        if not lower:
            continue
        if lower[0].isdigit():             # a number no slot took ("store 42"): it could change the answer
            unknown.append(word)
            continue
        if lower in lex.cues:
            cues.append((lex.cues[lower], word))
        elif lower in lex.ignorable:
            if lex.ignorable[lower] not in _GRAMMAR:      # "kindly", "show me": worth saying; "in", "the": not
                ignored.append(word)
        elif len(lower) < 2 and lower not in ("%", "/"):
            continue
        else:
            unknown.append(word)
    return Words(tuple(ignored), tuple(cues), tuple(dict.fromkeys(unknown)))


def _ranks(intent: Intent) -> bool:
    return intent.operation == "top_n" or intent.rank_by != "value"


def _compares(intent: Intent) -> bool:
    return intent.operation in ("compare_values", "compare_periods", "growth", "distribution") \
        or intent.compare_time is not None or intent.change


def _groups(intent: Intent) -> bool:
    return bool(intent.dimensions) or intent.grain is not None or intent.operation == "distribution" \
        or any("_per_" in m for m in intent.metrics)


def _averages(intent: Intent) -> bool:
    return any(measure(intent.dataset, m).averages for m in intent.metrics) or intent.average_over is not None


def _shares(intent: Intent) -> bool:
    """A share, a rate, or a percentage change (comparisons and series with changes show one)."""
    return intent.operation in ("share", "compare_periods", "growth") or intent.compare_time is not None \
        or intent.change or any(measure(intent.dataset, m).format == "percent" for m in intent.metrics)


def _has_time(intent: Intent) -> bool:
    return intent.time is not None or intent.grain is not None or intent.compare_time is not None


_EXPLAINED: dict[str, Callable[[Intent], bool]] = {
    "rank_desc": _ranks,
    "rank_asc": _ranks,
    "compare": _compares,
    "more": _compares,
    "share": _shares,
    "trend": lambda i: i.operation == "trend",
    "growth": lambda i: _compares(i) or i.change,
    "distribution": lambda i: i.operation == "distribution",
    "group": _groups,
    "average": _averages,
    "period": _has_time,
    "sort": lambda i: i.operation in ("breakdown", "top_n", "share", "trend") or _compares(i),
    "popular": lambda i: _ranks(i) or i.operation in ("breakdown", "share"),
    "weekday": lambda i: i.grain == "day_of_week",
    "count_word": lambda i: i.operation == "top_n",
    "ratio": _averages,
    "side_by_side": lambda i: _compares(i) or len(i.metrics) > 1,
}


def unexplained(cues: tuple[tuple[str, str], ...], intent: Intent) -> tuple[str, ...]:
    """The cue words ``intent`` does not account for ("average" on a plain total, "vs" with one value)."""
    return tuple(dict.fromkeys(word for kind, word in cues if not _EXPLAINED[kind](intent)))
