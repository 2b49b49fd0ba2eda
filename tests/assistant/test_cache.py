"""ExactCache: L1 LRU + TTL with an injected clock, L2 through the real Redis server."""

from __future__ import annotations

import uuid

import pytest

from assistant.cache import CacheHit, ExactCache, UncacheableAnswer
from retail_insights.errors import ConfigError
from retail_insights.settings import get_settings


class FakeClock:
    """A settable monotonic clock, so TTLs expire without sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


ANSWER = {"text": "Revenue in Texas in March 2024 was $1,234.50.", "value": 1234.5, "rows": [[1, "TX"]]}


def test_a_put_answer_is_served_from_l1(clock: FakeClock) -> None:
    cache = ExactCache(l1_size=4, ttl_s=60, clock=clock)
    cache.put("retail_sales:3:k", ANSWER)
    assert cache.get("retail_sales:3:k") == CacheHit(ANSWER, "cache_l1")
    assert (cache.l1_hits, cache.l1_misses) == (1, 0)


def test_an_unknown_key_is_a_miss_and_is_counted(clock: FakeClock) -> None:
    cache = ExactCache(l1_size=4, ttl_s=60, clock=clock)
    assert cache.get("nothing") is None
    assert (cache.l1_hits, cache.l1_misses, cache.l2_hits, cache.l2_misses) == (0, 1, 0, 0)


def test_the_least_recently_used_entry_is_evicted_when_l1_is_full(clock: FakeClock) -> None:
    cache = ExactCache(l1_size=2, ttl_s=60, clock=clock)
    cache.put("a", {"v": 1})
    cache.put("b", {"v": 2})
    assert cache.get("a") is not None  # "a" is now more recent than "b"
    cache.put("c", {"v": 3})
    assert cache.get("b") is None
    assert cache.get("a") == CacheHit({"v": 1}, "cache_l1")
    assert cache.get("c") == CacheHit({"v": 3}, "cache_l1")


def test_an_entry_expires_after_the_ttl(clock: FakeClock) -> None:
    cache = ExactCache(l1_size=4, ttl_s=60, clock=clock)
    cache.put("k", {"v": 1})
    clock.now += 59.9
    assert cache.get("k") is not None
    clock.now += 0.2
    assert cache.get("k") is None


def test_a_caller_mutating_a_hit_does_not_change_the_cached_answer(clock: FakeClock) -> None:
    cache = ExactCache(l1_size=4, ttl_s=60, clock=clock)
    cache.put("k", {"rows": [1, 2]})
    hit = cache.get("k")
    assert hit is not None
    hit.answer["rows"].append(3)
    assert cache.get("k") == CacheHit({"rows": [1, 2]}, "cache_l1")


def test_an_answer_that_is_not_json_is_refused_with_the_fix(clock: FakeClock) -> None:
    from datetime import date

    cache = ExactCache(l1_size=4, ttl_s=60, clock=clock)
    with pytest.raises(UncacheableAnswer, match=r"key 'k'.*convert dates and decimals"):
        cache.put("k", {"day": date(2024, 3, 1)})


def test_a_zero_size_is_refused_naming_the_setting() -> None:
    with pytest.raises(ConfigError, match=r"l1_size=0.*RETAIL_CACHE__L1_SIZE"):
        ExactCache(l1_size=0)


def test_from_settings_uses_the_cache_and_redis_sections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETAIL_CACHE__L1_SIZE", "7")
    monkeypatch.setenv("RETAIL_CACHE__TTL_S", "42")
    monkeypatch.delenv("RETAIL_REDIS__URL", raising=False)
    get_settings.cache_clear()
    try:
        cache = ExactCache.from_settings(get_settings())
    finally:
        get_settings.cache_clear()
    assert (cache.l1_size, cache.ttl_s, cache.l2_available) == (7, 42, False)


@pytest.mark.redis
def test_l2_is_shared_between_two_caches_through_redis(redis_url: str, clock: FakeClock) -> None:
    writer = ExactCache(l1_size=4, ttl_s=60, redis_url=redis_url, clock=clock)
    reader = ExactCache(l1_size=4, ttl_s=60, redis_url=redis_url, clock=clock)
    writer.put("retail_sales:7:shared", ANSWER)
    assert reader.get("retail_sales:7:shared") == CacheHit(ANSWER, "cache_l2")
    # The L2 hit was copied into the reader's L1.
    assert reader.get("retail_sales:7:shared") == CacheHit(ANSWER, "cache_l1")
    assert (reader.l1_misses, reader.l2_hits, reader.l1_hits) == (1, 1, 1)


@pytest.mark.redis
def test_an_l2_miss_is_counted(redis_url: str, clock: FakeClock) -> None:
    cache = ExactCache(l1_size=4, ttl_s=60, redis_url=redis_url, clock=clock)
    assert cache.get("retail_sales:7:never-written") is None
    assert (cache.l2_misses, cache.l2_errors) == (1, 0)


@pytest.mark.redis
def test_redis_keeps_the_ttl(redis_url: str, clock: FakeClock) -> None:
    import redis

    ExactCache(l1_size=4, ttl_s=60, redis_url=redis_url, clock=clock).put("ttl-key", ANSWER)
    ttl = redis.Redis.from_url(redis_url).ttl("retail:answer:ttl-key")
    assert 0 < ttl <= 60


@pytest.mark.redis
def test_a_redis_outage_degrades_to_l1_and_recovers(redis_server, clock: FakeClock) -> None:
    cache = ExactCache(l1_size=4, ttl_s=60, redis_url=redis_server.url, clock=clock)
    other = ExactCache(l1_size=4, ttl_s=60, redis_url=redis_server.url, clock=clock)
    redis_server.stop()
    try:
        cache.put("outage:during", {"v": 2})  # must not raise
        assert cache.get("outage:during") == CacheHit({"v": 2}, "cache_l1")
        assert other.get("outage:during") is None  # L2 unreachable: a miss, not an exception
        assert (cache.l2_errors, other.l2_errors) == (1, 1)
        assert not other.l2_available  # inside the backoff window Redis is not even tried
        assert other.get("outage:during") is None and other.l2_errors == 1
    finally:
        redis_server.start()
    clock.now += 1.0  # past the first backoff window
    assert other.l2_available
    cache.put("outage:after", {"v": 3})
    assert other.get("outage:after") == CacheHit({"v": 3}, "cache_l2")
    assert (cache.l2_errors, other.l2_errors) == (1, 1)


def test_a_hung_redis_times_out_once_then_is_skipped_during_the_backoff(clock: FakeClock) -> None:
    import socket

    # A listener that accepts connections and never answers: what a hung Redis looks like.
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen()
        url = f"redis://127.0.0.1:{hung.getsockname()[1]}/0"
        cache = ExactCache(l1_size=4, ttl_s=60, redis_url=url, socket_timeout_s=0.2, clock=clock)
        cache.put("k", {"v": 1})  # must not raise
        assert cache.get("k") == CacheHit({"v": 1}, "cache_l1")
        assert cache.get("other") is None
        assert (cache.l2_errors, cache.l2_available) == (1, False)


def test_l1_keeps_each_answers_newest_two_versions() -> None:
    cache = ExactCache(l1_size=100)
    cache.put("superstore:3:intent-a", {"n": 1})
    cache.put("retail_sales:3:intent-a", {"n": 3})
    cache.put("superstore:2:intent-b", {"n": 2})    # an answer whose months did not change since version 2
    cache.put("superstore:4:intent-a", {"n": 4})
    assert cache.get("superstore:3:intent-a").answer == {"n": 1}     # the one before stays (for a second)
    cache.put("superstore:5:intent-a", {"n": 5})
    assert cache.get("superstore:3:intent-a") is None                 # two versions back: dropped
    assert cache.get("superstore:4:intent-a").answer == {"n": 4}
    assert cache.get("retail_sales:3:intent-a").answer == {"n": 3}   # other datasets keep theirs
    assert cache.get("superstore:2:intent-b").answer == {"n": 2}     # other answers keep theirs
    cache.put("superstore:3:intent-a", {"n": 6})                     # finished late, long replaced
    assert cache.get("superstore:3:intent-a") is None


def test_one_process_claims_a_computation_and_the_others_wait_for_its_answer(redis_url: str, clock: FakeClock) -> None:
    """Workers warming the same new data version split the work: a claim is taken once, through Redis."""
    first = ExactCache(l1_size=4, ttl_s=60, redis_url=redis_url, clock=clock)
    second = ExactCache(l1_size=4, ttl_s=60, redis_url=redis_url, clock=clock)
    key = f"claim-test-{uuid.uuid4().hex}"
    assert first.claim(key) is True
    assert second.claim(key) is False and first.claim(key) is False
    alone = ExactCache(l1_size=4, ttl_s=60, clock=clock)     # no Redis: every process computes its own
    assert alone.claim(key) is True and alone.claim(key) is True
