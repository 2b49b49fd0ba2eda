"""Question normalization: one spelling for the same words, case kept.

Case is kept on purpose: an upper-case "OR" or "IN" is a state code, a lower-case one is a word, and
the slot extractor needs to tell them apart. Every later stage works on offsets into this text.
"""

from __future__ import annotations

import re
import unicodedata

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                         "\u2014": "-", "\u00a0": " "})
_SPACES = re.compile(r"\s+")
_TRAILING = re.compile(r"[\s?!.;:,]+$")
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bv(?:ersu)?s\.?(?=\s)", re.I), "vs"),
    (re.compile(r"\s*&\s*"), " and "),
    (re.compile(r"\bwhat's\b", re.I), "what is"),
    (re.compile(r"\bhow's\b", re.I), "how is"),
    (re.compile(r"(?<=\w)'s\b"), ""),        # "Q1's revenue", "California's sales"
    (re.compile(r"\be-?commerce\b", re.I), "online"),
)


def normalize(question: str) -> str:
    """NFKC, plain quotes and dashes, single spaces, no trailing punctuation; case is kept."""
    text = unicodedata.normalize("NFKC", question).translate(_QUOTES)
    text = _SPACES.sub(" ", text).strip()
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    return _TRAILING.sub("", _SPACES.sub(" ", text))
