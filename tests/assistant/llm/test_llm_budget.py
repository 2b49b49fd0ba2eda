"""Daily LLM budgets: per API key and for everyone, in a local file or in the session's real Redis."""

from __future__ import annotations

from datetime import date
from pathlib import Path
import uuid

import pytest
import redis

from assistant.llm.budget import ANONYMOUS, Budget, FileLedger, RedisLedger, caller_scope, current_caller
from retail_insights.settings import get_settings

DAY = date(2024, 7, 1)


def file_budget(path: Path, *, per_key: float = 1.0, total: float = 10.0, day: list[date] | None = None) -> Budget:
    days = day or [DAY]
    return Budget(per_key_usd=per_key, total_usd=total, ledger=FileLedger(path), today=lambda: days[0])


def test_a_key_is_refused_once_its_daily_spend_reaches_its_budget(tmp_path: Path) -> None:
    budget = file_budget(tmp_path / "budget.json", per_key=0.05)
    budget.charge(0.03, key="team-a")
    assert budget.check("team-a").allowed
    budget.charge(0.03, key="team-a")
    decision = budget.check("team-a")
    assert not decision.allowed and decision.reason == "key_budget"
    assert decision.spent_key_usd == pytest.approx(0.06) and "API key's daily LLM budget ($0.05)" in decision.message
    assert budget.check("team-b").allowed                  # another key has its own budget


def test_the_global_cap_refuses_every_key(tmp_path: Path) -> None:
    budget = file_budget(tmp_path / "budget.json", per_key=1.0, total=0.10)
    budget.charge(0.06, key="team-a")
    budget.charge(0.06, key="team-b")
    decision = budget.check("team-c")
    assert (decision.allowed, decision.reason) == (False, "total_budget")
    assert decision.spent_total_usd == pytest.approx(0.12)
    assert "assistant's daily LLM budget ($0.10)" in decision.message


def test_a_new_utc_day_starts_from_zero(tmp_path: Path) -> None:
    day = [DAY]
    budget = file_budget(tmp_path / "budget.json", per_key=0.05, day=day)
    budget.charge(0.10, key="team-a")
    assert not budget.check("team-a").allowed
    day[0] = date(2024, 7, 2)
    assert budget.check("team-a").allowed and budget.check("team-a").spent_key_usd == 0.0


def test_the_file_ledger_is_shared_by_budgets_over_the_same_file(tmp_path: Path) -> None:
    file_budget(tmp_path / "budget.json").charge(0.25, key="team-a")
    assert file_budget(tmp_path / "budget.json").check("team-a").spent_key_usd == pytest.approx(0.25)


def test_spend_is_charged_to_the_caller_in_scope(tmp_path: Path) -> None:
    budget = file_budget(tmp_path / "budget.json", per_key=0.05)
    assert current_caller() == ANONYMOUS
    with caller_scope("team-a"):
        budget.charge(0.10)
        assert current_caller() == "team-a" and not budget.check().allowed
    assert current_caller() == ANONYMOUS and budget.check().allowed


def test_redis_holds_the_spend_for_every_process(redis_url: str) -> None:
    day = date(2099, 1, 1 + uuid.uuid4().int % 28)         # a day no other test charges
    client = redis.Redis.from_url(redis_url)
    for name in client.scan_iter(f"retail:llm:spend:{day.isoformat()}:*"):
        client.delete(name)
    key = f"team-{uuid.uuid4().hex}"

    def budget() -> Budget:
        ledger = RedisLedger.from_url(redis_url, socket_timeout_s=1.0, fallback=FileLedger(Path("/nonexistent/x")))
        return Budget(per_key_usd=0.05, total_usd=10.0, ledger=ledger, today=lambda: day)

    budget().charge(0.04, key=key)
    budget().charge(0.02, key=key)
    decision = budget().check(key)
    assert (decision.allowed, decision.reason) == (False, "key_budget")
    assert decision.spent_total_usd == pytest.approx(0.06)
    assert 0 < client.ttl(f"retail:llm:spend:{day.isoformat()}:total") <= 2 * 24 * 3600


def test_a_redis_outage_falls_back_to_the_local_ledger(tmp_path: Path) -> None:
    ledger = RedisLedger.from_url("redis://127.0.0.1:1/0", socket_timeout_s=0.2,
                                  fallback=FileLedger(tmp_path / "b.json"))
    budget = Budget(per_key_usd=0.05, total_usd=10.0, ledger=ledger, today=lambda: DAY)
    budget.charge(0.10, key="team-a")
    assert not budget.check("team-a").allowed
    assert FileLedger(tmp_path / "b.json").spent(DAY, "team-a") == (pytest.approx(0.10), pytest.approx(0.10))


def test_from_settings_uses_redis_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(Budget.from_settings(get_settings()).ledger, FileLedger)
    monkeypatch.setenv("RETAIL_REDIS__URL", "redis://127.0.0.1:1/0")
    monkeypatch.setenv("RETAIL_LLM__DAILY_BUDGET_USD_PER_KEY", "0.5")
    get_settings.cache_clear()
    budget = Budget.from_settings(get_settings())
    assert isinstance(budget.ledger, RedisLedger) and budget.per_key_usd == 0.5 and budget.total_usd == 50.0
