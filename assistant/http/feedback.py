"""Feedback on answers: one JSON line per vote in ``settings.state_dir / "feedback.jsonl"``.

A record carries the answer's context (question, dataset, tier, interpretation, SQL) when this
process served the answer, so feedback can be acted on without a join: ``on_feedback`` is called
with each stored record, which is where the LLM tier promotes a proposed template to verified on
positive feedback. The hook runs after the record is safely written, and its failure is logged,
never returned to the client.

Appends take an exclusive ``flock``, so several API processes can share the file.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
import fcntl
import json
import logging
from pathlib import Path
import threading
from typing import Any
import uuid

log = logging.getLogger(__name__)

FILE_NAME = "feedback.jsonl"
CONTEXT_FIELDS = ("question", "dataset", "as_of", "status", "tier", "interpretation", "sql", "neighbour",
                  "data_version")


@dataclass(frozen=True)
class FeedbackRecord:
    feedback_id: str
    answer_id: str
    helpful: bool
    comment: str | None
    received_at: str                       # ISO-8601, UTC
    principal: str | None                  # the API key's name when auth is on
    answer: dict[str, Any] | None = None   # the answer's context, when this process served it


FeedbackHook = Callable[[FeedbackRecord], None]


class RecentAnswers:
    """The context of the last ``size`` answers this process served, by answer id."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._items: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, answer: dict[str, Any]) -> None:
        answer_id = answer.get("answer_id")
        if not answer_id:
            return
        context = {k: answer.get(k) for k in CONTEXT_FIELDS}
        with self._lock:
            self._items[answer_id] = context
            self._items.move_to_end(answer_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get(self, answer_id: str) -> dict[str, Any] | None:
        with self._lock:
            return self._items.get(answer_id)


class FeedbackStore:
    def __init__(self, path: Path, *, on_feedback: FeedbackHook | None = None) -> None:
        self.path = Path(path)
        self.on_feedback = on_feedback
        self._lock = threading.Lock()

    def record(self, *, answer_id: str, helpful: bool, comment: str | None = None, principal: str | None = None,
               context: dict[str, Any] | None = None) -> FeedbackRecord:
        """Append one record, then call the hook; returns what was stored."""
        record = FeedbackRecord(
            feedback_id=uuid.uuid4().hex, answer_id=answer_id, helpful=helpful, comment=comment,
            received_at=datetime.now(UTC).isoformat(timespec="milliseconds"), principal=principal, answer=context,
        )
        line = json.dumps(asdict(record), ensure_ascii=False, default=str) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.path, "a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)   # released when the file closes
            handle.write(line)
        if self.on_feedback is not None:
            try:
                self.on_feedback(record)
            except Exception:  # noqa: BLE001 - the vote is stored; a hook failure must not undo or fail it
                log.warning("on_feedback hook failed for answer %s", answer_id, exc_info=True)
        return record

    def read(self) -> list[FeedbackRecord]:
        """Every stored record, oldest first (a missing file is no feedback yet)."""
        if not self.path.exists():
            return []
        with open(self.path, encoding="utf-8") as handle:
            return [FeedbackRecord(**json.loads(line)) for line in handle if line.strip()]
