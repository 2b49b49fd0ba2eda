"""Conversations: the last answered intent per conversation id, in-process or in Redis, with a TTL.

A conversation keeps the intent of its last answered question (and its dataset). A follow-up
question edits it (``assistant.followup``); an unrelated complete question replaces it. When a
message goes unanswered (it clarified), the conversation remembers that too: the next message is
then answered only if it stands on its own, since an edit of the older answer would silently drop
what the unanswered message asked for.
Stores share one small interface, so the HTTP workers share conversations through Redis when
``RETAIL_REDIS__URL`` is set, and a Redis outage degrades to this process's memory.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
import json
import logging
from pathlib import Path
import re
import threading
import time
from typing import TYPE_CHECKING, Protocol
import uuid

import redis

from assistant.intent import Intent
from retail_insights.errors import UsageError

if TYPE_CHECKING:
    from retail_insights.settings import Settings

log = logging.getLogger(__name__)
REDIS_PREFIX = "retail:conversation:"
_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")


@dataclass(frozen=True)
class Turn:
    """What a follow-up builds on: the last answered question of a conversation, and whether a
    message after it went unanswered (``lost``): an edit built on the answer would then drop it."""

    dataset: str
    question: str
    intent: Intent | None             # None only when nothing was answered yet (``lost`` says what was asked)
    earlier: Intent | None = None     # the answer before it ("put the two side by side")
    members: tuple[str, ...] = ()     # the members it listed first, best first ("that one", "them")
    lost: tuple[str, ...] = ()        # the messages since it that went unanswered (clarified), oldest first
    first: Intent | None = None       # the conversation's first answer ("go back to the first one")

    def to_json(self) -> str:
        return json.dumps({"dataset": self.dataset, "question": self.question,
                           "intent": self.intent.to_dict() if self.intent is not None else None,
                           "earlier": self.earlier.to_dict() if self.earlier is not None else None,
                           "members": list(self.members), "lost": list(self.lost),
                           "first": self.first.to_dict() if self.first is not None else None})

    @classmethod
    def from_json(cls, text: str | bytes) -> Turn:
        data = json.loads(text)
        intent, earlier, first = data.get("intent"), data.get("earlier"), data.get("first")
        return cls(data["dataset"], data["question"], Intent.from_dict(intent) if intent else None,
                   Intent.from_dict(earlier) if earlier else None, tuple(data.get("members") or ()),
                   tuple(data.get("lost") or ()), Intent.from_dict(first) if first else None)


class ConversationStore(Protocol):
    def get(self, conversation_id: str) -> Turn | None: ...

    def put(self, conversation_id: str, turn: Turn) -> None: ...


def new_conversation_id() -> str:
    return uuid.uuid4().hex


class MemoryConversations:
    """This process's conversations: least recently used first out, each kept ``ttl_s`` seconds."""

    def __init__(self, *, size: int = 10_000, ttl_s: int = 3600, clock: Callable[[], float] = time.monotonic) -> None:
        self.size, self.ttl_s, self._clock = size, ttl_s, clock
        self._turns: OrderedDict[str, tuple[float, Turn]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, conversation_id: str) -> Turn | None:
        with self._lock:
            held = self._turns.get(conversation_id)
            if held is None or held[0] <= self._clock():
                self._turns.pop(conversation_id, None)
                return None
            self._turns.move_to_end(conversation_id)
            return held[1]

    def put(self, conversation_id: str, turn: Turn) -> None:
        with self._lock:
            self._turns[conversation_id] = (self._clock() + self.ttl_s, turn)
            self._turns.move_to_end(conversation_id)
            while len(self._turns) > self.size:
                self._turns.popitem(last=False)


class RedisConversations:
    """Conversations every worker sees; this process's memory stands in while Redis is down."""

    def __init__(self, url: str, *, ttl_s: int = 3600, socket_timeout_s: float = 0.25) -> None:
        self.ttl_s = ttl_s
        self._redis = redis.Redis.from_url(url, socket_timeout=socket_timeout_s,
                                           socket_connect_timeout=socket_timeout_s)
        self._local = MemoryConversations(ttl_s=ttl_s)

    def get(self, conversation_id: str) -> Turn | None:
        try:
            raw = self._redis.get(REDIS_PREFIX + conversation_id)
        except redis.RedisError as exc:
            log.warning("Redis conversations unavailable (%s); using this process's memory.", type(exc).__name__)
            return self._local.get(conversation_id)
        return Turn.from_json(raw) if raw is not None else self._local.get(conversation_id)

    def put(self, conversation_id: str, turn: Turn) -> None:
        self._local.put(conversation_id, turn)
        try:
            self._redis.set(REDIS_PREFIX + conversation_id, turn.to_json(), ex=self.ttl_s)
        except redis.RedisError as exc:
            log.warning("Redis conversations unavailable (%s); kept in this process only.", type(exc).__name__)


class FileConversations:
    """Conversations as small files under ``folder``: shared by every process on one machine, so a
    follow-up asked with ``retail-insights ask --conversation ID`` in a new process finds its last answer."""

    def __init__(self, folder: Path, *, ttl_s: int = 3600, clock: Callable[[], float] = time.time) -> None:
        self.folder, self.ttl_s, self._clock = folder, ttl_s, clock

    def _path(self, conversation_id: str) -> Path:
        if not _ID.fullmatch(conversation_id):
            raise UsageError(f"conversation id {conversation_id!r} is not valid.",
                             hint="Fix: pass the conversation_id an answer returned (letters, digits, '-', '_').")
        return self.folder / f"{conversation_id}.json"

    def get(self, conversation_id: str) -> Turn | None:
        path = self._path(conversation_id)
        try:
            if path.stat().st_mtime + self.ttl_s <= self._clock():
                return None
            return Turn.from_json(path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError, KeyError):
            return None

    def put(self, conversation_id: str, turn: Turn) -> None:
        path = self._path(conversation_id)
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
        temporary.write_text(turn.to_json(), encoding="utf-8")
        temporary.replace(path)      # atomic: a reader sees the old turn or the new one


def conversations_from_settings(settings: Settings) -> ConversationStore:
    """Redis when configured (every worker and machine), else files under RETAIL_HOME (this machine)."""
    ttl = settings.cache.conversation_ttl_s
    if settings.redis.url:
        return RedisConversations(settings.redis.url, ttl_s=ttl, socket_timeout_s=settings.redis.socket_timeout_s)
    return FileConversations(settings.home / "conversations", ttl_s=ttl)
