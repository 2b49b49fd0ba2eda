"""``ReadingMemo``: a question read once is not read again while nothing it depends on changes.

Reading a question (normalize, slots, time windows, the router's decision) costs a few milliseconds
of Python; a cached answer costs less than that to serve, so on a busy service repeated questions
spent most of their time being read again. A question asked outside a conversation is read from its
words, the dataset, the day it is asked (relative periods) and the dataset's vocabulary (its data
version's values) and nothing else, so the reading is kept under exactly those. Follow-ups are never
kept: they depend on the conversation.

Bounded (least recently used first out) and one vocabulary per dataset: when a new data version's
vocabulary arrives, the dataset's older readings are dropped, so nothing keeps an old vocabulary alive.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import date
import threading
from typing import Generic, TypeVar

from assistant.vocabulary import Vocabulary

READINGS_KEPT = 4096

R = TypeVar("R")


class ReadingMemo(Generic[R]):
    """The readings of recent questions, by (words, dataset, day), for the vocabulary they were read with."""

    def __init__(self, size: int = READINGS_KEPT) -> None:
        self.size = size
        self._kept: OrderedDict[tuple[str, str, date], R] = OrderedDict()
        self._vocabularies: dict[str, Vocabulary] = {}
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def read(self, text: str, dataset: str, as_of: date, vocabulary: Vocabulary, read: Callable[[], R]) -> R:
        """The kept reading of ``text``, or ``read()``'s, kept for next time."""
        key = (text, dataset, as_of)
        with self._lock:
            if self._vocabularies.get(dataset) is vocabulary and key in self._kept:
                self._kept.move_to_end(key)
                self.hits += 1
                return self._kept[key]
            self.misses += 1
        reading = read()
        with self._lock:
            if self._vocabularies.get(dataset) is not vocabulary:
                for old in [k for k in self._kept if k[1] == dataset]:
                    del self._kept[old]
                self._vocabularies[dataset] = vocabulary
            self._kept[key] = reading
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return reading
