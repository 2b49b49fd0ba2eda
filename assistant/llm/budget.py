"""Daily LLM spend: a budget per API key and a cap for everyone, in Redis or in a local file.

``Budget.check(key)`` before a call says whether the key may spend more today (UTC days);
``Budget.charge(key, usd)`` after the call adds what litellm said it cost. Over either limit the LLM
tier answers ``refused``; the rules, cache and semantic tiers never consult the budget.

Where the spend lives: Redis when ``settings.redis.url`` is set (``INCRBYFLOAT``, so every API process
shares it; keys expire after two days), else ``settings.state_dir / "llm_budget.json"`` under an
exclusive ``flock``. If Redis fails, the file takes over for that call, so a Redis outage neither
lifts the limits nor fails the question.

A call is checked before it is made and charged after, so one call may cross a limit by its own
cost; the next one is refused. Which key is spending comes from ``caller_scope`` (the HTTP layer
names the API key); outside one it is ``"anonymous"``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime
import fcntl
import hashlib
import json
import logging
import os
from pathlib import Path
import tempfile
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from retail_insights.settings import Settings

log = logging.getLogger(__name__)

ANONYMOUS = "anonymous"
FILE_NAME = "llm_budget.json"
REDIS_PREFIX = "retail:llm:spend"
_caller: ContextVar[str] = ContextVar("retail_llm_caller", default=ANONYMOUS)

Reason = Literal["ok", "key_budget", "total_budget"]


@contextmanager
def caller_scope(name: str | None) -> Iterator[None]:
    """Charge LLM spend inside this block to the API key ``name`` (None: anonymous)."""
    token = _caller.set(name or ANONYMOUS)
    try:
        yield
    finally:
        _caller.reset(token)


def current_caller() -> str:
    return _caller.get()


@dataclass(frozen=True)
class BudgetDecision:
    allowed: bool
    reason: Reason
    message: str
    spent_key_usd: float
    spent_total_usd: float


class Ledger(Protocol):
    def spent(self, day: date, key: str) -> tuple[float, float]:
        """(this key's spend, everyone's spend) on ``day``."""
        ...

    def add(self, day: date, key: str, usd: float) -> None: ...


class FileLedger:
    """Spend of the current day in one JSON file; older days are dropped on write."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def spent(self, day: date, key: str) -> tuple[float, float]:
        data = self._read(day)
        return float(data["keys"].get(key, 0.0)), float(data["total"])

    def add(self, day: date, key: str, usd: float) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)   # released when the file closes
            data = self._read(day)
            data["keys"][key] = float(data["keys"].get(key, 0.0)) + usd
            data["total"] = float(data["total"]) + usd
            fd, scratch = tempfile.mkstemp(prefix=".budget-", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, sort_keys=True)
            os.replace(scratch, self.path)     # readers never see half a file

    def _read(self, day: date) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            data = {}
        if data.get("day") != day.isoformat():
            return {"day": day.isoformat(), "total": 0.0, "keys": {}}
        return data


class RedisLedger:
    """Spend in Redis, shared by every process; falls back to ``fallback`` when Redis fails."""

    def __init__(self, client: Any, *, fallback: Ledger) -> None:
        self._redis = client
        self._fallback = fallback

    @classmethod
    def from_url(cls, url: str, *, socket_timeout_s: float, fallback: Ledger) -> RedisLedger:
        import redis

        return cls(redis.Redis.from_url(url, socket_timeout=socket_timeout_s, socket_connect_timeout=socket_timeout_s),
                   fallback=fallback)

    def spent(self, day: date, key: str) -> tuple[float, float]:
        import redis

        try:
            mine, total = self._redis.mget([_redis_key(day, key), _redis_key(day, None)])
        except redis.RedisError as exc:
            log.warning("LLM budget: Redis unavailable (%s); using the local ledger", exc)
            return self._fallback.spent(day, key)
        return float(mine or 0.0), float(total or 0.0)

    def add(self, day: date, key: str, usd: float) -> None:
        import redis

        try:
            pipe = self._redis.pipeline()
            for name in (_redis_key(day, key), _redis_key(day, None)):
                pipe.incrbyfloat(name, usd)
                pipe.expire(name, 2 * 24 * 3600)
            pipe.execute()
        except redis.RedisError as exc:
            log.warning("LLM budget: Redis unavailable (%s); charging the local ledger", exc)
            self._fallback.add(day, key, usd)


def _redis_key(day: date, key: str | None) -> str:
    if key is None:
        return f"{REDIS_PREFIX}:{day.isoformat()}:total"
    # Hashed: a key name may hold any characters, and the ledger needs no more than identity.
    return f"{REDIS_PREFIX}:{day.isoformat()}:key:{hashlib.sha256(key.encode()).hexdigest()[:24]}"


class Budget:
    """The two daily limits over a ledger."""

    def __init__(self, *, per_key_usd: float, total_usd: float, ledger: Ledger,
                 today: Callable[[], date] = lambda: datetime.now(UTC).date()) -> None:
        self.per_key_usd, self.total_usd = per_key_usd, total_usd
        self.ledger = ledger
        self._today = today

    @classmethod
    def from_settings(cls, settings: Settings) -> Budget:
        ledger: Ledger = FileLedger(settings.state_dir / FILE_NAME)
        if settings.redis.url:
            ledger = RedisLedger.from_url(settings.redis.url, socket_timeout_s=settings.redis.socket_timeout_s,
                                          fallback=ledger)
        return cls(per_key_usd=settings.llm.daily_budget_usd_per_key,
                   total_usd=settings.llm.daily_budget_usd_total, ledger=ledger)

    def check(self, key: str | None = None) -> BudgetDecision:
        key = key or current_caller()
        mine, total = self.ledger.spent(self._today(), key)
        if total >= self.total_usd:
            return BudgetDecision(False, "total_budget",
                                  f"The assistant's daily LLM budget (${self.total_usd:.2f}) is used up, so "
                                  "questions that need the language model are refused until tomorrow (UTC). "
                                  "Questions the rules understand still work: try naming a metric, a "
                                  "dimension and a period.", mine, total)
        if mine >= self.per_key_usd:
            return BudgetDecision(False, "key_budget",
                                  f"Your API key's daily LLM budget (${self.per_key_usd:.2f}) is used up, so "
                                  "questions that need the language model are refused until tomorrow (UTC). "
                                  "Questions the rules understand still work: try naming a metric, a "
                                  "dimension and a period.", mine, total)
        return BudgetDecision(True, "ok", "", mine, total)

    def charge(self, usd: float, key: str | None = None) -> None:
        if usd > 0:
            self.ledger.add(self._today(), key or current_caller(), usd)
