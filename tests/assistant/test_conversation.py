"""Conversation stores: the last answered turn per id, with a TTL; Redis shared, files on one machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.conversation import FileConversations, MemoryConversations, RedisConversations, Turn
from assistant.intent import Intent
from retail_insights.errors import UsageError

TURN = Turn("superstore", "sales in 2016", Intent("superstore", ("sales",), "total"))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_memory_keeps_a_turn_until_its_ttl_and_drops_the_least_recent_first() -> None:
    clock = Clock()
    store = MemoryConversations(size=2, ttl_s=60, clock=clock)
    store.put("a", TURN)
    store.put("b", TURN)
    store.get("a")
    store.put("c", TURN)
    assert store.get("b") is None and store.get("a") == TURN
    clock.now += 61
    assert store.get("a") is None


def test_files_are_shared_by_stores_of_one_folder_and_expire(tmp_path: Path) -> None:
    clock = Clock()
    FileConversations(tmp_path, clock=clock).put("abc", TURN)
    reader = FileConversations(tmp_path, ttl_s=60, clock=clock)
    clock.now = (tmp_path / "abc.json").stat().st_mtime + 1
    assert reader.get("abc") == TURN
    clock.now += 120
    assert reader.get("abc") is None


def test_a_conversation_id_that_could_name_another_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="conversation id '../x' is not valid"):
        FileConversations(tmp_path).get("../x")


def test_redis_shares_turns_between_stores_and_falls_back_to_memory_while_down(redis_server) -> None:
    first, second = RedisConversations(redis_server.url), RedisConversations(redis_server.url)
    first.put("shared", TURN)
    assert second.get("shared") == TURN
    redis_server.stop()
    try:
        first.put("offline", TURN)                 # kept in this process while Redis is down
        assert first.get("offline") == TURN and second.get("offline") is None
    finally:
        redis_server.start()
