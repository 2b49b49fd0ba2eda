"""Per-key rate limit and daily quota in the real Redis: 429 with Retry-After, shared by every process."""

from __future__ import annotations

import json
from pathlib import Path
import uuid

import pytest
import redis

from assistant.http.auth import hash_key, new_key
from assistant.http.quotas import QuotaLimiter
from tests.assistant.http.conftest import MakeClient

NOW = 1_700_000_030.0   # 2023-11-14 22:13:50 UTC: 10 s left in its minute, 6,370 s left in its day


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, str]:
    """Two fresh keys whose names are unique, so their counters start at zero in the shared Redis."""
    made = {f"k-{uuid.uuid4().hex[:8]}": new_key() for _ in range(2)}
    (tmp_path / "keys.json").write_text(json.dumps({"keys": [{"name": n, "sha256": hash_key(k)}
                                                             for n, k in made.items()]}))
    return made


def limited(make_client: MakeClient, redis_url: str, tmp_path: Path, *, per_minute: int, per_day: int,
            clock: Clock):
    client = make_client(redis={"url": redis_url}, api={
        "auth_enabled": True, "api_keys_file": tmp_path / "keys.json",
        "rate_limit_per_minute": per_minute, "daily_quota": per_day})
    client.app.state.services.quotas = QuotaLimiter(redis.Redis.from_url(redis_url), per_minute=per_minute,
                                                    per_day=per_day, clock=clock)
    return client


def test_the_request_over_the_rate_limit_is_a_429_with_the_seconds_left_in_the_minute(
        make_client: MakeClient, redis_url: str, tmp_path: Path, keys: dict[str, str]) -> None:
    client = limited(make_client, redis_url, tmp_path, per_minute=3, per_day=100, clock=Clock(NOW))
    headers = {"X-API-Key": next(iter(keys.values()))}
    statuses = [client.get("/v1/datasets", headers=headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/v1/datasets", headers=headers)
    assert refused.headers["Retry-After"] == "10"
    assert refused.json()["code"] == "quota_exceeded"
    assert "rate limit of 3 requests per minute" in refused.json()["detail"]


def test_the_next_minute_opens_a_new_window(make_client: MakeClient, redis_url: str, tmp_path: Path,
                                            keys: dict[str, str]) -> None:
    clock = Clock(NOW)
    client = limited(make_client, redis_url, tmp_path, per_minute=1, per_day=100, clock=clock)
    headers = {"X-API-Key": next(iter(keys.values()))}
    assert client.get("/v1/datasets", headers=headers).status_code == 200
    assert client.get("/v1/datasets", headers=headers).status_code == 429
    clock.now += 10
    assert client.get("/v1/datasets", headers=headers).status_code == 200


def test_the_daily_quota_is_a_429_until_midnight_utc(make_client: MakeClient, redis_url: str, tmp_path: Path,
                                                     keys: dict[str, str]) -> None:
    clock = Clock(NOW)
    client = limited(make_client, redis_url, tmp_path, per_minute=100, per_day=2, clock=clock)
    headers = {"X-API-Key": next(iter(keys.values()))}
    assert [client.get("/v1/datasets", headers=headers).status_code for _ in range(3)] == [200, 200, 429]
    refused = client.get("/v1/datasets", headers=headers)
    assert refused.headers["Retry-After"] == "6370"
    assert "daily quota of 2 requests" in refused.json()["detail"]
    clock.now += 6370
    assert client.get("/v1/datasets", headers=headers).status_code == 200


def test_refused_requests_do_not_use_up_the_daily_quota(make_client: MakeClient, redis_url: str, tmp_path: Path,
                                                        keys: dict[str, str]) -> None:
    clock = Clock(NOW)
    client = limited(make_client, redis_url, tmp_path, per_minute=1, per_day=2, clock=clock)
    headers = {"X-API-Key": next(iter(keys.values()))}
    assert [client.get("/v1/datasets", headers=headers).status_code for _ in range(5)] == [200] + [429] * 4
    clock.now += 60
    assert client.get("/v1/datasets", headers=headers).status_code == 200   # the 2nd of 2, not the 6th


def test_each_key_has_its_own_counters(make_client: MakeClient, redis_url: str, tmp_path: Path,
                                       keys: dict[str, str]) -> None:
    client = limited(make_client, redis_url, tmp_path, per_minute=1, per_day=100, clock=Clock(NOW))
    first, second = ({"X-API-Key": k} for k in keys.values())
    assert client.get("/v1/datasets", headers=first).status_code == 200
    assert client.get("/v1/datasets", headers=first).status_code == 429
    assert client.get("/v1/datasets", headers=second).status_code == 200


def test_two_api_processes_share_one_count(make_client: MakeClient, redis_url: str, tmp_path: Path,
                                           keys: dict[str, str]) -> None:
    one = limited(make_client, redis_url, tmp_path, per_minute=2, per_day=100, clock=Clock(NOW))
    two = limited(make_client, redis_url, tmp_path, per_minute=2, per_day=100, clock=Clock(NOW))
    headers = {"X-API-Key": next(iter(keys.values()))}
    assert one.get("/v1/datasets", headers=headers).status_code == 200
    assert two.get("/v1/datasets", headers=headers).status_code == 200
    assert one.get("/v1/datasets", headers=headers).status_code == 429


def test_health_and_metrics_are_not_counted(make_client: MakeClient, redis_url: str, tmp_path: Path,
                                            keys: dict[str, str]) -> None:
    client = limited(make_client, redis_url, tmp_path, per_minute=1, per_day=100, clock=Clock(NOW))
    for _ in range(3):
        assert client.get("/health").status_code == 200
        assert client.get("/metrics").status_code == 200
    assert client.get("/v1/datasets", headers={"X-API-Key": next(iter(keys.values()))}).status_code == 200


def test_quotas_use_the_real_clock_and_settings_by_default(make_client: MakeClient, redis_url: str,
                                                           tmp_path: Path, keys: dict[str, str]) -> None:
    client = make_client(redis={"url": redis_url}, api={"auth_enabled": True, "rate_limit_per_minute": 1,
                                                        "api_keys_file": tmp_path / "keys.json"})
    headers = {"X-API-Key": next(iter(keys.values()))}
    statuses = [client.get("/v1/datasets", headers=headers) for _ in range(3)]
    refused = [r for r in statuses if r.status_code == 429]
    assert refused   # at most two of three can fall in one minute each side of a boundary
    assert 1 <= int(refused[0].headers["Retry-After"]) <= 60


def test_without_redis_no_quota_applies(make_client: MakeClient) -> None:
    client = make_client(api={"rate_limit_per_minute": 1})
    assert [client.get("/v1/datasets").status_code for _ in range(3)] == [200, 200, 200]
    assert client.get("/health").json()["quotas"] == "off"
