"""A new data version under traffic: warm it in the background, and bridge the first second.

When a load commits, every cached answer of that dataset is keyed by the old data version, so the
next request for each hot question would recompute it, all at once, on one connection per dataset.
``VersionSwitch`` (used by the HTTP service) avoids that storm:

- it notices the first request that sees a new data version and starts one background warm-up:
  the new snapshot and values are loaded and the dataset's most asked intents (``HotIntents``) are
  recomputed and cached under the new version, most asked first. Its queries run ``in_background``:
  on a connection, a live request waiting goes first (``warehouse.backends.duckdb``). Workers that
  share Redis split the work: each answer is computed by the worker that claims it first
  (``ExactCache.claim``) and read from L2 by the others;
- for ``grace_s`` after that (1 s by default), and for as long as that warm-up runs up to
  ``max_grace_s`` (3 s), a question whose new answer is not cached yet may be answered from the
  previous version's cache entry. That answer says which data version it is (``data_version``): an
  old entry is never served as the new version's, and after the grace every answer is the new
  version's. Only answers whose months changed are warmed again (``assistant.scope``): the others
  keep their cache entries under the new version.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
import logging
import threading
import time
from typing import TYPE_CHECKING

from warehouse.backends.base import in_background

if TYPE_CHECKING:
    from assistant.intent import Intent

log = logging.getLogger(__name__)
KEPT_INTENTS = 512        # distinct intents remembered per dataset
WARM_INTENTS = 64         # recomputed per new version


class HotIntents:
    """How often each intent was asked, per dataset (bounded; the rarest are forgotten first)."""

    def __init__(self, *, kept: int = KEPT_INTENTS) -> None:
        self.kept = kept
        self._counts: dict[str, Counter[str]] = {}
        self._intents: dict[str, dict[str, Intent]] = {}
        self._lock = threading.Lock()

    def note(self, dataset: str, key: str, intent: Intent) -> None:
        with self._lock:
            counts = self._counts.setdefault(dataset, Counter())
            counts[key] += 1
            self._intents.setdefault(dataset, {})[key] = intent
            if len(counts) > 2 * self.kept:
                for rare, _ in counts.most_common()[self.kept:]:
                    del counts[rare]
                    self._intents[dataset].pop(rare, None)

    def top(self, dataset: str, n: int) -> list[Intent]:
        with self._lock:
            counts = self._counts.get(dataset, Counter())
            return [self._intents[dataset][key] for key, _ in counts.most_common(n)]


@dataclass
class _Switch:
    version: int | None
    previous: int | None
    at: float
    warmed: bool = False      # the background warm-up of ``version`` has finished


class VersionSwitch:
    """The data version each dataset is served at, the one before it and since when."""

    def __init__(self, warm: Callable[[str, int | None], None], *, grace_s: float = 1.0, max_grace_s: float = 3.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._warm, self.grace_s, self.max_grace_s, self._clock = warm, grace_s, max(grace_s, max_grace_s), clock
        self._seen: dict[str, _Switch] = {}
        self._lock = threading.Lock()

    def bridge(self, dataset: str, version: int | None) -> int | None:
        """The previous version whose answers may stand in right now (None when none may).

        The first call that sees ``version`` starts its warm-up in a background thread.
        """
        now = self._clock()
        with self._lock:
            seen = self._seen.get(dataset)
            if seen is None or seen.version != version:
                older = seen.version if seen is not None else None
                newer = seen is None or version is None or older is None or version > older
                if not newer:          # another worker's view, a step behind: nothing to bridge
                    return None
                self._seen[dataset] = seen = _Switch(version, older, now)
                if older is not None:
                    threading.Thread(target=self._run_warm, args=(dataset, version), daemon=True,
                                     name=f"warm-{dataset}-{version}").start()
        age = now - seen.at
        if seen.previous is not None and (age < self.grace_s or (not seen.warmed and age < self.max_grace_s)):
            return seen.previous
        return None

    def warmed(self, dataset: str) -> bool:
        """Whether the warm-up of the version ``dataset`` is served at has finished (or none was needed)."""
        with self._lock:
            seen = self._seen.get(dataset)
            return seen is None or seen.previous is None or seen.warmed

    def _run_warm(self, dataset: str, version: int | None) -> None:
        started = self._clock()
        try:
            with in_background():          # live questions go first on every connection it uses
                self._warm(dataset, version)
        except Exception:  # noqa: BLE001 - the next questions compute what the warm-up could not
            log.warning("warming %s at data version %s failed", dataset, version, exc_info=True)
            return
        finally:
            with self._lock:
                seen = self._seen.get(dataset)
                if seen is not None and seen.version == version:
                    seen.warmed = True
        log.info("data version warmed", extra={"dataset": dataset, "version": version,
                                               "seconds": round(self._clock() - started, 3)})
