"""Per-key rate limit (requests per minute) and daily quota, counted in Redis.

One Lua script checks both counters and increments them only when both allow the request, so a
refused request does not use up quota, and every API process shares the same counts. Windows are
fixed: the calendar minute and the UTC day; ``Retry-After`` is the time left in the window that
refused. Without Redis configured there is nothing to count in and no limit applies. When Redis is
configured but down, ``api.quota_fail_open`` decides: let requests through (the default) or refuse
them with 429 and a short ``Retry-After``; after a failure Redis is not asked again for a short
backoff, so an outage costs one timeout, not one per request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
import logging
import math
import time
from typing import TYPE_CHECKING, Literal

import redis

from retail_insights.errors import RetailError

if TYPE_CHECKING:
    from retail_insights.settings import Settings

log = logging.getLogger(__name__)

PREFIX = "retail:quota:"
BACKOFF_S = 2.0            # how long to skip Redis after a failure
FAIL_CLOSED_RETRY_S = 5    # Retry-After while failing closed

Reason = Literal["ok", "rate_limit", "daily_quota", "unavailable", "off"]

# KEYS: minute counter, day counter. ARGV: per-minute limit, daily limit, minute ttl, day ttl.
_SCRIPT = """
local m = tonumber(redis.call('GET', KEYS[1]) or '0')
local d = tonumber(redis.call('GET', KEYS[2]) or '0')
if m >= tonumber(ARGV[1]) then return {0, 1, m, d} end
if d >= tonumber(ARGV[2]) then return {0, 2, m, d} end
m = redis.call('INCR', KEYS[1])
if m == 1 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
d = redis.call('INCR', KEYS[2])
if d == 1 then redis.call('EXPIRE', KEYS[2], ARGV[4]) end
return {1, 0, m, d}
"""


class QuotaExceeded(RetailError, RuntimeError):
    """A request over the key's rate limit or daily quota (HTTP 429 with ``Retry-After``)."""

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(message)


@dataclass(frozen=True)
class QuotaDecision:
    allowed: bool
    reason: Reason
    retry_after_s: int = 0          # > 0 when refused
    message: str = ""


class QuotaLimiter:
    """``check(identity)`` -> ``QuotaDecision``; ``identity`` is the key's name or the client address."""

    def __init__(self, client: redis.Redis | None, *, per_minute: int, per_day: int, fail_open: bool = True,
                 clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._script = client.register_script(_SCRIPT) if client is not None else None
        self.per_minute, self.per_day, self.fail_open = per_minute, per_day, fail_open
        self._clock = clock
        self._down_until = 0.0

    @classmethod
    def from_settings(cls, settings: Settings, *, clock: Callable[[], float] = time.time) -> QuotaLimiter:
        client = None
        if settings.redis.url:
            client = redis.Redis.from_url(settings.redis.url, socket_timeout=settings.redis.socket_timeout_s,
                                          socket_connect_timeout=settings.redis.socket_timeout_s)
        return cls(client, per_minute=settings.api.rate_limit_per_minute, per_day=settings.api.daily_quota,
                   fail_open=settings.api.quota_fail_open, clock=clock)

    @property
    def enabled(self) -> bool:
        return self._script is not None

    def check(self, identity: str) -> QuotaDecision:
        if self._script is None:
            return QuotaDecision(True, "off")
        now = self._clock()
        if now < self._down_until:
            return self._unavailable()
        minute = int(now // 60)
        day = datetime.fromtimestamp(now, UTC).strftime("%Y%m%d")
        keys = [f"{PREFIX}min:{identity}:{minute}", f"{PREFIX}day:{identity}:{day}"]
        try:
            allowed, which, _, _ = self._script(keys=keys, args=[self.per_minute, self.per_day, 120, 2 * 86400])
        except redis.RedisError as exc:
            self._down_until = now + BACKOFF_S
            log.warning("quota store unavailable (%s: %s); failing %s for %.0fs", type(exc).__name__, exc,
                        "open" if self.fail_open else "closed", BACKOFF_S)
            return self._unavailable()
        if allowed:
            return QuotaDecision(True, "ok")
        if which == 1:
            wait = max(1, math.ceil(60 - now % 60))
            return QuotaDecision(False, "rate_limit", wait,
                                 f"rate limit of {self.per_minute} requests per minute reached for {identity!r}; "
                                 f"retry in {wait}s (api.rate_limit_per_minute).")
        wait = max(1, math.ceil(86400 - now % 86400))
        return QuotaDecision(False, "daily_quota", wait,
                             f"daily quota of {self.per_day} requests reached for {identity!r}; it resets at "
                             f"00:00 UTC, in {wait}s (api.daily_quota).")

    def _unavailable(self) -> QuotaDecision:
        if self.fail_open:
            return QuotaDecision(True, "unavailable")
        return QuotaDecision(False, "unavailable", FAIL_CLOSED_RETRY_S,
                             "the quota store (Redis) is unavailable and api.quota_fail_open is false, so requests "
                             f"are refused; retry in {FAIL_CLOSED_RETRY_S}s.")
