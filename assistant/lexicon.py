"""The shared English of questions, loaded from ``assistant/lexicon.yaml``: what each word does.

Three kinds of entries (the YAML says which words are which, and why):
- ``ignorable`` words cannot change a number; the router drops them and lists them as ignored;
- ``cues`` choose the operation ("top", "vs", "share", "average"...); ``assistant.wording`` checks
  that the intent the router built explains every cue it found;
- ``phrases`` are multi-word constructions (presentation orders, "how did X do", "together",
  "year over year", "grew fastest") matched as regular expressions before single words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
import re

import yaml

LEXICON_FILE = Path(__file__).with_name("lexicon.yaml")


@dataclass(frozen=True)
class Lexicon:
    ignorable: dict[str, str]                     # word -> its class (courtesy, filler, ...)
    cues: dict[str, str]                          # word -> cue class (rank_desc, compare, ...)
    cue_phrases: tuple[tuple[re.Pattern[str], str], ...]   # multi-word cues ("over time", "for each")
    phrases: dict[str, tuple[re.Pattern[str], ...]]         # construction -> patterns
    spelling: frozenset[str] = frozenset()                  # words of phrases, for the spelling corrector
    misspellings: dict[str, str] = field(default_factory=dict)   # sound-alike -> the word meant

    def cue_words(self) -> frozenset[str]:
        return frozenset(self.cues)


def _word_pattern(phrase: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w-])" + r"\s+".join(re.escape(p) for p in phrase.split()) + r"(?![\w-])", re.I)


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    raw = yaml.safe_load(LEXICON_FILE.read_text(encoding="utf-8"))
    ignorable: dict[str, str] = {}
    for kind, words in raw["ignorable"].items():
        for word in words:
            if " " not in word:
                ignorable.setdefault(str(word).lower(), kind)
    cues: dict[str, str] = {}
    cue_phrases: list[tuple[re.Pattern[str], str]] = []
    for kind, words in raw["cues"].items():
        for word in words:
            text = str(word).lower()
            if " " in text:
                cue_phrases.append((_word_pattern(text), kind))
            else:
                cues.setdefault(text, kind)
    # A cue is never ignorable: "share" asks for a share even though "share the numbers" is a request.
    for word in cues:
        ignorable.pop(word, None)
    phrases = {name: tuple(re.compile(p, re.I) for p in patterns) for name, patterns in raw["phrases"].items()}
    spelling = frozenset(str(w).lower() for w in raw.get("spelling", ()))
    misspellings = {str(k).lower(): str(v).lower() for k, v in (raw.get("misspellings") or {}).items()}
    # Longest first: "next to each other" (side by side) before "next to" (compare).
    cue_phrases.sort(key=lambda item: -len(item[0].pattern))
    return Lexicon(ignorable, cues, tuple(cue_phrases), phrases, spelling, misspellings)
