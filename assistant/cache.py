"""Exact answer cache: L1 in-process LRU with TTL, L2 Redis shared by every process.

Keys come from the pipeline (``f"{dataset}:{version}:{intent.canonical_key()}"``, the version being
the data version the answer depends on: ``assistant.scope``), so a new data version never serves old
numbers as new ones. L1 keeps each answer's newest two versions (the one before may stand in,
labelled as such, for a second after a load: ``assistant.refresh``), drops older ones as soon as a
newer one is put, and refuses answers computed for those.
Values are JSON: the answer dict is serialized on ``put`` and parsed again on every hit, so a
caller that mutates an answer cannot corrupt the cached one.

Redis is an optimization, never a dependency: any Redis failure (refused, timeout, reset) is
logged once, the cache degrades to L1 only, and Redis is retried after a backoff that doubles
up to ``MAX_BACKOFF_S``; the first success clears it.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
import json
import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Literal

import redis

from assistant.errors import AssistantError
from retail_insights.errors import ConfigError

if TYPE_CHECKING:
    from retail_insights.settings import Settings

log = logging.getLogger(__name__)

Tier = Literal["cache_l1", "cache_l2"]
Clock = Callable[[], float]

REDIS_PREFIX = "retail:answer:"
CLAIM_PREFIX = "retail:computing:"   # one process computes a warm-up answer; the others read it from L2
CLAIM_S = 10.0
FIRST_BACKOFF_S = 0.5
MAX_BACKOFF_S = 30.0


class UncacheableAnswer(AssistantError, TypeError):
    """An answer that is not plain JSON (a date, a Decimal, a numpy number...)."""


@dataclass(frozen=True)
class CacheHit:
    answer: dict[str, Any]
    tier: Tier


class ExactCache:
    """Answers by exact key: L1 (this process) then L2 (Redis, when configured and up).

    Counters (``l1_hits``, ``l1_misses``, ``l2_hits``, ``l2_misses``, ``l2_errors``) are plain
    attributes for the metrics endpoint. ``clock`` is injectable so tests expire entries
    without sleeping; it drives both the L1 TTL and the Redis backoff.
    """

    def __init__(
        self,
        *,
        l1_size: int = 4096,
        ttl_s: int = 24 * 3600,
        redis_url: str | None = None,
        socket_timeout_s: float = 0.25,
        clock: Clock = time.monotonic,
    ) -> None:
        if l1_size < 1 or ttl_s < 1:
            raise ConfigError(
                f"Invalid cache size l1_size={l1_size} or TTL ttl_s={ttl_s}: both must be >= 1.",
                hint="Set RETAIL_CACHE__L1_SIZE and RETAIL_CACHE__TTL_S to positive integers.",
            )
        self.l1_size = l1_size
        self.ttl_s = ttl_s
        self._clock = clock
        self._l1: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()
        self._redis = _redis_client(redis_url, socket_timeout_s) if redis_url else None
        self._redis_down_until = 0.0
        # "dataset:intent" -> the newest version of its answer in L1, and the one before
        self._newest: OrderedDict[str, tuple[int, int]] = OrderedDict()
        self._backoff_s = FIRST_BACKOFF_S
        self.l1_hits = self.l1_misses = 0
        self.l2_hits = self.l2_misses = self.l2_errors = 0

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Clock = time.monotonic) -> ExactCache:
        return cls(
            l1_size=settings.cache.l1_size,
            ttl_s=settings.cache.ttl_s,
            redis_url=settings.redis.url,
            socket_timeout_s=settings.redis.socket_timeout_s,
            clock=clock,
        )

    @property
    def l2_available(self) -> bool:
        """True when Redis is configured and not inside an outage backoff."""
        return self._redis is not None and self._clock() >= self._redis_down_until

    def get(self, key: str) -> CacheHit | None:
        """The cached answer for ``key``, from the nearest tier that has it; None on a miss."""
        now = self._clock()
        with self._lock:
            entry = self._l1.get(key)
            cached = entry[1] if entry is not None and entry[0] > now else None
            if cached is not None:
                self._l1.move_to_end(key)
                self.l1_hits += 1
            else:
                if entry is not None:
                    del self._l1[key]  # expired
                self.l1_misses += 1
        if cached is not None:  # parsed outside the lock: other threads need not wait for it
            return CacheHit(json.loads(cached), "cache_l1")
        found = self._l2_get(key)
        if found is None:
            return None
        payload, ttl_left_s = found
        self._l1_put(key, payload, ttl_s=min(float(self.ttl_s), ttl_left_s))
        return CacheHit(json.loads(payload), "cache_l2")

    def put(self, key: str, answer: dict[str, Any]) -> None:
        """Store ``answer`` in L1 and (best effort) in Redis, both with the configured TTL."""
        try:
            # NaN is allowed: Python reads it back as NaN, so a cached answer equals a fresh one.
            payload = json.dumps(answer, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise UncacheableAnswer(
                f"Cannot cache the answer for key {key!r}: {exc}.",
                hint="Answers must be plain JSON (str, int, float, bool, None, list, dict); "
                "convert dates and decimals to strings or floats before caching.",
            ) from exc
        self._l1_put(key, payload, ttl_s=float(self.ttl_s))
        self._l2_call(lambda r: r.set(REDIS_PREFIX + key, payload, ex=self.ttl_s))

    def claim(self, key: str, *, seconds: float = CLAIM_S) -> bool:
        """Whether this process should compute ``key`` now: False when another process sharing L2
        claimed it in the last ``seconds`` (its answer will arrive through Redis). Without Redis, or
        while it is down, always True: every process computes its own."""
        claimed = self._l2_call(lambda r: bool(r.set(CLAIM_PREFIX + key, "1", nx=True, px=int(seconds * 1000))))
        return claimed is None or claimed

    def clear_l1(self) -> None:
        """Drop this process's entries (L2 is shared and expires by TTL only)."""
        with self._lock:
            self._l1.clear()

    def _l1_put(self, key: str, payload: str, *, ttl_s: float) -> None:
        generation = _generation(key)
        with self._lock:
            if generation is not None:
                answer, version = generation
                newest, previous = self._newest.get(answer, (-2, -2))
                if version < previous:
                    return          # computed for a version long replaced: never asked for again
                if version > newest:
                    # A new version: keep the one before it (it may stand in for a second,
                    # assistant.refresh) and drop the one before that.
                    self._newest[answer] = (version, newest)
                    self._l1.pop(_versioned(answer, previous), None)
                self._newest.move_to_end(answer)
                while len(self._newest) > 4 * self.l1_size:
                    self._newest.popitem(last=False)
            self._l1[key] = (self._clock() + ttl_s, payload)
            self._l1.move_to_end(key)
            while len(self._l1) > self.l1_size:
                self._l1.popitem(last=False)

    def _l2_get(self, key: str) -> tuple[str, float] | None:
        def fetch(r: redis.Redis) -> list[Any]:
            pipe = r.pipeline(transaction=False)
            pipe.get(REDIS_PREFIX + key)
            pipe.pttl(REDIS_PREFIX + key)
            return pipe.execute()

        result = self._l2_call(fetch)
        if result is None:
            return None  # Redis absent or down: not counted as an L2 miss
        payload, pttl_ms = result
        if payload is None:
            self.l2_misses += 1
            return None
        self.l2_hits += 1
        # pttl is -1 for a key without expiry (written by someone else); fall back to our TTL.
        ttl_left_s = pttl_ms / 1000 if pttl_ms and pttl_ms > 0 else float(self.ttl_s)
        return payload.decode() if isinstance(payload, bytes) else payload, ttl_left_s

    def _l2_call(self, call: Callable[[redis.Redis], Any]) -> Any:
        if self._redis is None or self._clock() < self._redis_down_until:
            return None
        try:
            result = call(self._redis)
        except redis.RedisError as exc:
            self.l2_errors += 1
            self._redis_down_until = self._clock() + self._backoff_s
            log.warning(
                "Redis cache unavailable (%s: %s); serving from L1 only, retrying in %.1fs.",
                type(exc).__name__, exc, self._backoff_s,
            )
            self._backoff_s = min(self._backoff_s * 2, MAX_BACKOFF_S)
            return None
        if self._backoff_s != FIRST_BACKOFF_S:
            log.info("Redis cache is back; L2 re-enabled.")
            self._backoff_s = FIRST_BACKOFF_S
        return result


def _generation(key: str) -> tuple[str, int] | None:
    """("dataset:intent", version) of a pipeline key ``dataset:version:intent``; None for other keys."""
    dataset, _, rest = key.partition(":")
    version, _, intent = rest.partition(":")
    if not intent or not version.lstrip("-").isdigit():
        return None
    return f"{dataset}:{intent}", int(version)


def _versioned(answer: str, version: int) -> str:
    dataset, _, intent = answer.partition(":")
    return f"{dataset}:{version}:{intent}"


def _redis_client(url: str, socket_timeout_s: float) -> redis.Redis:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # No client-side retries: one failed call opens our own backoff window instead, so an
    # outage costs one short timeout per window rather than a retry storm on every request.
    return redis.Redis.from_url(
        url,
        socket_timeout=socket_timeout_s,
        socket_connect_timeout=socket_timeout_s,
        retry=Retry(NoBackoff(), 0),
    )
